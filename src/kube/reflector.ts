/**
 * Reflector: keeps an in-memory store equal to one list path on the API server, and reports each change once.
 *
 * Invariants:
 * - The store is only ever replaced by a complete (paginated) list, or changed by a watch event that follows that
 *   list's resourceVersion; so it is always a state the server actually had.
 * - A watch resumes from the last resourceVersion seen (event or BOOKMARK), so a dropped connection loses and repeats
 *   nothing. Only a 410 Expired (HTTP, or an ERROR event in the stream) forces a relist; the relist is diffed against
 *   the store and emits 'add'/'update'/'delete' for exactly what changed meanwhile.
 * - 'update' is never emitted for an object whose resourceVersion did not change; 'delete' only for a cached key.
 * - Any other failure (list or watch) waits a jittered exponential backoff (0.5 s doubling to 30 s by default) and
 *   relists; the backoff resets once a watch delivers something, i.e. once the server is demonstrably healthy.
 * - A watch that is silent (no event, no bookmark) for timeoutSeconds + margin is presumed half-open: it is aborted
 *   and re-watched from the last resourceVersion.
 * - Resync re-emits every cached object as 'resync' every `resyncMs`, from memory, with no API call.
 * - `transform`, when set, is applied to every object before it is stored or emitted (client-go's SetTransform), so
 *   what a handler sees is always what the store holds.
 * - After stop() resolves no handler runs again and no request or timer is left behind.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { backoffDelay, realClock, sleep, type Clock, type Timer } from './clock.ts';
import { errorCode, KubeError, objectKey, request, type KubeObject, type Named, type Status } from './client.ts';

export type ReflectorEvent = 'add' | 'update' | 'delete' | 'resync';

/** What a reflector needs of an object: its key and its resourceVersion. */
export type Listed = Named & { metadata?: { resourceVersion?: string } };

/** One list request as the reflector makes it. */
export interface ListQuery {
  limit?: number;
  continue?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** One page of a list, as the API server sends it: items usually without apiVersion and kind. */
export interface ListPage<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

export interface ReflectorOptions<T extends Listed = KubeObject> {
  kc: KubeConfig;
  /** '/api/v1/secrets', '/api/v1/namespaces/x/secrets', '/apis/apps/v1/daemonsets', ... */
  listPath: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-emit every cached object as 'resync' this often (no API call); 0 or unset: never. */
  resyncMs?: number;
  /** Server-side watch timeout; default 240–300 s, jittered per watch so reconnects spread out. */
  watchTimeoutSeconds?: number;
  /** Objects per list page (default 500). */
  pageSize?: number;
  /** Failure backoff: first delay and cap (defaults 500 ms and 30 s), before jitter. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Silence tolerated beyond timeoutSeconds before a watch is presumed dead (default 30 s). */
  watchdogMarginMs?: number;
  clock?: Clock;
  random?: () => number;
  /** Told about each failure and the delay before the retry (for logs and metrics); the reflector retries itself. */
  onError?: (err: unknown, retryInMs: number) => void;
  /** Applied to each object from a list or a watch event before it is stored, e.g. to drop fields never read. */
  transform?: (obj: T) => T;
  /**
   * How one page is fetched; by default a GET of `listPath` through `request`. A lister may ignore `limit` and return
   * the whole list as one page.
   */
  list?: (query: ListQuery, signal: AbortSignal) => Promise<ListPage<T>>;
}

type Handler<T> = (event: ReflectorEvent, obj: T, old?: T) => void;
type WatchEnd = 'closed' | 'expired' | 'watchdog' | 'stopped';

/** A clean close this soon after opening, with nothing received, is a failure in disguise (avoid a hot loop). */
const SHORT_WATCH_MS = 1000;

const rvOf = (o: Listed | undefined): string | undefined => o?.metadata?.resourceVersion;

/** What a reader of a reflector's store may do: read it, never start, stop or subscribe (client-go's Lister). */
export interface Cache<T> {
  get(key: string): T | undefined;
  list(): T[];
  keys(): IterableIterator<string>;
  hasSynced(): boolean;
}

export class Reflector<T extends Listed> implements Cache<T> {
  private readonly opts: ReflectorOptions<T>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private store = new Map<string, T>();
  private readonly handlers: Handler<T>[] = [];
  private rv = '';
  private synced = false;
  private started = false;
  private stopped = false;
  /** A method, not the field: TypeScript would narrow the field across awaits that change it. */
  private halted(): boolean {
    return this.stopped;
  }
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | undefined;
  private failures = 0;
  private resyncTimer: Timer | undefined;
  private onSynced: () => void = () => undefined;

  constructor(opts: ReflectorOptions<T>) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
  }

  on(handler: Handler<T>): void {
    this.handlers.push(handler);
  }

  /** Resolves once the first list is in the store (or when stopped before that; see hasSynced()). */
  start(): Promise<void> {
    if (this.started) throw new Error(`Reflector for ${this.opts.listPath} started twice`);
    this.started = true;
    return new Promise((resolve) => {
      this.onSynced = resolve;
      this.loop = this.run().finally(resolve);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopCtl.abort();
    this.resyncTimer?.cancel();
    await this.loop;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  /** The cached objects' keys (`namespace/name`, or `name` for a cluster-scoped kind), without copying the store. */
  keys(): IterableIterator<string> {
    return this.store.keys();
  }

  private emit(event: ReflectorEvent, obj: T, old?: T): void {
    if (this.halted()) return;
    for (const h of this.handlers) {
      try {
        h(event, obj, old);
      } catch (err) {
        // A handler's bug must not wedge the watch loop; it is reported and the next event still flows.
        this.report(err, 0);
      }
    }
  }

  private async run(): Promise<void> {
    let relist = true;
    let fresh = false;
    while (!this.halted()) {
      try {
        if (relist) {
          await this.relist();
          relist = false;
          fresh = true;
          if (this.halted()) return;
          if (!this.synced) {
            this.synced = true;
            this.scheduleResync();
            this.onSynced();
          }
        }
        const { end, delivered, ms } = await this.watchOnce();
        const fromFreshList = fresh;
        fresh = false;
        if (end === 'stopped') return;
        if (end === 'expired') {
          // A watch from a list we just made that is expired at once means the server cannot serve our RV: back off.
          if (fromFreshList && !delivered)
            await this.backoff(new KubeError(410, 'Expired', 'watch expired before any event'));
          relist = true;
        } else if (end === 'closed' && !delivered && ms < SHORT_WATCH_MS) {
          await this.backoff(new Error(`watch ${this.opts.listPath} closed at once with no event`));
        }
        // 'closed' and 'watchdog': re-watch from this.rv, which a drop or a half-open connection leaves valid.
      } catch (err) {
        if (this.halted()) return;
        if (errorCode(err) !== 410) await this.backoff(err);
        relist = true;
      }
    }
  }

  private report(err: unknown, retryInMs: number): void {
    try {
      this.opts.onError?.(err, retryInMs);
    } catch {
      // The reporter is for logs; its failure must not stop the loop it reports on.
    }
  }

  private async backoff(err: unknown): Promise<void> {
    const delay = backoffDelay(
      this.failures++,
      this.opts.backoffInitialMs ?? 500,
      this.opts.backoffMaxMs ?? 30_000,
      this.random,
    );
    this.report(err, delay);
    await sleep(this.clock, delay, this.stopCtl.signal);
  }

  private scheduleResync(): void {
    const every = this.opts.resyncMs ?? 0;
    if (every <= 0 || this.halted()) return;
    this.resyncTimer = this.clock.setTimer(() => {
      for (const o of this.store.values()) this.emit('resync', o);
      this.scheduleResync();
    }, every);
  }

  private async relist(): Promise<void> {
    const items: T[] = [];
    let limit: number | undefined = this.opts.pageSize ?? 500;
    let cont: string | undefined;
    let rv: string;
    for (;;) {
      let page: ListPage<T>;
      const query = {
        limit,
        continue: cont,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
      };
      try {
        page = await this.listPage(query);
      } catch (err) {
        if (cont === undefined || errorCode(err) !== 410) throw err;
        // The continue token outlived the server's history: start over in one consistent page.
        items.length = 0;
        cont = undefined;
        limit = undefined;
        continue;
      }
      // List items come without apiVersion/kind; watch events carry them. Fill them in so both look the same.
      const kind = page.kind?.replace(/List$/, '');
      for (const it of page.items ?? [])
        items.push(this.transformed('kind' in it ? it : { apiVersion: page.apiVersion, kind, ...it }));
      rv = page.metadata?.resourceVersion ?? '';
      cont = page.metadata?.continue;
      if (cont === undefined || cont === '') break;
    }
    if (this.halted()) return;
    const next = new Map<string, T>();
    for (const o of items) next.set(objectKey(o), o);
    const prev = this.store;
    // Swap first: a handler that reads the store sees the state it is being told about.
    this.store = next;
    this.rv = rv;
    for (const [k, o] of next) {
      const old = prev.get(k);
      if (old === undefined) this.emit('add', o);
      else if (rvOf(old) !== rvOf(o)) this.emit('update', o, old);
    }
    for (const [k, o] of prev) if (!next.has(k)) this.emit('delete', o);
  }

  private listPage(query: ListQuery): Promise<ListPage<T>> {
    const signal = this.stopCtl.signal;
    if (this.opts.list !== undefined) return this.opts.list(query, signal);
    return request<ListPage<T>>(this.opts.kc, 'GET', this.opts.listPath, { query: { ...query }, signal });
  }

  private transformed(obj: T): T {
    return this.opts.transform === undefined ? obj : this.opts.transform(obj);
  }

  private apply(type: string, raw: T): void {
    const obj = this.transformed(raw);
    const rv = rvOf(obj);
    if (type === 'ADDED' || type === 'MODIFIED') {
      const key = objectKey(obj);
      const old = this.store.get(key);
      this.store.set(key, obj);
      if (old === undefined) this.emit('add', obj);
      else if (rvOf(old) !== rv) this.emit('update', obj, old);
    } else if (type === 'DELETED') {
      const key = objectKey(obj);
      const old = this.store.get(key);
      if (old !== undefined) {
        this.store.delete(key);
        this.emit('delete', obj, old);
      }
    }
    // BOOKMARK (and every event) moves the resume point forward.
    if (rv !== undefined && rv !== '') this.rv = rv;
  }

  /** One watch connection, from this.rv until it ends; resolves with why it ended. */
  private watchOnce(): Promise<{ end: WatchEnd; delivered: boolean; ms: number }> {
    const timeoutS = this.opts.watchTimeoutSeconds ?? 240 + Math.floor(this.random() * 60);
    const silenceMs = timeoutS * 1000 + (this.opts.watchdogMarginMs ?? 30_000);
    const startedAt = this.clock.now();
    const path = this.opts.listPath;
    return new Promise((resolve, reject) => {
      let delivered = false;
      let settled = false;
      let ctl: AbortController | undefined;
      let watchdog: Timer | undefined;
      const finish = (end: WatchEnd | Error): void => {
        if (settled) return;
        settled = true;
        watchdog?.cancel();
        this.stopCtl.signal.removeEventListener('abort', onStop);
        ctl?.abort();
        if (end instanceof Error) reject(end);
        else resolve({ end, delivered, ms: this.clock.now() - startedAt });
      };
      const onStop = (): void => {
        finish('stopped');
      };
      const arm = (): void => {
        watchdog?.cancel();
        watchdog = this.clock.setTimer(() => {
          finish('watchdog');
        }, silenceMs);
      };
      if (this.halted()) {
        finish('stopped');
        return;
      }
      this.stopCtl.signal.addEventListener('abort', onStop, { once: true });
      arm();
      const w = new Watch(this.opts.kc);
      // client-node 2.x aborts a watch after 30 s without data, shorter than the server's bookmark interval (about a
      // minute), which would churn idle watches. Push its timer past ours so this watchdog decides (private field;
      // if it disappears, the 30 s default only costs extra re-watches, never correctness).
      (w as unknown as { requestTimeoutMs: number }).requestTimeoutMs = silenceMs + 30_000;
      const query = {
        resourceVersion: this.rv,
        allowWatchBookmarks: true,
        timeoutSeconds: timeoutS,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
      };
      w.watch(
        path,
        query,
        (type: string, obj: unknown) => {
          if (settled) return;
          arm();
          if (type === 'ERROR') {
            const s = (obj ?? {}) as Status;
            finish(s.code === 410 ? 'expired' : KubeError.fromStatus(s, 500, `watch ${path}`));
            return;
          }
          delivered = true;
          this.failures = 0;
          this.apply(type, obj as T);
        },
        (err: unknown) => {
          if (err === null || err === undefined) finish('closed');
          else if (errorCode(err) === 410) finish('expired');
          else finish(err instanceof Error ? err : new Error(JSON.stringify(err)));
        },
      ).then(
        (c) => {
          ctl = c;
          if (settled) c.abort();
        },
        (err: unknown) => {
          finish(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}
