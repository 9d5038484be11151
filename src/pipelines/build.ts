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
import type { BuildCache } from './build-cache.ts';
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
import { SecretAssembly } from './secret-assets.ts';
import { secretObjectBytes } from './secret-object-size.ts';
import { secretBlock, type SecretSource } from './secrets.ts';

export interface BuildOptions {
  /** The operator flag `--enable-config-optimization`. */
  optimize: boolean;
  /** The tenant policy (the `--pipeline-policy*` flags); `defaultPolicy` when absent, so a build is safe by default. */
  policy?: PipelinePolicy;
  /** Namespaces per collapsed source before a group splits into chunks (optimize.ts); tests and the stand only. */
  maxNamespacesPerSource?: number;
  /**
   * Where Secret values are read (secrets.ts). Absent: references are rewritten and not resolved, and no assets are
   * returned (a pipeline validated alone; its values are checked where a Vector is built).
   */
  secrets?: SecretSource;
  /**
   * The modelled size of the Vector's assets Secret without data (secret-object-size.ts), the start of kaasops'
   * object budget: the operator gives its real metadata (the `-opt` one's, the larger, under migration). Absent: a
   * Secret with the default name and no labels, annotations or owner.
   */
  assetsObjectBytes?: number;
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
  /** The accepted pipelines' secret values, flat key -> value: the assets Secret's data (empty without secrets). */
  secretAssets: ReadonlyMap<string, Uint8Array>;
}

export function selects(vector: Vector, pipeline: Pipeline): boolean {
  const want = vector.spec.selector?.matchLabels;
  if (want === undefined) return true;
  const have = pipeline.metadata.labels ?? {};
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/** Oldest first; pipelines without a creationTimestamp (not created yet) count as youngest. */
export function byAge(pipelines: readonly Pipeline[]): Pipeline[] {
  // Each timestamp parsed once: a comparison sort of 10 000 pipelines compares about 130 000 pairs.
  const keyed = pipelines.map((p) => {
    const t = p.metadata.creationTimestamp ?? '\uffff';
    return { p, t, ms: Date.parse(t) };
  });
  keyed.sort((a, b) => {
    if (a.t !== b.t) return a.ms - b.ms || (a.t < b.t ? -1 : 1);
    // Tie: compare kind, then namespace, then name, field by field (not as one joined string, where '-' < '/').
    const ka = [a.p.kind, a.p.metadata.namespace ?? '', a.p.metadata.name];
    const kb = [b.p.kind, b.p.metadata.namespace ?? '', b.p.metadata.name];
    for (let i = 0; i < ka.length; i++) {
      const x = ka[i] as string;
      const y = kb[i] as string;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
  return keyed.map((k) => k.p);
}

const internalMetricsSource = 'internalMetricsSource';
const internalMetricsSink = 'internalMetricsSink';
const defaultSource = 'defaultSource';
const defaultSink = 'defaultSink';

/**
 * A config with the workload's global options and no component, as kaasops starts every build (agent and aggregator
 * alike): the data dir, the API address, `api.enabled`/`playground` only when true, `expire_metrics_secs` when set.
 */
export function globalConfig(w: {
  api?: { enabled?: boolean | undefined; playground?: boolean | undefined } | undefined;
  expireMetricsSecs?: number | undefined;
}): VectorConfig {
  const config: VectorConfig = {
    data_dir: containerDataDir,
    api: { address: apiAddress },
    sources: {},
    transforms: {},
    sinks: {},
  };
  if (w.api?.enabled === true) config.api.enabled = true;
  if (w.api?.playground === true) config.api.playground = true;
  if (w.expireMetricsSecs !== undefined) config.expire_metrics_secs = w.expireMetricsSecs;
  return config;
}

/** Every mode of a build shares this: the selected pipelines compiled, checked and merged, in age order. */
interface Assembly {
  config: VectorConfig;
  accepted: PipelineRef[];
  rejected: Rejection[];
  tolerated: Rejection[];
  skipped: BuildResult['skipped'];
  /** Source ids whose pipeline opts out of optimization. */
  optOut: Set<string>;
  secrets: SecretAssembly;
}

function assemble(
  vector: Vector,
  pipelines: readonly Pipeline[],
  policy: PipelinePolicy,
  cache: BuildCache | undefined,
  assets: { source: SecretSource | undefined; objectBytes: number },
): Assembly {
  const config = globalConfig(vector.spec.agent ?? {});
  const workload = `Vector ${vector.metadata.namespace}/${vector.metadata.name}`;
  const secrets = new SecretAssembly(workload, assets.source, assets.objectBytes);
  const out: Assembly = { config, accepted: [], rejected: [], tolerated: [], skipped: [], optOut: new Set(), secrets };
  const owner = new Map<string, PipelineRef>();
  const compileOpts = { useApiServerCache: vector.spec.useApiServerCache === true };
  const selected = byAge(pipelines.filter((p) => selects(vector, p)));
  for (const p of selected) {
    const compiled = cache === undefined ? compilePipeline(p, compileOpts) : cache.compile(p, compileOpts);
    if (compiled.ok === 'skipped') {
      out.skipped.push({ pipeline: compiled.ref, why: compiled.why });
      continue;
    }
    if (!compiled.ok) {
      out.rejected.push(compiled.rejection);
      continue;
    }
    const ref = compiled.pipeline.ref;
    const violations =
      cache === undefined ? policyViolations(p.kind, p.spec, policy) : cache.policyViolations(p, policy);
    if (refusedByPolicy(ref, violations, policy, out.rejected)) continue;
    const clash = findClash(compiled.pipeline, owner);
    if (clash !== undefined) {
      out.rejected.push({
        pipeline: compiled.pipeline.ref,
        field: clash.field,
        reason:
          `component id '${clash.id}' is already produced by the older ${describeRef(clash.other)} ` +
          `(<namespace>-<pipeline>-<key> is ambiguous); rename this pipeline or the key`,
      });
      continue;
    }
    const secretProblem = secrets.admit(compiled.pipeline);
    if (secretProblem !== undefined) {
      out.rejected.push({ pipeline: ref, ...secretProblem });
      continue;
    }
    merge(config, compiled.pipeline, owner, out.optOut);
    out.accepted.push(ref);
    for (const v of violations) out.tolerated.push({ pipeline: ref, ...v, policy: true });
  }
  return out;
}

/** One mode from the shared assembly, on copies of its component maps (the components themselves are shared). */
function finish(vector: Vector, a: Assembly, optimize: boolean, opts: BuildOptions, cache?: BuildCache): BuildResult {
  const agent = vector.spec.agent ?? {};
  const config: VectorConfig = {
    ...a.config,
    sources: { ...a.config.sources },
    transforms: { ...a.config.transforms },
    sinks: { ...a.config.sinks },
  };
  const result: BuildResult = {
    config,
    accepted: [...a.accepted],
    rejected: [...a.rejected],
    tolerated: [...a.tolerated],
    skipped: [...a.skipped],
    optimized: false,
    optimization: { collapsedSources: 0, groups: [] },
    secretAssets: a.secrets.assets,
  };
  if (a.secrets.referenced) config.secret = secretBlock();
  if (optimize && !isOptedOut(vector.metadata.annotations)) {
    result.optimized = true;
    result.optimization = optimizeSources(config, a.optOut, opts.maxNamespacesPerSource, cache);
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

export function buildAgentConfig(vector: Vector, pipelines: readonly Pipeline[], opts: BuildOptions): BuildResult {
  return buildAgentConfigs(vector, pipelines, opts, [opts.optimize])[0] as BuildResult;
}

/**
 * The config in each mode of `modes` (true: optimization on, as `opts.optimize`), the pipelines compiled and checked
 * once for all of them. `cache` (build-cache.ts) reuses the parts of earlier builds; the result is the same without.
 */
export function buildAgentConfigs(
  vector: Vector,
  pipelines: readonly Pipeline[],
  opts: BuildOptions,
  modes: readonly boolean[],
  cache?: BuildCache,
): BuildResult[] {
  const objectBytes =
    opts.assetsObjectBytes ??
    secretObjectBytes({
      name: `${vector.metadata.name}-agent-secret-assets`,
      namespace: vector.metadata.namespace,
    });
  const assembly = assemble(vector, pipelines, opts.policy ?? defaultPolicy, cache, {
    source: opts.secrets,
    objectBytes,
  });
  return modes.map((optimize) => finish(vector, assembly, optimize, opts, cache));
}

/** In enforce mode, the first violation rejects the pipeline (recorded in `rejected`); returns whether it did. */
function refusedByPolicy(
  ref: PipelineRef,
  violations: readonly PolicyViolation[],
  policy: PipelinePolicy,
  rejected: Rejection[],
): boolean {
  const first = violations[0];
  if (first === undefined || policy.mode !== 'enforce') return false;
  rejected.push({ pipeline: ref, field: first.field, reason: `${first.reason} ${warnModeHint}`, policy: true });
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
