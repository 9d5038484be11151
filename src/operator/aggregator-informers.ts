/**
 * The aggregator controller's caches: the two aggregator kinds, and every kind of object it writes, listed by the
 * labels it puts on them (`app.kubernetes.io/managed-by=vector-operator`, `app.kubernetes.io/component` `Aggregator`
 * or, for the event collector's, `EventCollector`).
 *
 * Invariants:
 * - Started only when the API server serves the aggregator CRDs and apps/v1 Deployments: `aggregatorsServed`
 *   decides, once, at start, like the PodMonitor kind.
 * - An owned object maps to its aggregator by `app.kubernetes.io/instance` and its namespace (cluster-scoped RBAC of a
 *   VectorAggregator: the owner-namespace label). A VectorAggregator and a ClusterVectorAggregator of one name whose
 *   objects share a namespace cannot be told apart by labels (kaasops' labels), so such an event wakes both.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { request, type KubeObject } from '../kube/client.ts';
import { Reflector } from '../kube/reflector.ts';
import { apiGroup } from '../pipelines/schemas.ts';
import { ownerNamespaceLabel } from './objects.ts';

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

export interface AggregatorInformers {
  vectorAggregators: Reflector<KubeObject>;
  clusterAggregators: Reflector<KubeObject>;
  owned: Partial<Record<AggregatorOwnedKind, Reflector<KubeObject>>>;
}

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
  return {
    vectorAggregators: make('vectoraggregators', `${crd}/vectoraggregators`),
    clusterAggregators: make('clustervectoraggregators', `${crd}/clustervectoraggregators`),
    owned: {
      Deployment: make('aggregator deployments', '/apis/apps/v1/deployments', s),
      StatefulSet: make('aggregator statefulsets', '/apis/apps/v1/statefulsets', s),
      Secret: make('aggregator secrets', '/api/v1/secrets', s),
      ConfigMap: make('aggregator configmaps', '/api/v1/configmaps', s),
      ServiceAccount: make('aggregator serviceaccounts', '/api/v1/serviceaccounts', s),
      Service: make('aggregator services', '/api/v1/services', s),
      ClusterRole: make('aggregator clusterroles', '/apis/rbac.authorization.k8s.io/v1/clusterroles', s),
      ClusterRoleBinding: make(
        'aggregator clusterrolebindings',
        '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
        s,
      ),
      HorizontalPodAutoscaler: make('aggregator hpas', '/apis/autoscaling/v2/horizontalpodautoscalers', s),
      PodDisruptionBudget: make('aggregator pdbs', '/apis/policy/v1/poddisruptionbudgets', s),
      ...(opts.podMonitor
        ? { PodMonitor: make('aggregator podmonitors', '/apis/monitoring.coreos.com/v1/podmonitors', s) }
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
