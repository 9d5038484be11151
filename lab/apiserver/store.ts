/**
 * The object store, the global resourceVersion, the bounded event log and the live watchers.
 *
 * Invariants:
 * - One counter orders every write to every resource (like etcd's revision): each commit takes the next value, and
 *   that value becomes the object's `metadata.resourceVersion` and the event's position in the log.
 * - Stored objects are never mutated after commit; writers build a new object and commit it. Watch events can thus
 *   hold references, and a list response is a consistent view of the moment it was built (JS is single-threaded).
 * - The log holds the newest `capacity` events. `compactedRv` is the highest revision whose successors may be missing:
 *   a watch from rv ≥ compactedRv can be replayed exactly; anything older is 410 Gone.
 * - Commit fans the event out synchronously to every watcher of that resource, so "replay, then subscribe" in one
 *   tick can neither lose nor duplicate an event.
 */
import type { KObject } from './json.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  type: EventType;
  rv: number;
  key: string;
  object: KObject;
  /** The object before this event (MODIFIED only): lets a selector-filtered watch turn it into ADDED/DELETED. */
  prev: KObject | undefined;
}

export interface Subscriber {
  key: string;
  deliver(ev: StoredEvent): void;
  /** Ends the watch (hooks: drop all watches). */
  close(): void;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class Store {
  private rv = 1;
  private readonly objects = new Map<string, Map<string, KObject>>();
  private log: StoredEvent[] = [];
  /** Index of the oldest live entry in `log` (a ring without the copying: trimmed in batches). */
  private head = 0;
  private compacted = 1;
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly capacity: number;
  /** Storage key -> the revision of its last write. */
  private readonly changed = new Map<string, number>();

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get currentRv(): number {
    return this.rv;
  }

  /** The revision of the last write to `key`'s objects (0: none yet): a list of them is unchanged since. */
  changedRv(key: string): number {
    return this.changed.get(key) ?? 0;
  }

  get compactedRv(): number {
    return this.compacted;
  }

  private bucket(key: string): Map<string, KObject> {
    let b = this.objects.get(key);
    if (b === undefined) {
      b = new Map();
      this.objects.set(key, b);
    }
    return b;
  }

  get(key: string, namespace: string | undefined, name: string): KObject | undefined {
    return this.objects.get(key)?.get(objectKey(namespace, name));
  }

  /** Objects of one resource, optionally one namespace, sorted by namespace/name (the real server's etcd key order). */
  list(key: string, namespace?: string): KObject[] {
    const b = this.objects.get(key);
    if (b === undefined) return [];
    const out: [string, KObject][] = [];
    for (const [k, o] of b) if (namespace === undefined || o.metadata.namespace === namespace) out.push([k, o]);
    out.sort((a, b2) => (a[0] < b2[0] ? -1 : a[0] > b2[0] ? 1 : 0));
    return out.map((e) => e[1]);
  }

  /** Every object of every resource (garbage collection scans owner references through this). */
  *everything(): Generator<[string, KObject]> {
    for (const [key, b] of this.objects) for (const o of b.values()) yield [key, o];
  }

  /** Assigns the next resourceVersion to `obj`, stores (or removes) it, logs the event and fans it out. */
  commit(key: string, type: EventType, obj: KObject, prev: KObject | undefined): KObject {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    this.changed.set(key, this.rv);
    const k = objectKey(obj.metadata.namespace, obj.metadata.name ?? '');
    if (type === 'DELETED') this.bucket(key).delete(k);
    else this.bucket(key).set(k, obj);
    const ev: StoredEvent = { type, rv: this.rv, key, object: obj, prev };
    this.append(ev);
    const subs = this.subscribers.get(key);
    if (subs !== undefined) for (const s of subs) s.deliver(ev);
    return obj;
  }

  private append(ev: StoredEvent): void {
    this.log.push(ev);
    if (this.log.length - this.head > this.capacity) {
      const dropped = this.log[this.head];
      this.head++;
      if (dropped !== undefined) this.compacted = dropped.rv;
      if (this.head > 4096 && this.head * 2 > this.log.length) {
        this.log = this.log.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Events of `key` after `rv`, oldest first; undefined when the log no longer reaches back that far. */
  eventsAfter(key: string, rv: number): StoredEvent[] | undefined {
    if (rv < this.compacted) return undefined;
    const out: StoredEvent[] = [];
    // Binary search for the first event with a larger revision: the log is sorted by rv.
    let lo = this.head;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.log[mid]?.rv ?? 0) <= rv) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.log.length; i++) {
      const ev = this.log[i];
      if (ev !== undefined && ev.key === key) out.push(ev);
    }
    return out;
  }

  /** Forget all history: every watch from an older revision now gets 410 (hooks: compact the event log). */
  compact(): void {
    this.log = [];
    this.head = 0;
    this.compacted = this.rv;
  }

  subscribe(s: Subscriber): () => void {
    let set = this.subscribers.get(s.key);
    if (set === undefined) {
      set = new Set();
      this.subscribers.set(s.key, set);
    }
    set.add(s);
    return () => {
      set.delete(s);
    };
  }

  watchCount(key?: string): number {
    if (key !== undefined) return this.subscribers.get(key)?.size ?? 0;
    let n = 0;
    for (const s of this.subscribers.values()) n += s.size;
    return n;
  }

  closeAllWatches(): number {
    const all = [...this.subscribers.values()].flatMap((s) => [...s]);
    for (const s of all) s.close();
    return all.length;
  }
}
