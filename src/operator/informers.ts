/**
 * The operator's caches: one Reflector per kind it reads, scoped by `--watch-namespace` and by the labels the operator
 * puts on everything it owns, and the mapping from an owned object back to its Vector.
 *
 * Invariants:
 * - Namespaced kinds are listed in the watched namespace only (or cluster-wide when none is given);
 *   ClusterVectorPipelines and the agents' ClusterRoles/Bindings are cluster-scoped and always listed cluster-wide,
 *   the latter by label, so the operator never caches RBAC it does not own. With a watched namespace the RBAC
 *   selector also requires `vector-operator.kaasops.io/owner-namespace=<ns>`: the RBAC of Vectors outside the scope
 *   is not even cached, so no event of theirs can wake a reconcile (before 2026-12-07 it woke one that took the
 *   "Vector deleted" path and deleted that RBAC), and two operators scoped to two namespaces never see each other.
 * - Owned objects map to their Vector by labels (`app.kubernetes.io/instance`, plus
 *   `vector-operator.kaasops.io/owner-namespace` on cluster-scoped ones): an event on a child wakes exactly one Vector,
 *   never all of them (kaasops reconciles every Vector on a cluster-scoped child event).
 * - Reads go through `liveObject`, which prefers what this process just wrote when the watch has not caught up yet,
 *   so a reconcile right after a write does not write the same thing again.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { objectKey, type KubeObject } from '../kube/client.ts';
import { Reflector, type Cache } from '../kube/reflector.ts';
import { apiGroup } from '../pipelines/schemas.ts';
import { ownerNamespaceLabel } from './objects.ts';
import { secretMetadataOnly } from './secret-reader.ts';

const ownedSelector = 'app.kubernetes.io/managed-by=vector-operator,app.kubernetes.io/component=Agent';
const instanceLabel = 'app.kubernetes.io/instance';

export type OwnedKind =
  'DaemonSet' | 'Secret' | 'ServiceAccount' | 'Service' | 'ClusterRole' | 'ClusterRoleBinding' | 'Pod' | 'PodMonitor';

/** The operator's watched kinds, each held by a `C`. */
interface InformerSet<C> {
  vectors: C;
  vectorPipelines: C;
  clusterPipelines: C;
  /** Every Secret in scope but Helm releases, metadata only (secret-reader.ts): the ones pipelines reference. */
  userSecrets: C;
  /** PodMonitor only when its CRD is served (monitoring.coreos.com). */
  owned: Record<Exclude<OwnedKind, 'PodMonitor'>, C> & { PodMonitor?: C };
}

/** The reflectors, as the wiring starts, stops and subscribes to them. */
export type Informers = InformerSet<Reflector<KubeObject>>;

/** The same caches as reconcilers see them: read-only, so only the wiring decides what triggers a reconcile. */
export type Caches = InformerSet<Cache<KubeObject>>;

export interface InformerOptions {
  kc: KubeConfig;
  watchNamespace?: string;
  resyncMs?: number;
  watchTimeoutSeconds?: number;
  podMonitor?: boolean;
  onError?: (what: string, err: unknown) => void;
}

/**
 * The cached form of the kinds whose `managedFields` the operator never reads (controller-runtime strips them from
 * every cache by default). On a real API server they are often larger than the spec: at 10 000 pipelines they
 * weigh tens of MiB. The owned kinds we apply keep theirs: removal detection reads what our manager last applied.
 */
function withoutManagedFields(o: KubeObject): KubeObject {
  if (o.metadata?.managedFields === undefined) return o;
  const metadata = { ...o.metadata };
  delete metadata.managedFields;
  return { ...o, metadata };
}

export function createInformers(opts: InformerOptions): Informers {
  const ns = opts.watchNamespace === undefined || opts.watchNamespace === '' ? '' : opts.watchNamespace;
  const scoped = (prefix: string, plural: string): string =>
    ns === '' ? `${prefix}/${plural}` : `${prefix}/namespaces/${encodeURIComponent(ns)}/${plural}`;
  const make = (
    what: string,
    listPath: string,
    labelSelector?: string,
    transform?: (o: KubeObject) => KubeObject,
    fieldSelector?: string,
  ): Reflector<KubeObject> =>
    new Reflector<KubeObject>({
      kc: opts.kc,
      listPath,
      ...(labelSelector === undefined ? {} : { labelSelector }),
      ...(fieldSelector === undefined ? {} : { fieldSelector }),
      ...(transform === undefined ? {} : { transform }),
      ...(opts.resyncMs === undefined ? {} : { resyncMs: opts.resyncMs }),
      ...(opts.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: opts.watchTimeoutSeconds }),
      onError: (err) => opts.onError?.(what, err),
    });
  const crd = `/apis/${apiGroup}/v1alpha1`;
  const clusterSelector = ns === '' ? ownedSelector : `${ownedSelector},${ownerNamespaceLabel}=${ns}`;
  return {
    vectors: make('vectors', scoped(crd, 'vectors'), undefined, withoutManagedFields),
    vectorPipelines: make('vectorpipelines', scoped(crd, 'vectorpipelines'), undefined, withoutManagedFields),
    clusterPipelines: make('clustervectorpipelines', `${crd}/clustervectorpipelines`, undefined, withoutManagedFields),
    userSecrets: make(
      'user secrets',
      scoped('/api/v1', 'secrets'),
      undefined,
      secretMetadataOnly,
      'type!=helm.sh/release.v1',
    ),
    owned: {
      DaemonSet: make('daemonsets', scoped('/apis/apps/v1', 'daemonsets'), ownedSelector),
      Secret: make('secrets', scoped('/api/v1', 'secrets'), ownedSelector),
      ServiceAccount: make('serviceaccounts', scoped('/api/v1', 'serviceaccounts'), ownedSelector),
      Service: make('services', scoped('/api/v1', 'services'), ownedSelector),
      Pod: make('pods', scoped('/api/v1', 'pods'), ownedSelector, withoutManagedFields),
      ClusterRole: make('clusterroles', '/apis/rbac.authorization.k8s.io/v1/clusterroles', clusterSelector),
      ClusterRoleBinding: make(
        'clusterrolebindings',
        '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
        clusterSelector,
      ),
      ...(opts.podMonitor === true
        ? { PodMonitor: make('podmonitors', scoped('/apis/monitoring.coreos.com/v1', 'podmonitors'), ownedSelector) }
        : {}),
    },
  };
}

export function allReflectors(i: Informers): Reflector<KubeObject>[] {
  return [i.vectors, i.vectorPipelines, i.clusterPipelines, i.userSecrets, ...Object.values(i.owned)];
}

/** Whether the Vector key "ns/name" is inside the watched namespace (everything is, without one). */
export function inScope(key: string, watchNamespace: string | undefined): boolean {
  if (watchNamespace === undefined || watchNamespace === '') return true;
  return key.startsWith(`${watchNamespace}/`);
}

/** The key ("ns/name") of the Vector an owned object belongs to, or undefined. */
export function ownerVectorKey(obj: KubeObject): string | undefined {
  const labels = obj.metadata?.labels ?? {};
  const name = labels[instanceLabel];
  if (name === undefined) return undefined;
  const ns = obj.metadata?.namespace ?? labels[ownerNamespaceLabel];
  return ns === undefined || ns === '' ? undefined : `${ns}/${name}`;
}

function rvNumber(o: KubeObject | undefined): number | undefined {
  const rv = o?.metadata?.resourceVersion;
  if (rv === undefined || !/^[0-9]+$/.test(rv)) return undefined;
  return Number(rv);
}

/**
 * Objects this process wrote, kept until the watch shows them (or something newer). resourceVersions are compared
 * as numbers, which holds for etcd and the stand-in; a non-numeric one makes the cache win, as it would without this.
 */
export class WrittenObjects {
  private readonly written = new Map<string, KubeObject>();

  private static key(kind: string, obj: KubeObject): string {
    return `${kind}:${objectKey(obj)}`;
  }

  remember(kind: string, obj: KubeObject): void {
    this.written.set(WrittenObjects.key(kind, obj), obj);
  }

  forget(kind: string, obj: KubeObject): void {
    this.written.delete(WrittenObjects.key(kind, obj));
  }

  /** The newer of the cached and the written object. */
  live(kind: string, cached: KubeObject | undefined, desired: KubeObject): KubeObject | undefined {
    const k = WrittenObjects.key(kind, desired);
    const mine = this.written.get(k);
    if (mine === undefined) return cached;
    const a = rvNumber(cached);
    const b = rvNumber(mine);
    if (cached !== undefined && (a === undefined || b === undefined || a >= b)) {
      this.written.delete(k);
      return cached;
    }
    return mine;
  }
}

/**
 * Status this process wrote, keyed by object, until the cache shows a newer version of the object: a reconcile
 * that runs before the watch delivers our own status write compares against what we wrote, not the stale cache,
 * and so neither writes it again nor reverts it.
 */
export class WrittenStatus<S extends object> {
  private readonly written = new Map<string, { rv: string | undefined; status: S }>();

  /** The status to compare against for `obj` as cached now. */
  live(obj: KubeObject): S | undefined {
    const cached = obj.status as S | undefined;
    const mine = this.written.get(objectKey(obj));
    if (mine === undefined) return cached;
    if (mine.rv !== obj.metadata?.resourceVersion) {
      this.written.delete(objectKey(obj));
      return cached;
    }
    return mine.status;
  }

  remember(obj: KubeObject, patch: Record<string, unknown>): void {
    const merged: Record<string, unknown> = { ...((obj.status as object | undefined) ?? {}) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) Reflect.deleteProperty(merged, k);
      else merged[k] = v;
    }
    this.written.set(objectKey(obj), { rv: obj.metadata?.resourceVersion, status: merged as S });
  }

  forget(key: string): void {
    this.written.delete(key);
  }
}
