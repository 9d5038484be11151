/**
 * Pipeline reconcile: check each VectorPipeline / ClusterVectorPipeline alone and record the verdict in its status
 * (`configCheckResult`, `reason`, `role`, `LastAppliedPipelineHash`, the `Valid` condition).
 *
 * Invariants:
 * - Two gates, in order: the in-process structural check (validate.ts), then, for a pipeline that passes it,
 *   `vector validate` in a pod on each workload that selects it (pipeline-checks.ts): the Vectors for an agent
 *   pipeline, the aggregators for an aggregator pipeline. A pipeline failing the first never
 *   gets a pod. Pods run only when the pipeline's hash differs from the recorded one (kaasops' skip rule).
 * - One pipeline's verdict depends on that pipeline only, so an invalid pipeline never marks, blocks or delays
 *   another; Vectors leave invalid pipelines out of their config.
 * - `LastAppliedPipelineHash` is written whatever the outcome: it means "last checked".
 * - Keys: "ns/name" is a VectorPipeline, a bare "name" a ClusterVectorPipeline (objectKey never yields a slash for a
 *   cluster-scoped object), so one queue serves both kinds.
 * - The status is written only when it differs from the live one: re-validating an unchanged pipeline writes nothing.
 * - A pipeline kept flowing although the tenant policy calls it unsafe (warn mode) gets a `PolicyCompliant=False`
 *   condition and one Warning Event when that becomes true or its reason changes, never on every resync.
 * - Waking the Vectors is not done here but on the pipeline event itself (operator.ts), for the Vectors whose selector
 *   matches the old or new labels only, with no debounce: the Vector queue already coalesces bursts. A verdict that
 *   changes in the status wakes them too, so a pipeline a pod refused leaves their config.
 */
import { objectKey, type KubeObject } from '../kube/client.ts';
import { isSubset } from '../kube/diff.ts';
import { selectsForAggregator } from '../pipelines/aggregator-build.ts';
import { selects } from '../pipelines/build.ts';
import { cachedPipelineHash } from '../pipelines/pipeline-hash.ts';
import { apiVersion, type Pipeline, type PipelineStatus } from '../pipelines/schemas.ts';
import { WrittenStatus } from './informers.ts';
import { checkOnWorkloads, recordedCheck, type CheckWorkload, type PipelineCheck } from './pipeline-checks.ts';
import { pipelineStatus, policyConditionType } from './status.ts';
import { attributed, checkPipelineSecrets } from './pipeline-secrets.ts';
import { declaredSecrets, type SecretSource } from '../pipelines/secrets.ts';
import { toPipeline, toVector, type ControllerContext } from './controller-context.ts';

/** The Warning Event on a pipeline kept flowing although the tenant policy calls it unsafe. */
const toleratedEventReason = 'UnsafePipelineTolerated';

export class PipelineReconciler {
  private readonly ctx: ControllerContext;
  private readonly statuses = new WrittenStatus<PipelineStatus>();

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  async reconcile(key: string): Promise<{ requeueAfterMs: number } | undefined> {
    const { caches, validator, applier, metrics } = this.ctx;
    const namespaced = key.includes('/');
    const obj = (namespaced ? caches.vectorPipelines : caches.clusterPipelines).get(key);
    if (obj === undefined || obj.metadata?.deletionTimestamp !== undefined) {
      this.statuses.forget(key);
      return undefined;
    }
    const kind = namespaced ? 'VectorPipeline' : 'ClusterVectorPipeline';
    const pipeline = toPipeline({ ...obj, kind });
    const { verdict, relatedSecretsHash, values } = attributed(
      await checkPipelineSecrets(pipeline, validator.verdict(pipeline), this.ctx.secrets),
      this.ctx.attribution?.store.reason(key),
    );
    const live = this.statuses.live(obj);
    const hash = cachedPipelineHash(pipeline);
    const check =
      verdict.valid && verdict.role !== undefined
        ? await this.podCheck(pipeline, verdict.role, live, hash, relatedSecretsHash, values)
        : undefined;
    const status = pipelineStatus(
      verdict,
      obj.metadata?.generation,
      live,
      this.ctx.now?.() ?? new Date().toISOString(),
      {
        hash,
        ...(check === undefined ? {} : { check }),
      },
    );
    // Compared as the cache reads it back (a JSON number, rounded past 2^53), written exact (below).
    if (typeof relatedSecretsHash === 'bigint') status.relatedSecretsHash = Number(relatedSecretsHash);
    const patch: Record<string, unknown> = { ...status };
    if (live?.role !== undefined && status.role === undefined) patch.role = null;
    if (live?.relatedSecretsHash !== undefined && relatedSecretsHash === null) patch.relatedSecretsHash = null;
    if (patch.role === null || patch.relatedSecretsHash === null || !isSubset(status, live ?? {})) {
      const target: KubeObject = { ...obj, apiVersion, kind };
      const exact = typeof relatedSecretsHash === 'bigint' ? { relatedSecretsHash } : {};
      await applier.patchStatus(target, { ...patch, ...exact });
      this.statuses.remember(obj, patch);
      metrics.writes.inc({ kind, verb: 'status' });
      if (!status.configCheckResult)
        this.ctx.log.info({ pipeline: `${kind} ${key}`, reason: status.reason }, 'pipeline invalid');
      await this.warnTolerated(pipeline, status, live);
    }
    const used = declaredSecrets(pipeline);
    const poll =
      used.length === 0
        ? undefined
        : this.ctx.secrets?.pollAfterMs(used, pipeline.metadata.namespace ?? '', pipeline.metadata.name);
    const retry = this.retry(check)?.requeueAfterMs;
    // The sooner of the two: a retry of the check, or the Secrets' poll (scoped mode).
    const after = [retry, poll].filter((x) => x !== undefined);
    return after.length === 0 ? undefined : { requeueAfterMs: Math.min(...after) };
  }

  /**
   * The pod check of a structurally valid pipeline: the recorded verdict when the hash and the Secrets' token are
   * unchanged (kaasops' skip rule: a rotation is checked again), else `vector validate` on every workload that
   * selects it (Vectors for an agent pipeline, aggregators for an aggregator one), with the Secrets' values (as
   * `checkPipelineSecrets` read them) mounted. Undefined without pod checks (--enable-configcheck-pods=false), and for
   * an aggregator pipeline where the operator runs no aggregator controller.
   */
  private async podCheck(
    pipeline: Pipeline,
    role: 'agent' | 'aggregator',
    live: PipelineStatus | undefined,
    hash: number,
    relatedSecretsHash: bigint | null | undefined,
    secrets: SecretSource | undefined,
  ): Promise<PipelineCheck | undefined> {
    const { checker, flags, log } = this.ctx;
    if (checker === undefined || (role === 'aggregator' && this.ctx.aggregators === undefined)) return undefined;
    const rotated = typeof relatedSecretsHash === 'bigint' && Number(relatedSecretsHash) !== live?.relatedSecretsHash;
    const recorded = rotated ? undefined : recordedCheck(live, hash, this.ctx.recheckInvalid === true);
    if (recorded !== undefined) return recorded;
    const workloads = this.workloads(pipeline, role);
    const ref = `${pipeline.kind} ${pipeline.metadata.namespace ?? ''}/${pipeline.metadata.name}`;
    log.info({ pipeline: ref, workloads: workloads.length }, '================= Started ConfigCheck =================');
    const check = await checkOnWorkloads(workloads, pipeline, {
      checker,
      optimize: flags.optimize,
      ...(flags.policy === undefined ? {} : { policy: flags.policy }),
      ...(secrets === undefined ? {} : { secrets }),
    });
    // Cut short by the operator stopping: not a verdict, so nothing is recorded.
    if (checker.cancelled) throw new Error(`configcheck of ${ref} cancelled: the operator stops`);
    if (check.result === 'valid') log.info({ pipeline: ref }, 'Config Check completed successfully');
    else log.warn({ pipeline: ref, result: check.result, reason: check.reason }, 'Config Check Failed');
    return check;
  }

  /** The workloads that select the pipeline, not being deleted, in key order. */
  private workloads(pipeline: Pipeline, role: 'agent' | 'aggregator'): CheckWorkload[] {
    if (role === 'aggregator')
      return (this.ctx.aggregators?.() ?? [])
        .filter((a) => a.metadata.deletionTimestamp === undefined && selectsForAggregator(a, pipeline))
        .map((aggregator) => ({ kind: 'aggregator', aggregator }));
    return this.ctx.caches.vectors
      .list()
      .filter((v) => v.metadata?.deletionTimestamp === undefined)
      .sort((a, b) => objectKey(a).localeCompare(objectKey(b)))
      .map(toVector)
      .filter((v) => selects(v, pipeline))
      .map((vector) => ({ kind: 'agent', vector }));
  }

  /** An error is retried after the retry delay; a refusal only with --enable-reconciliation-invalid-pipelines. */
  private retry(check: PipelineCheck | undefined): { requeueAfterMs: number } | undefined {
    const delay = this.ctx.retryDelayMs ?? 30_000;
    if (check?.result === 'error') return { requeueAfterMs: delay };
    if (check?.result === 'invalid' && this.ctx.recheckInvalid === true) return { requeueAfterMs: delay };
    return undefined;
  }

  /** One Warning Event each time a pipeline becomes tolerated, or is tolerated for a different reason. */
  private async warnTolerated(
    pipeline: Pipeline,
    status: PipelineStatus,
    live: PipelineStatus | undefined,
  ): Promise<void> {
    const now = status.conditions?.find((c) => c.type === policyConditionType);
    const before = live?.conditions?.find((c) => c.type === policyConditionType);
    if (now === undefined || now.message === before?.message) return;
    try {
      await this.ctx.events.record(pipeline, 'Warning', toleratedEventReason, now.message ?? '');
      this.ctx.metrics.writes.inc({ kind: 'Event', verb: 'create' });
    } catch (err) {
      this.ctx.log.warn({ err, reason: toleratedEventReason }, 'could not record an Event');
    }
  }
}
