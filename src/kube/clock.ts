/**
 * Time as a dependency: every timer in src/kube goes through a `Clock`, so backoff, resync, the watch watchdog, the
 * workqueue's delays and lease expiry can be driven step by step in tests instead of waited for.
 *
 * Invariants:
 * - `realClock` is wall time; its timers are unref'd so a forgotten timer never keeps a process alive (components
 *   are stopped explicitly; liveness comes from open sockets and the caller, not from our timers).
 * - `ManualClock` only moves when `advance()` is called; due timers fire in deadline order (ties in creation order),
 *   and a timer scheduled while advancing fires in the same advance if it falls due within it.
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Runs `fn` once after `ms`; cancel() before then and it never runs. */
  setTimer(fn: () => void, ms: number): Timer;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return {
      cancel: () => {
        clearTimeout(t);
      },
    };
  },
};

/** Sleeps on `clock`; resolves early (without error) when `signal` aborts, so loops can check their stop flag. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock for tests: time stands still until `advance(ms)`. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly pending = new Set<Pending>();

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const p: Pending = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.add(p);
    return {
      cancel: () => {
        this.pending.delete(p);
      },
    };
  }

  /** Timers waiting to fire. */
  timers(): number {
    return this.pending.size;
  }

  /** Delays (from now) of the waiting timers, soonest first. */
  delays(): number[] {
    return [...this.pending].map((p) => p.at - this.t).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending)
        if (p.at <= end && (next === undefined || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      if (next === undefined) break;
      this.pending.delete(next);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
}

/**
 * Jittered exponential backoff ("equal jitter"): the nominal delay doubles per attempt from `initialMs` up to
 * `maxMs`, and the actual delay is uniform in [nominal/2, nominal], so clients that failed together (an API server
 * restart) do not come back together.
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const nominal = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 52));
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}
