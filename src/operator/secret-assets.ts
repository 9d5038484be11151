/**
 * The agent's secret-assets Secrets: the values the config's `SECRET[k8s.<key>]` references stand for, mounted at
 * `/etc/vector/secrets` in the vector container (docs/secrets.md).
 *
 * Invariants:
 * - Named after the config Secret they serve, `<config Secret>-secret-assets`: `<v>-agent-secret-assets`, and under
 *   checkpoint migration `<v>-agent-opt-secret-assets` for the other slot, so a slot switch switches both. The
 *   `-opt` one is deleted whenever its config Secret is (migration off).
 * - Labels, annotations and owner reference are the config Secret's (objects.ts), so they are cached, mapped to their
 *   Vector and garbage-collected with it like every agent object.
 * - A Secret with no data is not written but deleted, and the pod template gets the `secret-assets` volume and mount
 *   only while the mounted slot's assets are non-empty: the template of a Vector without secrets is byte for byte
 *   what it was before secrets existed, so an operator upgrade rolls no agent.
 * - The volume and mount are authoritative (kaasops' rule): a user volume named `secret-assets`, or a user mount of that
 *   name or at `/etc/vector/secrets`, is replaced; the volume goes last, the mount in the vector container only.
 * - Values never go anywhere else: not into the config, not into a log line, not into a status.
 */
import type { V1DaemonSet, V1Secret } from '@kubernetes/client-node';
import type { Vector } from '../pipelines/schemas.ts';
import { secretsMountPath } from '../pipelines/secrets.ts';
import type { SecretSlot } from './migration.ts';
import { agentName, configSecret } from './objects.ts';

const volumeName = 'secret-assets';

function assetsSecretName(configSecretName: string): string {
  return `${configSecretName}-secret-assets`;
}

export function slotSecretName(vector: Vector, slot: SecretSlot): string {
  return slot === 'agent' ? agentName(vector) : `${agentName(vector)}-opt`;
}

/** Flat key -> value, as a Secret's base64 `data`, keys sorted so the object is the same for the same values. */
function assetsData(values: ReadonlyMap<string, Uint8Array>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const k of [...values.keys()].sort()) data[k] = Buffer.from(values.get(k) as Uint8Array).toString('base64');
  return data;
}

/** The assets Secret of `slot` holding `data` (base64 values); the caller writes it only when `data` is non-empty. */
function assetsSecret(vector: Vector, slot: SecretSlot, data: Record<string, string>): V1Secret {
  // The config Secret's metadata, without its config: the same labels, annotations and owner reference.
  const s = configSecret(vector, '', assetsSecretName(slotSecretName(vector, slot)), '');
  s.data = data;
  return s;
}

/** Adds the `secret-assets` volume (last) and its mount (vector container only) to `ds`, replacing the user's. */
export function mountSecretAssets(ds: V1DaemonSet, vector: Vector, secretName: string): void {
  const pod = ds.spec?.template.spec;
  if (pod === undefined) return;
  pod.volumes = [
    ...(pod.volumes ?? []).filter((v) => v.name !== volumeName),
    { name: volumeName, secret: { secretName } },
  ];
  const c = pod.containers.find((x) => x.name === agentName(vector));
  if (c === undefined) return;
  const mounts = (c.volumeMounts ?? []).filter((m) => m.name !== volumeName && m.mountPath !== secretsMountPath);
  c.volumeMounts = [...mounts, { name: volumeName, mountPath: secretsMountPath }];
}

/** What one step does with the assets Secrets: the ones to write (before any config), to delete, and to mount. */
export interface AssetsStep {
  writes: V1Secret[];
  /** Names of assets Secrets that must not exist. */
  deletions: string[];
  /** The assets Secret the template mounts, when the mounted slot has values. */
  mount: string | undefined;
}

/**
 * Each slot whose config Secret exists after this step (written or kept) gets the assets; the others lose theirs.
 * `plan` is the migration step (migration.ts): `delete` and `absent` mean the `-opt` config Secret does not exist.
 */
export function assetsStep(
  vector: Vector,
  plan: Readonly<Record<SecretSlot, string>> & { mount: SecretSlot },
  values: ReadonlyMap<string, Uint8Array>,
): AssetsStep {
  const data = assetsData(values);
  const empty = Object.keys(data).length === 0;
  const step: AssetsStep = { writes: [], deletions: [], mount: undefined };
  for (const slot of ['agent', 'opt'] as const) {
    const exists = plan[slot] !== 'delete' && plan[slot] !== 'absent';
    if (exists && !empty) step.writes.push(assetsSecret(vector, slot, data));
    else step.deletions.push(assetsSecretName(slotSecretName(vector, slot)));
  }
  if (!empty) step.mount = assetsSecretName(slotSecretName(vector, plan.mount));
  return step;
}
