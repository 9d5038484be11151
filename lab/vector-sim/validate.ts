/**
 * `vector validate` as the stand's Vector answers it, for configcheck pods: the config is loaded and checked, and the
 * outcome is what Vector prints and its exit code.
 *
 * Invariants:
 * - Checked: the JSON parses; the graph is complete (src/vector/graph.ts: ids, inputs, no cycle); every component
 *   type is one Vector 0.48 has; and, where the VRL checker is built (`npm run build:vrl`, found as the VRL lane finds
 *   it: `$VECTOR_OPERATOR_VRL_CHECK`, else the cache path), every remap, filter and route program compiles with the
 *   real `vrl` crate. Without the checker, VRL is not checked (a remap that would not compile passes here).
 * - A program calling a function of Vector's own (`get_secret`, enrichment tables), unknown to the VRL crate alone, is
 *   not held against the config.
 * - Output follows Vector's: `√ Loaded [...]` ... `Validated` and exit 0, or `Failed to load [...]`, a rule, one
 *   `x <problem>` line each, and exit 78 (Vector's exitcode::CONFIG).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { componentKinds, type JsonObject, type VectorConfig } from '../../src/vector/config.ts';
import { validateConfigGraph } from '../../src/vector/graph.ts';

/** Vector 0.48's transform and sink types (its `transforms` and `sinks` modules); sources are checked by the build. */
const knownTypes: Record<'transforms' | 'sinks', ReadonlySet<string>> = {
  transforms: new Set(
    (
      'aggregate aws_ec2_metadata dedupe exclusive_route filter incremental_to_absolute log_to_metric lua ' +
      'metric_to_log reduce remap route sample tag_cardinality_limit throttle window'
    ).split(' '),
  ),
  sinks: new Set(
    (
      'amqp appsignal aws_cloudwatch_logs aws_cloudwatch_metrics aws_kinesis_firehose aws_kinesis_streams aws_s3 ' +
      'aws_sns aws_sqs axiom azure_blob azure_monitor_logs blackhole clickhouse console databend datadog_events ' +
      'datadog_logs datadog_metrics datadog_traces elasticsearch file gcp_chronicle_unstructured gcp_cloud_storage ' +
      'gcp_pubsub gcp_stackdriver_logs gcp_stackdriver_metrics greptimedb greptimedb_logs greptimedb_metrics ' +
      'honeycomb http humio_logs humio_metrics influxdb_logs influxdb_metrics kafka keep logdna loki mezmo mqtt nats ' +
      'new_relic opentelemetry papertrail postgres prometheus_exporter prometheus_remote_write pulsar redis ' +
      'sematext_logs sematext_metrics socket splunk_hec_logs splunk_hec_metrics statsd vector webhdfs websocket ' +
      'websocket_server'
    ).split(' '),
  ),
};

/** Functions Vector adds to VRL's standard library. */
const vectorFunctions = new Set([
  'get_secret',
  'set_secret',
  'remove_secret',
  'set_semantic_meaning',
  'get_enrichment_table_record',
  'find_enrichment_table_records',
]);

interface Program {
  id: string;
  kind: 'condition' | 'remap';
  source: string;
  label: string;
}

function conditionSource(c: unknown): string | undefined {
  if (typeof c === 'string') return c;
  if (c === null || typeof c !== 'object') return undefined;
  const o = c as JsonObject;
  return (o.type === undefined || o.type === 'vrl') && typeof o.source === 'string' ? o.source : undefined;
}

/** Every VRL program of the config's transforms, labelled as Vector names them. */
export function vrlPrograms(config: VectorConfig): Program[] {
  const out: Program[] = [];
  const add = (kind: Program['kind'], source: string | undefined, label: string): void => {
    if (source !== undefined) out.push({ id: `p${out.length}`, kind, source, label });
  };
  for (const [id, t] of Object.entries((config.transforms as Record<string, JsonObject> | undefined) ?? {})) {
    const label = `Transform "${id}"`;
    if (t.type === 'remap') add('remap', typeof t.source === 'string' ? t.source : undefined, label);
    else if (t.type === 'filter') add('condition', conditionSource(t.condition), label);
    else if (t.type === 'route' && t.route !== null && typeof t.route === 'object')
      for (const [name, c] of Object.entries(t.route as JsonObject))
        add('condition', conditionSource(c), `${label} route "${name}"`);
    else if (t.type === 'exclusive_route' && Array.isArray(t.routes))
      for (const r of t.routes as JsonObject[]) add('condition', conditionSource(r.condition), label);
  }
  return out;
}

/** The VRL checker's path, or undefined when it is not built. */
export function vrlChecker(): string | undefined {
  const explicit = process.env.VECTOR_OPERATOR_VRL_CHECK;
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const target = process.env.VECTOR_OPERATOR_VRL_TARGET || join(cache, 'vector-operator', 'vrl-check', 'target');
  const bin = explicit !== undefined && explicit !== '' ? explicit : join(target, 'release', 'vrl-check');
  return existsSync(bin) ? bin : undefined;
}

interface Compiled {
  id: string;
  compiled: boolean;
  diagnostics: string;
  functions: string[];
}

function compileProblems(programs: readonly Program[], checker: string): string[] {
  if (programs.length === 0) return [];
  const input = JSON.stringify({ programs: programs.map(({ id, kind, source }) => ({ id, kind, source })) });
  const out = execFileSync(checker, [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  const res = JSON.parse(out) as { programs: Compiled[] };
  const byId = new Map(programs.map((p) => [p.id, p]));
  return res.programs
    .filter((c) => !c.compiled && !c.functions.some((f) => vectorFunctions.has(f)))
    .map((c) => `${byId.get(c.id)?.label ?? c.id}: \n${c.diagnostics.trim()}`);
}

/** The problems `vector validate` reports for this config text, in order; empty when it is valid. */
export function validateConfigText(text: string, checker: string | undefined = vrlChecker()): string[] {
  let config: VectorConfig;
  try {
    config = JSON.parse(text) as VectorConfig;
  } catch (err) {
    return [`invalid JSON: ${(err as Error).message}`];
  }
  const problems = validateConfigGraph(config).map((p) => `${p.kind} "${p.component}": ${p.message}`);
  for (const kind of componentKinds) {
    if (kind === 'sources') continue;
    const section = config[kind] as Record<string, JsonObject> | undefined;
    for (const [id, c] of Object.entries(section ?? {}))
      if (typeof c.type !== 'string' || !knownTypes[kind].has(c.type))
        problems.push(`unknown variant \`${String(c.type)}\` for key \`${kind}.${id}.type\``);
  }
  if (problems.length > 0 || checker === undefined) return problems;
  return compileProblems(vrlPrograms(config), checker);
}

/** What Vector prints for the outcome. */
export function validateOutput(paths: readonly string[], problems: readonly string[]): string {
  const list = `[${paths.map((p) => JSON.stringify(p)).join(', ')}]`;
  if (problems.length === 0)
    return `√ Loaded ${list}\n√ Component configuration\n~ Health check disabled\n${'-'.repeat(40)}\n                                Validated\n`;
  const head = `Failed to load ${list}`;
  return `${head}\n${'-'.repeat(head.length)}\n${problems.map((p) => `x ${p}`).join('\n')}\n`;
}
