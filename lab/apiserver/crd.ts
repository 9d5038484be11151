/**
 * Custom resources against their CRD's `openAPIV3Schema`: prune, default, validate — in that order, as the real
 * server does for structural schemas.
 *
 * Invariants:
 * - Pruning drops every field the schema does not declare, except under `x-kubernetes-preserve-unknown-fields: true`
 *   or an `additionalProperties` schema; `apiVersion`, `kind` and `metadata` are never pruned at the root.
 * - Defaults are applied only where the parent object exists (ajv's `useDefaults`, which matches structural
 *   defaulting), after pruning, so a default cannot resurrect a pruned field.
 * - A failure is reported per field as the real server words it: `spec.replicas: Invalid value: …` with the field
 *   path in the Status causes, so a client can name the offending field.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { StatusCause } from './errors.ts';
import type { JsonObject } from './json.ts';
import { isObject } from './json.ts';

export interface CheckResult {
  causes: StatusCause[];
  /** Dotted paths of the fields pruning removed (reported back under fieldValidation=Warn/Strict). */
  pruned: string[];
}

export interface SchemaChecker {
  /** Mutates `obj`: prunes and defaults; returns validation failures (empty when valid). */
  check(obj: JsonObject): CheckResult;
}

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, validateFormats: false });
for (const k of [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
]) {
  ajv.addKeyword(k);
}

/**
 * OpenAPI's `x-kubernetes-int-or-string` means "integer or string" while the schema usually omits `type`; ajv needs
 * it spelled out. The copy is rewritten recursively.
 */
function toJsonSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toJsonSchema);
  if (!isObject(s)) return s;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(s)) out[k] = toJsonSchema(v);
  if (s['x-kubernetes-int-or-string'] === true) {
    Reflect.deleteProperty(out, 'type');
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (s.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  Reflect.deleteProperty(out, 'nullable');
  return out;
}

function prune(schema: unknown, value: unknown, path: string, pruned: string[], root: boolean): void {
  if (!isObject(schema)) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      prune(schema.items, v, `${path}[${i}]`, pruned, false);
    });
    return;
  }
  if (!isObject(value)) return;
  const props = isObject(schema.properties) ? schema.properties : undefined;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const additional = schema.additionalProperties;
  for (const k of Object.keys(value)) {
    if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    const child = props?.[k];
    const sub = path === '' ? k : `${path}.${k}`;
    if (child !== undefined) prune(child, value[k], sub, pruned, false);
    else if (isObject(additional)) prune(additional, value[k], sub, pruned, false);
    else if (!preserve && additional !== true) {
      Reflect.deleteProperty(value, k);
      pruned.push(sub);
    }
  }
}

function fieldOf(e: ErrorObject): string {
  const base = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return base === '' ? missing : `${base}.${missing}`;
  }
  return base;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function causeOf(e: ErrorObject, obj: JsonObject): StatusCause {
  const field = fieldOf(e);
  if (e.keyword === 'required') return { reason: 'FieldValueRequired', message: 'Required value', field };
  let v: unknown = obj;
  for (const p of e.instancePath.split('/').slice(1))
    v = isObject(v) ? v[p] : Array.isArray(v) ? v[Number(p)] : undefined;
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((a) => JSON.stringify(a)).join(', ');
    return {
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${JSON.stringify(v)}: supported values: ${allowed}`,
      field,
    };
  }
  if (e.keyword === 'type') {
    // kube-openapi names the value's type, not the value: `Invalid value: "string": x in body must be of type integer: "string"`.
    const actual = jsonType(v);
    const expected = String((e.params as { type: unknown }).type);
    return {
      reason: 'FieldValueInvalid',
      message: `Invalid value: "${actual}": ${field} in body must be of type ${expected}: "${actual}"`,
      field,
    };
  }
  return {
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(v)}: ${field} in body ${e.message ?? 'is invalid'}`,
    field,
  };
}

export function makeSchemaChecker(openAPIV3Schema: unknown): SchemaChecker {
  if (!isObject(openAPIV3Schema)) {
    // No schema (only possible for served-but-unvalidated legacy CRDs): accept anything, prune nothing.
    return { check: () => ({ causes: [], pruned: [] }) };
  }
  const schema = toJsonSchema(openAPIV3Schema) as JsonObject;
  // metadata is validated by the server's own rules, not the CRD's; keep ajv away from it.
  const props = isObject(schema.properties) ? { ...schema.properties } : {};
  Reflect.deleteProperty(props, 'metadata');
  const validate: ValidateFunction = ajv.compile({ ...schema, properties: props });
  return {
    check(obj) {
      const pruned: string[] = [];
      prune(openAPIV3Schema, obj, '', pruned, true);
      if (validate(obj)) return { causes: [], pruned };
      return { causes: (validate.errors ?? []).map((e) => causeOf(e, obj)), pruned };
    },
  };
}
