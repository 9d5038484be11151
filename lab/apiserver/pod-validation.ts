/**
 * What a real API server refuses in a pod template that a merge would silently fix: duplicate keys in an apply body,
 * and duplicate volume names or mount paths on any write.
 *
 * Invariants:
 * - An apply body whose associative list (built-in types only) carries two items with the same key is rejected
 *   before anything is merged, with the real server's wording: `.spec.template.spec.containers[name="x"].volumeMounts:
 *   duplicate entries for key [mountPath="/p"]`. Merging would keep one item and hide a template the real server
 *   never accepts (volumeMounts are keyed by mountPath, volumes by name). The real HTTP code is unconfirmed; 422.
 * - Pods and pod templates (DaemonSet, Deployment, ReplicaSet, StatefulSet, Job) are validated on every write as
 *   core validation does: volume names unique ("Duplicate value"), mount paths unique within a container ("must be
 *   unique"). Errors are 422 Invalid with `details.causes[].field`.
 */
import { ApiError, invalid, type StatusCause } from './errors.ts';
import type { JsonObject, KObject } from './json.ts';
import { isObject } from './json.ts';
import { builtinListKey } from './patch.ts';

/** The key fields of a keyed list item; ports are keyed with their protocol, as the real schema does. */
function keyOf(field: string, key: string, item: JsonObject): string {
  const parts: [string, unknown][] = [[key, item[key]]];
  if (field === 'ports') parts.push(['protocol', item.protocol ?? 'TCP']);
  return parts.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
}

function findDuplicate(value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) return undefined;
  if (!isObject(value)) return undefined;
  for (const [k, v] of Object.entries(value)) {
    const here = `${path}.${k}`;
    if (!Array.isArray(v)) {
      const found = findDuplicate(v, here);
      if (found !== undefined) return found;
      continue;
    }
    const key = builtinListKey(k, v);
    if (key === undefined || !v.every((i) => isObject(i) && i[key] !== undefined)) continue;
    const seen = new Set<string>();
    for (const item of v as JsonObject[]) {
      const id = keyOf(k, key, item);
      if (seen.has(id)) return `${here}: duplicate entries for key [${id}]`;
      seen.add(id);
      const found = findDuplicate(item, `${here}[${keyOf(k, key, item)}]`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Rejects an apply body of a built-in type that repeats a key in an associative list. */
export function checkApplyKeys(custom: boolean, applied: KObject): void {
  if (custom) return;
  const dup = findDuplicate(applied, '');
  if (dup === undefined) return;
  const ns = applied.metadata.namespace ?? '';
  const where = `${ns === '' ? '' : `${ns}/`}${applied.metadata.name ?? ''}; ${applied.apiVersion}, Kind=${applied.kind}`;
  throw new ApiError(422, 'Invalid', `failed to create typed patch object (${where}): ${dup}`);
}

const TEMPLATE_KINDS = new Set(['daemonsets', 'deployments', 'replicasets', 'statefulsets', 'jobs']);

function podSpecOf(plural: string, obj: KObject): [JsonObject, string] | undefined {
  const spec = obj.spec;
  if (!isObject(spec)) return undefined;
  if (plural === 'pods') return [spec, 'spec'];
  if (!TEMPLATE_KINDS.has(plural) || !isObject(spec.template) || !isObject(spec.template.spec)) return undefined;
  return [spec.template.spec, 'spec.template.spec'];
}

function podSpecCauses(spec: JsonObject, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const names = new Set<unknown>();
  (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v, i) => {
    if (!isObject(v)) return;
    if (names.has(v.name))
      causes.push({
        reason: 'FieldValueDuplicate',
        message: `Duplicate value: "${String(v.name)}"`,
        field: `${at}.volumes[${i}].name`,
      });
    names.add(v.name);
  });
  for (const list of ['initContainers', 'containers'] as const) {
    (Array.isArray(spec[list]) ? spec[list] : []).forEach((c, ci) => {
      if (!isObject(c) || !Array.isArray(c.volumeMounts)) return;
      const paths = new Set<unknown>();
      c.volumeMounts.forEach((m, mi) => {
        if (!isObject(m)) return;
        if (paths.has(m.mountPath))
          causes.push({
            reason: 'FieldValueInvalid',
            message: `Invalid value: "${String(m.mountPath)}": must be unique`,
            field: `${at}.${list}[${ci}].volumeMounts[${mi}].mountPath`,
          });
        paths.add(m.mountPath);
      });
    });
  }
  return causes;
}

/** Core validation of a pod spec (or a workload's template) on create and update. */
export function validatePodTemplate(plural: string, kind: string, group: string, obj: KObject): void {
  const found = podSpecOf(plural, obj);
  if (found === undefined) return;
  const causes = podSpecCauses(...found);
  if (causes.length > 0) throw invalid(kind, group, obj.metadata.name ?? '', causes);
}
