/**
 * "A reconcile that changes nothing writes nothing": is everything we want already there?
 *
 * Invariants:
 * - isSubset(desired, live) is true when every field set in `desired` has the same value in `live`; fields only in
 *   `live` (server defaults, status, managedFields, other managers' fields) are ignored.
 * - Arrays compare element by element at equal length: an extra or missing element is a difference (the server
 *   does not add list elements by defaulting, but it does add fields inside them, which the element-wise subset
 *   allows).
 * - Go's `omitempty` drops empty values on the server, so a desired `{}`, `[]`, `''`, `0`, `false` or `null` also
 *   matches a field absent from `live`; otherwise the comparison would never settle and every resync would write.
 * - Pure and total: no exceptions, no mutation.
 */

function isEmpty(v: unknown): boolean {
  if (v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every field of desired is equal in live. */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === undefined) return true;
  if (live === undefined) return isEmpty(desired);
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return false;
    return desired.every((d, i) => isSubset(d, live[i]));
  }
  if (isPlainObject(desired)) {
    if (!isPlainObject(live)) return false;
    for (const [k, v] of Object.entries(desired)) if (!isSubset(v, live[k])) return false;
    return true;
  }
  if (desired === null) return live === null;
  return desired === live;
}
