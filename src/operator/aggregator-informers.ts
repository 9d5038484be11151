/**
 * The aggregator controller's caches: the two aggregator kinds, and every kind of object it writes, listed by the
 * labels it puts on them (`app.kubernetes.io/managed-by=vector-operator`, `app.kubernetes.io/component` `Aggregator`
 * or, for the event collector's, `EventCollector`).
 *
 * Invariants:
 * - Started only when the API server serves the aggregator CRDs and apps/v1 Deployments: `aggregatorsServed`
 *   decides, once, at start, like the PodMonitor kind.
 * - With `--watch-namespace`, VectorAggregators and every namespaced object are listed in that namespace only
 *   (kaasops scoped only some caches and kept reconciling every aggregator, so one elsewhere failed on objects its
 *   cache could not see: reference §4.1, trap T16; here the scope is whole). ClusterVectorAggregators and cluster-scoped RBAC are
 *   cluster-wide kinds and listed cluster-wide; a ClusterVectorAggregator is in scope when its `resourceNamespace`
 *   is the watched namespace (or empty: only its status is written then, the same text from every operator). Keys out
 *   of scope are never queued and never reconciled (`AggregatorScope`), so the RBAC of an aggregator elsewhere,
 *   which this cache does hold, is never taken for a deleted aggregator's.
 * - An owned object maps to its aggregator by `app.kubernetes.io/instance` and its namespace (cluster-scoped RBAC of a
 *   VectorAggregator: the owner-namespace label). A VectorAggregator and a ClusterVectorAggregator of one name whose
 *   objects share a namespace cannot be told apart by labels (kaasops' labels), so such an event wakes both.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { request, type KubeObject } from '../kube/client.ts';
import { Reflector, type Cache } from '../kube/reflector.ts';
import { apiGroup } from '../pipelines/schemas.ts';
import type { Logger } from './controller-context.ts';
import type { OperatorMetrics } from './metrics.ts';
import { ownerNamespaceLabel } from './objects.ts';
import { OutOfScope } from './out-of-scope.ts';

// The aggregator's objects and its event collector's (event-collector.ts): kaasops' component labels.
const aggregatorSelector =
  'app.kubernetes.io/managed-by=vector-operator,app.kubernetes.io/component in (Aggregator,EventCollector)';

export type AggregatorOwnedKind =
  | 'Deployment'
  | 'StatefulSet'
  | 'Secret'
  | 'ConfigMap'
  | 'ServiceAccount'
  | 'Service'
  | 'ClusterRole'
  | 'ClusterRoleBinding'
  | 'HorizontalPodAutoscaler'
  | 'PodDisruptionBudget'
  | 'PodMonitor';

/** The aggregator controller's watched kinds, each held by a `C`. */
interface AggregatorInformerSet<C> {
  vectorAggregators: C;
  clusterAggregators: C;
  owned: Partial<Record<AggregatorOwnedKind, C>>;
}

/** The reflectors, as the wiring starts, stops and subscribes to them. */
export type AggregatorInformers = AggregatorInformerSet<Reflector<KubeObject>>;

/** The same caches as the aggregator reconciler sees them: read-only, so only the wiring decides what triggers one. */
export type AggregatorCaches = AggregatorInformerSet<Cache<KubeObject>>;

/** Whether this API server serves both aggregator kinds and Deployments (checked once, at start). */
export async function aggregatorsServed(kc: KubeConfig): Promise<boolean> {
  try {
    const crd = await request<{ resources?: { name: string }[] }>(kc, 'GET', `/apis/${apiGroup}/v1alpha1`);
    const names = new Set((crd.resources ?? []).map((r) => r.name));
    if (!names.has('vectoraggregators') || !names.has('clustervectoraggregators')) return false;
    const apps = await request<{ resources?: { name: string }[] }>(kc, 'GET', '/apis/apps/v1');
    return (apps.resources ?? []).some((r) => r.name === 'deployments');
  } catch {
    return false;
  }
}

export interface AggregatorInformerOptions {
  kc: KubeConfig;
  /** --watch-namespace: '' or undefined for the whole cluster. */
  watchNamespace?: string;
  podMonitor: boolean;
  resyncMs?: number;
  watchTimeoutSeconds?: number;
  onError?: (what: string, err: unknown) => void;
}

export function createAggregatorInformers(opts: AggregatorInformerOptions): AggregatorInformers {
  const make = (what: string, listPath: string, labelSelector?: string): Reflector<KubeObject> =>
    new Reflector<KubeObject>({
      kc: opts.kc,
      listPath,
      ...(labelSelector === undefined ? {} : { labelSelector }),
      ...(opts.resyncMs === undefined ? {} : { resyncMs: opts.resyncMs }),
      ...(opts.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: opts.watchTimeoutSeconds }),
      onError: (err) => opts.onError?.(what, err),
    });
  const crd = `/apis/${apiGroup}/v1alpha1`;
  const s = aggregatorSelector;
  const ns = opts.watchNamespace ?? '';
  const scoped = (prefix: string, plural: string): string =>
    ns === '' ? `${prefix}/${plural}` : `${prefix}/namespaces/${encodeURIComponent(ns)}/${plural}`;
  return {
    vectorAggregators: make('vectoraggregators', scoped(crd, 'vectoraggregators')),
    clusterAggregators: make('clustervectoraggregators', `${crd}/clustervectoraggregators`),
    owned: {
      Deployment: make('aggregator deployments', scoped('/apis/apps/v1', 'deployments'), s),
      StatefulSet: make('aggregator statefulsets', scoped('/apis/apps/v1', 'statefulsets'), s),
      Secret: make('aggregator secrets', scoped('/api/v1', 'secrets'), s),
      ConfigMap: make('aggregator configmaps', scoped('/api/v1', 'configmaps'), s),
      ServiceAccount: make('aggregator serviceaccounts', scoped('/api/v1', 'serviceaccounts'), s),
      Service: make('aggregator services', scoped('/api/v1', 'services'), s),
      ClusterRole: make('aggregator clusterroles', '/apis/rbac.authorization.k8s.io/v1/clusterroles', s),
      ClusterRoleBinding: make(
        'aggregator clusterrolebindings',
        '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
        s,
      ),
      HorizontalPodAutoscaler: make('aggregator hpas', scoped('/apis/autoscaling/v2', 'horizontalpodautoscalers'), s),
      PodDisruptionBudget: make('aggregator pdbs', scoped('/apis/policy/v1', 'poddisruptionbudgets'), s),
      ...(opts.podMonitor
        ? { PodMonitor: make('aggregator podmonitors', scoped('/apis/monitoring.coreos.com/v1', 'podmonitors'), s) }
        : {}),
    },
  };
}

export function aggregatorReflectors(i: AggregatorInformers): Reflector<KubeObject>[] {
  return [i.vectorAggregators, i.clusterAggregators, ...Object.values(i.owned)];
}

/** Queue keys: `VectorAggregator/<ns>/<name>` and `ClusterVectorAggregator/<name>`. */
export function aggregatorKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns === undefined || ns === '' ? `ClusterVectorAggregator/${name}` : `VectorAggregator/${ns}/${name}`;
}

/**
 * Whether aggregator `key` is inside --watch-namespace (everything is without one): a VectorAggregator of that
 * namespace, or a ClusterVectorAggregator whose `resourceNamespace` is that namespace or empty (one that is gone is
 * in scope: forgetting it touches nothing).
 */
export function aggregatorInScope(
  key: string,
  watchNamespace: string | undefined,
  clusterAggregators: { get(key: string): KubeObject | undefined },
): boolean {
  if (watchNamespace === undefined || watchNamespace === '') return true;
  const [kind, ...rest] = key.split('/');
  if (kind === 'VectorAggregator') return rest[0] === watchNamespace;
  const cluster = clusterAggregators.get(rest.join('/'));
  if (cluster === undefined) return true;
  const home = (cluster.spec as { resourceNamespace?: string } | undefined)?.resourceNamespace ?? '';
  return home === '' || home === watchNamespace;
}

/** The --watch-namespace scope of the aggregator keys, and the guard the reconciler runs first. */
export class AggregatorScope {
  private readonly opts: {
    watchNamespace: string;
    clusterAggregators: { get(key: string): KubeObject | undefined };
    metrics: Pick<OperatorMetrics, 'skipped'>;
    log: Logger;
  };
  private readonly refusals: OutOfScope;

  constructor(opts: AggregatorScope['opts']) {
    this.opts = opts;
    const { watchNamespace, metrics, log } = opts;
    this.refusals = new OutOfScope({ field: 'aggregator', noun: 'aggregator', watchNamespace, metrics, log });
  }

  has(key: string): boolean {
    return aggregatorInScope(key, this.opts.watchNamespace, this.opts.clusterAggregators);
  }

  /** True (recorded) for a key outside the scope, which must not be reconciled at all. */
  refuse(key: string): boolean {
    if (this.has(key)) return false;
    this.refusals.refused(key);
    return true;
  }
}

/** The keys of the aggregators an owned object may belong to (see the invariants). */
export function ownerAggregatorKeys(obj: KubeObject, i: AggregatorInformers): string[] {
  const labels = obj.metadata?.labels ?? {};
  const name = labels['app.kubernetes.io/instance'];
  if (name === undefined) return [];
  const ns = obj.metadata?.namespace ?? labels[ownerNamespaceLabel];
  const keys: string[] = [];
  if (ns !== undefined && ns !== '') keys.push(`VectorAggregator/${ns}/${name}`);
  const cluster = i.clusterAggregators.get(name);
  const home = (cluster?.spec as { resourceNamespace?: string } | undefined)?.resourceNamespace;
  if (cluster !== undefined && (home === ns || obj.metadata?.namespace === undefined))
    keys.push(`ClusterVectorAggregator/${name}`);
  return keys;
}
