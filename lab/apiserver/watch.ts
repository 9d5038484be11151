/**
 * Watch over HTTP: a chunked stream of `{"type":…,"object":…}` lines.
 *
 * Invariants:
 * - Start point: no resourceVersion (or "0") sends the current state as synthetic ADDED events first; a given
 *   resourceVersion replays exactly the logged events after it, or answers with an ERROR event carrying a 410 Expired
 *   Status (the real server's behaviour: the HTTP status is 200, the failure is in the stream).
 * - Replay and subscription happen in the same tick, so nothing committed in between is lost or seen twice.
 * - A selector-filtered watch sees transitions: an object that stops matching arrives as DELETED, one that starts
 *   matching as ADDED, as on a real server.
 * - BOOKMARKs (when allowed) carry only kind, apiVersion and the current resourceVersion; one is sent on an interval
 *   and one just before a timeoutSeconds close, so a client can always resume without relisting.
 * - Each event line is serialised once per (type, apiVersion) and shared by every watcher: fan-out costs a socket
 *   write, not a JSON.stringify.
 */
import type { Req, Res } from './listener.ts';
import { badRequest, expired } from './errors.ts';
import type { KObject } from './json.ts';
import { asTable } from './table.ts';
import type { ResourceType } from './registry.ts';
import { apiVersionOf, storageKey } from './registry.ts';
import type { Matcher } from './selectors.ts';
import type { EventType, StoredEvent, Store } from './store.ts';

export interface WatchRequest {
  store: Store;
  type: ResourceType;
  namespace: string | undefined;
  labels: Matcher;
  fields: Matcher;
  resourceVersion: string | null;
  bookmarks: boolean;
  sendInitialEvents: boolean | undefined;
  timeoutSeconds: number;
  bookmarkIntervalMs: number;
  /** kubectl get -w asks for Table rows instead of objects. */
  table: { fullRows: boolean } | undefined;
  onOpen: () => void;
  onClose: () => void;
}

const lineCache = new WeakMap<KObject, Map<string, string>>();

function eventLine(
  type: EventType | 'BOOKMARK' | 'ERROR',
  obj: KObject | Record<string, unknown>,
  apiVersion: string | undefined,
  tableOf?: (o: KObject) => unknown,
): string {
  const o = obj as KObject;
  if (tableOf !== undefined) return `{"type":"${type}","object":${JSON.stringify(tableOf(o))}}\n`;
  const cacheable = type !== 'BOOKMARK' && type !== 'ERROR';
  const ck = `${type}|${apiVersion ?? ''}`;
  if (cacheable) {
    const hit = lineCache.get(o)?.get(ck);
    if (hit !== undefined) return hit;
  }
  const body = apiVersion !== undefined && o.apiVersion !== apiVersion ? { ...o, apiVersion } : o;
  const line = `{"type":"${type}","object":${JSON.stringify(body)}}\n`;
  if (cacheable) {
    let m = lineCache.get(o);
    if (m === undefined) {
      m = new Map();
      lineCache.set(o, m);
    }
    m.set(ck, line);
  }
  return line;
}

export function serveWatch(req: Req, res: Res, w: WatchRequest): void {
  const { store, type } = w;
  const key = storageKey(type);
  const apiVersion = apiVersionOf(type);
  const rows = w.table;
  const tableOf = rows !== undefined ? (o: KObject): unknown => asTable(type, [o], {}, rows.fullRows) : undefined;
  const matches = (o: KObject): boolean =>
    (w.namespace === undefined || o.metadata.namespace === w.namespace) && w.labels(o) && w.fields(o);

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();

  let closed = false;
  let sentUpTo = 0;
  const write = (line: string): void => {
    if (!closed) res.write(line);
  };
  const deliver = (ev: StoredEvent): void => {
    if (ev.rv <= sentUpTo) return;
    sentUpTo = ev.rv;
    const now = matches(ev.object);
    if (ev.type === 'MODIFIED' && ev.prev !== undefined) {
      const before = matches(ev.prev);
      if (before && now) write(eventLine('MODIFIED', ev.object, apiVersion, tableOf));
      else if (!before && now) write(eventLine('ADDED', ev.object, apiVersion, tableOf));
      else if (before && !now) write(eventLine('DELETED', ev.object, apiVersion, tableOf));
      return;
    }
    if (now) write(eventLine(ev.type, ev.object, apiVersion, tableOf));
  };
  const bookmark = (extra?: Record<string, string>): void => {
    const metadata: Record<string, unknown> = { resourceVersion: String(Math.max(sentUpTo, store.currentRv)) };
    if (extra !== undefined) metadata.annotations = extra;
    write(eventLine('BOOKMARK', { kind: type.kind, apiVersion, metadata }, undefined));
  };

  const rvParam = w.resourceVersion;
  const fromScratch = rvParam === null || rvParam === '' || rvParam === '0' || w.sendInitialEvents === true;
  if (!fromScratch) {
    const from = Number(rvParam);
    const replay = Number.isInteger(from) && from >= 0 ? store.eventsAfter(key, from) : undefined;
    if (replay === undefined) {
      const err = Number.isInteger(from)
        ? expired(`too old resource version: ${rvParam} (${store.compactedRv})`)
        : badRequest(`invalid resource version: ${rvParam}`);
      res.end(eventLine('ERROR', err.toStatus(), undefined));
      return;
    }
    sentUpTo = from;
    for (const ev of replay) deliver(ev);
  } else {
    for (const o of store.list(key, w.namespace)) if (matches(o)) write(eventLine('ADDED', o, apiVersion, tableOf));
    sentUpTo = store.currentRv;
    if (w.sendInitialEvents === true && w.bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
  }

  const finish = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(bookmarkTimer);
    clearTimeout(bookmarkBeforeEnd);
    clearTimeout(timeout);
    w.onClose();
  };
  const unsubscribe = store.subscribe({
    key,
    deliver,
    close: () => {
      res.end();
      finish();
    },
  });
  w.onOpen();
  const bookmarkTimer = setInterval(() => {
    if (w.bookmarks) bookmark();
  }, w.bookmarkIntervalMs);
  // The real server tries to send a bookmark shortly before it closes a watch on timeout, so clients resume cheaply.
  const bookmarkBeforeEnd = setTimeout(
    () => {
      if (w.bookmarks) bookmark();
    },
    Math.max(0, w.timeoutSeconds * 1000 - 250),
  );
  const timeout = setTimeout(() => {
    res.end();
    finish();
  }, w.timeoutSeconds * 1000);
  req.on('close', finish);
  res.on('close', finish);
}
