/**
 * Global options and the one agent restart a change of them needs.
 *
 * Vector's `--watch-config` reload applies components, not global options: a reload whose `expire_metrics_secs`
 * differs is refused, and the agents keep running the old config until they restart. kaasops therefore stamps the pod
 * template with `vector-operator.kaasops.io/restartedAt` = now when its status hash of the globals changes; the next
 * reconcile drops the stamp (a second rollout) and a failed retry stamps a new time (one more rollout per retry).
 *
 * Invariants:
 * - `globalConfigHash` is kaasops' `GetGlobalConfigHash` bit for bit: CRC-32 (IEEE) of Go's `json.Marshal` of a struct
 *   without JSON tags, `{"ExpireMetricsSecs":null}` or `{"ExpireMetricsSecs":<n>}`, as an int64. The status field
 *   `LastAppliedGlobalConfigHash` holds the same number in both operators, so a cutover sees no change.
 * - The stamp is derived from that hash (`globals-<hash>`), never from the clock: every retry, resync and operator
 *   restart computes the same value, so one change of the globals changes the template once.
 * - Without a change (no recorded hash, or the recorded one equal) the live template's stamp is kept as it is,
 *   kaasops' RFC3339 time included, and a template without one stays without: nothing rolls.
 * - The stamp goes on the pod template only, on a copy of its annotations: never on the DaemonSet's own metadata nor
 *   on any other object.
 */
import { crc32 } from 'node:zlib';
import type { V1DaemonSet } from '@kubernetes/client-node';
import type { AgentSpec } from '../pipelines/schemas.ts';

export const restartedAtAnnotation = 'vector-operator.kaasops.io/restartedAt';

/** kaasops' hash of the global options (only `expire_metrics_secs` is one). */
export function globalConfigHash(agent: AgentSpec | undefined): number {
  const secs = agent?.expireMetricsSecs;
  return crc32(`{"ExpireMetricsSecs":${secs === undefined ? 'null' : String(secs)}}`);
}

export interface GlobalsInput {
  /** The hash of the globals this build delivers to the pods. */
  hash: number;
  /** `status.LastAppliedGlobalConfigHash`: the globals the pods were last given; undefined before any. */
  applied: number | undefined;
  /** The live pod template's `restartedAt` annotation, if any. */
  liveStamp: string | undefined;
}

/** The `restartedAt` value the template should carry: a new one only when the applied globals differ. */
export function restartStamp(i: GlobalsInput): string | undefined {
  // A missing record (a first reconcile, a Vector written by an operator that never recorded it) is not a change:
  // the agents start with the current globals anyway.
  if (i.applied !== undefined && i.applied !== i.hash) return `globals-${String(i.hash)}`;
  return i.liveStamp;
}

/** The `restartedAt` annotation of a DaemonSet's pod template. */
function liveRestartStamp(ds: V1DaemonSet | undefined): string | undefined {
  return ds?.spec?.template.metadata?.annotations?.[restartedAtAnnotation];
}

export interface GlobalsStep {
  /** The `restartedAt` value for the pod template; undefined: none. */
  stamp: string | undefined;
  /** What `status.LastAppliedGlobalConfigHash` records once this step's objects are applied. */
  record: number | undefined;
}

/**
 * The globals part of one reconcile. `delivered` is false when the mounted config Secret keeps its content (checkpoint
 * migration holds back a build that would rename sources for its pods): those pods get no new globals, so nothing is
 * stamped and the record stays, until a step delivers them.
 */
export function globalsStep(
  agent: AgentSpec | undefined,
  applied: number | undefined,
  live: V1DaemonSet | undefined,
  delivered: boolean,
): GlobalsStep {
  const liveStamp = liveRestartStamp(live);
  if (!delivered) return { stamp: liveStamp, record: applied };
  const hash = globalConfigHash(agent);
  return { stamp: restartStamp({ hash, applied, liveStamp }), record: hash };
}

/** Puts `stamp` on the pod template of `ds` (a fresh annotation map: the others may share the Vector's). */
export function stampTemplate(ds: V1DaemonSet, stamp: string | undefined): void {
  const meta = ds.spec?.template.metadata;
  if (stamp === undefined || meta === undefined) return;
  meta.annotations = { ...(meta.annotations ?? {}), [restartedAtAnnotation]: stamp };
}
