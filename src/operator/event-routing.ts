/**
 * Event filters and event-to-key mapping for the operator's caches (controller-runtime's predicates and handlers).
 *
 * Invariants:
 * - A Vector is reconciled on a change of generation, annotations, deletion or finalizers, never on its own status
 *   writes (which would loop).
 * - A pipeline is reconciled on a spec or annotation change (kaasops' predicate; `force-configcheck` is an
 *   annotation), not on a label-only edit, which re-selects its Vectors at once.
 * - A pipeline event wakes the Vectors that select it before or after the change, and no other.
 * - An owned object's event wakes its owning Vector; a Secret's event the pipelines that declare it and their Vectors.
 */
import { objectKey, type KubeObject } from '../kube/client.ts';
import type { WorkQueue } from '../kube/workqueue.ts';
import { selects } from '../pipelines/build.ts';
import { declaredSecrets } from '../pipelines/secrets.ts';
import type { Informers } from './informers.ts';
import { ownerVectorKey } from './informers.ts';
import { toPipeline, toVector, type ControllerContext } from './controller-context.ts';

export interface Queues {
  vectors: WorkQueue;
  pipelines: WorkQueue;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** What the Vector reconcile acts on; status-only updates are not among them. */
export function vectorChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  const a = obj.metadata ?? {};
  const b = old?.metadata ?? {};
  return (
    old === undefined ||
    a.generation !== b.generation ||
    !same(a.annotations, b.annotations) ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    !same(a.finalizers, b.finalizers) ||
    // Objects without generation tracking: compare the spec itself.
    (a.generation === undefined && !same(obj.spec, old.spec))
  );
}

/** What decides which Vectors select a pipeline: a change re-selects at once (kaasops waits for another trigger). */
function labelsChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  return !same(obj.metadata?.labels, old?.metadata?.labels);
}

/** A verdict the pipeline reconcile recorded: a change moves the pipeline in or out of the Vectors' configs. */
function verdictChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  const a = obj.status as { configCheckResult?: boolean; LastAppliedPipelineHash?: number } | undefined;
  const b = old?.status as typeof a;
  return a?.configCheckResult !== b?.configCheckResult || a?.LastAppliedPipelineHash !== b?.LastAppliedPipelineHash;
}

/**
 * Routes every cache event to the keys it concerns: which Vector and pipeline reconciles an event starts. The filters
 * say which changes matter (controller-runtime's predicates); the mappings which keys they wake (its event handlers).
 */
export function wireEvents(informers: Informers, queues: Queues, ctx: ControllerContext): void {
  const { vectors: vectorQueue, pipelines: pipelineQueue } = queues;
  informers.vectors.on((event, obj, old) => {
    if (event === 'update' && !vectorChanged(obj, old)) return;
    vectorQueue.add(objectKey(obj));
  });
  const onPipeline = (kind: 'VectorPipeline' | 'ClusterVectorPipeline') => {
    return (event: string, obj: KubeObject, old?: KubeObject): void => {
      const key = objectKey(obj);
      if (event === 'resync') {
        pipelineQueue.add(key);
        return;
      }
      // kaasops' predicate: the pipeline reconcile runs on a spec or annotation change (force-configcheck is an
      // annotation), not on a label-only edit, which only re-selects.
      const changed = event !== 'update' || vectorChanged(obj, old);
      if (!changed && !labelsChanged(obj, old) && !verdictChanged(obj, old)) return;
      if (event === 'delete') ctx.validator.forget(toPipeline({ ...obj, kind }));
      else if (changed) pipelineQueue.add(key);
      const now = toPipeline({ ...obj, kind });
      const before = old === undefined ? undefined : toPipeline({ ...old, kind });
      for (const v of informers.vectors.list()) {
        const vector = toVector(v);
        if (selects(vector, now) || (before !== undefined && selects(vector, before))) vectorQueue.add(objectKey(v));
      }
    };
  };
  informers.vectorPipelines.on(onPipeline('VectorPipeline'));
  informers.clusterPipelines.on(onPipeline('ClusterVectorPipeline'));
  informers.userSecrets.on((event, obj) => {
    if (event === 'resync') return;
    const namespace = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    if (event === 'delete') ctx.secrets?.forget(namespace, name);
    secretChanged(informers, queues, namespace, name);
  });
  for (const r of Object.values(informers.owned)) {
    r.on((event, obj) => {
      if (event === 'resync') return;
      const key = ownerVectorKey(obj);
      if (key !== undefined) vectorQueue.add(key);
    });
  }
}

/**
 * A Secret some pipelines declare changed (rotation, creation, deletion): those pipelines are checked again
 * (`relatedSecretsHash`) and the Vectors selecting them rebuilt, which rewrites the assets only. A scan of the
 * pipelines, not an index: most Secret events (the operator's own writes among them) concern no pipeline.
 */
function secretChanged(informers: Informers, queues: Queues, namespace: string, name: string): void {
  const { vectors: vectorQueue, pipelines: pipelineQueue } = queues;
  const vectors = informers.vectors.list().map((v) => [v, toVector(v)] as const);
  for (const [reflector, kind] of [
    [informers.vectorPipelines, 'VectorPipeline'],
    [informers.clusterPipelines, 'ClusterVectorPipeline'],
  ] as const) {
    for (const obj of reflector.list()) {
      if ((obj.spec as { secret?: unknown } | undefined)?.secret === undefined) continue;
      const p = toPipeline({ ...obj, kind });
      if (!declaredSecrets(p).some((s) => s.namespace === namespace && s.name === name)) continue;
      pipelineQueue.add(objectKey(obj));
      for (const [v, vector] of vectors) if (selects(vector, p)) vectorQueue.add(objectKey(v));
    }
  }
}
