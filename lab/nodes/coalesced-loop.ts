/**
 * The reconcile loop of the stand's own controllers (DaemonSet, Deployment): level-triggered passes over the caches,
 * as kube-controller-manager's workers run them, reduced to one key.
 *
 * Invariants:
 * - At most one pass runs at any time; a kick during a pass makes exactly one more pass after it.
 * - A failed pass is reported and retried after 100 ms.
 * - After `stop()` no pass starts; it resolves once the running one (if any) has ended.
 */
export class CoalescedLoop {
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  private readonly pass: () => Promise<void>;
  private readonly onError: (err: unknown) => void;

  constructor(pass: () => Promise<void>, onError: (err: unknown) => void) {
    this.pass = pass;
    this.onError = onError;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.dirty = true;
      return;
    }
    this.running = (async () => {
      do {
        this.dirty = false;
        try {
          await this.pass();
        } catch (err) {
          this.onError(err);
          await new Promise((r) => setTimeout(r, 100));
          this.dirty = true;
        }
      } while (this.dirty && !this.stopped);
      this.running = undefined;
    })();
  }

  /** Resolves once no pass is running or pending. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
