/**
 * `plan --enable-checkpoint-migration`: what the operator writes with checkpoint migration, and what enabling
 * optimization and rolling it back then do, replayed through the operator's own builder (`desiredState`) on a
 * cluster that starts with none of the Vector's objects.
 *
 * Invariants:
 * - Pure: the steps are desiredState over the previous step's objects, each rollout taken as complete. The objects
 *   are the ones `render --objects --enable-checkpoint-migration` prints for the same flags.
 * - A step that rolls the agents says why (the rename summary the operator puts in its Event); a step that renames
 *   nothing says the agents live-reload.
 */
import type { V1DaemonSet, V1Secret } from '@kubernetes/client-node';
import { desiredState, type DesiredState, type OperatorFlags } from '../operator/desired.ts';
import { configModeAnnotation } from '../operator/live-state.ts';
import type { Pipeline, Vector } from '../pipelines/schemas.ts';

export interface MigrationSecret {
  name: string;
  mode: string;
  role: 'mounted' | 'standby';
}

export interface MigrationStep {
  /** The Secret the template mounts after the step. */
  mountedSecret: string;
  /** Whether the step changes the pod template, so the agents roll. */
  rolls: boolean;
  message: string;
}

export interface MigrationPreview {
  secrets: MigrationSecret[];
  mergerImage: string;
  enable: MigrationStep;
  rollback: MigrationStep;
}

function secretsOf(d: DesiredState): MigrationSecret[] {
  return d.objects
    .filter((o): o is V1Secret => o.kind === 'Secret')
    .map((s, i) => ({
      name: s.metadata?.name ?? '',
      mode: s.metadata?.annotations?.[configModeAnnotation] ?? '',
      role: i === 0 ? 'mounted' : 'standby',
    }));
}

/** What the cluster shows once `d` is applied and its rollout completed. */
function appliedState(d: DesiredState): Parameters<typeof desiredState>[3] {
  const ds = structuredClone(d.objects.find((o) => o.kind === 'DaemonSet') as V1DaemonSet);
  ds.metadata = Object.assign({}, ds.metadata, { generation: 1 });
  ds.status = {
    observedGeneration: 1,
    desiredNumberScheduled: 1,
    currentNumberScheduled: 1,
    updatedNumberScheduled: 1,
    numberAvailable: 1,
    numberMisscheduled: 0,
    numberReady: 1,
  };
  const secrets = d.objects.filter((o): o is V1Secret => o.kind === 'Secret');
  const slot = (name: string | undefined): 'agent' | 'opt' => (name?.endsWith('-opt') === true ? 'opt' : 'agent');
  return { daemonSet: ds, secrets: Object.fromEntries(secrets.map((s) => [slot(s.metadata?.name), s])) };
}

function step(before: DesiredState, after: DesiredState): MigrationStep {
  const template = (d: DesiredState): string =>
    JSON.stringify((d.objects.find((o) => o.kind === 'DaemonSet') as V1DaemonSet).spec?.template);
  const rolls = template(before) !== template(after);
  const mountedSecret = after.objects[0]?.metadata?.name ?? '';
  const message = rolls
    ? `the template switches to Secret ${mountedSecret} and the agents roll once; ${after.plan.message}`
    : `no source renames: Secret ${mountedSecret} is rewritten and the agents live-reload it, no rollout`;
  return { mountedSecret, rolls, message };
}

export function previewMigration(
  vector: Vector,
  pipelines: readonly Pipeline[],
  flags: Omit<OperatorFlags, 'podMonitor'>,
): MigrationPreview | { problems: string[] } {
  const on = { ...flags, migration: true, podMonitor: true };
  const legacy = desiredState(vector, pipelines, { ...on, optimize: false }, { daemonSet: undefined, secrets: {} });
  if (!legacy.ok) return { problems: legacy.problems };
  const optimized = desiredState(vector, pipelines, { ...on, optimize: true }, appliedState(legacy));
  if (!optimized.ok) return { problems: optimized.problems };
  const back = desiredState(vector, pipelines, { ...on, optimize: false }, appliedState(optimized));
  if (!back.ok) return { problems: back.problems };
  return {
    secrets: secretsOf(legacy),
    mergerImage: flags.mergerImage,
    enable: step(legacy, optimized),
    rollback: step(optimized, back),
  };
}

export function formatMigration(p: MigrationPreview): string {
  const width = Math.max(...p.secrets.map((s) => s.name.length));
  return [
    '',
    'With checkpoint migration (--enable-checkpoint-migration), starting in the legacy mode (turning the flag on',
    'rolls the agents once: the template gains the merger):',
    ...p.secrets.map((s) => `  Secret ${s.name.padEnd(width)}  ${s.mode.padEnd(9)}  ${s.role}`),
    `  DaemonSet: init container checkpoint-merger (${p.mergerImage}) before Vector, the standby Secret mounted read-only`,
    `Enabling optimization: ${p.enable.message}`,
    `Rolling back: ${p.rollback.message}`,
    '',
  ].join('\n');
}
