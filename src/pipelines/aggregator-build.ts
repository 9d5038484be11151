/**
 * VectorAggregator / ClusterVectorAggregator + pipelines -> the aggregator config (`config.json`) and the Services its
 * sources listen on, as kaasops builds them (`BuildAggregatorConfig`, reference §1.4-§1.7).
 *
 * Invariants:
 * - Selection: a VectorAggregator uses the aggregator-role VectorPipelines of its own namespace, a
 *   ClusterVectorAggregator the aggregator-role ClusterVectorPipelines; both filter by `spec.selector.matchLabels`.
 * - Component ids, the globals, the internal-metrics pair, the default pipeline and the JSON bytes are kaasops'
 *   (byte-identical for the same pipelines; golden-tested with kaasops' CRC-32 figures).
 * - A `kubernetes_events` source becomes a `vector` source on `0.0.0.0:<port>`, ports from 42000 up, one per pipeline.
 * - Pure and deterministic: pipelines are taken oldest first (kaasops takes the informer's order, so its event ports
 *   and error texts could change between two builds).
 * - Pipeline secrets as for agents (secret-assets.ts): `SECRET[alias.key]` rewritten to kaasops' flat keys, the
 *   `secret` block when a reference is used, and the values for the aggregator's assets Secret; a collision, the
 *   size limit or an unreadable value leaves that pipeline out alone.
 * - Do better than kaasops: a bad port, a duplicate port, a Service or port name the API server would refuse, or two
 *   pipelines on one Service name reject the pipeline at fault (the younger one for a clash) with kaasops' text and
 *   the field; kaasops failed the whole build, and every tenant's config froze (traps T3, T4).
 */
import type { VectorConfig } from '../vector/config.ts';
import type { Aggregator } from './aggregator-schemas.ts';
import { byAge, globalConfig } from './build.ts';
import { kebabCase } from './kebab.ts';
import {
  componentKeysProblem,
  decodeSource,
  describeRef,
  pipelinePrefix,
  pipelineRefOf,
  prefixInputs,
  type CompiledPipeline,
  type PipelineRef,
  type Rejection,
} from './pipeline.ts';
import { pipelineRole } from './roles.ts';
import type { Pipeline } from './schemas.ts';
import { SecretAssembly } from './secret-assets.ts';
import { rewriteSecretRefs, secretBlock, type SecretSource } from './secrets.ts';

/** The pipeline annotation that names its Service (kaasops' `observability.kaasops.io/service-name`). */
const serviceNameAnnotation = 'observability.kaasops.io/service-name';
const kubernetesEvents = 'kubernetes_events';
const firstEventsPort = 42000;

export interface ServicePort {
  /** kebab(source key). */
  name: string;
  protocol: 'TCP' | 'UDP';
  port: number;
  /** The port a `kubernetes_events` source became: the event collector sends to it. */
  kubernetesEvents?: true;
}

/** One Service per pipeline whose sources listen on an address with a port. */
export interface SourceService {
  name: string;
  /** undefined for the default pipeline. */
  pipeline?: PipelineRef;
  ports: ServicePort[];
}

export interface AggregatorBuild {
  config: VectorConfig;
  accepted: PipelineRef[];
  rejected: Rejection[];
  /** Selected pipelines that are not aggregator pipelines (agent role). */
  skipped: { pipeline: PipelineRef; why: string }[];
  services: SourceService[];
  /** The accepted pipelines' secret values, flat key -> value: the assets Secret's data (empty without secrets). */
  secretAssets: ReadonlyMap<string, Uint8Array>;
}

export interface AggregatorBuildOptions {
  /** Where Secret values are read; absent: references are rewritten, not resolved, and there are no assets. */
  secrets?: SecretSource;
  /** The modelled size of the assets Secret's metadata (secret-object-size.ts); the operator passes it with `secrets`. */
  assetsObjectBytes?: number;
}

/** `<n>-aggregator`: the workload, the config Secret, the API Service and the RBAC. */
export function aggregatorName(agg: Aggregator): string {
  return `${agg.metadata.name}-aggregator`;
}

export function describeAggregator(agg: Aggregator): string {
  return agg.kind === 'VectorAggregator'
    ? `VectorAggregator ${agg.metadata.namespace ?? ''}/${agg.metadata.name}`
    : `ClusterVectorAggregator ${agg.metadata.name}`;
}

/** kaasops' selection: a VectorAggregator's own namespace's VectorPipelines, or ClusterVectorPipelines; by labels. */
export function selectsForAggregator(agg: Aggregator, p: Pipeline): boolean {
  if (agg.kind === 'VectorAggregator') {
    if (p.kind !== 'VectorPipeline' || p.metadata.namespace !== agg.metadata.namespace) return false;
  } else if (p.kind !== 'ClusterVectorPipeline') return false;
  const want = agg.spec.selector?.matchLabels;
  if (want === undefined) return true;
  const have = p.metadata.labels ?? {};
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/** Ports and Service names taken so far in this build, each with the pipeline that took it. */
interface Registry {
  ports: Map<string, PipelineRef>;
  services: Map<string, PipelineRef | 'reserved'>;
  ids: Map<string, PipelineRef>;
  nextEventsPort: number;
}

type Problem = { field: string; reason: string };
type Compiled = CompiledPipeline & { service?: SourceService; portKeys: string[] };

export function buildAggregatorConfig(
  agg: Aggregator,
  pipelines: readonly Pipeline[],
  opts: AggregatorBuildOptions = {},
): AggregatorBuild {
  const config = globalConfig(agg.spec);
  // The agents' attribution (collision, size, unreadable values), the reasons naming this aggregator.
  const secrets = new SecretAssembly(describeAggregator(agg), opts.secrets, opts.assetsObjectBytes ?? 0);
  const out: AggregatorBuild = {
    config,
    accepted: [],
    rejected: [],
    skipped: [],
    services: [],
    secretAssets: secrets.assets,
  };
  const base = aggregatorName(agg);
  const registry: Registry = {
    ports: new Map(),
    services: new Map([
      [base, 'reserved'],
      [`${base}-headless`, 'reserved'],
    ]),
    ids: new Map(),
    nextEventsPort: firstEventsPort,
  };
  for (const p of byAge(pipelines.filter((x) => selectsForAggregator(agg, x)))) {
    const ref = pipelineRefOf(p);
    const r = compileForAggregator(agg, p, registry);
    const secretProblem = 'ref' in r ? secrets.admit(r) : undefined;
    if ('skipped' in r) out.skipped.push({ pipeline: ref, why: r.skipped });
    else if ('problem' in r) out.rejected.push({ pipeline: ref, ...r.problem });
    else if (secretProblem !== undefined) out.rejected.push({ pipeline: ref, ...secretProblem });
    else {
      commit(config, r, registry);
      out.accepted.push(ref);
      if (r.service !== undefined) out.services.push(r.service);
    }
  }
  finish(agg, out);
  if (secrets.referenced) config.secret = secretBlock();
  return out;
}

/** kaasops' tail: the internal-metrics pair unless a prometheus_exporter sink exists, else the default pipeline. */
function finish(agg: Aggregator, out: AggregatorBuild): void {
  const { config } = out;
  const hasExporter = Object.values(config.sinks).some((s) => s.type === 'prometheus_exporter');
  if (agg.spec.internalMetrics === true && !hasExporter) {
    config.sources.internalMetricsSource = { type: 'internal_metrics' };
    config.sinks.internalMetricsSink = {
      type: 'prometheus_exporter',
      address: '[::]:9598',
      inputs: ['internalMetricsSource'],
    };
  }
  if (Object.keys(config.sources).length === 0 && Object.keys(config.sinks).length === 0) {
    config.sources.defaultSource = { type: 'vector', address: '[::]:8989' };
    config.sinks.defaultSink = { type: 'blackhole', rate: 100, print_interval_secs: 60, inputs: ['defaultSource'] };
    // kaasops registers it under the source name `internalMetricsSource` (sic), hence the port name.
    out.services.push({
      name: kebabCase(`${aggregatorName(agg)}-default-pipeline`),
      ports: [{ name: kebabCase('internalMetricsSource'), protocol: 'TCP', port: 8989 }],
    });
  }
}

function commit(config: VectorConfig, c: Compiled, registry: Registry): void {
  for (const kind of ['sources', 'transforms', 'sinks'] as const) {
    for (const [id, comp] of Object.entries(c[kind])) {
      (config[kind] as Record<string, unknown>)[id] = comp;
      registry.ids.set(id, c.ref);
    }
  }
  for (const key of c.portKeys) registry.ports.set(key, c.ref);
  if (c.service !== undefined) registry.services.set(c.service.name, c.ref);
  const events = c.service?.ports.find((p) => p.kubernetesEvents === true);
  if (events !== undefined) registry.nextEventsPort = events.port + 1;
}

function compileForAggregator(
  agg: Aggregator,
  p: Pipeline,
  registry: Registry,
): Compiled | { skipped: string } | { problem: Problem } {
  const ref = pipelineRefOf(p);
  if (p.kind === 'VectorPipeline' && ref.namespace === '')
    return { problem: { field: 'metadata.namespace', reason: 'is required' } };
  const rewritten = rewriteSecretRefs(p, ref);
  if (!rewritten.ok) return { problem: { field: rewritten.field, reason: rewritten.reason } };
  const spec = rewritten.spec;
  for (const kind of ['sources', 'transforms', 'sinks'] as const)
    for (const [key, c] of Object.entries(spec[kind]))
      if (typeof c.type !== 'string' || c.type === '')
        return {
          problem: {
            field: `spec.${kind}.${key}.type`,
            reason: 'must be a non-empty string naming a Vector component type',
          },
        };
  const role = pipelineRole(Object.entries(spec.sources).map(([k, s]) => [k, s.type as string] as const));
  if (role.role === 'invalid') return { problem: { field: `spec.sources.${role.key}.type`, reason: role.reason } };
  if (role.role === 'agent') return { skipped: 'its sources make it an agent pipeline' };
  const prefix = pipelinePrefix(ref);
  const keyProblem = componentKeysProblem(spec, prefix);
  if (keyProblem !== undefined) return { problem: keyProblem };

  const out: Compiled = {
    ref,
    optOut: false,
    sources: {},
    transforms: {},
    sinks: {},
    portKeys: [],
    secretRefs: rewritten.refs,
  };
  const ports: ServicePort[] = [];
  const sourcesProblem = compileSources(spec.sources, prefix, registry, out, ports);
  if (sourcesProblem !== undefined) return { problem: sourcesProblem };
  const inputsProblem = prefixInputs(spec, prefix, out);
  if (inputsProblem !== undefined) return { problem: inputsProblem };
  const clash = idClash(out, registry, prefix.length);
  if (clash !== undefined) return { problem: clash };
  if (ports.length > 0) {
    const service = serviceFor(agg, p, ports, registry);
    if ('problem' in service) return service;
    out.service = { name: service.name, pipeline: ref, ports };
  }
  return out;
}

/** Sources in key order (kaasops: Go map order): prefixed, `kubernetes_events` replaced, ports registered. */
function compileSources(
  sources: Record<string, Record<string, unknown>>,
  prefix: string,
  registry: Registry,
  out: Compiled,
  ports: ServicePort[],
): Problem | undefined {
  let events: string | undefined;
  for (const key of Object.keys(sources).sort()) {
    const raw = sources[key] as Record<string, unknown>;
    const field = `spec.sources.${key}`;
    if (raw.type === kubernetesEvents) {
      if (events !== undefined)
        return {
          field: `${field}.type`,
          reason: 'pipeline can only contain one source with the type kubernetes_events',
        };
      events = key;
      // All other options of the source are dropped, as kaasops does.
      // kaasops: 42000 up, one per pipeline; a port an older pipeline listens on is skipped (kaasops failed there).
      let port = registry.nextEventsPort;
      while (registry.ports.has(`${port}/TCP`) || out.portKeys.includes(`${port}/TCP`)) port++;
      out.sources[prefix + key] = { type: 'vector', address: `0.0.0.0:${port}` };
      const problem = registerPort(registry, out, ports, { name: kebabCase(key), protocol: 'TCP', port }, field);
      if (problem !== undefined) return problem;
      ports[ports.length - 1] = { ...(ports[ports.length - 1] as ServicePort), kubernetesEvents: true };
      continue;
    }
    const decoded = decodeSource(raw, field, false);
    if ('problem' in decoded) return decoded.problem;
    out.sources[prefix + key] = decoded.source;
    const port = listenPort(raw.address);
    if (port === undefined) continue;
    if (typeof port === 'string') return { field: `${field}.address`, reason: port };
    const mode = typeof raw.mode === 'string' ? raw.mode.toLowerCase() : '';
    const protocol = mode === 'udp' ? 'UDP' : 'TCP';
    const problem = registerPort(registry, out, ports, { name: kebabCase(key), protocol, port }, `${field}.address`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function registerPort(
  registry: Registry,
  out: Compiled,
  ports: ServicePort[],
  port: ServicePort,
  field: string,
): Problem | undefined {
  const key = `${port.port}/${port.protocol}`;
  const owner = registry.ports.get(key) ?? (out.portKeys.includes(key) ? out.ref : undefined);
  if (owner !== undefined)
    return {
      field,
      reason:
        `duplicate port ${key} in ${owner.name} and ${out.ref.name}` +
        (owner === out.ref ? '' : ` (the older ${describeRef(owner)} keeps it); listen on another port`),
    };
  out.portKeys.push(key);
  ports.push(port);
  return undefined;
}

/**
 * The port of a `host:port` address as kaasops reads it (Go's net.SplitHostPort, then strconv.Atoi and 0..65535):
 * undefined when the address has none (not a string, no port, or a nested address), or kaasops' error text.
 */
export function listenPort(address: unknown): number | string | undefined {
  if (typeof address !== 'string') return undefined;
  const p = splitHostPort(address);
  if (p === undefined) return undefined;
  const atoi = `failed to parse port ${p}: strconv.Atoi: parsing ${JSON.stringify(p)}`;
  if (!/^[+-]?[0-9]+$/.test(p)) return `${atoi}: invalid syntax`;
  const n = BigInt(p);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) return `${atoi}: value out of range`;
  if (n < 0n || n > 65535n) return `failed to parse port ${p}: port out of range`;
  return Number(n);
}

/** Go's net.SplitHostPort, port part only; undefined where Go returns an error. */
function splitHostPort(s: string): string | undefined {
  const i = s.lastIndexOf(':');
  if (i < 0) return undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || end + 1 !== i) return undefined;
    if (s.slice(1).includes('[') || s.slice(end + 1).includes(']')) return undefined;
  } else {
    if (s.slice(0, i).includes(':')) return undefined;
    if (s.includes('[') || s.includes(']')) return undefined;
  }
  return s.slice(i + 1);
}

function idClash(c: Compiled, registry: Registry, prefixLength: number): Problem | undefined {
  for (const kind of ['sources', 'transforms', 'sinks'] as const)
    for (const id of Object.keys(c[kind])) {
      const other = registry.ids.get(id);
      if (other !== undefined)
        return {
          field: `spec.${kind}.${id.slice(prefixLength)}`,
          reason: `component id '${id}' is already produced by the older ${describeRef(other)}; rename this pipeline or the key`,
        };
    }
  return undefined;
}

const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The pipeline's Service name, checked: a valid, free name with valid, distinct port names. */
function serviceFor(
  agg: Aggregator,
  p: Pipeline,
  ports: readonly ServicePort[],
  registry: Registry,
): { name: string } | { problem: Problem } {
  const given = p.metadata.annotations?.[serviceNameAnnotation] ?? '';
  const name = given !== '' ? given : kebabCase(`${aggregatorName(agg)}-${p.metadata.name}`);
  const field = given !== '' ? `metadata.annotations.${serviceNameAnnotation}` : 'metadata.name';
  const fix = given !== '' ? 'change the annotation' : `set the ${serviceNameAnnotation} annotation`;
  if (name.length > 63 || !dns1035Label.test(name))
    return {
      problem: {
        field,
        reason: `Service name '${name}' is not a valid DNS-1035 label (a-z, 0-9 and '-', starting with a letter, at most 63 characters); ${fix}`,
      },
    };
  const owner = registry.services.get(name);
  if (owner !== undefined)
    return {
      problem: {
        field,
        reason:
          owner === 'reserved'
            ? `Service name '${name}' is the aggregator's own; ${fix}`
            : `Service name '${name}' is already used by the older ${describeRef(owner)}; ${fix}`,
      },
    };
  const seen = new Set<string>();
  for (const port of ports) {
    if (port.name.length > 63 || !dns1123Label.test(port.name) || seen.has(port.name))
      return {
        problem: {
          field: 'spec.sources',
          reason: `Service port name '${port.name}' (the kebab-cased source key) is ${seen.has(port.name) ? 'used twice' : 'not a valid DNS-1123 label'}; rename the source`,
        },
      };
    seen.add(port.name);
  }
  return { name };
}
