/**
 * Pipeline reconcile: validate each VectorPipeline / ClusterVectorPipeline alone and record the verdict in its status
 * (`configCheckResult`, `reason`, `role`, the `Valid` condition).
 *
 * Invariants:
 * - One pipeline's verdict depends on that pipeline only (validate.ts), so an invalid pipeline never marks, blocks or
 *   delays another; Vectors leave invalid pipelines out of their config.
 * - Keys: "ns/name" is a VectorPipeline, a bare "name" a ClusterVectorPipeline (objectKey never yields a slash for a
 *   cluster-scoped object), so one queue serves both kinds.
 * - The status is written only when it differs from the live one: re-validating an unchanged pipeline writes nothing.
 * - A pipeline kept flowing although the tenant policy calls it unsafe (warn mode) gets a `PolicyCompliant=False`
 *   condition and one Warning Event when that becomes true or its reason changes, never on every resync.
 * - Waking the Vectors is not done here but on the pipeline event itself (operator.ts), for the Vectors whose selector
 *   matches the old or new labels only, with no debounce: the Vector queue already coalesces bursts.
 */
import type { KubeObject } from '../kube/client.ts';
import { isSubset } from '../kube/diff.ts';
import { apiVersion, type Pipeline, type PipelineStatus } from '../pipelines/schemas.ts';
import { WrittenStatus } from './informers.ts';
import { pipelineStatus, policyConditionType } from './status.ts';
import { attributed, checkPipelineSecrets } from './pipeline-secrets.ts';
import { declaredSecrets } from '../pipelines/secrets.ts';

/** The Warning Event on a pipeline kept flowing although the tenant policy calls it unsafe. */
const toleratedEventReason = 'UnsafePipelineTolerated';
import { toPipeline, type ControllerContext } from './vector-controller.ts';

export class PipelineReconciler {
  private readonly ctx: ControllerContext;
  private readonly statuses = new WrittenStatus<PipelineStatus>();

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  async reconcile(key: string): Promise<{ requeueAfterMs: number } | undefined> {
    const { informers, validator, applier, metrics } = this.ctx;
    const namespaced = key.includes('/');
    const obj = (namespaced ? informers.vectorPipelines : informers.clusterPipelines).get(key);
    if (obj === undefined || obj.metadata?.deletionTimestamp !== undefined) {
      this.statuses.forget(key);
      return undefined;
    }
    const kind = namespaced ? 'VectorPipeline' : 'ClusterVectorPipeline';
    const pipeline = toPipeline({ ...obj, kind });
    const { verdict, relatedSecretsHash } = attributed(
      await checkPipelineSecrets(pipeline, validator.verdict(pipeline), this.ctx.secrets),
      this.ctx.attribution?.store.reason(key),
    );
    const live = this.statuses.live(obj);
    const status = pipelineStatus(
      verdict,
      obj.metadata?.generation,
      live,
      this.ctx.now?.() ?? new Date().toISOString(),
    );
    if (typeof relatedSecretsHash === 'number') status.relatedSecretsHash = relatedSecretsHash;
    const patch: Record<string, unknown> = { ...status };
    if (live?.role !== undefined && status.role === undefined) patch.role = null;
    if (live?.relatedSecretsHash !== undefined && relatedSecretsHash === null) patch.relatedSecretsHash = null;
    if (patch.role === null || patch.relatedSecretsHash === null || !isSubset(status, live ?? {})) {
      const target: KubeObject = { ...obj, apiVersion, kind };
      await applier.patchStatus(target, patch);
      this.statuses.remember(obj, patch);
      metrics.writes.inc({ kind, verb: 'status' });
      if (!verdict.valid) this.ctx.log.info({ pipeline: `${kind} ${key}`, reason: verdict.reason }, 'pipeline invalid');
      await this.warnTolerated(pipeline, status, live);
    }
    const used = declaredSecrets(pipeline);
    const poll =
      used.length === 0
        ? undefined
        : this.ctx.secrets?.pollAfterMs(used, pipeline.metadata.namespace ?? '', pipeline.metadata.name);
    return poll === undefined ? undefined : { requeueAfterMs: poll };
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
