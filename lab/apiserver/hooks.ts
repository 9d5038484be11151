/**
 * Test hooks: what tests and the stand observe and perturb, beside the Kubernetes API.
 *
 * Invariants:
 * - Every request is counted once, under its Kubernetes verb (get, list, watch, create, update, patch, delete,
 *   deletecollection) and resource (`pods`, `daemonsets/status`, …), before it can fail, so a failing call counts too.
 * - An injected failure fires on the next request that matches it (every given criterion must match), and only
 *   `times` times; the request then does nothing else.
 * - Over HTTP the hooks live under /_lab/ (a path no Kubernetes client uses), behind the same bearer token.
 */
import { ApiError } from './errors.ts';

export interface Injection {
  verb?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  /** 409 gives a Conflict, 500 an InternalError; any other code gives a Status with that code. */
  code: number;
  /** How many matching requests fail (default 1). */
  times?: number;
}

export interface RequestInfo {
  verb: string;
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
}

export class Hooks {
  private readonly counts = new Map<string, number>();
  private readonly injections: (Injection & { left: number })[] = [];

  record(info: RequestInfo): void {
    const k = `${info.verb} ${info.resource}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  /** Requests per `verb resource`, e.g. `{"watch pods": 3, "patch daemonsets/status": 1}`. */
  requestCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort((a, b) => a[0].localeCompare(b[0])));
  }

  count(verb: string, resource: string): number {
    return this.counts.get(`${verb} ${resource}`) ?? 0;
  }

  resetCounts(): void {
    this.counts.clear();
  }

  inject(i: Injection): void {
    this.injections.push({ ...i, left: i.times ?? 1 });
  }

  /** The injected failure for this request, if one matches (and is consumed). */
  takeFailure(info: RequestInfo): ApiError | undefined {
    const idx = this.injections.findIndex(
      (i) =>
        (i.verb === undefined || i.verb === info.verb) &&
        (i.resource === undefined || i.resource === info.resource) &&
        (i.namespace === undefined || i.namespace === info.namespace) &&
        (i.name === undefined || i.name === info.name),
    );
    const hit = this.injections[idx];
    if (hit === undefined) return undefined;
    hit.left--;
    if (hit.left <= 0) this.injections.splice(idx, 1);
    const what = `${info.resource}${info.name === undefined ? '' : ` "${info.name}"`}`;
    if (hit.code === 409)
      return new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${what}: the object has been modified; please apply your changes to the latest version and try again (injected)`,
      );
    if (hit.code === 500)
      return new ApiError(500, 'InternalError', `Internal error occurred: injected failure on ${info.verb} ${what}`);
    return new ApiError(hit.code, 'Unknown', `injected failure (${hit.code}) on ${info.verb} ${what}`);
  }
}
