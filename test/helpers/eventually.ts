/**
 * The tests' one way to wait for what happens asynchronously: polls `check` until it returns a value other than
 * undefined or false (a thrown error counts as "not yet"), and returns that value. Bounded so that a test fails,
 * naming `what` and the last error, instead of hanging; the bound is never a measurement.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** How long to keep trying (default 30 s; the real control plane's slower steps pass more). */
  limitMs?: number;
  /** The pause between tries (default 20 ms). */
  everyMs?: number;
}

export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: EventuallyOptions = {},
): Promise<T> {
  const { limitMs = 30_000, everyMs = 20 } = options;
  const deadline = Date.now() + limitMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last === undefined ? '' : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`;
      throw new Error(`timed out waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}
