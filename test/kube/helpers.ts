/** Shared pieces of the src/kube tests: waiting for a condition, and recording a reflector's events. */
import type { Reflector, ReflectorEvent } from '../../src/kube/reflector.ts';
import type { KubeObject } from '../../src/kube/client.ts';

/**
 * Waits until `pred` holds, yielding to I/O between checks. Bounded by a count of turns, not by a duration, so a test
 * fails with `what` instead of hanging; nothing here measures time.
 */
export async function until(pred: () => boolean, what: string, turns = 4000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`gave up waiting for: ${what}`);
}

/** Records "event name" strings, e.g. "add default/a", plus the objects. */
export function record<T extends KubeObject>(r: Reflector<T>): string[] {
  const seen: string[] = [];
  r.on((event: ReflectorEvent, obj: T) => {
    seen.push(`${event} ${obj.metadata?.name ?? ''}`);
  });
  return seen;
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve: (v: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
