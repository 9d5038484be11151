/**
 * What our field manager last applied, as the API server records it in `metadata.managedFields`, compared with what
 * we would apply now. "Live ⊇ desired" (diff.ts) cannot see a field we stopped sending; the recorded field set can.
 *
 * Invariants:
 * - `appliedFields(obj, m)` is the fieldsV1 trie of m's `Apply` entry on the main resource (no subresource), or
 *   undefined when m never applied the object.
 * - `sameFieldSet(desired, trie)` is true when the trie names exactly the fields `desired` sets: every field of
 *   `desired` is in the trie and every field in the trie is in `desired`. Fields the server strips from an apply
 *   (`apiVersion`, `kind`, `metadata.name`, `namespace`, …) and `status` are ignored.
 * - Lists are matched through the trie's own keys: a `k:{...}` element matches the desired item whose fields equal
 *   every key field, whatever the key (name, mountPath, containerPort + protocol), so no list topology is repeated
 *   here. `v:` matches a set item by value and `i:` by index.
 * - A leaf in the trie (`{}`) stands for the whole value: a scalar, an atomic list or an atomic struct (a label
 *   selector, a `fieldRef`). What changed inside it is isSubset's to see.
 * - An empty list or object in `desired` may be recorded or not (servers differ on empty associative lists), so it
 *   never makes the sets differ by itself; a value that goes from set to absent does.
 * - Pure and total: no exceptions, no mutation. Unparsable trie keys make the sets differ (the caller applies).
 */

export type FieldsV1 = Record<string, unknown>;

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldsV1;
  subresource?: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Top-level metadata the server strips from every applied configuration before recording it. */
const STRIPPED_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

export function managedFieldsOf(obj: unknown): ManagedFieldsEntry[] {
  const meta = isPlainObject(obj) ? obj.metadata : undefined;
  const mf = isPlainObject(meta) ? meta.managedFields : undefined;
  return Array.isArray(mf) ? mf.filter((e): e is ManagedFieldsEntry => isPlainObject(e)) : [];
}

/** The fields `manager` last applied to the main resource, or undefined when it never applied it. */
export function appliedFields(obj: unknown, manager: string): FieldsV1 | undefined {
  const entry = managedFieldsOf(obj).find(
    (e) => e.manager === manager && e.operation === 'Apply' && (e.subresource ?? '') === '',
  );
  if (entry === undefined) return undefined;
  return isPlainObject(entry.fieldsV1) ? entry.fieldsV1 : {};
}

const absent = (v: unknown): boolean => v === undefined || v === null;
const emptyContainer = (v: unknown): boolean =>
  (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

function parseKey(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function matchValue(value: unknown, node: unknown): boolean {
  if (!isPlainObject(node)) return false;
  if (Object.keys(node).length === 0) return true; // a leaf: the whole value is one field
  if (Array.isArray(value)) return matchList(value, node);
  if (isPlainObject(value)) return matchFields(value, node, false);
  return false; // a scalar where the trie records sub-fields
}

function matchList(items: unknown[], node: FieldsV1): boolean {
  const used = new Set<number>();
  for (const [k, child] of Object.entries(node)) {
    const tag = k.slice(0, 2);
    const raw = parseKey(k.slice(2));
    let idx = -1;
    if (tag === 'k:' && isPlainObject(raw))
      idx = items.findIndex(
        (it) => isPlainObject(it) && Object.entries(raw).every(([kk, kv]) => deepEqual(it[kk], kv)),
      );
    else if (tag === 'v:' && raw !== undefined) idx = items.findIndex((it) => deepEqual(it, raw));
    else if (tag === 'i:' && typeof raw === 'number' && raw < items.length) idx = raw;
    if (idx < 0 || used.has(idx)) return false;
    used.add(idx);
    if (tag !== 'v:' && !matchItem(items[idx], child)) return false;
  }
  return used.size === items.length;
}

function matchItem(item: unknown, node: unknown): boolean {
  if (!isPlainObject(node)) return false;
  const fields: FieldsV1 = { ...node };
  Reflect.deleteProperty(fields, '.');
  if (Object.keys(fields).length === 0) return true;
  return isPlainObject(item) ? matchFields(item, fields, false) : false;
}

function matchFields(value: Record<string, unknown>, node: FieldsV1, root: boolean): boolean {
  const skip = (k: string, v: unknown): boolean =>
    absent(v) || (root && (k === 'apiVersion' || k === 'kind' || k === 'status'));
  for (const [k, v] of Object.entries(value)) {
    if (skip(k, v)) continue;
    const child = node[`f:${k}`];
    if (child === undefined) {
      if (emptyContainer(v)) continue;
      return false;
    }
    const ok =
      root && k === 'metadata' && isPlainObject(v) && isPlainObject(child)
        ? matchFields(withoutStripped(v), child, false)
        : matchValue(v, child);
    if (!ok) return false;
  }
  for (const k of Object.keys(node)) {
    if (k === '.') continue;
    if (!k.startsWith('f:')) return false;
    if (skip(k.slice(2), value[k.slice(2)])) return false;
  }
  return true;
}

function withoutStripped(meta: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(meta).filter(([k]) => !STRIPPED_META.has(k)));
}

/** True when `trie` records exactly the fields `desired` sets (see the invariants above). */
export function sameFieldSet(desired: unknown, trie: FieldsV1): boolean {
  return isPlainObject(desired) && matchFields(desired, trie, true);
}
