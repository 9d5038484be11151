/**
 * Vector + pipelines -> agent config, in kaasops' assembly order (reference §2):
 * 1. the selected pipelines' components, prefixed (pipeline.ts);
 * 2. config optimization when enabled and the Vector does not opt out (optimize.ts);
 * 3. the internal-metrics pipeline, unless a `prometheus_exporter` sink already exists;
 * 4. the default pipeline when no source and no sink remain.
 *
 * Invariants:
 * - Pure and deterministic: the same objects give the same config regardless of their order.
 * - Do better than kaasops: two pipelines whose prefixed ids collide (`a-b`/`c` vs `a`/`b-c`) are not merged by
 *   "last write wins"; the younger one (by creationTimestamp, then kind/namespace/name) is rejected with a reason, and
 *   the older one keeps working. A pipeline is accepted or rejected whole.
 * - The tenant policy (policy.ts) runs after a pipeline compiles: in enforce mode its first violation rejects the
 *   pipeline like any other validation error; in warn mode the pipeline is used and each violation is `tolerated`.
 */
import type { InputComponent, SourceComponent, VectorConfig } from '../vector/config.ts';
import { apiAddress, containerDataDir } from '../vector/config.ts';
import { optimizeSources, type OptimizationSummary } from './optimize.ts';
import {
  compilePipeline,
  describeRef,
  isOptedOut,
  type CompiledPipeline,
  type PipelineRef,
  type Rejection,
} from './pipeline.ts';
import { defaultPolicy, policyViolations, warnModeHint, type PipelinePolicy, type PolicyViolation } from './policy.ts';
import type { Pipeline, Vector } from './schemas.ts';

export interface BuildOptions {
  /** The operator flag `--enable-config-optimization`. */
  optimize: boolean;
  /** The tenant policy (the `--pipeline-policy*` flags); `defaultPolicy` when absent, so a build is safe by default. */
  policy?: PipelinePolicy;
  /** Namespaces per collapsed source before a group splits into chunks (optimize.ts); tests and the stand only. */
  maxNamespacesPerSource?: number;
}

export interface BuildResult {
  config: VectorConfig;
  /** Pipelines used, in age order. */
  accepted: PipelineRef[];
  rejected: Rejection[];
  /** Policy violations kept flowing because the policy is in warn mode (kaasops compatibility); one per component. */
  tolerated: Rejection[];
  /** Selected pipelines that do not belong in an agent config (aggregator role). */
  skipped: { pipeline: PipelineRef; why: string }[];
  /** Whether optimization ran (flag on and the Vector did not opt out). */
  optimized: boolean;
  optimization: OptimizationSummary;
}

export function selects(vector: Vector, pipeline: Pipeline): boolean {
  const want = vector.spec.selector?.matchLabels;
  if (want === undefined) return true;
  const have = pipeline.metadata.labels ?? {};
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/** Oldest first; pipelines without a creationTimestamp (not created yet) count as youngest. */
function byAge(a: Pipeline, b: Pipeline): number {
  const ta = a.metadata.creationTimestamp ?? '\uffff';
  const tb = b.metadata.creationTimestamp ?? '\uffff';
  if (ta !== tb) return Date.parse(ta) - Date.parse(tb) || (ta < tb ? -1 : 1);
  // Tie: compare kind, then namespace, then name, field by field (not as one joined string, where '-' < '/').
  const ka = [a.kind, a.metadata.namespace ?? '', a.metadata.name];
  const kb = [b.kind, b.metadata.namespace ?? '', b.metadata.name];
  for (let i = 0; i < ka.length; i++) {
    const x = ka[i] as string;
    const y = kb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const internalMetricsSource = 'internalMetricsSource';
const internalMetricsSink = 'internalMetricsSink';
const defaultSource = 'defaultSource';
const defaultSink = 'defaultSink';

export function buildAgentConfig(vector: Vector, pipelines: readonly Pipeline[], opts: BuildOptions): BuildResult {
  const agent = vector.spec.agent ?? {};
  const config: VectorConfig = {
    data_dir: containerDataDir,
    api: { address: apiAddress },
    sources: {},
    transforms: {},
    sinks: {},
  };
  if (agent.api?.enabled === true) config.api.enabled = true;
  if (agent.api?.playground === true) config.api.playground = true;
  if (agent.expireMetricsSecs !== undefined) config.expire_metrics_secs = agent.expireMetricsSecs;

  const result: BuildResult = {
    config,
    accepted: [],
    rejected: [],
    tolerated: [],
    skipped: [],
    optimized: false,
    optimization: { collapsedSources: 0, groups: [] },
  };
  const policy = opts.policy ?? defaultPolicy;
  const owner = new Map<string, PipelineRef>();
  const optOut = new Set<string>();
  const selected = pipelines.filter((p) => selects(vector, p)).sort(byAge);
  for (const p of selected) {
    const compiled = compilePipeline(p, { useApiServerCache: vector.spec.useApiServerCache === true });
    if (compiled.ok === 'skipped') {
      result.skipped.push({ pipeline: compiled.ref, why: compiled.why });
      continue;
    }
    if (!compiled.ok) {
      result.rejected.push(compiled.rejection);
      continue;
    }
    const ref = compiled.pipeline.ref;
    const violations = policyViolations(p.kind, p.spec, policy);
    if (refusedByPolicy(ref, violations, policy, result)) continue;
    const clash = findClash(compiled.pipeline, owner);
    if (clash !== undefined) {
      result.rejected.push({
        pipeline: compiled.pipeline.ref,
        field: clash.field,
        reason:
          `component id '${clash.id}' is already produced by the older ${describeRef(clash.other)} ` +
          `(<namespace>-<pipeline>-<key> is ambiguous); rename this pipeline or the key`,
      });
      continue;
    }
    merge(config, compiled.pipeline, owner, optOut);
    result.accepted.push(ref);
    for (const v of violations) result.tolerated.push({ pipeline: ref, ...v, policy: true });
  }

  if (opts.optimize && !isOptedOut(vector.metadata.annotations)) {
    result.optimized = true;
    result.optimization = optimizeSources(config, optOut, opts.maxNamespacesPerSource);
  }

  const hasExporter = Object.values(config.sinks).some((s) => s.type === 'prometheus_exporter');
  if (agent.internalMetrics === true && !hasExporter) {
    config.sources[internalMetricsSource] = { type: 'internal_metrics' };
    config.sinks[internalMetricsSink] = {
      type: 'prometheus_exporter',
      address: '[::]:9598',
      inputs: [internalMetricsSource],
    };
  }
  if (Object.keys(config.sources).length === 0 && Object.keys(config.sinks).length === 0) {
    config.sources[defaultSource] = { type: 'kubernetes_logs' };
    config.sinks[defaultSink] = { type: 'blackhole', rate: 100, print_interval_secs: 60, inputs: [defaultSource] };
  }
  return result;
}

/** In enforce mode, the first violation rejects the pipeline (recorded in `result.rejected`); returns whether it did. */
function refusedByPolicy(
  ref: PipelineRef,
  violations: readonly PolicyViolation[],
  policy: PipelinePolicy,
  result: BuildResult,
): boolean {
  const first = violations[0];
  if (first === undefined || policy.mode !== 'enforce') return false;
  result.rejected.push({ pipeline: ref, field: first.field, reason: `${first.reason} ${warnModeHint}`, policy: true });
  return true;
}

function findClash(
  p: CompiledPipeline,
  owner: ReadonlyMap<string, PipelineRef>,
): { id: string; field: string; other: PipelineRef } | undefined {
  const prefixLength = p.ref.namespace === '' ? p.ref.name.length + 1 : p.ref.namespace.length + p.ref.name.length + 2;
  for (const kind of ['sources', 'transforms', 'sinks'] as const) {
    for (const id of Object.keys(p[kind])) {
      const other = owner.get(id);
      if (other !== undefined) return { id, field: `spec.${kind}.${id.slice(prefixLength)}`, other };
    }
  }
  return undefined;
}

function merge(config: VectorConfig, p: CompiledPipeline, owner: Map<string, PipelineRef>, optOut: Set<string>): void {
  for (const [id, c] of Object.entries(p.sources)) {
    config.sources[id] = c satisfies SourceComponent;
    owner.set(id, p.ref);
    if (p.optOut) optOut.add(id);
  }
  for (const kind of ['transforms', 'sinks'] as const) {
    for (const [id, c] of Object.entries(p[kind])) {
      config[kind][id] = c satisfies InputComponent;
      owner.set(id, p.ref);
    }
  }
}
