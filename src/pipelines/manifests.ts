/**
 * Kubernetes manifests (already parsed YAML/JSON values) -> typed Vector and pipeline objects.
 *
 * Invariants:
 * - Never throws on bad input: each problem is reported with the object and the field path
 *   (`VectorPipeline team-a/logs: spec.sources.app: expected object, received string`).
 * - Objects of other kinds or API groups are ignored (a manifest directory may hold anything), counted, and each named
 *   in a warning. The five kinds read are Vector, VectorPipeline, ClusterVectorPipeline, VectorAggregator and
 *   ClusterVectorAggregator.
 * - A spec field the schema does not know is dropped, as the API server prunes it from a stored object; each one is
 *   named in a warning (origin, object, field path), so a misspelled field does not vanish silently.
 * - A namespaced object without a namespace takes `options.namespace` when given (as `kubectl -n` does), and is an
 *   error otherwise; an object with one keeps it.
 * - An absent spec is an empty spec; null component maps are empty maps.
 * - `v1` Secrets are read too: they stand for the cluster's Secrets that pipelines reference (`spec.secret`), so
 *   `render` can resolve them without a cluster. A Secret no pipeline declares is read and never used.
 */
import type { z } from 'zod';
import { aggregatorSpecSchema, clusterAggregatorSpecSchema, type Aggregator } from './aggregator-schemas.ts';
import {
  apiVersion,
  metadataSchema,
  pipelineSpecSchema,
  vectorSpecSchema,
  type Pipeline,
  type Vector,
} from './schemas.ts';
import type { SecretManifest } from './secrets.ts';

export interface ManifestDoc {
  /** Where it came from, for messages: `path#index`. */
  origin: string;
  value: unknown;
}

export interface ParsedManifests {
  vectors: Vector[];
  pipelines: Pipeline[];
  /** `v1` Secrets, for the pipelines' `spec.secret` (secrets.ts). */
  secrets: SecretManifest[];
  aggregators: Aggregator[];
  errors: string[];
  /** Objects and fields left out, one line each, naming the origin, the object and the field. */
  warnings: string[];
  ignored: number;
}

export interface ParseOptions {
  /** The namespace of namespaced objects that carry none (`--namespace`). */
  namespace?: string;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], root: string): string[] {
  return issues.map((i) => {
    const path = [root, ...i.path.map(String)].filter((s) => s !== '').join('.');
    return `${path}: ${i.message.replace(/^Invalid input: /, '')}`;
  });
}

type Kind = 'Vector' | 'VectorPipeline' | 'ClusterVectorPipeline' | Aggregator['kind'];
const specSchemas: Record<Kind, z.ZodType> = {
  Vector: vectorSpecSchema,
  VectorPipeline: pipelineSpecSchema,
  ClusterVectorPipeline: pipelineSpecSchema,
  VectorAggregator: aggregatorSpecSchema,
  ClusterVectorAggregator: clusterAggregatorSpecSchema,
};
const clusterKinds = new Set<string>(['ClusterVectorPipeline', 'ClusterVectorAggregator']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Paths of the fields in `raw` that parsing dropped from `parsed` (free-form objects keep everything). */
function droppedFields(raw: unknown, parsed: unknown, path: string): string[] {
  if (Array.isArray(raw) && Array.isArray(parsed))
    return raw.flatMap((item, i) => droppedFields(item, parsed[i], `${path}[${String(i)}]`));
  if (!isRecord(raw) || !isRecord(parsed)) return [];
  return Object.keys(raw).flatMap((k) =>
    k in parsed ? droppedFields(raw[k], parsed[k], `${path}.${k}`) : [`${path}.${k}`],
  );
}

function ignoredWhy(obj: Record<string, unknown>): string {
  const kind = typeof obj.kind === 'string' ? obj.kind : '(no kind)';
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const name = [meta.namespace, meta.name].filter((x) => typeof x === 'string' && x !== '').join('/');
  const version = typeof obj.apiVersion === 'string' ? obj.apiVersion : '(no apiVersion)';
  const what = `${version} ${kind}${name === '' ? '' : ` ${name}`}`;
  const names = Object.keys(specSchemas);
  return `${what}: ignored: only ${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''} of ${apiVersion} are read`;
}

const stringMap = (v: unknown): v is Record<string, string> =>
  isRecord(v) && Object.values(v).every((x) => typeof x === 'string');

/** A `v1` Secret into `secrets`; the problem when it is not one. */
function readSecret(
  obj: Record<string, unknown>,
  options: ParseOptions,
  secrets: SecretManifest[],
): string | undefined {
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const given = typeof meta.namespace === 'string' ? meta.namespace : '';
  const namespace = given === '' ? (options.namespace ?? '') : given;
  if (name === '') return 'Secret: metadata.name: is required';
  if (namespace === '') return `Secret ?/${name}: metadata.namespace: is required: set it, or pass --namespace NS`;
  for (const f of ['data', 'stringData'] as const)
    if (obj[f] !== undefined && obj[f] !== null && !stringMap(obj[f]))
      return `Secret ${namespace}/${name}: ${f}: expected a map of strings`;
  secrets.push({
    metadata: { namespace, name },
    data: (obj.data as Record<string, string> | null | undefined) ?? null,
    stringData: (obj.stringData as Record<string, string> | null | undefined) ?? null,
  });
  return undefined;
}

export function parseManifests(docs: readonly ManifestDoc[], options: ParseOptions = {}): ParsedManifests {
  const out: ParsedManifests = {
    vectors: [],
    pipelines: [],
    secrets: [],
    aggregators: [],
    errors: [],
    warnings: [],
    ignored: 0,
  };
  for (const doc of docs) {
    const v = doc.value;
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || Array.isArray(v)) {
      out.errors.push(`${doc.origin}: not a Kubernetes object`);
      continue;
    }
    const obj = v as Record<string, unknown>;
    if (obj.kind === 'List' && Array.isArray(obj.items)) {
      const nested = parseManifests(
        (obj.items as unknown[]).map((item, i) => ({ origin: `${doc.origin}.items[${i}]`, value: item })),
        options,
      );
      out.vectors.push(...nested.vectors);
      out.pipelines.push(...nested.pipelines);
      out.secrets.push(...nested.secrets);
      out.aggregators.push(...nested.aggregators);
      out.errors.push(...nested.errors);
      out.warnings.push(...nested.warnings);
      out.ignored += nested.ignored;
      continue;
    }
    if (obj.apiVersion === 'v1' && obj.kind === 'Secret') {
      const problem = readSecret(obj, options, out.secrets);
      if (problem !== undefined) out.errors.push(`${doc.origin}: ${problem}`);
      continue;
    }
    if (obj.apiVersion !== apiVersion || typeof obj.kind !== 'string' || !Object.hasOwn(specSchemas, obj.kind)) {
      out.ignored++;
      out.warnings.push(`${doc.origin}: ${ignoredWhy(obj)}`);
      continue;
    }
    const kind = obj.kind as Kind;
    const meta = metadataSchema.safeParse(obj.metadata ?? {});
    if (!meta.success) {
      out.errors.push(...formatIssues(meta.error.issues, 'metadata').map((m) => `${doc.origin}: ${kind}: ${m}`));
      continue;
    }
    const namespaced = !clusterKinds.has(kind);
    const given = meta.data.namespace;
    const ns = namespaced && (given === undefined || given === '') ? options.namespace : given;
    const who = namespaced ? `${kind} ${ns ?? '?'}/${meta.data.name}` : `${kind} ${meta.data.name}`;
    if (namespaced && (ns === undefined || ns === '')) {
      out.errors.push(`${doc.origin}: ${who}: metadata.namespace: is required: set it, or pass --namespace NS`);
      continue;
    }
    if (ns !== undefined) meta.data.namespace = ns;
    const spec = specSchemas[kind].safeParse(obj.spec ?? {});
    if (!spec.success) {
      out.errors.push(...formatIssues(spec.error.issues, 'spec').map((m) => `${who}: ${m}`));
      continue;
    }
    for (const field of droppedFields(obj.spec ?? {}, spec.data, 'spec'))
      out.warnings.push(`${doc.origin}: ${who}: ${field}: unknown field, ignored (the API server prunes it too)`);
    if (kind === 'Vector') {
      out.vectors.push({
        kind,
        metadata: { ...meta.data, namespace: ns as string },
        spec: spec.data as Vector['spec'],
      });
    } else if (kind === 'VectorAggregator' || kind === 'ClusterVectorAggregator') {
      out.aggregators.push({ kind, metadata: meta.data, spec: spec.data as Aggregator['spec'] });
    } else {
      out.pipelines.push({ kind, metadata: meta.data, spec: spec.data as Pipeline['spec'] });
    }
  }
  return out;
}
