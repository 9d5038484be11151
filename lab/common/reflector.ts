/**
 * A small list+watch cache for the stand's simulated components (kubelet, DaemonSet controller, Vector simulator).
 *
 * It is lab-local on purpose: `src/kube/` is the product's machinery and the stand must not depend on it being
 * finished; this is what kube-rs' `watcher` (Vector) and client-go's reflector (kubelet, controllers) do, reduced to
 * what the stand needs.
 *
 * Invariants:
 * - One open watch connection per started reflector at any time (the stand-in's watch counter measures exactly this):
 *   list, then watch from the list's resourceVersion; a watch that ends is reopened from the last resourceVersion
 *   seen; a 410 Gone makes the next round relist first.
 * - `start()` resolves once the first list is in the store; the store then only changes through watch events or
 *   relists, and every change is reported to `onChange` after the store is updated.
 * - `stop()` aborts the open watch and opens no new one, so a process can exit.
 * - A failed list or watch is retried with doubling backoff, as client-go's reflector and kube-rs' watcher do, and
 *   reported to `log` with its cause (the socket error under `fetch failed`, or the HTTP code). A watch that the
 *   server ends cleanly, or that expires (410), is reopened without a report.
 */
import * as k8s from '@kubernetes/client-node';
import { describeError, listJson } from './kube-http.ts';

export interface ListResult<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

export type ChangeType = 'add' | 'update' | 'delete';

export interface ReflectorOptions<T extends k8s.KubernetesObject> {
  kc: k8s.KubeConfig;
  /** The collection path to watch, e.g. `/api/v1/pods`. */
  path: string;
  /**
   * How to list; by default `path` with the selectors, parsed as plain JSON like the watch events (`listJson`), not
   * through client-node's model classes.
   */
  list?: () => Promise<ListResult<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  onChange?: (type: ChangeType, obj: T) => void;
  /** What the store keeps of each object (default: all of it); a slim copy bounds memory when many caches hold the same pods. */
  slim?: (obj: T) => T;
  /** Where failures are reported, with their cause; silent when omitted. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** kube-rs' watcher and client-go's reflector back off to 30 s: a storm of retries is what keeps an overloaded server down. */
const MAX_BACKOFF_MS = 30_000;

function keyOf(o: k8s.KubernetesObject): string {
  const m = o.metadata ?? {};
  return m.namespace === undefined || m.namespace === '' ? (m.name ?? '') : `${m.namespace}/${m.name ?? ''}`;
}

function codeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  return typeof e.statusCode === 'number' ? e.statusCode : undefined;
}

export class LabReflector<T extends k8s.KubernetesObject> {
  readonly store = new Map<string, T>();
  private readonly opts: ReflectorOptions<T>;
  private readonly watch: k8s.Watch;
  private rv = '';
  private stopped = false;
  private ctl: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(opts: ReflectorOptions<T>) {
    this.opts = opts;
    this.watch = new k8s.Watch(opts.kc);
  }

  /** Resolves after the first successful list. */
  start(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.loop = this.run(resolve);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ctl?.abort();
    await this.loop;
  }

  /** A method, not a field read: the flag changes while the loop awaits, which narrowing cannot see. */
  private isStopped(): boolean {
    return this.stopped;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  private async run(synced: () => void): Promise<void> {
    let backoff = 0;
    while (!this.isStopped()) {
      let failed: boolean;
      try {
        if (this.rv === '') {
          await this.relist();
          synced();
        }
        const err = await this.watchOnce();
        if (codeOf(err) === 410) this.rv = '';
        // A clean server-side close (timeout) or client inactivity timeout reopens at once, like client-go.
        failed = err !== null && err !== undefined && !(err instanceof Error && err.name === 'TimeoutError');
        if (failed && codeOf(err) === 410) failed = false;
        if (failed && !this.isStopped()) this.report('watch', err);
      } catch (err) {
        if (codeOf(err) === 410) this.rv = '';
        failed = true;
        if (!this.isStopped()) this.report('list', err);
      }
      backoff = failed ? Math.min(MAX_BACKOFF_MS, backoff === 0 ? 50 : backoff * 2) : 0;
      if (backoff > 0 && !this.isStopped()) await new Promise((r) => setTimeout(r, backoff));
    }
  }

  private report(verb: 'list' | 'watch', err: unknown): void {
    const sel = [this.opts.labelSelector, this.opts.fieldSelector].filter((s) => s !== undefined && s !== '');
    this.opts.log?.(`${verb} failed, retrying`, {
      path: this.opts.path,
      ...(sel.length === 0 ? {} : { selector: sel.join(' ') }),
      error: describeError(err),
    });
  }

  private async relist(): Promise<void> {
    const { kc, path, labelSelector, fieldSelector } = this.opts;
    const list = await (this.opts.list?.() ?? listJson<T>(kc, path, { labelSelector, fieldSelector }));
    const seen = new Set<string>();
    for (const listed of list.items) {
      const item = this.opts.slim === undefined ? listed : this.opts.slim(listed);
      const k = keyOf(item);
      seen.add(k);
      const had = this.store.has(k);
      this.store.set(k, item);
      this.opts.onChange?.(had ? 'update' : 'add', item);
    }
    for (const [k, old] of [...this.store]) {
      if (!seen.has(k)) {
        this.store.delete(k);
        this.opts.onChange?.('delete', old);
      }
    }
    this.rv = list.metadata?.resourceVersion ?? '';
  }

  private watchOnce(): Promise<unknown> {
    const query: Record<string, string | boolean> = { resourceVersion: this.rv, allowWatchBookmarks: true };
    if (this.opts.labelSelector !== undefined && this.opts.labelSelector !== '')
      query.labelSelector = this.opts.labelSelector;
    if (this.opts.fieldSelector !== undefined && this.opts.fieldSelector !== '')
      query.fieldSelector = this.opts.fieldSelector;
    return new Promise<unknown>((resolve) => {
      const onEvent = (type: string, raw: T & { code?: number }): void => {
        if (type === 'ERROR') {
          if (raw.code === 410) this.rv = '';
          return;
        }
        const obj = this.opts.slim === undefined || type === 'BOOKMARK' ? raw : this.opts.slim(raw);
        const rv = obj.metadata?.resourceVersion;
        if (rv !== undefined) this.rv = rv;
        if (type === 'BOOKMARK') return;
        const k = keyOf(obj);
        if (type === 'DELETED') {
          this.store.delete(k);
          this.opts.onChange?.('delete', obj);
        } else {
          const had = this.store.has(k);
          this.store.set(k, obj);
          this.opts.onChange?.(had ? 'update' : 'add', obj);
        }
      };
      this.watch.watch(this.opts.path, query, onEvent, resolve).then(
        (ctl) => {
          this.ctl = ctl;
          if (this.stopped) ctl.abort();
        },
        (err: unknown) => {
          resolve(err ?? new Error('watch failed'));
        },
      );
    });
  }
}
