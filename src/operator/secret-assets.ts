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
import type { V1DaemonSet, V1ObjectMeta, V1PodSpec, V1Secret } from '@kubernetes/client-node';
import type { Vector } from '../pipelines/schemas.ts';
import { assetsObjectBudget, dataEntryBytes, secretObjectBytes } from '../pipelines/secret-object-size.ts';
import { secretsMountPath } from '../pipelines/secrets.ts';
import type { SecretSlot } from './migration.ts';
import { agentName, configKey, configSecret } from './objects.ts';

const volumeName = 'secret-assets';

export function assetsSecretName(configSecretName: string): string {
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

/**
 * The modelled size of `vector`'s assets Secret without data (pipelines/secret-object-size.ts), from its real
 * metadata: the `-opt` one's under migration (the longer name), so a pipeline that fits fits in both slots.
 */
export function assetsObjectBytes(vector: Vector, migration: boolean): number {
  return metadataObjectBytes(assetsSecret(vector, migration ? 'opt' : 'agent', {}).metadata ?? {});
}

/** The modelled size of an assets Secret with `meta` and no data, as kaasops counts it (secret-object-size.ts). */
export function metadataObjectBytes(meta: V1ObjectMeta): number {
  return secretObjectBytes({
    name: meta.name ?? '',
    namespace: meta.namespace ?? '',
    ...(meta.labels === undefined ? {} : { labels: meta.labels }),
    ...(meta.annotations === undefined ? {} : { annotations: meta.annotations }),
    ...(meta.ownerReferences === undefined ? {} : { ownerReferences: meta.ownerReferences }),
  });
}

/** Adds the `secret-assets` volume (last) and its mount (vector container only) to `ds`, replacing the user's. */
export function mountSecretAssets(ds: V1DaemonSet, vector: Vector, secretName: string): void {
  const pod = ds.spec?.template.spec;
  if (pod !== undefined) mountAssets(pod, agentName(vector), secretName);
}

/** The same on any pod spec (an aggregator's): the volume last, the mount in container `container` only. */
export function mountAssets(pod: V1PodSpec, container: string, secretName: string): void {
  pod.volumes = [
    ...(pod.volumes ?? []).filter((v) => v.name !== volumeName),
    { name: volumeName, secret: { secretName } },
  ];
  const c = pod.containers.find((x) => x.name === container);
  if (c === undefined) return;
  const mounts = (c.volumeMounts ?? []).filter((m) => m.name !== volumeName && m.mountPath !== secretsMountPath);
  c.volumeMounts = [...mounts, { name: volumeName, mountPath: secretsMountPath }];
}

/**
 * kaasops' prune grace: how long after a config was published an assets key it no longer names may still be needed.
 * The kubelet projected a changed Secret 46 to 60 s after the write on kind (kaasops' docs/secrets.md), and a pod that
 * restarts before its new config arrives still runs the old one, which names the old keys.
 */
const pruneGraceMs = 90_000;

/** What the cluster shows that the prune decision needs. */
export interface AssetsLive {
  /** Each slot's live assets Secret data (base64 values); absent when that Secret does not exist. */
  data: Partial<Record<SecretSlot, Readonly<Record<string, string>>>>;
  /** Whether every config Secret of this step already holds exactly what it would write (no publish this round). */
  configUnchanged: boolean;
  /** Milliseconds since `status.lastConfigPublishedAt`; undefined when none is recorded. */
  sincePublishedMs: number | undefined;
  /** The grace; `pruneGraceMs` when absent. */
  graceMs?: number;
}

/**
 * Whether a slot may drop keys now (write its exact target) or must keep the union of old and new keys (the bridge),
 * and when to look again. A step that drops nothing (a rotation, a key added) is never delayed. A drop waits until the
 * config is unchanged this round and the grace since its last publish has passed, anchored to the recorded time so that
 * every reconcile computes the same deadline.
 */
function pruneDecision(wouldDrop: boolean, live: AssetsLive): { prune: boolean; requeueAfterMs?: number } {
  if (!wouldDrop) return { prune: true };
  // The config Secret write this round wakes the next reconcile, which starts the grace from its timestamp.
  if (!live.configUnchanged) return { prune: false };
  const grace = live.graceMs ?? pruneGraceMs;
  if (live.sincePublishedMs === undefined) return { prune: false, requeueAfterMs: grace };
  if (live.sincePublishedMs < grace) return { prune: false, requeueAfterMs: grace - live.sincePublishedMs };
  return { prune: true };
}

/** What one step does with the assets Secrets: the ones to write (before any config), to delete, and to mount. */
export interface AssetsStep {
  writes: V1Secret[];
  /** Names of assets Secrets that must not exist. */
  deletions: string[];
  /** The assets Secret the template mounts, when the mounted slot has values. */
  mount: string | undefined;
  /** Set while a slot keeps keys the new config no longer names: when to prune them. */
  requeueAfterMs?: number;
}

/**
 * Each slot whose config Secret exists after this step (written or kept) gets the assets, bridged (old keys kept,
 * new values winning) until `pruneDecision` lets it drop the old ones; a slot left with nothing is deleted, and one
 * whose config Secret does not exist (`delete`, `absent`: migration off) loses its assets at once.
 */
export function assetsStep(
  vector: Vector,
  plan: Readonly<Record<SecretSlot, string>> & { mount: SecretSlot },
  values: ReadonlyMap<string, Uint8Array>,
  live: AssetsLive,
): AssetsStep {
  const target = assetsData(values);
  const step: AssetsStep = { writes: [], deletions: [], mount: undefined };
  for (const slot of ['agent', 'opt'] as const) {
    const name = assetsSecretName(slotSecretName(vector, slot));
    const old = live.data[slot] ?? {};
    const exists = plan[slot] !== 'delete' && plan[slot] !== 'absent';
    const decision = pruneDecision(
      Object.keys(old).some((k) => !(k in target)),
      live,
    );
    const union = decision.prune ? target : sortedKeys({ ...old, ...target });
    // A union a Secret cannot hold would be refused, and hold back the config for good: prune early instead
    // (kaasops holds the new pipelines back instead, `secret assets waiting for room: `; docs/secrets.md says why not).
    const data = !exists ? {} : fits(vector, slot, union) ? union : target;
    if (exists && !decision.prune && decision.requeueAfterMs !== undefined)
      step.requeueAfterMs = Math.min(step.requeueAfterMs ?? Infinity, decision.requeueAfterMs);
    if (Object.keys(data).length === 0) step.deletions.push(name);
    else {
      step.writes.push(assetsSecret(vector, slot, data));
      if (slot === plan.mount) step.mount = name;
    }
  }
  return step;
}

/** What a Secret's data may hold (MaxSecretSize), counted over the decoded values. */
const maxAssetsBytes = 1024 * 1024;

/** Whether `slot`'s assets Secret can hold `data` (base64): 1 MiB of values, and kaasops' object budget. */
function fits(vector: Vector, slot: SecretSlot, data: Record<string, string>): boolean {
  return fitsBudgets(assetsObjectBytes(vector, slot === 'opt'), data);
}

/** Whether an assets Secret whose metadata models to `objectBytes` can hold `data` (base64), under both budgets. */
function fitsBudgets(objectBytes: number, data: Record<string, string>): boolean {
  let values = 0;
  let object = objectBytes;
  for (const [k, b64] of Object.entries(data)) {
    const n = Buffer.byteLength(b64, 'base64');
    values += n;
    object += dataEntryBytes(k, n);
  }
  return values <= maxAssetsBytes && object <= assetsObjectBudget;
}

function sortedKeys(data: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((k) => [k, data[k] as string]),
  );
}

/** Whether the live config Secret of `desired`'s slot already holds its payload (nothing is published to it). */
export function sameConfig(desired: V1Secret, live: Partial<Record<SecretSlot, V1Secret>>): boolean {
  const slot: SecretSlot = desired.metadata?.name?.endsWith('-opt') === true ? 'opt' : 'agent';
  return live[slot]?.data?.[configKey] === desired.data?.[configKey];
}

/**
 * The live side of the prune decision, as `Observed` takes it: each slot's assets data (by `live`, the controller's
 * cache lookup by name) and the time since the Vector's `lastConfigPublishedAt`.
 */
export function assetsRecord(
  live: (name: string) => { data?: Record<string, string> } | undefined,
  agentSecretName: string,
  lastConfigPublishedAt: string | undefined,
  now: string,
): { assets: Partial<Record<SecretSlot, Record<string, string>>>; sincePublishedMs?: number } {
  const assets: Partial<Record<SecretSlot, Record<string, string>>> = {};
  const agent = live(assetsSecretName(agentSecretName))?.data;
  const opt = live(assetsSecretName(`${agentSecretName}-opt`))?.data;
  if (agent !== undefined) assets.agent = agent;
  if (opt !== undefined) assets.opt = opt;
  const since = lastConfigPublishedAt === undefined ? NaN : Date.parse(now) - Date.parse(lastConfigPublishedAt);
  return Number.isNaN(since) ? { assets } : { assets, sincePublishedMs: Math.max(0, since) };
}

/**
 * The data of a workload's one assets Secret after this step (an aggregator's, which has no migration slots): the
 * exact `values`, or the bridge (old keys kept, new values winning) while `pruneDecision` holds the old keys, as
 * `assetsStep` decides it for each slot of an agent.
 */
export function bridgedAssets(
  values: ReadonlyMap<string, Uint8Array>,
  old: Readonly<Record<string, string>>,
  live: Omit<AssetsLive, 'data'>,
  objectBytes: number,
): { data: Record<string, string>; requeueAfterMs?: number } {
  const target = assetsData(values);
  const decision = pruneDecision(
    Object.keys(old).some((k) => !(k in target)),
    { ...live, data: {} },
  );
  const union = decision.prune ? target : sortedKeys({ ...old, ...target });
  const data = fitsBudgets(objectBytes, union) ? union : target;
  return decision.prune || decision.requeueAfterMs === undefined
    ? { data }
    : { data, requeueAfterMs: decision.requeueAfterMs };
}
