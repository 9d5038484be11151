/**
 * Taking over fields another manager wrote with `Update` (PUT, create, non-apply patch), the way client-go's
 * `util/csaupgrade` moves client-side ownership to server-side apply. Server-side apply never removes a field that
 * another entry still owns, so after a cutover from an operator that wrote with Update (kaasops: field manager
 * `manager`), a field we stop sending would stay forever; folding that manager's Update entry into our Apply entry
 * makes those fields ours, so our next apply can drop them.
 *
 * Invariants:
 * - Only entries on the main resource (no subresource) are touched; `status` ownership stays where it is.
 * - For each old manager, in the order given: if we have no `Apply` entry yet, its most recent (first listed) `Update`
 *   entry becomes ours (renamed, operation `Apply`, same apiVersion and fields); otherwise its `Update` entry of our
 *   apiVersion is unioned into ours (fieldsV1 tries merge key by key; fields of another apiVersion may be spelled
 *   differently, so they are not carried). Then every `Update` entry of that manager is dropped.
 * - Every other entry (other managers, Apply entries of anyone else, subresources) is kept as it is, in its place.
 * - Nothing to upgrade gives `undefined`: the caller sends nothing (a reconcile that changes nothing writes nothing).
 * - The patch also replaces `metadata.resourceVersion` with the value read, so a concurrent change makes it fail
 *   with 409 instead of being overwritten; the controller retries from fresh state.
 * - Pure: inputs are not mutated.
 */
import { managedFieldsOf, type FieldsV1, type ManagedFieldsEntry } from './managed-fields.ts';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The union of two fieldsV1 tries (a deep merge of the JSON objects). */
export function unionFields(a: FieldsV1, b: FieldsV1): FieldsV1 {
  const out: FieldsV1 = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const mine = out[k];
    out[k] = isPlainObject(mine) && isPlainObject(v) ? unionFields(mine, v) : isPlainObject(v) ? { ...v } : {};
  }
  return out;
}

const onMain = (e: ManagedFieldsEntry): boolean => (e.subresource ?? '') === '';

/** The managedFields after folding `oldManagers`' Update entries into `manager`'s Apply entry; undefined if none. */
export function upgradeManagedFields(
  entries: readonly ManagedFieldsEntry[],
  oldManagers: readonly string[],
  manager: string,
): ManagedFieldsEntry[] | undefined {
  let out: ManagedFieldsEntry[] = entries.map((e) => ({ ...e }));
  let changed = false;
  for (const old of oldManagers) {
    const updates = out.filter((e) => e.manager === old && e.operation === 'Update' && onMain(e));
    const latest = updates[0];
    if (latest === undefined) continue;
    changed = true;
    const mine = out.find((e) => e.manager === manager && e.operation === 'Apply' && onMain(e));
    if (mine === undefined) {
      // Becomes our entry in place; the other Update entries of this manager go below.
      latest.manager = manager;
      latest.operation = 'Apply';
      out = out.filter((e) => e === latest || !updates.includes(e));
      continue;
    }
    const same = updates.find((e) => e.apiVersion === mine.apiVersion);
    if (same !== undefined) mine.fieldsV1 = unionFields(mine.fieldsV1 ?? {}, same.fieldsV1 ?? {});
    out = out.filter((e) => !updates.includes(e));
  }
  return changed ? out : undefined;
}

export interface JsonPatchOp {
  op: 'replace';
  path: string;
  value: unknown;
}

/**
 * The JSON patch that makes `obj`'s fields written by `oldManagers` ours (see above), or undefined when there is
 * nothing to take over. Needs the object as read, with its resourceVersion.
 */
export function ownershipUpgradePatch(
  obj: unknown,
  oldManagers: readonly string[],
  manager: string,
): JsonPatchOp[] | undefined {
  const upgraded = upgradeManagedFields(managedFieldsOf(obj), oldManagers, manager);
  if (upgraded === undefined) return undefined;
  const meta = isPlainObject(obj) && isPlainObject(obj.metadata) ? obj.metadata : {};
  const rv = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '';
  return [
    { op: 'replace', path: '/metadata/managedFields', value: upgraded },
    { op: 'replace', path: '/metadata/resourceVersion', value: rv },
  ];
}
