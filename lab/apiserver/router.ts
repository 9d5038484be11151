/**
 * Request path → what it addresses. Pure: no store access, so the rules are testable and readable in one place.
 *
 * Invariants:
 * - `/api/v1/...` is the core group, `/apis/<group>/<version>/...` any other.
 * - Namespaced resources are reached under `namespaces/<ns>/`, or at the root for a list/watch across namespaces;
 *   cluster-scoped resources only at the root. Anything else is a 404, as on a real server: a JSON Status within a
 *   served group-version, a plain-text `404 page not found` (PageNotFound) for a path outside any served API.
 * - `namespaces/<name>/status` and `/finalize` are the namespace's own subresources, not a namespaced collection.
 */
import { ApiError, PageNotFound } from './errors.ts';
import type { Registry } from './registry.ts';
import type { Target } from './resources.ts';

export type Route =
  | { kind: 'discovery'; doc: 'version' | 'api' | 'apis' | 'group' | 'resources'; group: string; version: string }
  | { kind: 'resource'; target: Target; collection: boolean }
  | { kind: 'lab'; action: string }
  | { kind: 'health' };

function pageNotFound(path: string): ApiError {
  return new ApiError(404, 'NotFound', `the server could not find the requested resource (${path})`);
}

export function route(registry: Registry, path: string): Route {
  const seg = path
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  const [a, b, c] = seg;
  if (a === 'version' && seg.length === 1) return { kind: 'discovery', doc: 'version', group: '', version: '' };
  if ((a === 'healthz' || a === 'livez' || a === 'readyz') && seg.length === 1) return { kind: 'health' };
  if (a === '_lab' && b !== undefined && seg.length === 2) return { kind: 'lab', action: b };
  let group: string;
  let version: string;
  let rest: string[];
  if (a === 'api') {
    if (b === undefined) return { kind: 'discovery', doc: 'api', group: '', version: '' };
    group = '';
    version = b;
    rest = seg.slice(2);
  } else if (a === 'apis') {
    if (b === undefined) return { kind: 'discovery', doc: 'apis', group: '', version: '' };
    if (c === undefined) return { kind: 'discovery', doc: 'group', group: b, version: '' };
    group = b;
    version = c;
    rest = seg.slice(3);
  } else throw new PageNotFound(path);
  // A group-version the server does not serve is not an API at all: plain "404 page not found", as on a real server.
  if (registry.groups().get(group)?.includes(version) !== true) throw new PageNotFound(path);
  if (rest.length === 0) return { kind: 'discovery', doc: 'resources', group, version };

  let namespace: string | undefined;
  const isNsSub = rest[0] === 'namespaces' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize');
  if (rest[0] === 'namespaces' && rest.length >= 3 && !isNsSub) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, extra] = rest;
  if (plural === undefined || extra !== undefined) throw pageNotFound(path);
  const type = registry.lookup(group, version, plural);
  if (type === undefined) throw pageNotFound(path);
  if (namespace !== undefined && !type.namespaced) throw pageNotFound(path);
  if (namespace === undefined && type.namespaced && name !== undefined) throw pageNotFound(path);
  if (
    subresource !== undefined &&
    !(subresource === 'status' && type.status) &&
    !(plural === 'namespaces' && subresource === 'finalize')
  )
    throw pageNotFound(path);
  return { kind: 'resource', target: { type, namespace, name, subresource }, collection: name === undefined };
}
