/**
 * Controller: N workers draining a WorkQueue into a level-triggered reconcile function.
 *
 * Invariants:
 * - One key is never reconciled by two workers at once (the queue's processing set guarantees it).
 * - A failed reconcile (thrown or rejected) is retried with the queue's per-key exponential backoff; a successful one
 *   forgets the key's failures, and is re-run after `requeueAfterMs` when it asks for that.
 * - stop() accepts no new work, lets in-flight reconciles finish, and resolves when every worker has exited; keys
 *   still queued at that point are dropped unprocessed (the next process' initial list enqueues everything again).
 */
import type { WorkQueue } from './workqueue.ts';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface ControllerOptions {
  name: string;
  queue: WorkQueue;
  workers: number;
  // The contract lets a reconcile return nothing at all, which is the common case.
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  reconcile: (key: string) => Promise<ReconcileResult | void>;
  onError?: (key: string, err: unknown) => void;
}

export class Controller {
  readonly name: string;
  private readonly opts: ControllerOptions;
  private workers: Promise<void>[] = [];
  private stopping = false;
  private inFlight = 0;

  constructor(opts: ControllerOptions) {
    if (opts.workers < 1) throw new Error(`controller ${opts.name}: workers must be at least 1`);
    this.name = opts.name;
    this.opts = opts;
  }

  run(): void {
    if (this.workers.length > 0) throw new Error(`controller ${this.name} is already running`);
    if (this.stopping) throw new Error(`controller ${this.name} was stopped; create a new one`);
    for (let i = 0; i < this.opts.workers; i++) this.workers.push(this.worker());
  }

  /** Reconciles running right now. */
  busy(): number {
    return this.inFlight;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.opts.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async worker(): Promise<void> {
    const q = this.opts.queue;
    for (;;) {
      const key = await q.get();
      if (key === undefined) return;
      if (this.stopping) {
        q.done(key);
        continue;
      }
      this.inFlight++;
      try {
        const res = await this.opts.reconcile(key);
        q.forget(key);
        const after = res?.requeueAfterMs;
        if (after !== undefined && after >= 0) q.addAfter(key, after);
      } catch (err) {
        try {
          this.opts.onError?.(key, err);
        } catch {
          // A failing error reporter must not kill the worker; the retry below still happens.
        }
        q.addRateLimited(key);
      } finally {
        this.inFlight--;
        q.done(key);
      }
    }
  }
}
