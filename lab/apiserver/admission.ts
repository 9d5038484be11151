/**
 * What the server does to an object between the request body and the store: the per-type "strategy".
 *
 * Invariants:
 * - Server-owned metadata (uid, creationTimestamp, deletionTimestamp, generation, resourceVersion) always comes from
 *   the stored object or the server, never from the client.
 * - With a status subresource, the main endpoint cannot change `status` and `/status` can change nothing else.
 * - `metadata.generation` starts at 1 and is bumped only when the desired state changes: `spec` for built-ins,
 *   everything but metadata and status for custom resources.
 * - Custom resources are pruned, defaulted and validated against their CRD schema on every write.
 * - Resource quantities of pods, DaemonSet pod templates and node status are stored in canonical form (`1000m` → `1`),
 *   as decoding into Go's resource.Quantity does; an unparsable quantity is 400 BadRequest.
 * - A namespace always carries the `kubernetes.io/metadata.name` label, equal to its name.
 * - A Secret's `stringData` is merged into `data` (base64) and not stored, as the real server's conversion does.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, badRequest, invalid } from './errors.ts';
import type { JsonObject, KObject } from './json.ts';
import { clone, deepEqual, isObject, nowIso } from './json.ts';
import type { ResourceType } from './registry.ts';
import { apiVersionOf } from './registry.ts';
import { validatePodTemplate } from './pod-validation.ts';
import { canonicalPodSpec, canonicalResourceList, InvalidQuantity } from '../../src/kube/quantity.ts';

/** Built-ins whose strategy maintains metadata.generation (the others leave it unset, as the real server does). */
const GENERATION_BUILTINS = new Set([
  'daemonsets',
  'deployments',
  'replicasets',
  'statefulsets',
  'horizontalpodautoscalers',
  'poddisruptionbudgets',
  'customresourcedefinitions',
  'pods',
]);

/** Built-ins with a pod template at `spec.template`. */
const TEMPLATE_BUILTINS = new Set(['daemonsets', 'deployments', 'replicasets', 'statefulsets']);

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export interface Admitted {
  obj: KObject;
  warnings: string[];
}

function tracksGeneration(t: ResourceType): boolean {
  return t.crdName !== undefined || GENERATION_BUILTINS.has(t.plural);
}

/** The fields whose change bumps generation. */
function desired(t: ResourceType, o: KObject): unknown {
  if (t.crdName === undefined) return o.spec;
  const rest: JsonObject = { ...o };
  for (const k of ['metadata', 'status', 'apiVersion', 'kind']) Reflect.deleteProperty(rest, k);
  return rest;
}

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * What decoding into the Go types does to the fields the stand-in knows about: quantities become canonical
 * (resource.Quantity), and the namespace strategy (re)sets its name label, whatever the client sent.
 */
function normalise(t: ResourceType, obj: KObject): void {
  if (t.plural === 'namespaces') {
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: obj.metadata.name ?? '' };
    return;
  }
  if (t.crdName !== undefined) return;
  if (t.plural === 'secrets' && t.group === '' && isObject(obj.stringData)) {
    // Write-only convenience field: merged into data (base64), stringData winning, and never stored.
    const data: JsonObject = isObject(obj.data) ? { ...obj.data } : {};
    for (const [k, v] of Object.entries(obj.stringData))
      if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
    obj.data = data;
    Reflect.deleteProperty(obj, 'stringData');
  }
  try {
    const spec = isObject(obj.spec) ? obj.spec : undefined;
    if (t.plural === 'pods') canonicalPodSpec(spec, 'spec', true);
    if (TEMPLATE_BUILTINS.has(t.plural) && t.group === 'apps' && spec !== undefined && isObject(spec.template))
      canonicalPodSpec(spec.template.spec, 'spec.template.spec', true);
    if (t.plural === 'nodes' && isObject(obj.status)) {
      for (const k of ['capacity', 'allocatable'] as const) canonicalResourceList(obj.status[k], `status.${k}`, true);
    }
  } catch (e) {
    if (!(e instanceof InvalidQuantity)) throw e;
    const version = t.group === '' ? t.version : `${t.group}/${t.version}`;
    throw badRequest(`${t.kind} in version "${version}" cannot be handled as a ${t.kind}: ${e.message}`);
  }
}

/** Checks the body's identity against the request and normalises apiVersion/kind to the served version. */
export function checkIdentity(
  t: ResourceType,
  body: unknown,
  namespace: string | undefined,
  name: string | undefined,
): KObject {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object');
  const obj = body as KObject;
  if (!isObject(obj.metadata)) obj.metadata = {};
  const av = apiVersionOf(t);
  // Clients may omit both; when given they must name this resource.
  const kind: unknown = body.kind;
  const apiVersion: unknown = body.apiVersion;
  if (kind !== undefined && kind !== t.kind)
    throw badRequest(
      `the kind of the provided object (${JSON.stringify(kind)}) does not match the resource (${t.kind})`,
    );
  if (apiVersion !== undefined && apiVersion !== av)
    throw badRequest(
      `the API version in the data (${JSON.stringify(apiVersion)}) does not match the expected API version (${av})`,
    );
  obj.apiVersion = av;
  obj.kind = t.kind;
  if (t.namespaced) {
    if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== '' && obj.metadata.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    obj.metadata.namespace = namespace;
  } else Reflect.deleteProperty(obj.metadata, 'namespace');
  if (name !== undefined && obj.metadata.name !== undefined && obj.metadata.name !== name)
    throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  if (name !== undefined) obj.metadata.name = name;
  return obj;
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)] ?? 'x';
  return s;
}

function schemaCheck(t: ResourceType, obj: KObject, validation: FieldValidation): string[] {
  if (t.schema === undefined) return [];
  const { causes, pruned } = t.schema.check(obj);
  if (pruned.length > 0 && validation === 'Strict')
    throw badRequest(`strict decoding error: ${pruned.map((p) => `unknown field "${p}"`).join(', ')}`);
  if (causes.length > 0) throw invalid(t.kind, t.group, obj.metadata.name ?? '', causes);
  return validation === 'Warn' ? pruned.map((p) => `unknown field "${p}"`) : [];
}

function checkName(t: ResourceType, obj: KObject): void {
  const name = obj.metadata.name ?? '';
  if (name === '')
    throw invalid(t.kind, t.group, '', [
      {
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
        field: 'metadata.name',
      },
    ]);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253)
    throw invalid(t.kind, t.group, name, [
      {
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
        field: 'metadata.name',
      },
    ]);
}

/** A Secret's decoded data may hold at most 1 MiB (MaxSecretSize), refused as the real server words it. */
function validateSecretSize(t: ResourceType, obj: KObject): void {
  if (t.plural !== 'secrets' || t.group !== '' || !isObject(obj.data)) return;
  const max = 1024 * 1024;
  let bytes = 0;
  for (const v of Object.values(obj.data)) if (typeof v === 'string') bytes += Buffer.byteLength(v, 'base64');
  if (bytes > max)
    throw invalid(t.kind, t.group, obj.metadata.name ?? '', [
      { reason: 'FieldValueTooLong', field: 'data', message: `Too long: may not be more than ${max} bytes` },
    ]);
}

export function admitCreate(t: ResourceType, obj: KObject, validation: FieldValidation): Admitted {
  const m = obj.metadata;
  if ((m.name === undefined || m.name === '') && typeof m.generateName === 'string' && m.generateName !== '')
    m.name = m.generateName + randomSuffix();
  checkName(t, obj);
  m.uid = randomUUID();
  m.creationTimestamp = nowIso();
  for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'resourceVersion', 'selfLink'])
    Reflect.deleteProperty(m, k);
  if (tracksGeneration(t)) m.generation = 1;
  else Reflect.deleteProperty(m, 'generation');
  if (t.status && t.plural !== 'nodes') Reflect.deleteProperty(obj, 'status');
  if (t.plural === 'namespaces') obj.status = { phase: 'Active' };
  if (t.plural === 'pods') obj.status = { phase: 'Pending', ...(isObject(obj.status) ? obj.status : {}) };
  if (t.plural === 'customresourcedefinitions') crdAccepted(obj);
  normalise(t, obj);
  validatePodTemplate(t.plural, t.kind, t.group, obj);
  validateSecretSize(t, obj);
  const warnings = schemaCheck(t, obj, validation);
  return { obj, warnings };
}

/** Merges an incoming write onto the stored object according to the type's strategy. */
export function admitUpdate(
  t: ResourceType,
  prev: KObject,
  incoming: KObject,
  subresource: string | undefined,
  validation: FieldValidation,
): Admitted {
  let obj: KObject;
  if (subresource === 'status') {
    obj = clone(prev);
    if (incoming.status === undefined) Reflect.deleteProperty(obj, 'status');
    else obj.status = incoming.status;
    if (incoming.metadata.managedFields !== undefined) obj.metadata.managedFields = incoming.metadata.managedFields;
  } else {
    obj = incoming;
    if (t.status) {
      if (prev.status === undefined) Reflect.deleteProperty(obj, 'status');
      else obj.status = clone(prev.status);
    }
  }
  const m = obj.metadata;
  const pm = prev.metadata;
  m.uid = pm.uid;
  m.creationTimestamp = pm.creationTimestamp;
  m.generation = pm.generation;
  if (m.generation === undefined) Reflect.deleteProperty(m, 'generation');
  for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
    if (pm[k] === undefined) Reflect.deleteProperty(m, k);
    else Object.assign(m, { [k]: pm[k] });
  }
  if (pm.deletionTimestamp !== undefined) {
    const added = (m.finalizers ?? []).filter((f) => !(pm.finalizers ?? []).includes(f));
    if (added.length > 0)
      throw invalid(t.kind, t.group, pm.name ?? '', [
        {
          reason: 'FieldValueForbidden',
          message: 'Forbidden: no new finalizers can be added if the object is being deleted',
          field: 'metadata.finalizers',
        },
      ]);
  }
  if (t.plural === 'customresourcedefinitions') crdAccepted(obj);
  normalise(t, obj);
  if (subresource === undefined) {
    validatePodTemplate(t.plural, t.kind, t.group, obj);
    validateSecretSize(t, obj);
  }
  const warnings = subresource === 'status' && t.schema === undefined ? [] : schemaCheck(t, obj, validation);
  if (tracksGeneration(t) && !deepEqual(desired(t, prev), desired(t, obj))) m.generation = (pm.generation ?? 0) + 1;
  return { obj, warnings };
}

function versionName(v: unknown): string {
  return isObject(v) && typeof v.name === 'string' ? v.name : '';
}

/** A CRD is accepted at once: names taken as given, Established, stored in its storage version. */
function crdAccepted(crd: KObject): void {
  const spec = isObject(crd.spec) ? crd.spec : undefined;
  if (spec === undefined || !isObject(spec.names) || typeof spec.group !== 'string' || !Array.isArray(spec.versions))
    throw invalid('CustomResourceDefinition', 'apiextensions.k8s.io', crd.metadata.name ?? '', [
      {
        reason: 'FieldValueRequired',
        message: 'Required value: group, names and versions are required',
        field: 'spec',
      },
    ]);
  const expected = `${String(spec.names.plural)}.${spec.group}`;
  if (crd.metadata.name !== expected)
    throw invalid('CustomResourceDefinition', 'apiextensions.k8s.io', crd.metadata.name ?? '', [
      {
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${crd.metadata.name ?? ''}": must be spec.names.plural+"."+spec.group`,
        field: 'metadata.name',
      },
    ]);
  const now = nowIso();
  const storage = spec.versions.find((v) => isObject(v) && v.storage === true) as JsonObject | undefined;
  crd.status = {
    conditions: [
      {
        type: 'NamesAccepted',
        status: 'True',
        reason: 'NoConflicts',
        message: 'no conflicts found',
        lastTransitionTime: now,
      },
      {
        type: 'Established',
        status: 'True',
        reason: 'InitialNamesAccepted',
        message: 'the initial names have been accepted',
        lastTransitionTime: now,
      },
    ],
    acceptedNames: spec.names,
    storedVersions: [versionName(storage ?? spec.versions[0])],
  };
}

/** Stale-write check for PUT: a given resourceVersion must be the stored one; built-ins allow omitting it. */
export function checkPrecondition(t: ResourceType, prev: KObject, rv: string | undefined): void {
  if (rv === undefined || rv === '') {
    if (t.crdName !== undefined)
      throw invalid(t.kind, t.group, prev.metadata.name ?? '', [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: 0: must be specified for an update',
          field: 'metadata.resourceVersion',
        },
      ]);
    return;
  }
  if (rv !== prev.metadata.resourceVersion)
    throw new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${t.group === '' ? t.plural : `${t.plural}.${t.group}`} "${prev.metadata.name ?? ''}": the object has been modified; please apply your changes to the latest version and try again`,
      { name: prev.metadata.name, group: t.group, kind: t.plural },
    );
}

/** JSON with object keys sorted: two tries with the same paths give the same text. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v ?? null);
}

/**
 * True when two versions differ only in what the server maintains (a no-op write must not bump resourceVersion).
 * Ownership is content: a write that only moves fields between managers is stored, as on a real server; entry order
 * and timestamps are not (the real field manager keeps the old entries when only their times changed).
 */
export function sameContent(a: KObject, b: KObject): boolean {
  const ownership = (o: KObject): string[] =>
    (o.metadata.managedFields ?? [])
      .map((e) => canonical([e.manager, e.operation, e.subresource ?? '', e.apiVersion, e.fieldsV1]))
      .sort();
  const strip = (o: KObject): JsonObject => {
    const meta: JsonObject = { ...o.metadata };
    Reflect.deleteProperty(meta, 'resourceVersion');
    meta.managedFields = ownership(o);
    return { ...o, metadata: meta };
  };
  return deepEqual(strip(a), strip(b));
}
