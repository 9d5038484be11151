/**
 * Serialised list replies, shared by identical requests at the same resourceVersion.
 *
 * A thousand `kubernetes_logs` sources on a node each list that node's pods with the same selectors at start, as
 * Vector does. The reply is the same bytes for all of them until something is written, so it is built and
 * serialised once; each client is still sent the whole list. kube-apiserver likewise serves these lists from its
 * watch cache instead of reading etcd for each.
 *
 * Invariants:
 * - An entry is served only while the store's resourceVersion is the one it was built at: every write empties the
 *   cache, so a reply is exactly what a fresh list would return.
 * - The cache holds at most `maxBytes` of replies; past that it starts over.
 */
export class ListCache {
  private rv = -1;
  private bytes = 0;
  private readonly entries = new Map<string, Buffer>();
  private readonly maxBytes: number;

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.maxBytes = maxBytes;
  }

  /** The reply for `key` (method, path and query) at `rv`, building it with `build` when missing. */
  get(key: string, rv: number, build: () => unknown): Buffer {
    if (rv !== this.rv) this.reset(rv);
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const bytes = Buffer.from(JSON.stringify(build()));
    if (this.bytes + bytes.length > this.maxBytes) this.reset(rv);
    this.entries.set(key, bytes);
    this.bytes += bytes.length;
    return bytes;
  }

  private reset(rv: number): void {
    this.rv = rv;
    this.bytes = 0;
    this.entries.clear();
  }
}
