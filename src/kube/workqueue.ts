/**
 * WorkQueue: client-go's rate-limited work queue, for string keys ("ns/name").
 *
 * Invariants:
 * - A key is queued at most once: adding a key that is already waiting is a no-op (events coalesce; reconcile is
 *   level-triggered, so one run sees all of them).
 * - A key being processed (handed out by get(), not yet done()) is never handed out again; adding it meanwhile marks
 *   it dirty, and done() queues it once more. So one key is never reconciled concurrently, and no change is missed.
 * - addAfter keeps only the earliest pending deadline per key.
 * - addRateLimited waits baseDelayMs · 2^failures (capped at maxDelayMs) per key; forget() resets the count.
 * - After shutDown() nothing new is accepted, delayed adds are dropped, keys already queued are still handed out,
 *   and get() returns undefined once the queue is empty.
 */
import { realClock, type Clock, type Timer } from './clock.ts';

export interface WorkQueueOptions {
  /** First retry delay of addRateLimited (default 5 ms, as client-go). */
  baseDelayMs?: number;
  /** Cap of the per-key retry delay (default 1000 s, as client-go). */
  maxDelayMs?: number;
  clock?: Clock;
}

export class WorkQueue {
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly clock: Clock;
  private queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, { at: number; timer: Timer }>();
  private readonly failures = new Map<string, number>();
  private waiters: (() => void)[] = [];
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    this.clock = opts.clock ?? realClock;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const prev = this.waiting.get(key);
    if (prev !== undefined) {
      if (prev.at <= at) return;
      prev.timer.cancel();
    }
    const timer = this.clock.setTimer(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(n, 52)));
  }

  /** Forget the key's failures: its next addRateLimited starts from baseDelayMs again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How many times the key was rate-limited since it was last forgotten. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process; waits for one. undefined once shut down and drained. */
  async get(): Promise<string | undefined> {
    for (;;) {
      if (this.head < this.queue.length) {
        const key = this.queue[this.head++] as string;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          // Compact now and then, so a long-lived queue does not grow with every key it ever held.
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        this.dirty.delete(key);
        this.processing.add(key);
        return key;
      }
      if (this.shuttingDown) return undefined;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
      });
    }
  }

  /** Ends processing of a key; a key re-added while it was processed is queued again now. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  /** Keys ready to be handed out (not the delayed ones, not those being processed). */
  len(): number {
    return this.queue.length - this.head;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) w.timer.cancel();
    this.waiting.clear();
    for (const w of this.waiters.splice(0)) w();
  }

  private push(key: string): void {
    this.queue.push(key);
    this.waiters.shift()?.();
  }
}
