/**
 * The API server stand-in: HTTPS on 127.0.0.1, bearer-token auth, Kubernetes REST semantics (see docs/testing.md for
 * where it differs from a real kube-apiserver).
 *
 * Invariants:
 * - Every request is authenticated, counted (hooks), checked for an injected failure, then served; any failure leaves
 *   as a `Status` object with the matching HTTP code.
 * - The kubeconfig carries the server's own certificate as certificate-authority-data: clients verify TLS, they are
 *   not told to skip it.
 * - `close()` ends every watch and every keep-alive connection, so a test process can exit.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { coreVersions, group, groupList, resourceList, versionInfo } from './discovery.ts';
import { ApiError, methodNotAllowed, PageNotFound } from './errors.ts';
import { GarbageCollector } from './gc.ts';
import { Hooks, type Injection } from './hooks.ts';
import type { FieldValidation } from './admission.ts';
import type { JsonObject } from './json.ts';
import { OPENAPI_V2_EMPTY_PB, OPENAPI_V2_PROTOBUF, openApiV2, openApiV3Index, openApiV3Path } from './openapi.ts';
import { Registry } from './registry.ts';
import { Reviews } from './reviews.ts';
import { parseJson, Resources, type Target, type WriteOptions } from './resources.ts';
import { route } from './router.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { Store } from './store.ts';
import { asTable, wantsTable } from './table.ts';
import { selfSignedCertificate } from './tls.ts';
import { serveWatch } from './watch.ts';
import { labAction } from './lab-actions.ts';
import { readBody, send, sendBytes, sendError, type Sent } from './http.ts';
import { ListCache, listVersion } from './list-cache.ts';
import { ListQueue } from './list-queue.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import { listen, type Req, type Res } from './listener.ts';

export interface ApiServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Bearer token clients must present; random when omitted. */
  token?: string;
  /** Events kept for watch replay; older resourceVersions get 410 Gone. */
  eventLogSize?: number;
  /** Interval between BOOKMARK events on watches that allow them (the real server: about a minute). */
  bookmarkIntervalMs?: number;
  /** Pods bound to a node are deleted gracefully, finished by a kubelet's delete with grace 0 (default false). */
  gracefulPodDeletion?: boolean;
  /** Namespaces present at start (the real control plane creates these four). */
  namespaces?: string[];
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly caPem: string;
  /** The kubeconfig YAML (cluster, user and context all named `lab`). */
  readonly kubeconfig: string;
  readonly store: Store;
  readonly hooks: Hooks;
  writeKubeconfig(path: string): void;
  /** Open watch connections, optionally for one resource (`pods`, `vectors.observability.kaasops.io`). */
  openWatches(resource?: string): number;
  /** Watches opened since start: with `openWatches`, how often clients reopen them. */
  watchesOpened(): number;
  dropWatches(): number;
  /** TLS connections: open now, and accepted since start (each one a handshake). */
  connections(): { open: number; accepted: number };
  compact(): void;
  inject(i: Injection): void;
  /** A bearer token TokenReview authenticates as `username` (also `POST /_lab/tokens`); API calls still need `token`. */
  addToken(token: string, username: string, groups?: string[]): void;
  /** Resolves once background work (garbage collection, namespace termination) has drained. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Lists served at once (`list-queue.ts`): about what APF's default seats give a service account's large lists. */
const LISTS_AT_ONCE = 32;

function verbOf(method: string, collection: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
      return collection ? (watch ? 'watch' : 'list') : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return collection ? 'deletecollection' : 'delete';
    default:
      throw methodNotAllowed(`method ${method} is not supported`);
  }
}

function resourceName(t: Target): string {
  const base = t.type.group === '' ? t.type.plural : `${t.type.plural}.${t.type.group}`;
  return t.subresource === undefined ? base : `${base}/${t.subresource}`;
}

/** The real server derives a default field manager from the User-Agent's product token. */
function managerOf(q: URLSearchParams, req: Req): string {
  const given = q.get('fieldManager');
  if (given !== null && given !== '') return given;
  const ua = req.headers['user-agent'] ?? '';
  return ua.split('/')[0] ?? 'unknown';
}

function validationOf(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  return v === 'Strict' || v === 'Ignore' ? v : 'Warn';
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const tls = selfSignedCertificate();
  const store = new Store(options.eventLogSize ?? 10_000);
  const registry = new Registry();
  const resources = new Resources(store, registry);
  const gc = new GarbageCollector(resources);
  resources.collector = gc;
  resources.gracefulPods = options.gracefulPodDeletion ?? false;
  const hooks = new Hooks();
  const lists = new ListCache();
  const listQueue = new ListQueue(LISTS_AT_ONCE);
  const reviews = new Reviews(store, token);
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
  let openWatchCount = 0;
  let watchesOpened = 0;
  const watchesByResource = new Map<string, number>();
  let address = '127.0.0.1:0';

  const system: WriteOptions = { manager: 'kube-apiserver', dryRun: false, validation: 'Ignore', force: false };
  const nsType = registry.lookup('', 'v1', 'namespaces');
  for (const ns of options.namespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    if (nsType !== undefined)
      resources.create(
        { type: nsType, namespace: undefined, name: undefined, subresource: undefined },
        { metadata: { name: ns } },
        system,
      );
  }

  const api: ApiServer = {
    url: '',
    port: 0,
    token,
    caPem: tls.cert,
    kubeconfig: '',
    store,
    hooks,
    writeKubeconfig: (path) => {
      writeFileSync(path, api.kubeconfig, { mode: 0o600 });
    },
    openWatches: (resource) => (resource === undefined ? openWatchCount : (watchesByResource.get(resource) ?? 0)),
    watchesOpened: () => watchesOpened,
    dropWatches: () => store.closeAllWatches(),
    connections: () => ({ open: 0, accepted: 0 }),
    compact: () => {
      store.compact();
    },
    inject: (i) => {
      hooks.inject(i);
    },
    addToken: (t, username, groups = []) => {
      reviews.addToken(t, { username, groups });
    },
    settled: async () => {
      while (gc.busy) await new Promise((r) => setImmediate(r));
    },
    close: () => Promise.resolve(),
  };

  async function handle(req: Req, res: Res): Promise<Sent | undefined> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const q = url.searchParams;
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${token}`) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    if (url.pathname === '/openapi/v2' && (req.headers.accept ?? '').includes('protobuf')) {
      res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF, 'Content-Length': String(OPENAPI_V2_EMPTY_PB.length) });
      res.end(OPENAPI_V2_EMPTY_PB);
      return;
    }
    if (url.pathname.startsWith('/openapi/')) {
      const doc =
        url.pathname === '/openapi/v2'
          ? openApiV2()
          : url.pathname === '/openapi/v3'
            ? openApiV3Index(registry)
            : openApiV3Path(registry, url.pathname.slice('/openapi/v3/'.length));
      if (doc === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return send(res, 200, doc);
    }
    if (req.method === 'POST' && url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews') {
      hooks.record({ verb: 'create', resource: 'tokenreviews', namespace: undefined, name: undefined });
      return send(res, 201, reviews.tokenReview(parseJson(await readBody(req))));
    }
    if (req.method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
      hooks.record({ verb: 'create', resource: 'subjectaccessreviews', namespace: undefined, name: undefined });
      return send(res, 201, reviews.subjectAccessReview(parseJson(await readBody(req))));
    }
    const r = route(registry, url.pathname);
    if (r.kind === 'health') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (r.kind === 'lab') {
      const stats = () => ({
        rssBytes: process.memoryUsage().rss,
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
        openWatches: openWatchCount,
        lists: listQueue.depth(),
        openConnections: api.connections().open,
        acceptedConnections: api.connections().accepted,
        resourceVersion: store.currentRv,
      });
      const watches = () => ({ open: openWatchCount, byResource: Object.fromEntries(watchesByResource) });
      return labAction({ hooks, store, reviews, stats, watches }, r.action, req, res);
    }
    if (r.kind === 'discovery') {
      const doc =
        r.doc === 'version'
          ? versionInfo()
          : r.doc === 'api'
            ? coreVersions(address)
            : r.doc === 'apis'
              ? groupList(registry)
              : r.doc === 'group'
                ? group(registry, r.group)
                : resourceList(registry, r.group, r.version);
      if (doc === undefined) throw new PageNotFound(url.pathname);
      return send(res, 200, doc);
    }
    const t = r.target;
    if (t.subresource === 'finalize') t.subresource = undefined;
    const watch = q.get('watch') === 'true' || q.get('watch') === '1';
    const verb = verbOf(req.method ?? 'GET', r.collection, watch);
    const info = { verb, resource: resourceName(t), namespace: t.namespace, name: t.name };
    hooks.record(info);
    const injected = hooks.takeFailure(info);
    if (injected !== undefined) throw injected;
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), t.type.plural);
    const opts: WriteOptions = {
      manager: managerOf(q, req),
      dryRun: q.getAll('dryRun').includes('All'),
      validation: validationOf(q),
      force: q.get('force') === 'true',
    };
    const table = wantsTable(req.headers.accept);
    const fullRows = q.get('includeObject') === 'Object';
    // Protobuf (what kubectl's typed generators such as `kubectl create configmap` send) is not modelled: say so.
    if ((req.headers['content-type'] ?? '').startsWith('application/vnd.kubernetes.protobuf'))
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        'the lab API server speaks JSON only; protobuf request bodies are not supported (use -f with a manifest)',
      );
    switch (verb) {
      case 'get': {
        const o = resources.get(t);
        return send(res, 200, table ? asTable(t.type, [o], {}, fullRows) : o);
      }
      case 'list': {
        const list = (): JsonObject =>
          resources.list(t, labels, fields, Number(q.get('limit') ?? 0) || 0, q.get('continue'));
        if (table) {
          const l = list();
          return send(res, 200, asTable(t.type, l.items as never[], l.metadata as JsonObject, fullRows));
        }
        // Built when its turn comes, so it is the state of that moment, as a queued list on kube-apiserver is.
        const flow = ('stream' in req ? req.stream.session : req.socket) ?? req;
        listQueue.run(flow, res, () => {
          try {
            sendBytes(
              res,
              200,
              lists.get(`${url.pathname}${url.search}`, listVersion(store, t.type, q), store.currentRv, list),
            );
          } catch (e) {
            sendError(res, e);
          }
        });
        return 'sent';
      }
      case 'watch': {
        const timeout = q.get('timeoutSeconds');
        const resource = resourceName(t);
        const sie = q.get('sendInitialEvents');
        serveWatch(req, res, {
          store,
          type: t.type,
          namespace: t.namespace,
          labels,
          fields,
          resourceVersion: q.get('resourceVersion'),
          bookmarks: q.get('allowWatchBookmarks') === 'true',
          sendInitialEvents: sie === null ? undefined : sie === 'true',
          // Without timeoutSeconds (or with 0) the real server picks 30–60 minutes at random.
          timeoutSeconds: Number(timeout) > 0 ? Number(timeout) : 1800 + Math.floor(Math.random() * 1800),
          bookmarkIntervalMs,
          table: table ? { fullRows } : undefined,
          onOpen: () => {
            openWatchCount++;
            watchesOpened++;
            watchesByResource.set(resource, (watchesByResource.get(resource) ?? 0) + 1);
          },
          onClose: () => {
            openWatchCount--;
            watchesByResource.set(resource, (watchesByResource.get(resource) ?? 1) - 1);
          },
        });
        return;
      }
      case 'create': {
        const w = resources.create(t, parseJson(await readBody(req)), opts);
        return send(res, 201, w.obj, w.warnings);
      }
      case 'update': {
        const w = resources.update(t, parseJson(await readBody(req)), opts);
        return send(res, 200, w.obj, w.warnings);
      }
      case 'patch': {
        const w = resources.patch(t, await readBody(req), req.headers['content-type'] ?? '', opts);
        return send(res, w.created ? 201 : 200, w.obj, w.warnings);
      }
      case 'delete': {
        const raw = await readBody(req);
        const body = raw.length > 0 ? parseJson(raw) : undefined;
        const grace = q.get('gracePeriodSeconds');
        const o = resources.delete(
          t,
          body,
          q.get('propagationPolicy'),
          opts,
          grace === null ? undefined : Number(grace),
        );
        const gone = store.get(`${t.type.group}/${t.type.plural}`, t.namespace, t.name ?? '') === undefined;
        return send(res, gone ? 200 : 202, o);
      }
      case 'deletecollection': {
        const list = resources.list(t, labels, fields, 0, null);
        for (const o of list.items as { metadata: { name: string; namespace?: string } }[])
          resources.delete(
            { ...t, name: o.metadata.name, namespace: o.metadata.namespace },
            undefined,
            q.get('propagationPolicy'),
            opts,
          );
        return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
      }
    }
  }

  const listener = await listen(tls, options.port ?? 0, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      sendError(res, e);
    });
  });
  const port = listener.port;
  address = `127.0.0.1:${port}`;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = kubeconfigYaml(url, tls.cert, token);
  Object.assign(api, { url, port, kubeconfig });
  api.connections = () => listener.connections();
  api.close = () => {
    store.closeAllWatches();
    return listener.close();
  };
  return api;
}
