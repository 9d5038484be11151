/**
 * The tenant policy: what a namespaced VectorPipeline may put into an agent that runs on every node, as root, with the
 * host's /var/log, /var/lib, /proc and /sys mounted (docs/security.md has the threat model).
 *
 * Invariants:
 * - Pure: a violation depends only on the pipeline's kind and spec and on the policy, never on other pipelines.
 * - Component types are allow-listed: a transform or sink type is usable by a namespaced pipeline only when it is
 *   known to stay off the host (`safeTransforms`, `safeSinks`) or the admin allows it. A type this list does not know
 *   (a later Vector's) is refused until the admin allows it, so a Vector upgrade cannot widen the policy silently.
 * - Options are checked whatever the type: an option naming a local path or a unix socket, and `$VAR` / `${VAR}` (Vector
 *   substitutes the agent's environment into the config before loading it, the same read as `get_env_var`).
 * - VRL calls are found by lexing the program (vrl-calls.ts), never by substring match. A program that does not
 *   contain any denied name at all cannot call one (a call spells its name out), so only the others are lexed.
 * - ClusterVectorPipelines (cluster-scoped, created by the admin) are unrestricted unless `clusterPipelines` is set.
 * - Every violation names the field and says what to do, including the admin setting that would allow it.
 */
import { vrlFunctionCalls } from './vrl-calls.ts';

export type PolicyMode = 'enforce' | 'warn';

export interface PipelinePolicy {
  /** enforce: a violating pipeline is refused; warn (kaasops compatibility): it keeps flowing, flagged. */
  mode: PolicyMode;
  /** Transform and sink types allowed beyond the allow-list. */
  allowTypes: ReadonlySet<string>;
  /** Types refused even when on the allow-list (a name in both lists is a flag error, never resolved here). */
  denyTypes: ReadonlySet<string>;
  /** VRL functions allowed although denied by default. */
  allowFunctions: ReadonlySet<string>;
  /** VRL functions refused beyond the default list. */
  denyFunctions: ReadonlySet<string>;
  /**
   * Directory prefixes (ending in `/`) a path option may name: what the admin mounted for tenants, e.g. a CA bundle
   * for `tls.ca_file`. A path with a `..` segment is never under a prefix.
   */
  allowPaths: readonly string[];
  /** Apply the policy to ClusterVectorPipelines too. */
  clusterPipelines: boolean;
}

/** The operator flags (`run`, `render`, `plan`) that set each part of the policy. */
export const policyFlags = {
  mode: 'pipeline-policy',
  allowTypes: 'pipeline-policy-allow-types',
  denyTypes: 'pipeline-policy-deny-types',
  allowFunctions: 'pipeline-policy-allow-vrl-functions',
  denyFunctions: 'pipeline-policy-deny-vrl-functions',
  allowPaths: 'pipeline-policy-allow-paths',
  clusterPipelines: 'pipeline-policy-cluster-pipelines',
} as const;

export const defaultPolicy: PipelinePolicy = {
  mode: 'enforce',
  allowTypes: new Set(),
  denyTypes: new Set(),
  allowFunctions: new Set(),
  denyFunctions: new Set(),
  allowPaths: [],
  clusterPipelines: false,
};

export interface PolicyViolation {
  field: string;
  reason: string;
}

/** Types kept off the allow-list for a reason worth telling the tenant. */
const unsafeTypes: ReadonlyMap<string, string> = new Map([
  ['lua', 'runs Lua with the io and os libraries in the agent: it can read node files and run commands'],
  ['file', "writes files on the node through the agent's host mounts"],
  ['aws_ec2_metadata', "queries the node's cloud instance metadata service"],
  ['prometheus_exporter', 'listens on a port of the agent pod; an address clash stops the agent for every pipeline'],
  ['websocket_server', 'listens on a port of the agent pod; an address clash stops the agent for every pipeline'],
]);

/** Vector 0.48 transforms that only compute on events (their VRL is checked separately). */
const safeTransforms: ReadonlySet<string> = new Set([
  'aggregate',
  'dedupe',
  'exclusive_route',
  'filter',
  'incremental_to_absolute',
  'log_to_metric',
  'metric_to_log',
  'reduce',
  'remap',
  'route',
  'sample',
  'tag_cardinality_limit',
  'throttle',
  'window',
]);

/** Vector 0.48 sinks that only send over the network (options naming local paths are checked separately). */
const safeSinks: ReadonlySet<string> = new Set([
  'amqp',
  'appsignal',
  'aws_cloudwatch_logs',
  'aws_cloudwatch_metrics',
  'aws_kinesis_firehose',
  'aws_kinesis_streams',
  'aws_s3',
  'aws_sns',
  'aws_sqs',
  'axiom',
  'azure_blob',
  'azure_monitor_logs',
  'blackhole',
  'clickhouse',
  'console',
  'databend',
  'datadog_events',
  'datadog_logs',
  'datadog_metrics',
  'datadog_traces',
  'elasticsearch',
  'gcp_chronicle_unstructured',
  'gcp_cloud_storage',
  'gcp_pubsub',
  'gcp_stackdriver_logs',
  'gcp_stackdriver_metrics',
  'greptimedb_logs',
  'greptimedb_metrics',
  'honeycomb',
  'http',
  'humio_logs',
  'humio_metrics',
  'influxdb_logs',
  'influxdb_metrics',
  'kafka',
  'keep',
  'logdna',
  'loki',
  'mezmo',
  'mqtt',
  'nats',
  'new_relic',
  'opentelemetry',
  'papertrail',
  'postgres',
  'prometheus_remote_write',
  'pulsar',
  'redis',
  'sematext_logs',
  'sematext_metrics',
  'socket',
  'splunk_hec_logs',
  'splunk_hec_metrics',
  'statsd',
  'vector',
  'webhdfs',
  'websocket',
]);

/** VRL functions that reach past the event: the agent's environment, node files, the network from the node. */
const deniedFunctions: ReadonlyMap<string, string> = new Map([
  ['get_env_var', "reads the agent's environment, where other teams' sink credentials live"],
  ['http_request', 'sends HTTP requests from the node (kubelet, cloud metadata, node-local services)'],
  ['dns_lookup', 'queries DNS from the node'],
  ['reverse_dns', 'queries DNS from the node'],
  ['validate_json_schema', 'reads a schema file from the node'],
  ['get_enrichment_table_record', "reads the agent's enrichment tables, which are files the admin configured"],
  ['find_enrichment_table_records', "reads the agent's enrichment tables, which are files the admin configured"],
]);

/** Option keys that name a local path in some Vector component (tls, credentials, kafka's librdkafka options...). */
const pathKeys: ReadonlySet<string> = new Set(['data_dir', 'file', 'files', 'keytab']);
// `.location`, `.keytab`, `.cmd`, `.paths`: librdkafka options (kafka's `librdkafka_options`) that read files, run a
// command (`sasl.kerberos.kinit.cmd`) or load a library (`plugin.library.paths`).
const pathSuffix = /(?:_files?|_dir|_path|\.location|\.keytab|\.cmd|\.paths)$/;
/** Types whose top-level `path` is a local path (elsewhere, e.g. `loki`, `path` is a URL path). */
const localPathTypes: ReadonlySet<string> = new Set(['file', 'socket', 'statsd']);

/** The fields of a component that hold VRL conditions (a string, or `{ type: vrl, source }`), by key, any type. */
const conditionKeys: ReadonlySet<string> = new Set([
  'condition',
  'exclude',
  'starts_when',
  'ends_when',
  'flush_when',
  'forward_when',
]);

const deniedNamesCache = new WeakMap<PipelinePolicy, readonly string[]>();

/** Every VRL function name the policy denies, computed once per policy. */
function deniedNames(policy: PipelinePolicy): readonly string[] {
  let names = deniedNamesCache.get(policy);
  if (names === undefined) {
    names = [...new Set([...deniedFunctions.keys(), ...policy.denyFunctions])].filter((n) =>
      isDeniedFunction(n, policy),
    );
    deniedNamesCache.set(policy, names);
  }
  return names;
}

function isDeniedFunction(name: string, policy: PipelinePolicy): boolean {
  return policy.denyFunctions.has(name) || (deniedFunctions.has(name) && !policy.allowFunctions.has(name));
}

const allowTypeHint = (type: string) => `ask the cluster admin to allow it with --${policyFlags.allowTypes}=${type}`;

/** Why `type` may not be used as a `kind` by a namespaced pipeline, or undefined when it may. */
function typeViolation(kind: 'transforms' | 'sinks', type: string, policy: PipelinePolicy): string | undefined {
  if (policy.denyTypes.has(type)) {
    return `type '${type}' is denied by the cluster admin (--${policyFlags.denyTypes}); use another type`;
  }
  if (policy.allowTypes.has(type)) return undefined;
  const why = unsafeTypes.get(type);
  if (why !== undefined) return `type '${type}' ${why}; use another type, or ${allowTypeHint(type)}`;
  const safe = kind === 'transforms' ? safeTransforms : safeSinks;
  if (safe.has(type)) return undefined;
  return `type '${type}' is not on the list of ${kind} known to stay off the node; ${allowTypeHint(type)}`;
}

/** Whether `key` names a local path. A type the admin allowed by name may use its own top-level `path`. */
function namesLocalPath(key: string, type: string, depth: number, policy: PipelinePolicy): boolean {
  if (pathKeys.has(key) || pathSuffix.test(key)) return true;
  return depth === 0 && key === 'path' && localPathTypes.has(type) && !policy.allowTypes.has(type);
}

/** Whether every path in `value` (a string or a list of them) lies under a prefix the admin allowed. */
function underAllowedPath(value: unknown, prefixes: readonly string[]): boolean {
  if (prefixes.length === 0) return false;
  const paths = Array.isArray(value) ? (value as unknown[]) : [value];
  return paths.every(
    (p) =>
      typeof p === 'string' &&
      !p.split('/').includes('..') &&
      prefixes.some((prefix) => p.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)),
  );
}

/** `$VAR`, `${VAR}`, `${VAR:-x}`: Vector's config interpolation. `$$` is a literal `$`. */
function interpolatesEnv(text: string): boolean {
  for (let i = text.indexOf('$'); i >= 0; i = text.indexOf('$', i + 1)) {
    const next = text.charCodeAt(i + 1);
    if (next === 0x24) i++;
    else if (
      next === 0x7b ||
      next === 0x5f ||
      (next >= 0x30 && next <= 0x39) ||
      ((next | 0x20) >= 0x61 && (next | 0x20) <= 0x7a)
    )
      return true;
  }
  return false;
}

/** The VRL programs of a component: remap's `source`, route's `route.*`, and the condition fields, with their path. */
function vrlPrograms(type: string, c: Record<string, unknown>, field: string): [string, string][] {
  const out: [string, string][] = [];
  const add = (value: unknown, at: string): void => {
    if (typeof value === 'string') out.push([at, value]);
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const cond = value as Record<string, unknown>;
      if ((cond.type === undefined || cond.type === 'vrl') && typeof cond.source === 'string') {
        out.push([`${at}.source`, cond.source]);
      }
    }
  };
  if (type === 'remap') add(c.source, `${field}.source`);
  const route = c.route;
  if (type === 'route' && typeof route === 'object' && route !== null) {
    for (const [name, cond] of Object.entries(route)) add(cond, `${field}.route.${name}`);
  }
  const routes = c.routes;
  if (Array.isArray(routes)) {
    routes.forEach((r: unknown, i) => {
      if (typeof r === 'object' && r !== null)
        add((r as Record<string, unknown>).condition, `${field}.routes[${i}].condition`);
    });
  }
  for (const key of conditionKeys) if (key in c) add(c[key], `${field}.${key}`);
  return out;
}

const envHint = (flag: string) =>
  `reads the agent's environment, where other teams' sink credentials live; write $$ for a literal $, or ask the cluster admin to allow environment reads with --${flag}=get_env_var`;

interface WalkContext {
  type: string;
  policy: PipelinePolicy;
  envAllowed: boolean;
}

const pathReason = (flag: string) =>
  `names a local path or command on the node, which a namespaced pipeline may not choose; remove the option, or ask the cluster admin to allow a directory with --${flag}`;

const unixReason = 'names a unix socket on the node; send to a network address instead';

/** What is wrong with an option's text (a value or a key): `$VAR`, a unix socket URL. */
function textProblem(text: string, ctx: WalkContext): string | undefined {
  if (!ctx.envAllowed && interpolatesEnv(text)) return envHint(policyFlags.allowFunctions);
  if (text.includes('unix:') && /^[a-z0-9+.-]*unix:/i.test(text)) return unixReason;
  return undefined;
}

/**
 * The first violation among the options under `value` (keys and string values): paths, unix sockets, `$VAR`.
 * Field paths are built only for a violation or an object to descend into: this runs on every option of every build.
 */
function optionViolation(value: object, field: string, depth: number, ctx: WalkContext): PolicyViolation | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const inner: unknown = value[i];
      const reason = typeof inner === 'string' ? textProblem(inner, ctx) : undefined;
      if (reason !== undefined) return { field: `${field}[${i}]`, reason };
      if (typeof inner === 'object' && inner !== null) {
        const v = optionViolation(inner, `${field}[${i}]`, depth + 1, ctx);
        if (v !== undefined) return v;
      }
    }
    return undefined;
  }
  const options = value as Record<string, unknown>;
  // for-in over a parsed JSON object: own keys only, without the array Object.entries allocates.
  for (const key in options) {
    if (depth === 0 && (key === 'type' || key === 'inputs')) continue;
    const inner = options[key];
    const keyReason = ctx.envAllowed ? undefined : textProblem(key, ctx);
    if (keyReason !== undefined) return { field: `${field}.${key}`, reason: keyReason };
    const local = namesLocalPath(key, ctx.type, depth, ctx.policy);
    if (local && inner !== null && inner !== undefined && !underAllowedPath(inner, ctx.policy.allowPaths)) {
      return { field: `${field}.${key}`, reason: pathReason(policyFlags.allowPaths) };
    }
    if (typeof inner === 'string') {
      const unixMode = depth === 0 && key === 'mode' && inner.startsWith('unix');
      if (unixMode && localPathTypes.has(ctx.type) && !ctx.policy.allowTypes.has(ctx.type)) {
        return { field: `${field}.${key}`, reason: `mode '${inner}' uses a unix socket on the node; use tcp or udp` };
      }
      const reason = textProblem(inner, ctx);
      if (reason !== undefined) return { field: `${field}.${key}`, reason };
    } else if (typeof inner === 'object' && inner !== null) {
      const v = optionViolation(inner, `${field}.${key}`, depth + 1, ctx);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

/** The first violation of one component, checked as type, then VRL, then options. */
function componentViolation(
  kind: 'sources' | 'transforms' | 'sinks',
  key: string,
  c: Record<string, unknown>,
  policy: PipelinePolicy,
): PolicyViolation | undefined {
  const field = `spec.${kind}.${key}`;
  const type = typeof c.type === 'string' ? c.type : '';
  if (kind !== 'sources') {
    const why = typeViolation(kind, type, policy);
    if (why !== undefined) return { field: `${field}.type`, reason: why };
  }
  const programs = kind === 'transforms' ? vrlPrograms(type, c, field) : [];
  const denied = deniedNames(policy);
  for (const [at, program] of programs) {
    if (!denied.some((name) => program.includes(name))) continue;
    for (const fn of vrlFunctionCalls(program)) {
      if (!isDeniedFunction(fn, policy)) continue;
      const reason = policy.denyFunctions.has(fn)
        ? `calls VRL function ${fn}, which the cluster admin denied (--${policyFlags.denyFunctions}); remove the call`
        : `calls VRL function ${fn}, which ${deniedFunctions.get(fn) ?? ''}; remove the call, or ask the cluster admin to allow it with --${policyFlags.allowFunctions}=${fn}`;
      return { field: at, reason };
    }
  }
  return optionViolation(c, field, 0, { type, policy, envAllowed: !isDeniedFunction('get_env_var', policy) });
}

/** Every component's first violation, in sources, transforms, sinks order; empty when the policy does not apply. */
export function policyViolations(
  kind: 'VectorPipeline' | 'ClusterVectorPipeline',
  spec: Partial<Record<'sources' | 'transforms' | 'sinks', Record<string, Record<string, unknown>> | null>>,
  policy: PipelinePolicy,
): PolicyViolation[] {
  if (kind === 'ClusterVectorPipeline' && !policy.clusterPipelines) return [];
  const out: PolicyViolation[] = [];
  for (const k of ['sources', 'transforms', 'sinks'] as const) {
    for (const [key, c] of Object.entries(spec[k] ?? {})) {
      const v = componentViolation(k, key, c, policy);
      if (v !== undefined) out.push(v);
    }
  }
  return out;
}

/** The hint an enforce-mode refusal carries, so a migrating admin finds the compatibility setting. */
export const warnModeHint = `(existing kaasops pipelines can keep flowing, flagged, under --${policyFlags.mode}=warn)`;
