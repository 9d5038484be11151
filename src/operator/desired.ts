/**
 * The full desired state of one Vector's agent, from plain inputs: the Vector, its candidate pipelines, the operator
 * flags and what the cluster shows (live DaemonSet, live config Secrets). No client, no I/O.
 *
 * Invariants:
 * - Both modes' configs are built; every config that this step writes must pass the structural graph check, or
 *   nothing is written at all (`ok: false`) and the running agents keep their last good config.
 * - Secret names and modes come from the migration state machine (migration.ts); each config Secret records its mode
 *   in the `config-mode` annotation, so the next reconcile reads it back instead of guessing. Whether a build would
 *   rename sources for the pods reading a Secret is decided here, from the Secret's content (handover.ts); a Secret
 *   the plan keeps is desired with exactly its live content, so nothing is written to it.
 * - Objects are returned in write order: config Secrets before the DaemonSet that mounts them, then RBAC and Service.
 * - With migration off the DaemonSet is exactly objects.ts' (no init container, the `<v>-agent` Secret), but for
 *   the `restartedAt` stamp a change of the global options puts on its template (globals.ts).
 */
import type { V1DaemonSet, V1Secret } from '@kubernetes/client-node';
import { renames, sourceGraph, summarizeRenames, type SourceGraph } from '../merger/handover.ts';
import type { BuildResult } from '../pipelines/build.ts';
import { buildModes, type ModeBuild, type ModeBuilds } from '../pipelines/modes.ts';
import type { BuildMemo } from './build-memo.ts';
import type { PipelinePolicy } from '../pipelines/policy.ts';
import { isOptedOut, optimizationAnnotation } from '../pipelines/pipeline.ts';
import type { Pipeline, Vector } from '../pipelines/schemas.ts';
import { configPayloadText } from '../vector/config-payload.ts';
import { configModeAnnotation, liveRollout, secretMode } from './live-state.ts';
import { planMigration, type LiveRollout, type MigrationPlan, type SecretSlot } from './migration.ts';
import type { ConfigMode } from '../pipelines/modes.ts';
import { agentTerminationGrace } from './agent-grace.ts';
import { assetsObjectBytes, assetsStep, mountSecretAssets, sameConfig, slotSecretName } from './secret-assets.ts';
import { secretSourceOf, type SecretSource } from '../pipelines/secrets.ts';
import { globalsStep, stampTemplate } from './globals.ts';
import {
  agentDaemonSet,
  agentName,
  agentObjects,
  configKey,
  configSecret,
  secretSizeProblem,
  type AgentObject,
} from './objects.ts';

export interface OperatorFlags {
  optimize: boolean;
  migration: boolean;
  mergerImage: string;
  /** The merger's `--position-policy` (default min: nothing a lagging pipeline has not read is skipped). */
  mergerPositionPolicy?: 'min' | 'max';
  /** Whether the PodMonitor CRD is served (discovered at start). */
  podMonitor: boolean;
  /** The tenant policy (`--pipeline-policy*`); `defaultPolicy` when absent. */
  policy?: PipelinePolicy;
  /** `--agent-least-privilege`: harden the agent pod even without checkpoint migration (objects.ts). */
  leastPrivilege?: boolean;
  /** `--agent-termination-grace-period-seconds`: the agent pod's grace in every mode (agent-grace.ts). */
  terminationGraceSeconds?: number;
  /**
   * Namespaces per collapsed source before a group splits into chunks: tests and the stand only, to cross a chunk
   * boundary with a few namespaces. No flag sets it; the product runs with 1000 (routing.ts).
   */
  maxNamespacesPerSource?: number;
  /** The assets' prune grace (secret-assets.ts), 90 s when absent: tests only, no flag sets it. */
  assetsPruneGraceMs?: number;
}

export interface Observed {
  daemonSet: V1DaemonSet | undefined;
  secrets: Partial<Record<SecretSlot, V1Secret>>;
  /** The Vector's `status.LastAppliedGlobalConfigHash` (globals.ts); absent before any was recorded. */
  globalConfigHash?: number;
  /** Where the pipelines' Secret values are read; absent: no Secret exists (their pipelines are left out). */
  secretValues?: SecretSource;
  /** The live assets Secrets' data per slot (secret-assets.ts). */
  assets?: Partial<Record<SecretSlot, Readonly<Record<string, string>>>>;
  /** Milliseconds since `status.lastConfigPublishedAt`, when recorded: the assets' prune grace runs from it. */
  sincePublishedMs?: number;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface DesiredState {
  /** False when a config to be written failed the structural check: write nothing. */
  ok: boolean;
  problems: string[];
  /** The secret-assets Secrets (secret-assets.ts), written before `objects`: a config never names a missing value. */
  assets: V1Secret[];
  objects: AgentObject[];
  /** Objects that must not exist (the `-agent-opt` Secret once free, the Service with the API off). */
  deletions: ObjectRef[];
  plan: MigrationPlan;
  target: ConfigMode;
  /** The build of the served mode (summary, rejected pipelines). */
  served: BuildResult;
  /** Whether the live template still awaits its rollout (for status). */
  rolling: boolean;
  /** The config text of the mounted Secret (`objects[0]`), as written; undefined when that Secret is not written. */
  mountedJson: string | undefined;
  /** `status.LastAppliedGlobalConfigHash` once these objects are applied (globals.ts). */
  globalConfigHash: number | undefined;
  /** Set while an assets Secret keeps keys the config no longer names (the prune grace): reconcile again then. */
  requeueAfterMs?: number;
  /** When this step switches Secrets because sources rename: what renames, for the Event and the status. */
  renamed?: { sources: number; namespaces: number | 'all'; examples: string[] };
}

function withoutOptOut(vector: Vector): Vector {
  if (!isOptedOut(vector.metadata.annotations)) return vector;
  const annotations = Object.fromEntries(
    Object.entries(vector.metadata.annotations ?? {}).filter(([k]) => k !== optimizationAnnotation),
  );
  return { ...vector, metadata: { ...vector.metadata, annotations } };
}

function modeSecret(vector: Vector, slot: SecretSlot, mode: ConfigMode, json: string, memo?: BuildMemo): V1Secret {
  const payload = memo?.payload(json, vector.spec.agent?.compressConfigFile === true);
  const s = configSecret(vector, json, slotSecretName(vector, slot), payload);
  const meta = s.metadata ?? {};
  meta.annotations = { ...(meta.annotations ?? {}), [configModeAnnotation]: mode };
  s.metadata = meta;
  return s;
}

type LiveConfig = { json: string; graph: SourceGraph } | undefined;
/** Per cached Secret object (a new object per change): a resync does not parse the configs again. */
const liveConfigs = new WeakMap<V1Secret, LiveConfig>();

/**
 * The config text and source graph of a live config Secret, or undefined when it holds no readable config.
 * `written(b64)` finds a build whose payload the Secret holds: the echo of our own write is not parsed again.
 */
function liveGraph(secret: V1Secret | undefined, written: (b64: string) => LiveConfig): LiveConfig {
  if (secret === undefined) return undefined;
  if (liveConfigs.has(secret)) return liveConfigs.get(secret);
  const b64 = secret.data?.[configKey];
  let parsed = b64 === undefined ? undefined : written(b64);
  if (parsed !== undefined) {
    liveConfigs.set(secret, parsed);
    return parsed;
  }
  try {
    const json = b64 === undefined ? undefined : configPayloadText(Buffer.from(b64, 'base64'));
    parsed = json === undefined ? undefined : { json, graph: sourceGraph(JSON.parse(json) as unknown) };
  } catch {
    parsed = undefined; // Not ours to read: treated as renaming nothing, as before the check existed.
  }
  liveConfigs.set(secret, parsed);
  return parsed;
}

/** Per build (a memoised one is the same object across reconciles): its source graph, made once. */
const builtGraphs = new WeakMap<ModeBuild, SourceGraph>();
function graphOf(build: ModeBuild): SourceGraph {
  let g = builtGraphs.get(build);
  if (g === undefined) {
    g = sourceGraph(build.result.config);
    builtGraphs.set(build, g);
  }
  return g;
}

/** Whether `after` renames any source of `before`, per pair of graphs: a resync asks again with the same two. */
const renameChecks = new WeakMap<SourceGraph, WeakMap<SourceGraph, boolean>>();
function renamesAny(before: SourceGraph, after: SourceGraph): boolean {
  let byAfter = renameChecks.get(before);
  if (byAfter === undefined) {
    byAfter = new WeakMap();
    renameChecks.set(before, byAfter);
  }
  let any = byAfter.get(after);
  if (any === undefined) {
    any = renames(before, after).length > 0;
    byAfter.set(after, any);
  }
  return any;
}

function renameSummary(before: SourceGraph, after: SourceGraph): NonNullable<DesiredState['renamed']> {
  const s = summarizeRenames(renames(before, after));
  return {
    sources: s.pairs.length,
    namespaces: s.namespaces === null ? 'all' : s.namespaces.length,
    examples: s.pairs.slice(0, 3).map(([from, to]) => `${from} -> ${to}`),
  };
}

type Contents = Record<SecretSlot, LiveConfig>;

/** The migration step, and what renames when it rolls the agents to rename sources (for the Event and status). */
function migrationStepFor(
  flags: OperatorFlags,
  target: ConfigMode,
  live: LiveRollout | undefined,
  modesNow: Partial<Record<SecretSlot, ConfigMode>>,
  modes: ModeBuilds,
  contents: Contents,
): { plan: MigrationPlan; renamed?: NonNullable<DesiredState['renamed']> } {
  const builtGraph = (m: ConfigMode): SourceGraph => graphOf(modes[m]);
  const renamesFor = (slot: SecretSlot, m: ConfigMode): boolean => {
    const c = contents[slot];
    return c !== undefined && c.json !== modes[m].json && renamesAny(c.graph, builtGraph(m));
  };
  const plan = planMigration({ migration: flags.migration, target, live, modes: modesNow, renames: renamesFor });
  const before = live === undefined ? undefined : contents[live.mount];
  if (plan.roll !== 'rename' || before === undefined) return { plan };
  const renamed = renameSummary(before.graph, builtGraph(target));
  const n = renamed.namespaces;
  plan.message =
    `${plan.message}: ${String(renamed.sources)} source rename(s) over ${String(n)} namespace(s) ` +
    `(${renamed.examples.join(', ')}${renamed.sources > renamed.examples.length ? ', …' : ''}); ` +
    'each agent pod runs checkpoint-merger before Vector sees the new source ids';
  return { plan, renamed };
}

/** The config Secrets the step writes, mounted one first, and the problems that forbid writing them. */
function configSecrets(
  vector: Vector,
  plan: MigrationPlan,
  modesNow: Partial<Record<SecretSlot, ConfigMode>>,
  modes: ModeBuilds,
  contents: Contents,
  memo: BuildMemo | undefined,
): { secrets: V1Secret[]; mountedJson: string | undefined; problems: string[] } {
  const writes: [SecretSlot, ConfigMode, string][] = [];
  const problems: string[] = [];
  for (const slot of ['agent', 'opt'] as const) {
    const w = plan[slot];
    if (w === 'legacy' || w === 'optimized') {
      writes.push([slot, w, modes[w].json]);
      for (const p of modes[w].problems) problems.push(`${w} config: ${p.kind}.${p.component}: ${p.message}`);
    } else if (w === 'keep') {
      // Desired with exactly its live content (checked when it was written), so the apply finds it up to date.
      writes.push([slot, modesNow[slot] as ConfigMode, contents[slot]?.json ?? '']);
    }
  }
  const unique = [...new Set(problems)];
  // Mounted Secret first, then the standby: the template never references a Secret that is not written yet.
  writes.sort((a, b) => (a[0] === plan.mount ? -1 : b[0] === plan.mount ? 1 : 0));
  const secrets = writes.map(([slot, mode, json]) => modeSecret(vector, slot, mode, json, memo));
  for (const s of secrets) {
    const tooBig = secretSizeProblem(vector, s);
    if (tooBig !== undefined) unique.push(tooBig);
  }
  const mountedJson = writes[0]?.[0] === plan.mount ? writes[0][2] : undefined;
  return { secrets, mountedJson, problems: unique };
}

/** The agent DaemonSet for the step: the mounted Secret, the merger with migration, the grace and the globals stamp. */
function daemonSetFor(
  vector: Vector,
  flags: OperatorFlags,
  plan: MigrationPlan,
  observed: Observed,
): { ds: V1DaemonSet; globalConfigHash: number | undefined } {
  const standby = plan.mount === 'agent' ? 'opt' : 'agent';
  const merger = flags.migration
    ? {
        image: flags.mergerImage,
        standbySecretName: slotSecretName(vector, standby),
        ...(flags.mergerPositionPolicy === 'max' ? { positionPolicy: 'max' as const } : {}),
      }
    : undefined;
  const ds = agentDaemonSet(vector, slotSecretName(vector, plan.mount), merger, flags.leastPrivilege === true);
  const grace = agentTerminationGrace(vector.spec.agent ?? {}, flags.migration, flags.terminationGraceSeconds);
  const podSpec = ds.spec?.template.spec;
  if (grace !== undefined && podSpec !== undefined) podSpec.terminationGracePeriodSeconds = grace;
  const globals = globalsStep(
    vector.spec.agent,
    observed.globalConfigHash,
    observed.daemonSet,
    plan[plan.mount] !== 'keep',
  );
  stampTemplate(ds, globals.stamp);
  return { ds, globalConfigHash: globals.record };
}

/** Objects that must not exist: the `-agent-opt` Secret once free, the Service and PodMonitor when turned off. */
function deletionsFor(
  vector: Vector,
  plan: MigrationPlan,
  rest: readonly AgentObject[],
  podMonitor: boolean,
): ObjectRef[] {
  const ns = vector.metadata.namespace;
  const deletions: ObjectRef[] = [];
  if (plan.opt === 'delete')
    deletions.push({ apiVersion: 'v1', kind: 'Secret', name: slotSecretName(vector, 'opt'), namespace: ns });
  if (!rest.some((o) => o.kind === 'Service'))
    deletions.push({ apiVersion: 'v1', kind: 'Service', name: agentName(vector), namespace: ns });
  if (podMonitor && !rest.some((o) => o.kind === 'PodMonitor'))
    deletions.push({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      name: agentName(vector),
      namespace: ns,
    });
  return deletions;
}

/**
 * Everything the operator wants for one Vector, from the Vector, its pipelines, the flags and the observed Secrets
 * and DaemonSet. `memo` (the controller's) reuses the last build and encoded payloads when their inputs are the same
 * objects; the result is the same with or without it.
 */
export function desiredState(
  vector: Vector,
  pipelines: readonly Pipeline[],
  flags: OperatorFlags,
  observed: Observed,
  memo?: BuildMemo,
): DesiredState {
  const target: ConfigMode = flags.optimize && !isOptedOut(vector.metadata.annotations) ? 'optimized' : 'legacy';
  const live = liveRollout(vector, observed.daemonSet);
  // Build the optimized mode even for a Vector that opts out: pods still mounting an optimized Secret keep it.
  const opts = {
    optimize: true,
    secrets: observed.secretValues ?? secretSourceOf([]),
    assetsObjectBytes: assetsObjectBytes(vector, flags.migration),
    ...(flags.policy === undefined ? {} : { policy: flags.policy }),
    ...(flags.maxNamespacesPerSource === undefined ? {} : { maxNamespacesPerSource: flags.maxNamespacesPerSource }),
  };
  const key = `${vector.metadata.namespace}/${vector.metadata.name}`;
  const modes =
    memo === undefined
      ? buildModes(withoutOptOut(vector), pipelines, opts)
      : memo.modes(key, withoutOptOut(vector), pipelines, opts);
  const compress = vector.spec.agent?.compressConfigFile === true;
  const written = (b64: string): LiveConfig => {
    if (memo === undefined) return undefined;
    const b = [modes.optimized, modes.legacy].find((m) => memo.payload(m.json, compress) === b64);
    return b === undefined ? undefined : { json: b.json, graph: graphOf(b) };
  };
  // Renames matter only with migration on: without it nothing is parsed.
  const contents: Contents = flags.migration
    ? { agent: liveGraph(observed.secrets.agent, written), opt: liveGraph(observed.secrets.opt, written) }
    : { agent: undefined, opt: undefined };
  const modesNow = { agent: secretMode(observed.secrets.agent), opt: secretMode(observed.secrets.opt) };
  const { plan, renamed } = migrationStepFor(flags, target, live, modesNow, modes, contents);
  const { secrets, mountedJson, problems } = configSecrets(vector, plan, modesNow, modes, contents, memo);
  const { ds, globalConfigHash } = daemonSetFor(vector, flags, plan, observed);
  const assets = assetsStep(vector, plan, modes[plan.servedMode].result.secretAssets, {
    data: observed.assets ?? {},
    configUnchanged: secrets.every((x) => sameConfig(x, observed.secrets)),
    sincePublishedMs: observed.sincePublishedMs,
    ...(flags.assetsPruneGraceMs === undefined ? {} : { graceMs: flags.assetsPruneGraceMs }),
  });
  if (assets.mount !== undefined) mountSecretAssets(ds, vector, assets.mount);
  const ns = vector.metadata.namespace;
  const rest = agentObjects(vector, '').filter(
    (o) => o.kind !== 'Secret' && o.kind !== 'DaemonSet' && (flags.podMonitor || o.kind !== 'PodMonitor'),
  );
  return {
    ok: problems.length === 0,
    problems,
    assets: assets.writes,
    objects: [...secrets, ds, ...rest],
    deletions: [
      ...deletionsFor(vector, plan, rest, flags.podMonitor),
      ...assets.deletions.map((name) => ({ apiVersion: 'v1', kind: 'Secret', name, namespace: ns })),
    ],
    plan,
    target,
    served: modes[plan.servedMode].result,
    rolling: live !== undefined && (!live.complete || live.mount !== plan.mount),
    mountedJson,
    globalConfigHash,
    ...(renamed === undefined ? {} : { renamed }),
    ...(assets.requeueAfterMs === undefined ? {} : { requeueAfterMs: assets.requeueAfterMs }),
  };
}
