/**
 * The shutdown window of a Vector agent pod: SIGTERM, Vector's bounded drain, the kubelet's SIGKILL.
 *
 * - Vector drains for at most its graceful shutdown limit (src/vector/shutdown.ts: default 60 s), then stops its
 *   components by force and exits: whatever is still buffered is dropped.
 * - The kubelet sends SIGKILL `terminationGracePeriodSeconds` after SIGTERM (30 when the pod does not say).
 * - So the window ends at the earlier of the two; a drain that empties every buffer first ends it at once.
 *
 * Invariants:
 * - `drainWithin` returns 'drained' only when `idle()` held before the window ended; it never pumps after the end.
 * - Time comes from the injected clock, so tests decide when the window ends.
 */

export const kubernetesDefaultGraceSecs = 30;

export type ShutdownOutcome = 'drained' | 'drain-limit' | 'killed';

export interface ShutdownWindow {
  /** Vector's graceful shutdown limit; undefined = `--no-graceful-shutdown-limit`. */
  drainLimitMs: number | undefined;
  /** The pod's termination grace. */
  graceMs: number;
}

/** When the window ends (ms after SIGTERM) if the drain does not finish first, and who ends it. */
export function windowEnd(w: ShutdownWindow): { atMs: number; by: Exclude<ShutdownOutcome, 'drained'> } {
  return w.drainLimitMs !== undefined && w.drainLimitMs < w.graceMs
    ? { atMs: w.drainLimitMs, by: 'drain-limit' }
    : { atMs: w.graceMs, by: 'killed' };
}

export interface DrainClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Pumps until idle or until the window ends, whichever comes first. */
export async function drainWithin(
  path: { pump(): void; readonly idle: boolean },
  window: ShutdownWindow,
  clock: DrainClock,
  tickMs: number,
): Promise<{ outcome: ShutdownOutcome; afterMs: number }> {
  const start = clock.now();
  const end = windowEnd(window);
  for (;;) {
    const elapsed = clock.now() - start;
    if (elapsed >= end.atMs) return { outcome: end.by, afterMs: elapsed };
    path.pump();
    if (path.idle) return { outcome: 'drained', afterMs: elapsed };
    await clock.sleep(Math.min(tickMs, end.atMs - elapsed));
  }
}
