/** Shared pieces of the src/kube tests: recording a reflector's events. */
import type { Reflector, ReflectorEvent } from '../../src/kube/reflector.ts';
import type { KubeObject } from '../../src/kube/client.ts';

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
