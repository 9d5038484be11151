/**
 * Per-pipeline config checks, as kaasops runs them: for each workload that selects the pipeline (a Vector for an
 * agent pipeline; a VectorAggregator of its namespace or a ClusterVectorAggregator for an aggregator pipeline), a
 * config holding only that pipeline (with the workload's global options and internal metrics, in the mode a Vector
 * runs) is checked by `vector validate` in a pod, in the workload's namespace, with its image and configCheck
 * settings. The checks run in parallel; `configCheck.disabled` does not skip them (it gates the workload's own check
 * only).
 *
 * Invariants:
 * - Pure decisions (`recordedCheck`, `checkFailedFor`) are separate from the pods (`checkOnWorkloads`).
 * - A pipeline is checked again only when its hash (pipeline-hash.ts) differs from `status.LastAppliedPipelineHash`,
 *   or, with `--enable-reconciliation-invalid-pipelines`, while it is invalid. A recorded hash with a verdict is
 *   reused as is, whoever wrote it: a cutover from kaasops re-checks nothing.
 * - A check that could not conclude (timeout, pod deleted, API error) is an error, never a verdict: it is retried,
 *   and the pipeline keeps flowing meanwhile.
 * - Failure texts are kaasops': `agent <ns>/<name> config check failed: <vector's output>`, `agent <ns>/<name> build
 *   config failed: failed to build config: <error>` (`aggregator <ns>/<name> ...`, and `cluster aggregator /<name>
 *   ...` with kaasops' leading slash, for aggregators), and the bare error text for a check that could not conclude.
 */
import { buildAggregatorConfig } from '../pipelines/aggregator-build.ts';
import type { Aggregator } from '../pipelines/aggregator-schemas.ts';
import { buildAgentConfig } from '../pipelines/build.ts';
import { describeRejection, isOptedOut } from '../pipelines/pipeline.ts';
import type { PipelinePolicy } from '../pipelines/policy.ts';
import type { Pipeline, PipelineStatus, Vector } from '../pipelines/schemas.ts';
import { serializeConfig } from '../pipelines/serialize.ts';
import { aggregatorAssetsObjectBytes, aggregatorNamespace } from './aggregator-objects.ts';
import { vectorSubject, type CheckOutcome, type CheckSubject } from './configcheck.ts';
import type { SecretSource } from '../pipelines/secrets.ts';
import { attributedReason } from './secret-attribution.ts';
import type { KubeObject } from '../kube/client.ts';
import { cachedPipelineHash } from '../pipelines/pipeline-hash.ts';
import type { PipelineValidator } from './validate.ts';

/** The Valid condition's reasons for a pod check's outcome (the structural ones are in status.ts). */
export const checkFailedReason = 'ConfigCheckFailed';
export const checkErrorReason = 'ConfigCheckError';

export type PipelineCheck = { result: 'valid' } | { result: 'invalid' | 'error'; reason: string };

/** What runs one check pod (configcheck.ts's ConfigChecker). */
export interface Checker {
  check(
    subject: CheckSubject,
    configJson: string,
    assets?: Readonly<Record<string, string>>,
    fresh?: boolean,
  ): Promise<CheckOutcome>;
}

function validReason(status: PipelineStatus | undefined): string | undefined {
  return status?.conditions?.find((c) => c.type === 'Valid')?.reason;
}

/**
 * The verdict recorded for this hash, to reuse without a pod; undefined when the pipeline must be checked: a new
 * hash, no verdict, an error rather than a verdict, a structural failure (the structural check decides those), a
 * workload's attribution (a frozen `secret ...` prefix, which kaasops writes with the current hash), or an invalid
 * pipeline under `recheckInvalid`.
 */
export function recordedCheck(
  status: PipelineStatus | undefined,
  hash: number,
  recheckInvalid: boolean,
): PipelineCheck | undefined {
  if (status?.LastAppliedPipelineHash !== hash || status.configCheckResult === undefined) return undefined;
  if (status.configCheckResult) return { result: 'valid' };
  if (attributedReason(status.reason)) return undefined; // a workload left it out, no check refused it
  const reason = validReason(status);
  // No condition: kaasops wrote it, and its false is a check failure.
  if (recheckInvalid || (reason !== undefined && reason !== checkFailedReason)) return undefined;
  return { result: 'invalid', reason: status.reason ?? '' };
}

/**
 * Whether the pipeline's status says a configcheck pod refused its current spec: Vectors leave it out. Judged by
 * generation when the status records one (ours), so an edit that keeps the spec (labels, force-configcheck) keeps it
 * out while it is re-checked; else (kaasops' status) by the hash. A workload's attribution is no refusal: such a
 * pipeline re-enters every build, which decides it again.
 */
/**
 * Whether a workload of `role` may build `p` (cached as `obj`): not being deleted, valid on its own for that role,
 * and not refused by a configcheck pod as it is now. One still being checked is used: a refusal removes it later.
 */
export function buildable(
  obj: KubeObject,
  p: Pipeline,
  validator: PipelineValidator,
  role: 'agent' | 'aggregator',
): boolean {
  if (obj.metadata?.deletionTimestamp !== undefined) return false;
  const verdict = validator.verdict(p);
  if (!verdict.valid || verdict.role !== role) return false;
  const status = obj.status as PipelineStatus | undefined;
  return !checkFailedFor(status, cachedPipelineHash(p), obj.metadata?.generation);
}

function checkFailedFor(status: PipelineStatus | undefined, hash: number, generation: number | undefined): boolean {
  if (status?.configCheckResult !== false || attributedReason(status.reason)) return false;
  const reason = validReason(status);
  if (reason !== undefined && reason !== checkFailedReason) return false;
  if (status.observedGeneration !== undefined && generation !== undefined)
    return status.observedGeneration === generation;
  return status.LastAppliedPipelineHash === hash;
}

export interface CheckContext {
  checker: Checker;
  optimize: boolean;
  policy?: PipelinePolicy;
  /** The values of the Secrets the pipeline declares (secret-reader.ts), mounted in the check pod as the agents' are. */
  secrets?: SecretSource;
}

/** A workload a pipeline is checked on: a Vector (agent pipelines) or an aggregator (aggregator pipelines). */
export type CheckWorkload = { kind: 'agent'; vector: Vector } | { kind: 'aggregator'; aggregator: Aggregator };

/** kaasops' name of the workload in a pipeline's reason (a ClusterVectorAggregator's with its leading slash). */
function who(w: CheckWorkload): string {
  if (w.kind === 'agent') return `agent ${w.vector.metadata.namespace}/${w.vector.metadata.name}`;
  const { metadata } = w.aggregator;
  return w.aggregator.kind === 'VectorAggregator'
    ? `aggregator ${metadata.namespace ?? ''}/${metadata.name}`
    : `cluster aggregator /${metadata.name}`;
}

/** kaasops' text of a build failure of `w` on a pipeline's status (`rejection` as describeRejection words it). */
export function buildFailedReason(w: CheckWorkload, rejection: string): string {
  return `${who(w)} build config failed: failed to build config: ${rejection}`;
}

export function checkSubject(w: CheckWorkload): CheckSubject {
  if (w.kind === 'agent') return vectorSubject(w.vector);
  const agg = w.aggregator;
  return { name: agg.metadata.name, namespace: aggregatorNamespace(agg), spec: agg.spec };
}

/**
 * The config kaasops checks for `p` on `w`: that pipeline alone, in the Vector's mode, with the secret values it
 * references (flat key -> base64) for the check pod's assets.
 */
function singlePipelineConfig(
  w: CheckWorkload,
  p: Pipeline,
  ctx: Omit<CheckContext, 'checker'>,
): { json: string; assets: Record<string, string> } | Error {
  const built =
    w.kind === 'aggregator'
      ? buildAggregatorConfig(w.aggregator, [p], {
          assetsObjectBytes: aggregatorAssetsObjectBytes(w.aggregator),
          ...(ctx.secrets === undefined ? {} : { secrets: ctx.secrets }),
        })
      : agentBuild(w.vector, p, ctx);
  const rejected = built.rejected[0];
  if (rejected !== undefined) return new Error(describeRejection(rejected));
  const assets: Record<string, string> = {};
  for (const [key, value] of built.secretAssets) assets[key] = Buffer.from(value).toString('base64');
  return { json: serializeConfig(built.config), assets };
}

/** The agent config of `p` alone on `vector`, in the Vector's mode. */
function agentBuild(vector: Vector, p: Pipeline, ctx: Omit<CheckContext, 'checker'>) {
  const optimize = ctx.optimize && !isOptedOut(vector.metadata.annotations);
  return buildAgentConfig(vector, [p], {
    optimize,
    ...(ctx.policy === undefined ? {} : { policy: ctx.policy }),
    ...(ctx.secrets === undefined ? {} : { secrets: ctx.secrets }),
  });
}

async function checkOne(w: CheckWorkload, p: Pipeline, ctx: CheckContext): Promise<PipelineCheck> {
  const built = singlePipelineConfig(w, p, ctx);
  if (built instanceof Error) return { result: 'invalid', reason: buildFailedReason(w, built.message) };
  const outcome = await ctx.checker.check(checkSubject(w), built.json, built.assets, true);
  if (outcome.result === 'valid') return outcome;
  if (outcome.result === 'invalid')
    return { result: 'invalid', reason: `${who(w)} config check failed: ${outcome.reason}` };
  return outcome;
}

/**
 * Checks `p` against every workload in parallel. The first failure in the workloads' order is reported (a verdict
 * before an error, so a refused pipeline is never reported as a retryable error); valid when there is none.
 */
export async function checkOnWorkloads(
  workloads: readonly CheckWorkload[],
  p: Pipeline,
  ctx: CheckContext,
): Promise<PipelineCheck> {
  const outcomes = await Promise.all(
    workloads.map((v) =>
      checkOne(v, p, ctx).catch((err: unknown): PipelineCheck => ({ result: 'error', reason: String(err) })),
    ),
  );
  return (
    outcomes.find((o) => o.result === 'invalid') ?? outcomes.find((o) => o.result === 'error') ?? { result: 'valid' }
  );
}
