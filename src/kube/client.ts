/**
 * The wire: kubeconfig loading, plain-JSON REST requests, object keys and REST paths.
 *
 * Invariants:
 * - Objects stay plain JSON end to end. client-node's typed models turn timestamps into Date and drop fields they do
 *   not know, which would make custom resources lossy and "desired ⊆ live" comparisons wrong; so requests here go
 *   through client-node's auth and TLS (applySecurityAuthentication) but not through its serializer.
 * - Every failed request throws a `KubeError` carrying the HTTP code and the Status reason; callers branch on
 *   `code` (404 gone, 409 conflict, 410 expired), never on message text.
 * - Paths for an object are resolved through discovery (kind → plural and scope), cached per group-version.
 */
import { existsSync } from 'node:fs';
import { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, RequestContext } from '@kubernetes/client-node';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: OwnerReference[];
    deletionTimestamp?: string;
    creationTimestamp?: string;
    /** Server-side apply's field ownership; read through src/kube/managed-fields.ts. */
    managedFields?: unknown[];
  };
  [field: string]: unknown;
}

/** A file, else $KUBECONFIG, ~/.kube/config, then the in-cluster service account (client-node's default order). */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path !== undefined && path !== '') {
    if (!existsSync(path)) throw new Error(`kubeconfig ${path} does not exist; pass an existing file or omit it`);
    kc.loadFromFile(path);
  } else kc.loadFromDefault();
  if (kc.getCurrentCluster() === null)
    throw new Error('no current cluster in the kubeconfig; set current-context or pass --kubeconfig');
  return kc;
}

/** "ns/name", or "name" for cluster-scoped objects: the workqueue key and the store key. */
/** What names an object: `objectKey` needs no more. */
export interface Named {
  metadata?: { name?: string; namespace?: string };
}

export function objectKey(obj: Named): string {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns === undefined || ns === '' ? name : `${ns}/${name}`;
}

/** Splits an objectKey back into namespace and name. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export interface Status {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** A failed API request: `code` is the HTTP status (or the Status code of a watch ERROR event). */
export class KubeError extends Error {
  readonly code: number;
  readonly reason: string;

  constructor(code: number, reason: string, message: string) {
    super(message);
    this.name = 'KubeError';
    this.code = code;
    this.reason = reason;
  }

  static fromStatus(s: Status, fallbackCode: number, what: string): KubeError {
    const code = typeof s.code === 'number' ? s.code : fallbackCode;
    return new KubeError(code, s.reason ?? 'Unknown', `${what}: ${s.message ?? `HTTP ${code}`}`);
  }
}

/** The HTTP code of a failed request (KubeError, client-node's ApiException or a Watch error), else undefined. */
export function errorCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => errorCode(err) === 404;
export const isConflict = (err: unknown): boolean => errorCode(err) === 409;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

const http = new IsomorphicFetchHttpLibrary();

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;
/**
 * client-node builds a fresh connection pool (undici Agent) for every request, i.e. a TLS handshake per call. Keep
 * the first one per KubeConfig and reuse its connections; credentials are headers, re-applied on every request, so
 * a rotated service-account token is still picked up.
 */
const pools = new WeakMap<KubeConfig, Dispatcher>();
const METHODS = { GET: HttpMethod.GET, POST: HttpMethod.POST, PUT: HttpMethod.PUT, PATCH: HttpMethod.PATCH };

/** Node's `JSON.rawJSON` (ES2025; Node ≥ 21), which the es2024 lib does not declare. */
const rawJSON = (text: string): unknown => (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(text);

/**
 * A request body as JSON text, a bigint written as the exact JSON number it is: int64 and uint64 fields (kaasops'
 * `relatedSecretsHash`) reach the API server digit for digit, past the 2^53 a JS number holds.
 */
export function bodyText(body: unknown): string {
  return JSON.stringify(body, (_key, v: unknown) => (typeof v === 'bigint' ? rawJSON(v.toString()) : v));
}

/** One REST call with the kubeconfig's credentials; returns the parsed JSON body, throws KubeError on HTTP ≥ 400. */
export async function request<T = unknown>(
  kc: KubeConfig,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  opts: RequestOptions = {},
): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('no current cluster in the kubeconfig');
  const ctx = new RequestContext(cluster.server + path, method === 'DELETE' ? HttpMethod.DELETE : METHODS[method]);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) ctx.setQueryParam(k, String(v));
  ctx.setHeaderParam('Accept', 'application/json');
  if (opts.body !== undefined) {
    ctx.setHeaderParam('Content-Type', opts.contentType ?? 'application/json');
    ctx.setBody(bodyText(opts.body));
  }
  if (opts.signal) ctx.setSignal(opts.signal);
  await kc.applySecurityAuthentication(ctx);
  const pool = pools.get(kc);
  if (pool !== undefined) ctx.setDispatcher(pool);
  else {
    const made = ctx.getDispatcher();
    if (made !== undefined) pools.set(kc, made);
  }
  const res = await http.send(ctx).toPromise();
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = { message: text.slice(0, 200) };
  }
  if (res.httpStatusCode >= 400) throw KubeError.fromStatus(parsed ?? {}, res.httpStatusCode, `${method} ${path}`);
  return parsed as T;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** REST paths for objects, from discovery: the plural and the scope of each apiVersion/kind. */
export class ResourcePaths {
  private readonly kc: KubeConfig;
  private readonly cache = new Map<string, Promise<ApiResource[]>>();

  constructor(kc: KubeConfig) {
    this.kc = kc;
  }

  private async resources(apiVersion: string): Promise<ApiResource[]> {
    let hit = this.cache.get(apiVersion);
    if (hit === undefined) {
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      hit = request<{ resources?: ApiResource[] }>(this.kc, 'GET', base).then((l) => l.resources ?? []);
      this.cache.set(apiVersion, hit);
      // A failed discovery (or a CRD not yet established) must not be cached forever.
      hit.catch(() => this.cache.delete(apiVersion));
    }
    return hit;
  }

  /** The object's path, e.g. /apis/apps/v1/namespaces/ns/daemonsets/name (with `/sub` for a subresource). */
  async objectPath(obj: KubeObject, subresource?: string): Promise<string> {
    const { apiVersion, kind } = obj;
    const name = obj.metadata?.name;
    if (apiVersion === undefined || kind === undefined || name === undefined || name === '')
      throw new Error(`object ${JSON.stringify(obj.metadata ?? {})} needs apiVersion, kind and metadata.name`);
    let r = (await this.resources(apiVersion)).find((x) => x.kind === kind && !x.name.includes('/'));
    if (r === undefined) {
      // The kind may have been installed (a CRD) after the first lookup: look once more.
      this.cache.delete(apiVersion);
      r = (await this.resources(apiVersion)).find((x) => x.kind === kind && !x.name.includes('/'));
    }
    if (r === undefined) throw new KubeError(404, 'NotFound', `${apiVersion} ${kind} is not served by the API server`);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = obj.metadata?.namespace;
    if (r.namespaced && (ns === undefined || ns === ''))
      throw new Error(`${kind} "${name}" is namespaced: set metadata.namespace`);
    const scope = r.namespaced ? `/namespaces/${encodeURIComponent(ns ?? '')}` : '';
    const sub = subresource === undefined ? '' : `/${subresource}`;
    return `${base}${scope}/${r.name}/${encodeURIComponent(name)}${sub}`;
  }
}
