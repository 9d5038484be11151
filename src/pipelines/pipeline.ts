/**
 * One pipeline (VectorPipeline or ClusterVectorPipeline) -> its prefixed agent components, or a rejection.
 *
 * Invariants:
 * - Every component id is `<namespace>-<pipeline>-<key>` (a ClusterVectorPipeline: `<pipeline>-<key>`), and every
 *   `inputs` entry gets the same prefix, so a pipeline can only reference its own components. These names are
 *   kaasops' names: checkpoints live in directories named after them.
 * - A VectorPipeline reads only `kubernetes_logs`, only from its own namespace: an empty namespace selector is forced to
 *   `kubernetes.io/metadata.name=<ns>`, anything else is rejected (kaasops' exact-match rule).
 * - A rejection names the pipeline and the field, and says what to do; it never throws.
 * - Output components are already in serialized shape: kaasops' omitempty rules (empty selectors, a false
 *   `use_apiserver_cache`) are applied here, `inputs` is always present on transforms and sinks.
 */
import { componentIdProblem } from '../vector/component-id.ts';
import { componentKinds, kubernetesLogs, type InputComponent, type SourceComponent } from '../vector/config.ts';
import { labelSelectorProblem } from '../kube/labels.ts';
import type { Pipeline } from './schemas.ts';
import { pipelineRole } from './roles.ts';
import { rewriteSecretRefs, type SecretRef } from './secrets.ts';

export const namespaceLabel = 'kubernetes.io/metadata.name';
export const optimizationAnnotation = 'vector-operator.kaasops.io/config-optimization';

export interface PipelineRef {
  kind: Pipeline['kind'];
  namespace: string; // '' for a ClusterVectorPipeline
  name: string;
}

export function pipelineRefOf(p: Pipeline): PipelineRef {
  return {
    kind: p.kind,
    namespace: p.kind === 'VectorPipeline' ? (p.metadata.namespace ?? '') : '',
    name: p.metadata.name,
  };
}

export function describeRef(ref: PipelineRef): string {
  return ref.kind === 'VectorPipeline'
    ? `VectorPipeline ${ref.namespace}/${ref.name}`
    : `ClusterVectorPipeline ${ref.name}`;
}

export interface Rejection {
  pipeline: PipelineRef;
  field: string;
  reason: string;
  /** Set when the tenant policy (policy.ts), not a validation rule, refused the pipeline. */
  policy?: true;
}

export function describeRejection(r: Rejection): string {
  return `${describeRef(r.pipeline)}: ${r.field}: ${r.reason}`;
}

export interface CompiledPipeline {
  ref: PipelineRef;
  optOut: boolean;
  sources: Record<string, SourceComponent>;
  transforms: Record<string, InputComponent>;
  sinks: Record<string, InputComponent>;
  /** Its `SECRET[alias.key]` references, already rewritten in the components above (secrets.ts). */
  secretRefs: SecretRef[];
}

export type CompileResult =
  | { ok: true; pipeline: CompiledPipeline }
  | { ok: false; rejection: Rejection }
  | { ok: 'skipped'; ref: PipelineRef; why: string };

export function isOptedOut(annotations: Record<string, string> | null | undefined): boolean {
  return annotations?.[optimizationAnnotation] === 'disabled';
}

const selectorFields = ['extra_namespace_label_selector', 'extra_label_selector', 'extra_field_selector'] as const;

export function compilePipeline(p: Pipeline, opts: { useApiServerCache: boolean }): CompileResult {
  const ref = pipelineRefOf(p);
  const reject = (field: string, reason: string): CompileResult => ({
    ok: false,
    rejection: { pipeline: ref, field, reason },
  });
  if (p.kind === 'VectorPipeline' && ref.namespace === '') return reject('metadata.namespace', 'is required');
  const rewritten = rewriteSecretRefs(p, ref);
  if (!rewritten.ok) return reject(rewritten.field, rewritten.reason);
  const spec = rewritten.spec;

  // Types first: the role decides whether this pipeline belongs in an agent config at all.
  for (const kind of ['sources', 'transforms', 'sinks'] as const) {
    for (const [key, c] of Object.entries(spec[kind])) {
      if (typeof c.type !== 'string' || c.type === '') {
        return reject(`spec.${kind}.${key}.type`, 'must be a non-empty string naming a Vector component type');
      }
    }
  }
  const role = pipelineRole(Object.entries(spec.sources).map(([k, s]) => [k, s.type as string] as const));
  if (role.role === 'invalid') return reject(`spec.sources.${role.key}.type`, role.reason);
  if (role.role === 'aggregator') return { ok: 'skipped', ref, why: 'its sources make it an aggregator pipeline' };

  const prefix = pipelinePrefix(ref);
  const keyProblem = componentKeysProblem(spec, prefix);
  if (keyProblem !== undefined) return reject(keyProblem.field, keyProblem.reason);

  const out: CompiledPipeline = {
    ref,
    optOut: isOptedOut(p.metadata.annotations),
    sources: {},
    transforms: {},
    sinks: {},
    secretRefs: rewritten.refs,
  };
  const ownSelector = `${namespaceLabel}=${ref.namespace}`;
  for (const [key, raw] of Object.entries(spec.sources)) {
    const field = `spec.sources.${key}`;
    const decoded = decodeSource(raw, field, opts.useApiServerCache);
    if ('problem' in decoded) return reject(decoded.problem.field, decoded.problem.reason);
    const src = decoded.source;

    if (p.kind === 'VectorPipeline') {
      if (src.type !== kubernetesLogs) {
        return reject(`${field}.type`, `type kubernetes_logs only allowed in a VectorPipeline, got '${src.type}'`);
      }
      for (const f of ['extra_label_selector', 'extra_namespace_label_selector'] as const) {
        const v = src[f];
        const problem = typeof v === 'string' ? labelSelectorProblem(v) : undefined;
        if (problem !== undefined) return reject(`${field}.${f}`, `not a label selector: ${problem}`);
      }
      const ns = src.extra_namespace_label_selector;
      if (ns === undefined) src.extra_namespace_label_selector = ownSelector;
      else if (ns !== ownSelector) {
        return reject(
          `${field}.extra_namespace_label_selector`,
          `logs from external namespace not allowed: leave it empty or set exactly '${ownSelector}'`,
        );
      }
    }
    out.sources[prefix + key] = src;
  }
  const inputsProblem = prefixInputs(spec, prefix, out);
  if (inputsProblem !== undefined) return reject(inputsProblem.field, inputsProblem.reason);
  return { ok: true, pipeline: out };
}

type Problem = { field: string; reason: string };
type ComponentSpec = Record<(typeof componentKinds)[number], Record<string, Record<string, unknown>>>;

/** `<namespace>-<pipeline>-`, or `<pipeline>-` for a ClusterVectorPipeline. */
export function pipelinePrefix(ref: PipelineRef): string {
  return ref.namespace === '' ? `${ref.name}-` : `${ref.namespace}-${ref.name}-`;
}

/** Keys must be valid component ids, unique across the three maps, and still valid once prefixed. */
export function componentKeysProblem(spec: ComponentSpec, prefix: string): Problem | undefined {
  const seenKeys = new Map<string, string>();
  for (const kind of componentKinds) {
    for (const key of Object.keys(spec[kind])) {
      const problem = componentIdProblem(key);
      if (problem !== undefined)
        return { field: `spec.${kind}.${key}`, reason: `component key ${problem}; rename the key` };
      const other = seenKeys.get(key);
      if (other !== undefined) {
        return {
          field: `spec.${kind}.${key}`,
          reason: `key is also used in spec.${other}; Vector needs unique component ids`,
        };
      }
      seenKeys.set(key, kind);
      const full = prefix + key;
      const fullProblem = componentIdProblem(full);
      if (fullProblem !== undefined) {
        return {
          field: `spec.${kind}.${key}`,
          reason: `component id '${full}' ${fullProblem}; rename the pipeline or the key`,
        };
      }
    }
  }
  return undefined;
}

/**
 * A source as kaasops decodes it: empty selector fields and a false `use_apiserver_cache` are omitted (omitempty),
 * `use_apiserver_cache` is set on `kubernetes_logs` when the Vector asks for it.
 */
export function decodeSource(
  raw: Record<string, unknown>,
  field: string,
  useApiServerCache: boolean,
): { source: SourceComponent } | { problem: Problem } {
  const src: SourceComponent = { ...raw, type: raw.type as string };
  for (const f of selectorFields) {
    const v = src[f];
    if (v === null || v === undefined || v === '') {
      Reflect.deleteProperty(src, f);
    } else if (typeof v !== 'string') return { problem: { field: `${field}.${f}`, reason: 'must be a string' } };
  }
  const cache: unknown = src.use_apiserver_cache;
  if (cache !== undefined && cache !== null && typeof cache !== 'boolean') {
    return { problem: { field: `${field}.use_apiserver_cache`, reason: 'must be a boolean' } };
  }
  if (src.type === kubernetesLogs && useApiServerCache) src.use_apiserver_cache = true;
  if (src.use_apiserver_cache !== true) delete src.use_apiserver_cache;
  return { source: src };
}

/** Transforms and sinks into `out`, prefixed, each `inputs` entry prefixed too (always present, maybe empty). */
export function prefixInputs(
  spec: ComponentSpec,
  prefix: string,
  out: Pick<CompiledPipeline, 'transforms' | 'sinks'>,
): Problem | undefined {
  for (const kind of ['transforms', 'sinks'] as const) {
    for (const [key, raw] of Object.entries(spec[kind])) {
      const field = `spec.${kind}.${key}.inputs`;
      const inputs: unknown = raw.inputs;
      const list = inputs === undefined || inputs === null ? [] : inputs;
      if (!Array.isArray(list)) return { field, reason: 'must be a list of component keys' };
      const prefixed: string[] = [];
      for (const input of list as unknown[]) {
        if (typeof input !== 'string' || input === '') return { field, reason: 'entries must be non-empty strings' };
        prefixed.push(prefix + input);
      }
      out[kind][prefix + key] = { ...raw, type: raw.type as string, inputs: prefixed };
    }
  }
  return undefined;
}
