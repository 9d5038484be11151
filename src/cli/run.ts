/**
 * `vector-operator run`: the operator process. Flags are kaasops/vector-operator's (Go style accepted: `-flag`,
 * `--flag=value`, `--bool-flag=true|false`), so its Deployment args carry over.
 *
 * Invariants:
 * - Without --kubeconfig the usual order applies ($KUBECONFIG, ~/.kube/config, then the in-cluster service account).
 * - /healthz answers while the process runs; /readyz once the caches are synced (or while standing by for the lease);
 *   /metrics serves Prometheus text when --metrics-bind-address is not `0`: HTTPS, authenticated and authorized, unless
 *   --metrics-secure=false (servers.ts).
 * - Every kaasops flag is accepted (kaasops-flags.ts); what one of them does not do here is logged at start.
 * - SIGTERM/SIGINT: stop the controllers (in-flight reconciles finish), release the lease, close the servers, exit 0,
 *   all within 25 s (inside Kubernetes' default 30 s grace period); past that deadline, or on a second signal, exit 1.
 * - Every --sync-period each cached Vector and pipeline is reconciled again from memory (level-triggered
 *   self-healing); a resync that changes nothing writes nothing.
 *   Losing the lease exits 1, so the pod restarts with a clean cache, as controller-runtime does.
 * - Logs are JSON lines (pino) on stdout.
 */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadKubeConfig } from '../kube/client.ts';
import { createMetrics, type OperatorMetrics } from '../operator/metrics.ts';
import { defaultMergerImage } from '../operator/merger-container.ts';
import { objectFlagOptions, operatorFlagsFrom } from './object-flags.ts';
import { Operator, type OperatorOptions } from '../operator/operator.ts';
import type { Logger } from '../operator/controller-context.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { Shutdown } from '../kube/shutdown.ts';
import { policyFlags } from '../pipelines/policy.ts';
import { policyFromFlags, policyOptions, policyUsage } from './policy-flags.ts';
import { parseDuration } from './durations.ts';
import { startServers } from './servers.ts';
import { kaasopsBooleans, kaasopsOptions, logSettings, notImplemented, retryDelayMs } from './kaasops-flags.ts';
import type { Io } from './io.ts';

export { parseDuration };

const usage = `usage: vector-operator run [flags]

Runs the operator: watches Vector, VectorPipeline and ClusterVectorPipeline and keeps each Vector's agent current.

  --kubeconfig FILE                   kubeconfig (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
  --enable-config-optimization        collapse per-namespace kubernetes_logs sources (default false)
  --enable-checkpoint-migration       bind the config Secret to the mode and run checkpoint-merger (default false)
  --checkpoint-merger-image IMAGE     default ${defaultMergerImage} (the tag is the merger's version)
  --checkpoint-merger-position-policy min|max
                                      where sources disagree on a file: min re-reads, max skips (default min)
  --watch-namespace NS                only Vectors, pipelines and agent objects in NS (default: all)
  --sync-period DURATION              reconcile every cached object again this often (default 10h)
  --adopt-field-managers LIST         comma-separated managers whose Update-written fields on agent objects become
                                      ours at cutover (default manager, kaasops' field manager; '' for none)
  --leader-elect                      hold the Lease 79cbe7f3.kaasops.io before reconciling (default false)
  --leader-election-namespace NS      where the Lease lives (default: the pod's namespace, else default)
  --metrics-bind-address ADDR         Prometheus /metrics, e.g. :8443; 0 disables it (default 0)
  --health-probe-bind-address ADDR    /healthz and /readyz (default :8081)
  --enable-configcheck-pods           \`vector validate\` in a pod on each changed Vector config and pipeline, as
                                      kaasops does; =false: the in-process structural check only (default true)
  --configcheck-timeout DURATION      budget of one configcheck pod (default 300s)
  --log-level LEVEL                   debug, info, warn, error (default info, or what the zap flags say)
  --metrics-secure                    HTTPS metrics with a self-signed certificate, every scrape checked with
                                      TokenReview and SubjectAccessReview; =false for plain HTTP (default true)
  --enable-http2                      offer HTTP/2 on secure metrics (default false: HTTP/1.1 only)
  --watch-name NAME                   kaasops' label scoping; see docs/operator.md (default '')
  --enable-reconciliation-invalid-pipelines
                                      re-check invalid pipelines on every trigger and retry them (default false)
  --reconciliation-retry-delay DURATION
                                      that retry's delay, and a failed check's (default 30s)
  --zap-devel, --zap-log-level, --zap-encoder, --zap-stacktrace-level, --zap-time-encoding
                                      kaasops' logging flags, mapped onto ours (docs/operator.md)
  --agent-least-privilege             read-only host mounts and no privilege escalation for the agent pod, even
                                      without checkpoint migration (rolls every agent once) (default false)
  --agent-termination-grace-period-seconds N
                                      the agent pod's terminationGracePeriodSeconds, in every mode (default:
                                      Vector's drain limit + 10 s, 70, with migration; unset without)
Tenant policy for namespaced pipelines (docs/security.md):
${policyUsage}`;

const booleans = [
  'agent-least-privilege',
  policyFlags.clusterPipelines,
  'enable-config-optimization',
  'enable-checkpoint-migration',
  'enable-configcheck-pods',
  'leader-elect',
  'help',
  ...kaasopsBooleans,
];

/** Go's flag package: `-flag`, and `--flag=<strconv.ParseBool value>` for booleans (false becomes `--no-flag`). */
export function normaliseArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  const truthy = ['1', 't', 'T', 'TRUE', 'true', 'True'];
  const falsy = ['0', 'f', 'F', 'FALSE', 'false', 'False'];
  for (const a of args) {
    let arg = /^-[a-z][a-z0-9-]+/.test(a) ? `-${a}` : a;
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(arg);
    const name = m?.[1] ?? '';
    if (m !== null && booleans.includes(name) && [...truthy, ...falsy].includes(m[2] ?? '')) {
      out.push(truthy.includes(m[2] ?? '') ? `--${name}` : `--no-${name}`);
      continue;
    }
    if (arg === '-h') arg = '--help';
    out.push(arg);
  }
  return out;
}

/** `--adopt-field-managers a, b,` → ['a', 'b']; '' → [] (take over nobody's fields). */
export function parseManagerList(value: string): string[] {
  return value
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
}

/** `:8081`, `127.0.0.1:0`, `0` (off). */
export function parseBindAddress(s: string): { host: string; port: number } | undefined | 'invalid' {
  if (s === '0' || s === '') return undefined;
  const i = s.lastIndexOf(':');
  const port = Number(s.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) return 'invalid';
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port };
}

function podNamespace(): string {
  const env = process.env.POD_NAMESPACE;
  if (env !== undefined && env !== '') return env;
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
  } catch {
    return 'default';
  }
}

const runOptions = {
  kubeconfig: { type: 'string' },
  'enable-config-optimization': { type: 'boolean', default: false },
  ...objectFlagOptions,
  'watch-namespace': { type: 'string', default: '' },
  'adopt-field-managers': { type: 'string', default: 'manager' },
  'leader-elect': { type: 'boolean', default: false },
  'leader-election-namespace': { type: 'string' },
  'metrics-bind-address': { type: 'string', default: '0' },
  'health-probe-bind-address': { type: 'string', default: ':8081' },
  'configcheck-timeout': { type: 'string', default: '300s' },
  'sync-period': { type: 'string', default: '10h' },
  'enable-configcheck-pods': { type: 'boolean', default: true },
  'log-level': { type: 'string' },
  ...policyOptions,
  ...kaasopsOptions,
  help: { type: 'boolean', default: false },
} as const;

type RunValues = ReturnType<typeof parseArgs<{ options: typeof runOptions; strict: true }>>['values'];

/** Every flag checked and turned into what the operator takes; the first problem as a message naming the flag. */
function settingsFrom(values: RunValues) {
  const configCheckMs = parseDuration(values['configcheck-timeout']);
  if (configCheckMs === undefined)
    return `--configcheck-timeout '${values['configcheck-timeout']}' is not a duration like 300s or 5m`;
  const syncPeriodMs = parseDuration(values['sync-period']);
  if (syncPeriodMs === undefined || syncPeriodMs <= 0)
    return `--sync-period '${values['sync-period']}' is not a positive duration like 10h or 30m`;
  const metricsAt = parseBindAddress(values['metrics-bind-address']);
  const healthAt = parseBindAddress(values['health-probe-bind-address']);
  if (metricsAt === 'invalid')
    return `--metrics-bind-address '${values['metrics-bind-address']}' is not host:port or 0`;
  if (healthAt === 'invalid')
    return `--health-probe-bind-address '${values['health-probe-bind-address']}' is not host:port or 0`;
  const pipelinePolicy = policyFromFlags(values);
  if (typeof pipelinePolicy === 'string') return pipelinePolicy;
  const flags = operatorFlagsFrom(values, pipelinePolicy);
  if (typeof flags === 'string') return flags;
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !levels.includes(logLevel)) return `--log-level must be one of ${levels.join(', ')}`;
  const logging = logSettings(logLevel, values);
  if (typeof logging === 'string') return logging;
  const retryDelay = retryDelayMs(values);
  if (typeof retryDelay === 'string') return retryDelay;
  return { configCheckMs, syncPeriodMs, metricsAt, healthAt, pipelinePolicy, flags, logging, retryDelay };
}

type Settings = Exclude<ReturnType<typeof settingsFrom>, string>;

/** What the operator takes from the flags alone (the process adds its kubeconfig, logger, metrics and lease). */
type FlagOptions = Omit<OperatorOptions, 'kc' | 'log' | 'metrics' | 'leaderElection' | 'onLostLeadership'>;

function flagOptions(values: RunValues, settings: Settings): FlagOptions {
  return {
    flags: settings.flags,
    ...(values['watch-namespace'] === '' ? {} : { watchNamespace: values['watch-namespace'] }),
    resyncMs: settings.syncPeriodMs,
    adoptFieldManagers: parseManagerList(values['adopt-field-managers']),
    ...(values['enable-configcheck-pods'] ? { configCheckPods: { timeoutMs: settings.configCheckMs } } : {}),
    invalidPipelines: { recheck: values['enable-reconciliation-invalid-pipelines'], retryDelayMs: settings.retryDelay },
  };
}

function parseRunArgs(args: readonly string[]): RunValues {
  return parseArgs({
    args: normaliseArgs(args),
    options: runOptions,
    allowNegative: true,
    strict: true,
    allowPositionals: false,
  }).values;
}

/**
 * The operator options `run ARGS` starts with, less what the process supplies (kubeconfig, logger, metrics, lease);
 * a usage problem as a string. Tests start operators from kaasops-style argument lists through this.
 */
export function operatorOptionsFor(args: readonly string[]): FlagOptions | string {
  let values: RunValues;
  try {
    values = parseRunArgs(args);
  } catch (err) {
    return (err as Error).message;
  }
  const settings = settingsFrom(values);
  return typeof settings === 'string' ? settings : flagOptions(values, settings);
}

function operatorFrom(values: RunValues, settings: Settings, kc: KubeConfig, log: Logger, metrics: OperatorMetrics) {
  const identity = `${process.env.POD_NAME ?? hostname()}_${randomBytes(4).toString('hex')}`;
  const operator = new Operator({
    kc,
    log,
    metrics,
    ...flagOptions(values, settings),
    ...(values['leader-elect']
      ? {
          leaderElection: {
            namespace: values['leader-election-namespace'] ?? podNamespace(),
            name: '79cbe7f3.kaasops.io',
            identity,
          },
        }
      : {}),
    onLostLeadership: () => {
      log.error({}, 'lost the leader lease; exiting so a fresh process can campaign');
      process.exit(1);
    },
  });
  return { operator, identity };
}

/**
 * Resolves with the exit code once a signal has stopped everything. Steps run last registered first: controllers
 * stop (nothing writes any more, the lease is released), then the probe and metrics servers close.
 */
function stoppedOnSignal(operator: Operator, servers: readonly { close(): Promise<void> }[], log: Logger) {
  return new Promise<number>((resolve) => {
    const shutdown = new Shutdown({
      timeoutMs: 25_000,
      exit: resolve,
      onError: (step, err) => {
        log.error({ step, err: err instanceof Error ? err.message : String(err) }, 'shutdown step failed');
      },
    });
    shutdown.add('servers', async () => {
      await Promise.all(servers.map((s) => s.close()));
    });
    shutdown.add('controllers', () => operator.stop());
    shutdown.add('signal', () => {
      log.info({}, 'shutting down');
      return Promise.resolve();
    });
    shutdown.listen();
  });
}

/** Usage and flag errors go to `io`; once started, the operator logs JSON lines on stdout (pino). */
export async function main(args: string[], io: Io): Promise<number> {
  let values: RunValues;
  try {
    values = parseRunArgs(args);
  } catch (err) {
    io.err(`vector-operator run: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    io.out(usage);
    return 0;
  }
  const settings = settingsFrom(values);
  if (typeof settings === 'string') {
    io.err(`vector-operator run: ${settings}\n`);
    return 2;
  }
  const { flags, logging, pipelinePolicy } = settings;
  const log = pino({ level: logging.level, base: { component: 'vector-operator' }, ...logging.options });
  const kc = loadKubeConfig(values.kubeconfig);
  const ref: { op?: Operator } = {};
  const metrics = createMetrics(() => ref.op?.queueDepths() ?? {}, true);
  const { operator: running, identity } = operatorFrom(values, settings, kc, log, metrics);
  ref.op = running;

  const servers = await startServers({
    healthAt: settings.healthAt,
    metricsAt: settings.metricsAt,
    secure: values['metrics-secure'],
    http2: values['enable-http2'],
    kc,
    ready: () => running.ready(),
    metrics,
    log,
  });
  log.info(
    {
      optimize: flags.optimize,
      migration: flags.migration,
      mergerImage: flags.mergerImage,
      watchNamespace: values['watch-namespace'],
      syncPeriod: values['sync-period'],
      leaderElect: values['leader-elect'],
      pipelinePolicy: pipelinePolicy.mode,
      leastPrivilege: flags.leastPrivilege,
      terminationGraceSeconds: flags.terminationGraceSeconds,
      metricsSecure: values['metrics-secure'],
      enableHttp2: values['enable-http2'],
      watchName: values['watch-name'],
      identity,
    },
    'starting',
  );
  for (const w of notImplemented(values))
    log.warn({ flag: `--${w.flag}`, value: w.value }, `--${w.flag} is accepted; not implemented: ${w.missing}`);
  // Signals are handled from before the controllers start: a SIGTERM while they start stops them gracefully (stop()
  // copes with a start in progress) instead of killing the process with the default action.
  const stopped = stoppedOnSignal(running, servers, log);
  await running.start();
  const code = await stopped;
  log.info({ code }, 'stopped');
  return code;
}
