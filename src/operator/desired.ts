/**
 * The full desired state of one Vector's agent, from plain inputs: the Vector, its candidate pipelines, the operator
 * flags and what the cluster shows (live DaemonSet, live config Secrets). No client, no I/O.
 *
 * Invariants:
 * - Both modes' configs are built; every config that this step writes must pass the structural graph check, or
 *   nothing is written at all (`ok: false`) and the running agents keep their last good config.
 * - Secret names and modes come from the migration state machine (migration.ts); each config Secret records its mode
 *   in the `config-mode` annotation, so the next reconcile reads it back instead of guessing.
 * - Objects are returned in write order: config Secrets before the DaemonSet that mounts them, then RBAC and Service.
 * - With migration off the DaemonSet is exactly objects.ts' (no init container, the `<v>-agent` Secret).
 */
import type { V1DaemonSet, V1Secret } from '@kubernetes/client-node';
import type { BuildResult } from '../pipelines/build.ts';
import { buildModes, type ModeBuild } from '../pipelines/modes.ts';
import type { PipelinePolicy } from '../pipelines/policy.ts';
import { isOptedOut, optimizationAnnotation } from '../pipelines/pipeline.ts';
import type { Pipeline, Vector } from '../pipelines/schemas.ts';
import { configPayloadText } from '../vector/config-payload.ts';
import {
  planMigration,
  rolloutComplete,
  type ConfigMode,
  type LiveRollout,
  type MigrationPlan,
  type SecretSlot,
} from './migration.ts';
import { agentTerminationGrace } from './agent-grace.ts';
import { agentDaemonSet, agentName, agentObjects, configKey, configSecret, type AgentObject } from './objects.ts';

export const configModeAnnotation = 'vector-operator.kaasops.io/config-mode';

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
}

export interface Observed {
  daemonSet: V1DaemonSet | undefined;
  secrets: Partial<Record<SecretSlot, V1Secret>>;
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
  objects: AgentObject[];
  /** Objects that must not exist (the `-agent-opt` Secret once free, the Service with the API off). */
  deletions: ObjectRef[];
  plan: MigrationPlan;
  target: ConfigMode;
  /** The build of the served mode (summary, rejected pipelines). */
  served: BuildResult;
  /** Whether the live template still awaits its rollout (for status). */
  rolling: boolean;
}

function secretName(vector: Vector, slot: SecretSlot): string {
  return slot === 'agent' ? agentName(vector) : `${agentName(vector)}-opt`;
}

/** The mode a live config Secret holds: its annotation, else (written before the annotation existed) its content. */
export function secretMode(secret: V1Secret | undefined): ConfigMode | undefined {
  if (secret === undefined) return undefined;
  const recorded = secret.metadata?.annotations?.[configModeAnnotation];
  if (recorded === 'legacy' || recorded === 'optimized') return recorded;
  const b64 = secret.data?.[configKey];
  if (b64 === undefined) return 'legacy';
  // A collapsed source is the only thing that tells the modes apart; without one both modes are the same bytes.
  return configPayloadText(Buffer.from(b64, 'base64')).includes('"optimizedSource-') ? 'optimized' : 'legacy';
}

export function liveRollout(vector: Vector, ds: V1DaemonSet | undefined): LiveRollout | undefined {
  if (ds === undefined) return undefined;
  const volumes = ds.spec?.template.spec?.volumes ?? [];
  const volumeName = vector.spec.agent?.compressConfigFile === true ? 'app-config-compress' : 'config';
  const mounted = volumes.find((v) => v.name === volumeName)?.secret?.secretName;
  const mount: SecretSlot = mounted === secretName(vector, 'opt') ? 'opt' : 'agent';
  const status = ds.status;
  return {
    mount,
    complete: rolloutComplete({
      generation: ds.metadata?.generation,
      observedGeneration: status?.observedGeneration,
      desiredNumberScheduled: status?.desiredNumberScheduled,
      updatedNumberScheduled: status?.updatedNumberScheduled,
      numberAvailable: status?.numberAvailable,
    }),
  };
}

function withoutOptOut(vector: Vector): Vector {
  if (!isOptedOut(vector.metadata.annotations)) return vector;
  const annotations = Object.fromEntries(
    Object.entries(vector.metadata.annotations ?? {}).filter(([k]) => k !== optimizationAnnotation),
  );
  return { ...vector, metadata: { ...vector.metadata, annotations } };
}

function modeSecret(vector: Vector, slot: SecretSlot, mode: ConfigMode, build: ModeBuild): V1Secret {
  const s = configSecret(vector, build.json, secretName(vector, slot));
  const meta = s.metadata ?? {};
  meta.annotations = { ...(meta.annotations ?? {}), [configModeAnnotation]: mode };
  s.metadata = meta;
  return s;
}

export function desiredState(
  vector: Vector,
  pipelines: readonly Pipeline[],
  flags: OperatorFlags,
  observed: Observed,
): DesiredState {
  const target: ConfigMode = flags.optimize && !isOptedOut(vector.metadata.annotations) ? 'optimized' : 'legacy';
  const live = liveRollout(vector, observed.daemonSet);
  const plan = planMigration({
    migration: flags.migration,
    target,
    live,
    modes: { agent: secretMode(observed.secrets.agent), opt: secretMode(observed.secrets.opt) },
  });
  // Build the optimized mode even for a Vector that opts out: pods still mounting an optimized Secret keep it.
  const modes = buildModes(withoutOptOut(vector), pipelines, {
    optimize: true,
    ...(flags.policy === undefined ? {} : { policy: flags.policy }),
  });
  const byMode: Record<ConfigMode, ModeBuild> = { optimized: modes.active, legacy: modes.standby };

  const writes: [SecretSlot, ConfigMode][] = [['agent', plan.agent]];
  if (plan.opt === 'legacy' || plan.opt === 'optimized') writes.push(['opt', plan.opt]);
  const problems: string[] = [];
  for (const [, mode] of writes) {
    for (const p of byMode[mode].problems) problems.push(`${mode} config: ${p.kind}.${p.component}: ${p.message}`);
  }
  const uniqueProblems = [...new Set(problems)];

  // Mounted Secret first, then the standby: the template never references a Secret that is not written yet.
  writes.sort((a, b) => (a[0] === plan.mount ? -1 : b[0] === plan.mount ? 1 : 0));
  const secrets = writes.map(([slot, mode]) => modeSecret(vector, slot, mode, byMode[mode]));
  const standby = plan.mount === 'agent' ? 'opt' : 'agent';
  const merger = flags.migration
    ? {
        image: flags.mergerImage,
        standbySecretName: secretName(vector, standby),
        ...(flags.mergerPositionPolicy === 'max' ? { positionPolicy: 'max' as const } : {}),
      }
    : undefined;
  const ds = agentDaemonSet(vector, secretName(vector, plan.mount), merger, flags.leastPrivilege === true);
  const grace = agentTerminationGrace(vector.spec.agent ?? {}, flags.migration, flags.terminationGraceSeconds);
  const podSpec = ds.spec?.template.spec;
  if (grace !== undefined && podSpec !== undefined) podSpec.terminationGracePeriodSeconds = grace;
  const rest = agentObjects(vector, '').filter(
    (o) => o.kind !== 'Secret' && o.kind !== 'DaemonSet' && (flags.podMonitor || o.kind !== 'PodMonitor'),
  );
  const ns = vector.metadata.namespace;
  const deletions: ObjectRef[] = [];
  if (plan.opt === 'delete')
    deletions.push({ apiVersion: 'v1', kind: 'Secret', name: secretName(vector, 'opt'), namespace: ns });
  if (!rest.some((o) => o.kind === 'Service'))
    deletions.push({ apiVersion: 'v1', kind: 'Service', name: agentName(vector), namespace: ns });
  if (flags.podMonitor && !rest.some((o) => o.kind === 'PodMonitor'))
    deletions.push({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      name: agentName(vector),
      namespace: ns,
    });

  return {
    ok: uniqueProblems.length === 0,
    problems: uniqueProblems,
    objects: [...secrets, ds, ...rest],
    deletions,
    plan,
    target,
    served: byMode[plan.servedMode].result,
    rolling: live !== undefined && (!live.complete || live.mount !== plan.mount),
  };
}
