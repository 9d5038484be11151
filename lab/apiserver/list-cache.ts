/**
 * Serialised list replies, shared by identical requests while what they list is unchanged.
 *
 * A thousand `kubernetes_logs` sources on a node each list that node's pods with the same selectors at start, as
 * Vector does. The items are the same bytes for all of them until a pod is written, so they are built and
 * serialised once; each client is still sent the whole list, under the resourceVersion current when it is served.
 * kube-apiserver likewise serves these lists from its watch cache instead of reading etcd for each.
 *
 * Invariants:
 * - An entry is served only while its `version` (the revision of the last write to what it lists) is the one it was
 *   built at, so its items are exactly what a fresh list would return; writes to other resources (heartbeats, leases,
 *   events) leave it valid.
 * - A served reply carries the `resourceVersion` passed to `get`, spliced into the list's metadata; a reply whose
 *   metadata the cache cannot find is served as built and not kept.
 * - The cache holds at most `maxBytes` of replies; past that it starts over.
 */
import { storageKey } from './registry.ts';
import type { Store } from './store.ts';

/**
 * What a list reply's items depend on: for a core resource listed whole, the last write to that resource; otherwise
 * (custom resources are served through their CRD's schema; a page's continue token holds the revision) every write.
 */
export function listVersion(store: Store, type: { group: string; plural: string }, query: URLSearchParams): number {
  const whole = !query.has('limit') && !query.has('continue');
  return type.group === '' && whole ? store.changedRv(storageKey(type)) : store.currentRv;
}

interface Entry {
  version: number;
  /** The reply up to the list's resourceVersion value, and from just after it. */
  head: Buffer;
  tail: Buffer;
}

export class ListCache {
  private bytes = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly maxBytes: number;

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.maxBytes = maxBytes;
  }

  /**
   * The reply for `key` (method, path and query) at resourceVersion `rv`, reusing the one built at `version` or
   * building it with `build` (a list whose `metadata` starts with `resourceVersion: String(rv)`).
   */
  get(key: string, version: number, rv: number, build: () => unknown): Buffer {
    const rvText = Buffer.from(String(rv));
    const hit = this.entries.get(key);
    if (hit?.version === version) return Buffer.concat([hit.head, rvText, hit.tail]);
    if (hit !== undefined) this.drop(key, hit);
    const text = JSON.stringify(build());
    const marker = `"metadata":{"resourceVersion":"${String(rv)}"`;
    const at = text.indexOf(marker);
    if (at === -1) return Buffer.from(text);
    const start = at + marker.length - String(rv).length - 1;
    const entry: Entry = {
      version,
      head: Buffer.from(text.slice(0, start)),
      tail: Buffer.from(text.slice(start + String(rv).length)),
    };
    const size = entry.head.length + entry.tail.length;
    if (this.bytes + size > this.maxBytes) this.clear();
    this.entries.set(key, entry);
    this.bytes += size;
    return Buffer.concat([entry.head, rvText, entry.tail]);
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.bytes -= e.head.length + e.tail.length;
  }

  private clear(): void {
    this.bytes = 0;
    this.entries.clear();
  }
}
