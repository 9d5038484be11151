/**
 * Status of Vectors and pipelines, built by plain functions from a reconcile's outcome.
 *
 * Invariants:
 * - A condition's `lastTransitionTime` changes only when its `status` changes; otherwise the live one is kept, so a
 *   reconcile that changes nothing produces a status equal to the live one, and writes nothing.
 * - kaasops' fields are kept (`configCheckResult`, `reason`, `role`) beside conditions; `reason` is the empty string
 *   on success, so a stale failure reason is cleared by the merge patch.
 * - `now` is passed in: these functions are deterministic.
 */
import { crc32 } from 'node:zlib';
import type { Condition, MigrationStatus, PipelineStatus, VectorStatus } from '../pipelines/schemas.ts';
import type { DesiredState } from './desired.ts';
import type { MigrationCounts } from './migration-status.ts';
import { checkErrorReason, checkFailedReason, type PipelineCheck } from './pipeline-checks.ts';
import type { PipelineVerdict } from './validate.ts';

/** The `Valid` condition's reason when the tenant policy refused the pipeline. */
const policyViolationReason = 'PolicyViolation';
/**
 * Present only on a pipeline whose policy violations are kept flowing (warn mode): `False`, reason `Tolerated`. Absent
 * otherwise, so pipelines the policy does not concern keep their status byte for byte.
 */
export const policyConditionType = 'PolicyCompliant';
const toleratedReason = 'Tolerated';

export function condition(
  live: readonly Condition[] | undefined,
  c: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition {
  const prev = live?.find((x) => x.type === c.type);
  const lastTransitionTime =
    prev?.status === c.status && prev.lastTransitionTime !== undefined ? prev.lastTransitionTime : now;
  return { ...c, lastTransitionTime };
}

/** The Valid condition's reason and message for a structurally valid pipeline, from its pod check if one ran. */
function checkedValidity(verdict: PipelineVerdict, check: PipelineCheck | undefined): [boolean, string, string] {
  if (!verdict.valid)
    return [false, verdict.policyRefused === true ? policyViolationReason : 'Invalid', verdict.reason];
  if (check !== undefined && check.result !== 'valid')
    return [false, check.result === 'invalid' ? checkFailedReason : checkErrorReason, check.reason];
  if (verdict.role === 'aggregator') return [true, 'AggregatorPipeline', 'an aggregator pipeline: agents skip it'];
  const how =
    check === undefined ? 'its graph is complete' : 'vector validate accepts it on every Vector that selects it';
  return [true, 'Valid', `the pipeline compiles and ${how}`];
}

/**
 * A pipeline's status from its structural verdict and, when pods checked it, their outcome (`check`); `hash` is
 * recorded as `LastAppliedPipelineHash` whatever the outcome ("last checked", as kaasops writes it).
 */
export function pipelineStatus(
  verdict: PipelineVerdict,
  generation: number | undefined,
  live: PipelineStatus | undefined,
  now: string,
  checked: { hash?: number; check?: PipelineCheck } = {},
): PipelineStatus {
  const [valid, reason, message] = checkedValidity(verdict, checked.check);
  const status: PipelineStatus = {
    configCheckResult: valid,
    reason: valid ? '' : message,
    conditions: [
      condition(
        live?.conditions,
        {
          type: 'Valid',
          status: valid ? 'True' : 'False',
          reason,
          message,
          ...(generation === undefined ? {} : { observedGeneration: generation }),
        },
        now,
      ),
    ],
  };
  if (checked.hash !== undefined) status.LastAppliedPipelineHash = checked.hash;
  if (verdict.tolerated !== undefined) {
    status.conditions?.push(
      condition(
        live?.conditions,
        {
          type: policyConditionType,
          status: 'False',
          reason: toleratedReason,
          message: `unsafe for a namespaced pipeline, kept only because the operator runs with --pipeline-policy=warn: ${verdict.tolerated.join('; ')}`,
          ...(generation === undefined ? {} : { observedGeneration: generation }),
        },
        now,
      ),
    );
  }
  if (verdict.role !== undefined) status.role = verdict.role;
  if (generation !== undefined) status.observedGeneration = generation;
  return status;
}

export interface VectorOutcome {
  desired: DesiredState;
  generation: number | undefined;
  migrationFlag: boolean;
  counts: MigrationCounts | undefined;
  /** The mounted config's agent.json, when it passed. */
  mountedJson: string | undefined;
  /** Set when this reconcile wrote a config Secret. */
  published: boolean;
  /** Set when the configcheck pod refused (or could not check) a config: nothing was published. */
  checkFailure?: string;
}

export function vectorStatus(o: VectorOutcome, live: VectorStatus | undefined, now: string): VectorStatus {
  const d = o.desired;
  const ok = d.ok && o.checkFailure === undefined;
  const gen = o.generation === undefined ? {} : { observedGeneration: o.generation };
  const rejected = d.served.rejected.map(
    (r) =>
      `${r.pipeline.kind} ${r.pipeline.namespace === '' ? '' : `${r.pipeline.namespace}/`}${r.pipeline.name}: ${r.field}: ${r.reason}`,
  );
  const reason = !d.ok
    ? d.problems.join('; ')
    : o.checkFailure !== undefined
      ? `configcheck: ${o.checkFailure}`
      : rejected.length > 0
        ? `pipelines left out: ${rejected.join('; ')}`
        : '';
  const conditions: Condition[] = [
    condition(
      live?.conditions,
      {
        type: 'ConfigValid',
        status: ok ? 'True' : 'False',
        reason: ok
          ? rejected.length > 0
            ? 'PipelinesLeftOut'
            : 'Valid'
          : d.ok
            ? 'ConfigCheckFailed'
            : 'InvalidConfig',
        message: ok ? (rejected.length > 0 ? reason : 'both modes pass the structural check') : reason,
        ...gen,
      },
      now,
    ),
    condition(
      live?.conditions,
      {
        type: 'Ready',
        status: d.rolling ? 'False' : 'True',
        reason: d.rolling ? 'RollingOut' : 'RolledOut',
        message: d.rolling
          ? `the agent DaemonSet is rolling${d.plan.message === '' ? '' : `: ${d.plan.message}`}`
          : 'every agent pod runs the current template',
        ...gen,
      },
      now,
    ),
  ];
  const status: VectorStatus = { configCheckResult: ok, reason, conditions, ...gen };
  if (ok) {
    status.optimization = {
      collapsedSources: d.served.optimization.collapsedSources,
      optimizedSources: d.served.optimization.groups.length,
    };
  }
  if (o.mountedJson !== undefined) status.LastAppliedConfigHash = crc32(o.mountedJson);
  // Recorded only when this reconcile applied its objects (the stamp among them); otherwise the live record stays,
  // so a change held back (an invalid config) still stamps once it is applied.
  const globals = ok ? d.globalConfigHash : live?.LastAppliedGlobalConfigHash;
  if (globals !== undefined) status.LastAppliedGlobalConfigHash = globals;
  const published = o.published ? now : live?.lastConfigPublishedAt;
  if (published !== undefined) status.lastConfigPublishedAt = published;
  if (o.migrationFlag || d.plan.opt === 'optimized' || d.plan.opt === 'legacy')
    status.migration = migrationStatus(d, o.counts, live);
  return status;
}

/** `status.migration`: the served mode, the Secrets, the phase and why, and the merger's counts per node. */
function migrationStatus(
  d: DesiredState,
  counts: MigrationCounts | undefined,
  live: VectorStatus | undefined,
): MigrationStatus {
  // The step that switched Secrets said why the agents roll; the reconciles during the rollout keep saying it.
  const rollingOn = d.plan.phase === 'Rolling' && d.plan.roll === undefined && live?.migration?.phase === 'Rolling';
  const m: MigrationStatus = {
    mode: d.plan.servedMode,
    mountedSecret: d.objects[0]?.metadata?.name ?? '',
    phase: d.plan.phase,
    message: rollingOn ? (live.migration?.message ?? d.plan.message) : d.plan.message,
  };
  const standby = d.objects.find((x) => x.kind === 'Secret' && x !== d.objects[0]);
  if (standby !== undefined) m.standbySecret = standby.metadata?.name ?? '';
  if (counts !== undefined) {
    m.nodesMigrated = counts.nodesMigrated;
    m.nodesPending = counts.nodesPending;
    m.nodesFailed = counts.nodesFailed;
    m.checkpointsCarried = counts.checkpointsCarried;
  }
  return m;
}
