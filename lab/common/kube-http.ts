/**
 * How the stand's simulated clients (Vector simulator, kubelet, DaemonSet controller, scenario steps) use HTTP: one
 * connection pool per client process, failures that name their cause, and retries where a real client retries.
 *
 * Invariants:
 * - `sharePool(kc)`: every request made through `kc` (client-node's typed APIs, its `Watch`, and `src/kube/client.ts`)
 *   goes through one undici pool. client-node alone builds a fresh pool, so a fresh TCP and TLS connection, for
 *   every request; Vector's kube client and client-go keep one keep-alive pool per client. undici offers HTTP/2
 *   through ALPN, which the stand-in and kube-apiserver accept, so the pool multiplexes requests and watches as
 *   streams, at most 100 per connection; against an HTTP/1.1-only server an open watch holds a connection of its
 *   own.
 * - `describeError(err)` names what failed and why: the HTTP code, or the socket error under undici's
 *   `TypeError: fetch failed` (code, syscall, address:port), following the `cause` chain.
 * - `retrying(what, fn)` retries only what client-go retries for a read: a connection that was reset, refused or timed
 *   out, 429 and 5xx. Anything else (404, 409, 410, 422) is the caller's to handle, at once.
 * - `listJson(kc, path, selectors)` returns a list as the server sent it, parsed with `JSON.parse`, with apiVersion
 *   and kind filled into each item, as watch events arrive; a status of 400 or more is thrown with the HTTP code as `code`. Every list is requested and received in
 *   full; a reply identical to the last one for the same URL in this process is not decoded again but returns the
 *   same objects, which callers therefore never mutate.
 */
import * as k8s from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<k8s.RequestContext['getDispatcher']>>;
type Ctx = Parameters<k8s.KubeConfig['applySecurityAuthentication']>[0];

const shared = new WeakSet<k8s.KubeConfig>();

/** Makes every request through `kc` share the first connection pool it builds; returns `kc`. */
export function sharePool(kc: k8s.KubeConfig): k8s.KubeConfig {
  if (shared.has(kc)) return kc;
  shared.add(kc);
  const apply = kc.applySecurityAuthentication.bind(kc);
  let pool: Dispatcher | undefined;
  kc.applySecurityAuthentication = async (ctx: Ctx): Promise<void> => {
    await apply(ctx);
    if (pool === undefined) pool = ctx.getDispatcher();
    else ctx.setDispatcher(pool);
  };
  return kc;
}

/** Socket-level error codes a real client treats as transient (client-go: connection reset/refused, EOF). */
const TRANSIENT = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

interface ErrLike {
  message?: unknown;
  code?: unknown;
  statusCode?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  cause?: unknown;
}

function causes(err: unknown): ErrLike[] {
  const out: ErrLike[] = [];
  for (let e = err; typeof e === 'object' && e !== null && out.length < 5; e = (e as ErrLike).cause) out.push(e);
  return out;
}

/** The HTTP status of a failed request (client-node's ApiException, a Watch error, a KubeError), else undefined. */
export function httpCode(err: unknown): number | undefined {
  const e = causes(err)[0];
  if (e === undefined) return undefined;
  if (typeof e.code === 'number') return e.code;
  return typeof e.statusCode === 'number' ? e.statusCode : undefined;
}

/** The socket error code under a failed fetch (`ECONNRESET`, `UND_ERR_CONNECT_TIMEOUT`, …), else undefined. */
export function socketCode(err: unknown): string | undefined {
  for (const e of causes(err)) if (typeof e.code === 'string') return e.code;
  return undefined;
}

/** One line: the message, then each cause with its code, syscall and address. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (const e of causes(err)) {
    const msg = typeof e.message === 'string' ? e.message : JSON.stringify(e);
    const code = typeof e.code === 'string' || typeof e.code === 'number' ? String(e.code) : undefined;
    const where =
      typeof e.address === 'string' ? `${e.address}${typeof e.port === 'number' ? `:${String(e.port)}` : ''}` : '';
    const detail = [code, typeof e.syscall === 'string' ? e.syscall : undefined, where]
      .filter((s) => s !== undefined && s !== '' && !msg.includes(s))
      .join(' ');
    parts.push(detail === '' ? msg : `${msg} (${detail})`);
  }
  if (parts.length === 0) return String(err);
  return parts.join(': caused by ');
}

/** True for what client-go retries on a read: a transient connection failure, 429 Too Many Requests, or 5xx. */
export function isRetriable(err: unknown): boolean {
  const code = httpCode(err);
  if (code !== undefined) return code === 429 || code >= 500;
  const sock = socketCode(err);
  return sock !== undefined && TRANSIENT.has(sock);
}

export interface RetryOptions {
  attempts?: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each retry, with the attempt that failed (1-based). */
  onRetry?: (err: unknown, attempt: number) => void;
}

/** An Error whose message says what was being done and why it failed; the original stays as `cause`. */
export function failed(what: string, err: unknown): Error {
  const e = new Error(`${what}: ${describeError(err)}`, { cause: err });
  const code = httpCode(err);
  if (code !== undefined) Object.assign(e, { code });
  return e;
}

/**
 * Runs `fn`, retrying transient failures with doubling backoff (client-go's default backoff for reads starts at
 * tens of milliseconds and caps in seconds). A failure that is not retriable is thrown unchanged; the last transient
 * one is thrown with `what` and its cause in the message.
 */
export async function retrying<T>(what: string, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 8;
  let delay = opts.firstDelayMs ?? 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      // Anything not retriable goes back as it came, for the caller to branch on (404, 409, 410).
      if (!isRetriable(err)) throw err;
      if (attempt >= attempts) throw failed(what, err);
      opts.onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(opts.maxDelayMs ?? 2_000, delay * 2);
    }
  }
}

const fetchLibrary = new k8s.IsomorphicFetchHttpLibrary();

interface ListJson<T> {
  apiVersion?: string;
  kind?: string;
  items: T[];
  metadata?: { resourceVersion?: string };
}

/**
 * GETs a collection through `kc` (so through its shared pool) and parses it with `JSON.parse` alone. client-node's
 * typed list calls also walk every field of every item through their model deserializer, which costs about twice
 * the parse again in CPU and garbage: for a thousand sources each listing a node's 700 pods, most of an agent's
 * start. Vector decodes the same reply straight into its structs.
 */
export async function listJson<T>(
  kc: k8s.KubeConfig,
  path: string,
  selectors: { labelSelector?: string; fieldSelector?: string } = {},
): Promise<ListJson<T>> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('no current cluster in the kubeconfig');
  const ctx = new k8s.RequestContext(cluster.server + path, k8s.HttpMethod.GET);
  const { labelSelector, fieldSelector } = selectors;
  if (labelSelector !== undefined && labelSelector !== '') ctx.setQueryParam('labelSelector', labelSelector);
  if (fieldSelector !== undefined && fieldSelector !== '') ctx.setQueryParam('fieldSelector', fieldSelector);
  ctx.setHeaderParam('Accept', 'application/json');
  await kc.applySecurityAuthentication(ctx);
  const { status, text } = await get(ctx);
  if (status >= 400)
    throw Object.assign(new Error(`GET ${path}: HTTP ${String(status)}: ${text.slice(0, 200)}`), { code: status });
  const url = ctx.getUrl();
  const last = decoded.get(url);
  if (last?.text === text) return last.list as ListJson<T>;
  const list = JSON.parse(text) as ListJson<T>;
  // Items come without apiVersion and kind; watch events carry them. Filled once here, before anyone shares them.
  const kind = list.kind?.replace(/List$/, '');
  for (const item of list.items as { apiVersion?: string; kind?: string }[]) {
    item.apiVersion ??= list.apiVersion;
    item.kind ??= kind;
  }
  decoded.set(url, { text, list });
  return list;
}

/**
 * The last reply per list URL and what it decoded to. A thousand sources of one agent list the node's pods with the
 * same selectors and mostly receive the same megabyte; comparing it with the last one costs a memory compare, decoding
 * it again a parse and the garbage of 700 pods. The simulator's decode is not what the stand measures; the requests,
 * bytes and watches are, and they are unchanged.
 */
const decoded = new Map<string, { text: string; list: unknown }>();

/**
 * The GET through the context's pool with undici's plain `request` when there is one: the same request on the same
 * connections as `fetch`, without the WHATWG stream a megabyte body is otherwise fed through chunk by chunk.
 */
async function get(ctx: k8s.RequestContext): Promise<{ status: number; text: string }> {
  const pool = ctx.getDispatcher();
  if (pool === undefined) {
    const res = await fetchLibrary.send(ctx).toPromise();
    return { status: res.httpStatusCode, text: await res.body.text() };
  }
  const url = new URL(ctx.getUrl());
  const res = await pool.request({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: 'GET',
    headers: ctx.getHeaders(),
  });
  return { status: res.statusCode, text: await res.body.text() };
}
