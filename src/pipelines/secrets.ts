/**
 * Pipeline secrets (`spec.secret`, kaasops #278): `SECRET[alias.key]` references in a pipeline's options, rewritten to
 * the agent's one `k8s` directory backend, and the values the agent needs, checked before they are published.
 *
 * Invariants:
 * - Only option values are rewritten: every string inside a component except `type`, `inputs` and a source's
 *   `extra_*_selector` / `use_apiserver_cache` (kaasops' typed fields). A reference anywhere else (a typed field, an
 *   option's key) is refused: Vector interpolates `SECRET[...]` over the whole config text, so left alone it would read
 *   another pipeline's value through the shared backend (an input id that echoes it in an error, for one).
 * - Every reference is rewritten to `SECRET[k8s.<flat key>]`, the flat key being `<ns>-<pipeline>-<alias>-<key>`
 *   (a ClusterVectorPipeline: `<pipeline>-<alias>-<key>`) with every `-` made `_`. A pipeline therefore only ever
 *   names flat keys derived from its own namespace and name; a flat key two pipelines derive (they differ only by a
 *   `-` against a `_`) is attributed to the older one by the build (build.ts).
 * - Text that is not a reference passes through untouched, and a pipeline without references compiles to exactly
 *   what it compiled to before secrets existed: no `secret` block, no assets, the same bytes.
 * - A VectorPipeline reads Secrets of its own namespace only (a backend `namespace` is refused); a
 *   ClusterVectorPipeline must name one. Values never enter the config, only the rewritten references do.
 * - Error texts are kaasops' (docs/secrets.md), each with the field it concerns; they never contain a value.
 * - Pure: values come from a `SecretSource` the caller fills (the operator from the API, `render` from manifests).
 */
import { createHash } from 'node:crypto';
import type { PipelineRef } from './pipeline.ts';
import type { Pipeline, PipelineSpec } from './schemas.ts';

/** The one backend of the agent config, and where the assets Secret is mounted in the vector container. */
const secretBackend = 'k8s';
export const secretsMountPath = '/etc/vector/secrets';
const secretBackendType = 'kubernetes_secret';

/** The config's `secret` block, exactly as kaasops writes it (`{"k8s":{"path":...,"type":"directory"}}`). */
export function secretBlock(): Record<string, { type: string; path: string }> {
  return { [secretBackend]: { type: 'directory', path: secretsMountPath } };
}

/** kaasops' match pattern (a superset of Vector's own, which has no `/` in keys). */
const referencePattern = /SECRET\[([A-Za-z0-9_]+)\.([A-Za-z0-9_./-]+)\]/g;
const aliasPattern = /^[A-Za-z0-9_]+$/;
const keyPattern = /^[A-Za-z0-9_.-]+$/;
/** The longest key a Secret's data may have (a DNS subdomain). */
const maxFlatKeyLength = 253;

/** One `SECRET[alias.key]` of a pipeline, and the Secret key it stands for. */
export interface SecretRef {
  /** The option it was found in, e.g. `spec.sinks.es.auth.password`. */
  field: string;
  alias: string;
  key: string;
  /** The key in the assets Secret, and in the rewritten reference. */
  flat: string;
  /** The Secret that holds it. */
  namespace: string;
  name: string;
}

type Components = Record<string, Record<string, unknown>>;
export interface SpecComponents {
  sources: Components;
  transforms: Components;
  sinks: Components;
}

export type RewriteResult =
  { ok: true; spec: SpecComponents; refs: SecretRef[] } | { ok: false; field: string; reason: string };

export function flatKey(ref: PipelineRef, alias: string, key: string): string {
  const parts = ref.namespace === '' ? [ref.name, alias, key] : [ref.namespace, ref.name, alias, key];
  return parts.join('-').replaceAll('-', '_');
}

/** The declared backends' shape, over every alias in sorted order: a problem here is permanent until the spec changes. */
function backendProblem(ref: PipelineRef, secret: NonNullable<PipelineSpec['secret']>) {
  for (const alias of Object.keys(secret).sort()) {
    const b = secret[alias];
    const field = `spec.secret.${alias}`;
    if (!aliasPattern.test(alias)) return { field, reason: 'secret backend alias must match ^[A-Za-z0-9_]+$' };
    if (b?.type !== secretBackendType) return { field: `${field}.type`, reason: `must be ${secretBackendType}` };
    if (b.name === '') return { field: `${field}.name`, reason: 'must name a Secret' };
    const ns = b.namespace ?? '';
    if (ref.kind === 'VectorPipeline' && ns !== '')
      return {
        field: `${field}.namespace`,
        reason: `secret backend "${alias}": namespace is not allowed in VectorPipeline`,
      };
    if (ref.kind === 'ClusterVectorPipeline' && ns === '')
      return { field: `${field}.namespace`, reason: `secret backend "${alias}": namespace is required` };
  }
  return undefined;
}

const typedSourceFields = new Set([
  'type',
  'extra_namespace_label_selector',
  'extra_label_selector',
  'extra_field_selector',
  'use_apiserver_cache',
]);
const typedFields = new Set(['type', 'inputs']);

class RefError extends Error {
  readonly field: string;
  constructor(field: string, reason: string) {
    super(reason);
    this.field = field;
  }
}

function hasReference(text: string): boolean {
  // The substring test first: almost no string holds a reference, and it is far cheaper than the pattern.
  if (!text.includes('SECRET[')) return false;
  referencePattern.lastIndex = 0;
  return referencePattern.test(text);
}

function mentionsReference(v: unknown): boolean {
  if (typeof v === 'string') return hasReference(v);
  if (Array.isArray(v)) return v.some(mentionsReference);
  if (typeof v === 'object' && v !== null)
    return Object.entries(v).some(([k, x]) => hasReference(k) || mentionsReference(x));
  return false;
}

/**
 * `spec`'s sources, transforms and sinks with every reference rewritten, and the references found; or the first
 * problem, naming the field. A spec without `secret` and without references comes back as the same objects.
 */
export function rewriteSecretRefs(p: Pipeline, ref: PipelineRef): RewriteResult {
  const declared = p.spec.secret ?? {};
  const shape = backendProblem(ref, declared);
  if (shape !== undefined) return { ok: false, ...shape };
  const refs: SecretRef[] = [];
  const rewrite = (text: string, field: string): string =>
    text.replace(referencePattern, (match: string, alias: string, key: string) => {
      const b = declared[alias];
      if (b === undefined)
        throw new RefError(field, `secret reference "${match}": backend "${alias}" is not declared in spec.secret`);
      if (!keyPattern.test(key))
        throw new RefError(field, `secret reference "${match}": key "${key}" must match ^[A-Za-z0-9_.-]+$`);
      const flat = flatKey(ref, alias, key);
      if (flat.length > maxFlatKeyLength)
        throw new RefError(
          field,
          `secret reference "${alias}.${key}": generated key "${flat}" is ${String(flat.length)} characters, over the ` +
            `${String(maxFlatKeyLength)} character Kubernetes Secret key limit; shorten the pipeline name, the secret ` +
            'alias, or the source key',
        );
      const namespace = ref.kind === 'VectorPipeline' ? ref.namespace : (b.namespace ?? '');
      refs.push({ field, alias, key, flat, namespace, name: b.name });
      return `SECRET[${secretBackend}.${flat}]`;
    });
  const walk = (v: unknown, field: string): unknown => {
    if (typeof v === 'string') return hasReference(v) ? rewrite(v, field) : v;
    if (Array.isArray(v)) {
      const out = v.map((x, i) => walk(x, `${field}[${String(i)}]`));
      return out.every((x, i) => x === v[i]) ? v : out;
    }
    if (typeof v !== 'object' || v === null) return v;
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (hasReference(k))
        throw new RefError(`${field}.${k}`, 'a secret reference is allowed in option values only, not in keys');
      out[k] = walk(x, `${field}.${k}`);
      if (out[k] !== x) changed = true;
    }
    return changed ? out : v;
  };
  const spec: SpecComponents = {
    sources: p.spec.sources ?? {},
    transforms: p.spec.transforms ?? {},
    sinks: p.spec.sinks ?? {},
  };
  // Most pipelines hold no reference: one read-only pass, and the spec is returned as it is.
  if (!mentionsReference(spec)) return { ok: true, spec, refs };
  try {
    const out: SpecComponents = { sources: {}, transforms: {}, sinks: {} };
    for (const kind of ['sources', 'transforms', 'sinks'] as const) {
      const typed = kind === 'sources' ? typedSourceFields : typedFields;
      for (const [key, c] of Object.entries(spec[kind])) {
        for (const f of typed) {
          if (mentionsReference(c[f]))
            throw new RefError(
              `spec.${kind}.${key}.${f}`,
              'a secret reference is allowed in option values only, not in type, inputs or a selector',
            );
        }
        out[kind][key] = walk(c, `spec.${kind}.${key}`) as Record<string, unknown>;
      }
    }
    if (refs.length === 0) return { ok: true, spec, refs };
    return { ok: true, spec: out, refs };
  } catch (err) {
    if (err instanceof RefError) return { ok: false, field: err.field, reason: err.message };
    throw err;
  }
}

/** One Secret as the build sees it; `data` holds the decoded values. */
export type SecretRead = { ok: true; data: Readonly<Record<string, Uint8Array>> } | { ok: false; error: string };

/**
 * Where a build finds Secret values: the operator's reads of the API, or `render`'s Secret manifests. `stamp` changes
 * whenever a value may have (the operator uses the Secrets' resourceVersions), so a memoised build is redone.
 */
export interface SecretSource {
  stamp: string;
  get(namespace: string, name: string): SecretRead;
}

/** The text of a read that found no Secret, as the API server words it. */
export function notFoundError(name: string): string {
  return `secrets "${name}" not found`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** kaasops' rule: empty, or valid UTF-8 without `"`, `\` or a byte below 0x20 (the value is pasted into JSON text). */
export function safeSecretValue(value: Uint8Array): boolean {
  for (const b of value) if (b < 0x20 || b === 0x22 || b === 0x5c) return false;
  try {
    utf8.decode(value);
    return true;
  } catch {
    return false;
  }
}

/** The values of `refs` (flat key -> value), or the first reference that cannot be served, with kaasops' text. */
export function resolveSecretRefs(
  refs: readonly SecretRef[],
  source: SecretSource,
): { ok: true; values: Map<string, Uint8Array> } | { ok: false; field: string; reason: string } {
  const values = new Map<string, Uint8Array>();
  for (const r of refs) {
    const where = `${r.namespace}/${r.name}`;
    const read = source.get(r.namespace, r.name);
    if (!read.ok)
      return {
        ok: false,
        field: `spec.secret.${r.alias}`,
        reason: `secret backend "${r.alias}": failed to get secret ${where}: ${read.error}`,
      };
    const value = read.data[r.key];
    if (value === undefined) return { ok: false, field: r.field, reason: `secret ${where}: key "${r.key}" not found` };
    if (!safeSecretValue(value))
      return {
        ok: false,
        field: r.field,
        reason:
          `secret ${where}: key "${r.key}" holds a value that cannot be safely substituted into the generated config ` +
          '(it must be valid UTF-8 with no double quote, backslash, or control byte); rotate it to a value that ' +
          'satisfies this',
      };
    values.set(r.flat, value);
  }
  return { ok: true, values };
}

/** One Secret's identity as `relatedSecretsHash` covers it. */
export interface SecretIdentity {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
}

/**
 * kaasops' `relatedSecretsHash`: sha256 over each Secret (used backends in sorted alias order, each `ns/name` once) as
 * four fields, each an 8-byte big-endian length then the bytes (namespace, name, uid, resourceVersion); the first 8
 * bytes of the digest as a signed big-endian int64. No value goes in. Exact as a bigint; the status holds a number.
 */
export function relatedSecretsToken(secrets: readonly SecretIdentity[]): bigint {
  const h = createHash('sha256');
  for (const s of secrets) {
    for (const f of [s.namespace, s.name, s.uid, s.resourceVersion]) {
      const bytes = Buffer.from(f, 'utf8');
      const len = Buffer.alloc(8);
      len.writeBigUInt64BE(BigInt(bytes.length));
      h.update(len);
      h.update(bytes);
    }
  }
  return h.digest().readBigInt64BE(0);
}

/** The Secrets `relatedSecretsToken` covers for these references: by sorted alias, each `ns/name` once. */
export function relatedSecrets(refs: readonly SecretRef[]): { alias: string; namespace: string; name: string }[] {
  const byAlias = new Map<string, SecretRef>();
  for (const r of refs) if (!byAlias.has(r.alias)) byAlias.set(r.alias, r);
  const seen = new Set<string>();
  const out: { alias: string; namespace: string; name: string }[] = [];
  for (const alias of [...byAlias.keys()].sort()) {
    const r = byAlias.get(alias) as SecretRef;
    const k = `${r.namespace}/${r.name}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ alias, namespace: r.namespace, name: r.name });
  }
  return out;
}

/** A Secret as a manifest gives it (`data` base64, `stringData` plain text, which wins as the API server merges it). */
export interface SecretManifest {
  metadata: { namespace: string; name: string; resourceVersion?: string };
  data?: Record<string, string> | null;
  stringData?: Record<string, string> | null;
}

/** A source over Secret objects at hand (`render`'s inputs, tests): one not given is not found. */
export function secretSourceOf(secrets: readonly SecretManifest[]): SecretSource {
  const byName = new Map<string, Record<string, Uint8Array>>();
  for (const s of secrets) {
    const data: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64');
    for (const [k, v] of Object.entries(s.stringData ?? {})) data[k] = Buffer.from(v, 'utf8');
    byName.set(`${s.metadata.namespace}/${s.metadata.name}`, data);
  }
  const stamp = secrets.map((s) => `${s.metadata.namespace}/${s.metadata.name}@${s.metadata.resourceVersion ?? ''}`);
  return {
    stamp: stamp.join(','),
    get(namespace, name) {
      const data = byName.get(`${namespace}/${name}`);
      return data === undefined ? { ok: false, error: notFoundError(name) } : { ok: true, data };
    },
  };
}

/** The Secrets a pipeline declares (used or not), where each is read; a backend with a shape problem is skipped. */
export function declaredSecrets(p: Pipeline): { namespace: string; name: string }[] {
  const out: { namespace: string; name: string }[] = [];
  for (const b of Object.values(p.spec.secret ?? {})) {
    const namespace = p.kind === 'VectorPipeline' ? (p.metadata.namespace ?? '') : (b.namespace ?? '');
    if (namespace !== '' && b.name !== '') out.push({ namespace, name: b.name });
  }
  return out;
}

/**
 * kaasops' rotation poll interval for a pipeline (or here also a Vector) whose Secrets no watch covers: 4 min plus
 * FNV-1a-32(namespace, NUL, name) mod 60 000 ms, so it is spread out yet the same across restarts and replicas.
 */
export function rotationPollMs(namespace: string, name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(`${namespace}\0${name}`, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return 240_000 + (h % 60_000);
}
