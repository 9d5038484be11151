/**
 * Graceful shutdown: on SIGTERM/SIGINT, stop what was started in the reverse order, within a deadline.
 *
 * Invariants:
 * - Steps run once, one after another, last registered first (start the lease, then reflectors, then controllers;
 *   shutdown then stops controllers, so nothing writes, before it releases the lease for the successor).
 * - A failing step is reported and the next still runs: a broken reflector must not keep the lease held.
 * - The whole sequence is bounded by `timeoutMs` (default 25 s, inside Kubernetes' 30 s grace period); a second
 *   signal exits at once. The exit code is 0 only when every step finished in time.
 */
import process from 'node:process';
import { realClock, type Clock } from './clock.ts';

export interface ShutdownOptions {
  signals?: NodeJS.Signals[];
  timeoutMs?: number;
  /** Called with the exit code when a signal-triggered shutdown ends (default process.exit). */
  exit?: (code: number) => void;
  /** Told about each step that failed, and about the deadline passing. */
  onError?: (step: string, err: unknown) => void;
  clock?: Clock;
}

export class Shutdown {
  private readonly opts: ShutdownOptions;
  private readonly steps: { name: string; fn: () => Promise<void> }[] = [];
  private running: Promise<boolean> | undefined;
  private readonly handler = (): void => {
    if (this.running !== undefined) {
      this.exit(1);
      return;
    }
    void this.run().then((ok) => {
      this.exit(ok ? 0 : 1);
    });
  };

  constructor(opts: ShutdownOptions = {}) {
    this.opts = opts;
  }

  /** Registers a step; steps run last-registered first. */
  add(name: string, fn: () => Promise<void>): void {
    this.steps.push({ name, fn });
  }

  /** Installs the signal handlers. */
  listen(): void {
    for (const s of this.opts.signals ?? ['SIGTERM', 'SIGINT']) process.on(s, this.handler);
  }

  /** Runs every step (once, however often called); true when all finished without error before the deadline. */
  run(): Promise<boolean> {
    this.running ??= this.runSteps();
    return this.running;
  }

  private exit(code: number): void {
    for (const s of this.opts.signals ?? ['SIGTERM', 'SIGINT']) process.off(s, this.handler);
    (this.opts.exit ?? ((c: number) => process.exit(c)))(code);
  }

  private async runSteps(): Promise<boolean> {
    const clock = this.opts.clock ?? realClock;
    let timer: { cancel(): void } | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = clock.setTimer(() => {
        this.opts.onError?.('shutdown', new Error('graceful shutdown did not finish before its deadline'));
        resolve(false);
      }, this.opts.timeoutMs ?? 25_000);
    });
    const all = (async (): Promise<boolean> => {
      let ok = true;
      for (const step of [...this.steps].reverse()) {
        try {
          await step.fn();
        } catch (err) {
          ok = false;
          this.opts.onError?.(step.name, err);
        }
      }
      return ok;
    })();
    try {
      return await Promise.race([all, deadline]);
    } finally {
      timer?.cancel();
    }
  }
}
