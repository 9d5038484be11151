/**
 * Field ownership (`metadata.managedFields`) and server-side apply.
 *
 * Invariants:
 * - A field path is a list of fieldsV1 elements (`f:spec`, `k:{"name":"a"}`, `v:"x"`, `.`); sets of paths are
 *   stored per manager and written back as the fieldsV1 trie the real server uses, so `kubectl get
 *   --show-managed-fields` and clients that read it see the familiar shape.
 * - Apply: a field the applier sends that another manager owns with a *different* value is a conflict (409) unless
 *   `force`, which moves ownership to the applier. Equal values are co-owned. A field the applier owned before and no
 *   longer sends is removed from the object, unless another manager still owns it.
 * - Update (PUT, non-apply PATCH, create): the writer becomes the owner of every field it changed; other managers lose
 *   those fields. Fields that vanish are dropped from every manager.
 * - Associative lists: built-in lists by their merge key (containers by name, …); custom resources treat their own
 *   lists as atomic (x-kubernetes-list-type is not consulted; see docs/testing.md).
 * - Apply never leaves an empty associative list on a built-in type (Go's omitempty drops it); see dropEmptyLists.
 */
import { ApiError } from './errors.ts';
import type { JsonObject, KObject, ManagedFieldsEntry } from './json.ts';
import { clone, deepEqual, isObject, nowIso } from './json.ts';
import { builtinListKey } from './patch.ts';

const SEP = '\u0001';
type FieldSet = Set<string>;

/** Metadata the server owns: never part of anyone's field set. */
const SERVER_META = new Set([
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
  'generateName',
]);

export interface FieldContext {
  custom: boolean;
}

function listKey(ctx: FieldContext, path: string[], field: string, items: unknown[]): string | undefined {
  if (field === 'finalizers' && path.length === 1) return 'set';
  if (ctx.custom && path[0] !== 'f:metadata') return undefined;
  const key = builtinListKey(field, items);
  if (key === undefined) return undefined;
  // A keyed list whose items lack the key cannot be merged by it; treat it as atomic.
  return items.every((i) => isObject(i) && i[key] !== undefined) ? key : undefined;
}

function walk(ctx: FieldContext, value: JsonObject, path: string[], out: FieldSet): void {
  for (const [k, v] of Object.entries(value)) {
    if (path.length === 0 && (k === 'apiVersion' || k === 'kind')) continue;
    if (path.length === 1 && path[0] === 'f:metadata' && SERVER_META.has(k)) continue;
    const p = [...path, `f:${k}`];
    if (isObject(v) && Object.keys(v).length > 0) walk(ctx, v, p, out);
    else if (Array.isArray(v)) {
      const key = listKey(ctx, path, k, v);
      if (key === undefined) out.add(p.join(SEP));
      else if (key === 'set') for (const item of v) out.add([...p, `v:${JSON.stringify(item)}`].join(SEP));
      else
        for (const item of v as JsonObject[]) {
          const ip = [...p, `k:${JSON.stringify({ [key]: item[key] })}`];
          out.add([...ip, '.'].join(SEP));
          walk(ctx, item, ip, out);
        }
    } else out.add(p.join(SEP));
  }
}

export function fieldSetOf(ctx: FieldContext, obj: JsonObject): FieldSet {
  const out: FieldSet = new Set();
  walk(ctx, obj, [], out);
  return out;
}

export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  for (const path of set) {
    let node = root;
    for (const el of path.split(SEP)) {
      const next = isObject(node[el]) ? node[el] : {};
      node[el] = next;
      node = next;
    }
  }
  return root;
}

export function fromFieldsV1(trie: unknown, prefix: string[] = [], out: FieldSet = new Set()): FieldSet {
  if (!isObject(trie)) return out;
  for (const [k, v] of Object.entries(trie)) {
    const p = [...prefix, k];
    if (isObject(v) && Object.keys(v).length > 0) fromFieldsV1(v, p, out);
    else out.add(p.join(SEP));
  }
  return out;
}

/** The value at a field path, or undefined; `.` resolves to the list item itself. */
function valueAt(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const el of path.split(SEP)) {
    if (el === '.') continue;
    if (el.startsWith('f:')) cur = isObject(cur) ? cur[el.slice(2)] : undefined;
    else if (el.startsWith('k:')) {
      const key = JSON.parse(el.slice(2)) as JsonObject;
      cur = Array.isArray(cur)
        ? cur.find((i) => isObject(i) && Object.entries(key).every(([kk, kv]) => deepEqual(i[kk], kv)))
        : undefined;
    } else if (el.startsWith('v:')) {
      const want: unknown = JSON.parse(el.slice(2));
      cur = Array.isArray(cur) && cur.some((i) => deepEqual(i, want)) ? want : undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

function removeAt(obj: JsonObject, path: string): void {
  const els = path.split(SEP).filter((e) => e !== '.');
  const isItem = path.endsWith(`${SEP}.`);
  let cur: unknown = obj;
  for (let i = 0; i < els.length; i++) {
    const el = els[i] ?? '';
    const last = i === els.length - 1;
    if (el.startsWith('f:')) {
      if (!isObject(cur)) return;
      if (last) {
        Reflect.deleteProperty(cur, el.slice(2));
        return;
      }
      cur = cur[el.slice(2)];
    } else if (Array.isArray(cur)) {
      const arr = cur;
      const idx = el.startsWith('k:')
        ? arr.findIndex(
            (it) =>
              isObject(it) &&
              Object.entries(JSON.parse(el.slice(2)) as JsonObject).every(([kk, kv]) => deepEqual(it[kk], kv)),
          )
        : arr.findIndex((it) => deepEqual(it, JSON.parse(el.slice(2))));
      if (idx < 0) return;
      if (last && (isItem || el.startsWith('v:'))) {
        arr.splice(idx, 1);
        return;
      }
      cur = arr[idx];
    } else return;
  }
}

/** Deep merge of an applied configuration into the live object, keyed lists merged item by item. */
function applyMerge(ctx: FieldContext, live: unknown, applied: unknown, path: string[]): unknown {
  if (!isObject(applied)) return clone(applied);
  const out: JsonObject = isObject(live) ? clone(live) : {};
  for (const [k, v] of Object.entries(applied)) {
    if (Array.isArray(v)) {
      const items = v as unknown[];
      const key = listKey(ctx, path, k, items);
      const cur: unknown[] = Array.isArray(out[k]) ? (out[k] as unknown[]) : [];
      if (key === undefined) out[k] = clone(items);
      else if (key === 'set') out[k] = [...cur, ...items.filter((x) => !cur.some((c) => deepEqual(c, x)))];
      else {
        const merged = clone(cur);
        for (const item of v as JsonObject[]) {
          const idx = merged.findIndex((m) => isObject(m) && deepEqual(m[key], item[key]));
          if (idx >= 0) merged[idx] = applyMerge(ctx, merged[idx], item, [...path, `f:${k}`, 'item']);
          else merged.push(clone(item));
        }
        out[k] = merged;
      }
    } else out[k] = applyMerge(ctx, out[k], v, [...path, `f:${k}`]);
  }
  return out;
}

/**
 * Drops associative lists that apply left empty. Built-in types encode these lists with Go's `omitempty`, so a real
 * server never stores `[]` for them: removing the last `initContainers` item drops the field. `containers` has no
 * omitempty and stays. Custom resources are unstructured (an emptied list of theirs stays `[]`), but their metadata is
 * ObjectMeta, whose lists, labels and annotations are omitempty too.
 */
function dropEmptyLists(ctx: FieldContext, value: JsonObject, path: string[]): void {
  for (const [k, v] of Object.entries(value)) {
    const metaMap = path.length === 1 && path[0] === 'f:metadata' && (k === 'labels' || k === 'annotations');
    if (metaMap && isObject(v) && Object.keys(v).length === 0) Reflect.deleteProperty(value, k);
    else if (Array.isArray(v)) {
      if (v.length === 0 && k !== 'containers' && listKey(ctx, path, k, v) !== undefined)
        Reflect.deleteProperty(value, k);
      else if (listKey(ctx, path, k, v) !== undefined)
        for (const item of v) if (isObject(item)) dropEmptyLists(ctx, item, [...path, `f:${k}`, 'item']);
    } else if (isObject(v)) dropEmptyLists(ctx, v, [...path, `f:${k}`]);
  }
}

function readEntries(obj: KObject): { entry: ManagedFieldsEntry; set: FieldSet }[] {
  return (obj.metadata.managedFields ?? []).map((entry) => ({ entry, set: fromFieldsV1(entry.fieldsV1) }));
}

function writeEntries(obj: KObject, entries: { entry: ManagedFieldsEntry; set: FieldSet }[]): void {
  const kept = entries.filter((e) => e.set.size > 0).map((e) => ({ ...e.entry, fieldsV1: toFieldsV1(e.set) }));
  if (kept.length > 0) obj.metadata.managedFields = kept;
  else Reflect.deleteProperty(obj.metadata, 'managedFields');
}

function humanPath(path: string): string {
  return path
    .split(SEP)
    .filter((e) => e !== '.')
    .map((e) => (e.startsWith('f:') ? `.${e.slice(2)}` : `[${e.slice(2).replace(/^\{"(\w+)":(.*)\}$/, '$1=$2')}]`))
    .join('');
}

export interface ApplyInput {
  ctx: FieldContext;
  /** The live object, or undefined when apply creates it. Already a private copy. */
  live: KObject | undefined;
  applied: KObject;
  manager: string;
  force: boolean;
  subresource: string | undefined;
}

/** Server-side apply. Returns the merged object with managedFields updated, or throws a 409 field conflict. */
export function serverSideApply(input: ApplyInput): KObject {
  const { ctx, applied, manager, force, subresource } = input;
  const live: KObject = input.live ?? { apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} };
  const appliedSet = fieldSetOf(ctx, applied);
  const entries = readEntries(live);
  const mine = entries.find(
    (e) => e.entry.manager === manager && e.entry.operation === 'Apply' && e.entry.subresource === subresource,
  );
  const conflicts: { manager: string; path: string }[] = [];
  for (const other of entries) {
    if (other === mine) continue;
    for (const f of appliedSet) {
      // An item's `.` entry only records that the item exists; both sides have it, so it never conflicts.
      if (!other.set.has(f) || f.endsWith(`${SEP}.`) || deepEqual(valueAt(live, f), valueAt(applied, f))) continue;
      if (force) other.set.delete(f);
      else conflicts.push({ manager: other.entry.manager, path: f });
    }
  }
  if (conflicts.length > 0) {
    const causes = conflicts.map((c) => ({
      type: 'FieldManagerConflict',
      message: `conflict with "${c.manager}": ${humanPath(c.path)}`,
      field: humanPath(c.path),
    }));
    const n = conflicts.length;
    throw new ApiError(
      409,
      'Conflict',
      `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${causes.map((c) => c.message).join(', ')}`,
      { causes },
    );
  }
  const merged = clone(live);
  for (const f of mine?.set ?? []) {
    if (appliedSet.has(f) || entries.some((e) => e !== mine && e.set.has(f))) continue;
    removeAt(merged, f);
  }
  const result = applyMerge(ctx, merged, applied, []) as KObject;
  dropEmptyLists(ctx, result, []);
  result.metadata.managedFields = live.metadata.managedFields;
  const entry: ManagedFieldsEntry = {
    manager,
    operation: 'Apply',
    apiVersion: applied.apiVersion,
    time: nowIso(),
    fieldsType: 'FieldsV1',
    fieldsV1: {},
  };
  if (subresource !== undefined) entry.subresource = subresource;
  const next = entries.filter((e) => e !== mine);
  next.push({ entry, set: appliedSet });
  writeEntries(result, next);
  return result;
}

/** Records a non-apply write: `manager` takes every field it changed; vanished fields leave every manager. */
export function trackUpdate(
  ctx: FieldContext,
  old: KObject | undefined,
  next: KObject,
  manager: string,
  subresource?: string,
): void {
  const before = old === undefined ? new Set<string>() : fieldSetOf(ctx, old);
  const after = fieldSetOf(ctx, next);
  const changed: FieldSet = new Set();
  for (const f of after) if (!before.has(f) || !deepEqual(valueAt(old, f), valueAt(next, f))) changed.add(f);
  const entries = readEntries(next);
  for (const e of entries) for (const f of e.set) if (changed.has(f) || !after.has(f)) e.set.delete(f);
  if (changed.size > 0) {
    let mine = entries.find(
      (e) => e.entry.manager === manager && e.entry.operation === 'Update' && e.entry.subresource === subresource,
    );
    if (mine === undefined) {
      const entry: ManagedFieldsEntry = {
        manager,
        operation: 'Update',
        apiVersion: next.apiVersion,
        time: nowIso(),
        fieldsType: 'FieldsV1',
        fieldsV1: {},
      };
      if (subresource !== undefined) entry.subresource = subresource;
      mine = { entry, set: new Set() };
      entries.push(mine);
    }
    mine.entry = { ...mine.entry, time: nowIso() };
    for (const f of changed) mine.set.add(f);
  }
  writeEntries(next, entries);
}
