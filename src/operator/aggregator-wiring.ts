/**
 * The aggregator part of the operator: its caches, its queue and reconciler, and the events that wake it.
 *
 * Invariants:
 * - Built only when the API server serves the aggregator kinds and Deployments (`aggregatorsServed`); without them
 *   the operator runs exactly as before.
 * - Event mapping: an aggregator's spec, annotation, finalizer or deletion change wakes it (status-only updates do
 *   not, so our own status writes do not loop); an owned object wakes its aggregator(s); a pipeline change wakes the
 *   VectorAggregators of the pipeline's namespace, or every ClusterVectorAggregator for a ClusterVectorPipeline (the
 *   queue coalesces a burst into one reconcile per aggregator).
 * - With --watch-namespace, only aggregators in scope (`AggregatorScope`) are queued and listed for the pipeline
 *   checks; the reconciler refuses the others too.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Applier } from '../kube/apply.ts';
import type { KubeObject } from '../kube/client.ts';
import type { Reflector } from '../kube/reflector.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import type { Aggregator } from '../pipelines/aggregator-schemas.ts';
import { AggregatorReconciler, toAggregator, type AggregatorContext } from './aggregator-controller.ts';
import {
  AggregatorScope,
  aggregatorKey,
  aggregatorReflectors,
  createAggregatorInformers,
  ownerAggregatorKeys,
} from './aggregator-informers.ts';
import type { Informers } from './informers.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { Checker } from './pipeline-checks.ts';
import type { SecretReader } from './secret-reader.ts';
import type { PipelineValidator } from './validate.ts';
import type { Logger } from './controller-context.ts';

export interface AggregatorPart {
  reflectors: Reflector<KubeObject>[];
  queue: WorkQueue;
  reconciler: AggregatorReconciler;
  /** Both kinds of aggregator in the caches (the pipeline controller checks aggregator pipelines on them). */
  list: () => Aggregator[];
}

export interface AggregatorPartOptions {
  kc: KubeConfig;
  podMonitor: boolean;
  /** --watch-namespace: '' or undefined for the whole cluster. */
  watchNamespace?: string;
  informers: Informers;
  applier: Applier;
  validator: PipelineValidator;
  /** `vector validate` in a pod (--enable-configcheck-pods); undefined: the structural check only. */
  checker?: Checker;
  /** Reads the Secrets pipelines reference, shared with the agents. */
  secrets?: SecretReader;
  assetsPruneGraceMs?: number;
  attribution?: AggregatorContext['attribution'];
  adoptManagers: readonly string[];
  metrics: OperatorMetrics;
  log: Logger;
  changed: (obj: KubeObject, old: KubeObject | undefined) => boolean;
  resyncMs?: number;
  watchTimeoutSeconds?: number;
}

export function createAggregatorPart(opts: AggregatorPartOptions): AggregatorPart {
  const informers = createAggregatorInformers({
    kc: opts.kc,
    podMonitor: opts.podMonitor,
    ...(opts.watchNamespace === undefined ? {} : { watchNamespace: opts.watchNamespace }),
    ...(opts.resyncMs === undefined ? {} : { resyncMs: opts.resyncMs }),
    ...(opts.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: opts.watchTimeoutSeconds }),
    onError: (what, err) => {
      opts.log.warn({ cache: what, err: String(err) }, 'watch failed; retrying');
    },
  });
  const queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 60_000 });
  const scope =
    opts.watchNamespace === undefined || opts.watchNamespace === ''
      ? undefined
      : new AggregatorScope({
          watchNamespace: opts.watchNamespace,
          clusterAggregators: informers.clusterAggregators,
          metrics: opts.metrics,
          log: opts.log,
        });
  const reconciler = new AggregatorReconciler({
    caches: informers,
    pipelines: () => [...opts.informers.vectorPipelines.list(), ...opts.informers.clusterPipelines.list()],
    applier: opts.applier,
    validator: opts.validator,
    ...(opts.checker === undefined ? {} : { checker: opts.checker }),
    ...(opts.secrets === undefined ? {} : { secrets: opts.secrets }),
    ...(opts.assetsPruneGraceMs === undefined ? {} : { assetsPruneGraceMs: opts.assetsPruneGraceMs }),
    ...(opts.attribution === undefined ? {} : { attribution: opts.attribution }),
    podMonitor: opts.podMonitor,
    ...(scope === undefined ? {} : { scope }),
    adoptManagers: opts.adoptManagers,
    metrics: opts.metrics,
    log: opts.log,
  });
  const inScope = (key: string): boolean => scope?.has(key) ?? true;
  const add = (key: string): void => {
    if (inScope(key)) queue.add(key);
  };
  for (const r of [informers.vectorAggregators, informers.clusterAggregators])
    r.on((event, obj, old) => {
      if (event === 'update' && !opts.changed(obj, old)) return;
      add(aggregatorKey(obj));
    });
  for (const r of Object.values(informers.owned))
    r.on((event, obj) => {
      if (event === 'resync') return;
      for (const key of ownerAggregatorKeys(obj, informers)) add(key);
    });
  const onPipeline = (event: string, obj: KubeObject, old?: KubeObject): void => {
    if (event === 'resync') return;
    const ns = obj.metadata?.namespace;
    if (ns === undefined || ns === '') {
      for (const a of informers.clusterAggregators.list()) add(aggregatorKey(a));
      return;
    }
    const namespaces = new Set([ns, old?.metadata?.namespace]);
    for (const a of informers.vectorAggregators.list())
      if (namespaces.has(a.metadata?.namespace)) queue.add(aggregatorKey(a));
  };
  opts.informers.vectorPipelines.on(onPipeline);
  opts.informers.clusterPipelines.on(onPipeline);
  const list = (): Aggregator[] => [
    ...informers.vectorAggregators.list().map((o) => toAggregator(o, 'VectorAggregator')),
    ...informers.clusterAggregators
      .list()
      .filter((o) => inScope(aggregatorKey(o)))
      .map((o) => toAggregator(o, 'ClusterVectorAggregator')),
  ];
  return { reflectors: aggregatorReflectors(informers), queue, reconciler, list };
}
