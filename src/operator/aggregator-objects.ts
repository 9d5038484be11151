/**
 * Desired Kubernetes objects for one VectorAggregator or ClusterVectorAggregator, as plain typed literals (no
 * client, no I/O), from the aggregator and its config build (aggregator-build.ts). Reference §1.7-§1.13.
 *
 * Invariants:
 * - Names, labels, selectors and the pod template are kaasops' (`<n>-aggregator`, the 4 fixed labels with
 *   `spec.labels` under them, a controller owner reference on every namespaced object), so a cutover from kaasops
 *   rolls no aggregator pod when nothing differs.
 * - The workload is a Deployment, or a StatefulSet with persistence (`persistence.enabled` or claim templates); the
 *   headless Service exists with the StatefulSet only. The HPA exists with `autoscaling.enabled`; the PDB when it is
 *   enabled and more than one replica can run. What is not desired is deleted by the caller.
 * - Do better than kaasops:
 *   - a VectorAggregator's ClusterRole and ClusterRoleBinding are named `<namespace>.<n>-aggregator` and carry no owner
 *     reference (a namespaced owner is unresolvable for GC), like the agent's; kaasops' `<n>-aggregator` was shared
 *     by same-named aggregators of every namespace, and leaked (T9). A ClusterVectorAggregator's keep kaasops' name
 *     and an owner reference, which GC resolves;
 *   - `autoscaling.maxReplicas: 0` (what kaasops' finalizer update wrote into every VectorAggregator, T10) counts as
 *     unset, i.e. 3, for the HPA and the PDB gate;
 *   - the event-collector annotations never leak onto other objects (T8): each object gets its own copy.
 * - Pipeline secrets as for agents (secret-assets.ts): while the build has values, the assets Secret
 *   `<n>-aggregator-secret-assets` comes first (before the config that names its keys), with the config Secret's
 *   metadata, and the pod template gets the `secret-assets` volume last and its mount in the vector container only;
 *   without values neither exists, so templates without secrets are unchanged.
 * - Defaults are applied here, in one place, and never written back to the aggregator.
 */
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Deployment,
  V1ObjectMeta,
  V1OwnerReference,
  V1PersistentVolumeClaim,
  V1PodDisruptionBudget,
  V1Secret,
  V1Service,
  V1ServiceAccount,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { aggregatorName, type AggregatorBuild } from '../pipelines/aggregator-build.ts';
import type { Aggregator } from '../pipelines/aggregator-schemas.ts';
import { apiVersion } from '../pipelines/schemas.ts';
import { serializeConfig } from '../pipelines/serialize.ts';
import { aggregatorPodTemplate } from './aggregator-pod.ts';
import { eventCollectorObjects, type EventCollectorObject } from './event-collector.ts';
import { encodePayload, ownerNamespaceLabel, type PodMonitor } from './objects.ts';
import { assetsSecretName, bridgedAssets, metadataObjectBytes, mountAssets } from './secret-assets.ts';

export const aggregatorConfigKey = 'config.json';

export type AggregatorObject =
  | V1Secret
  | V1Deployment
  | V1StatefulSet
  | V1ServiceAccount
  | V1ClusterRole
  | V1ClusterRoleBinding
  | V1Service
  | PodMonitor
  | V2HorizontalPodAutoscaler
  | V1PodDisruptionBudget
  | EventCollectorObject;

export type AggregatorObjects = { ok: true; objects: AggregatorObject[] } | { ok: false; problems: string[] };

export interface AggregatorObjectOptions {
  /** Whether the PodMonitor kind exists (kaasops discovers it); `render` assumes it does. */
  podMonitor: boolean;
  /**
   * The assets Secret's data (base64 values) when it is not exactly the build's values: the bridge the controller
   * keeps while the old config may still read old keys (secret-assets.ts). Absent: the build's values.
   */
  assetsData?: Record<string, string>;
}

/** The modelled size of the aggregator's assets Secret without data, from its real metadata (kaasops' budget). */
export function aggregatorAssetsObjectBytes(agg: Aggregator): number {
  return metadataObjectBytes(new Meta(agg).of(assetsSecretName(aggregatorName(agg))));
}

/** Where its namespaced objects live: the VectorAggregator's namespace, or `resourceNamespace`. */
export function aggregatorNamespace(agg: Aggregator): string {
  return (agg.kind === 'VectorAggregator' ? agg.metadata.namespace : agg.spec.resourceNamespace) ?? '';
}

function persistent(agg: Aggregator): boolean {
  const p = agg.spec.persistence;
  return p?.enabled === true || (p?.volumeClaimTemplates?.length ?? 0) > 0;
}

class Meta {
  readonly fixed: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly ns: string;
  private readonly agg: Aggregator;

  constructor(agg: Aggregator) {
    this.agg = agg;
    this.ns = aggregatorNamespace(agg);
    this.fixed = {
      'app.kubernetes.io/managed-by': 'vector-operator',
      'app.kubernetes.io/name': 'vector',
      'app.kubernetes.io/component': 'Aggregator',
      'app.kubernetes.io/instance': agg.metadata.name,
    };
    // The fixed labels win: they are the workload's selector, which is immutable.
    this.labels = { ...(agg.spec.labels ?? {}), ...this.fixed };
  }

  owner(): V1OwnerReference[] | undefined {
    const { uid, name } = this.agg.metadata;
    if (uid === undefined) return undefined; // rendering from manifests: no uid yet
    return [{ apiVersion, kind: this.agg.kind, name, uid, controller: true, blockOwnerDeletion: true }];
  }

  of(name: string): V1ObjectMeta {
    const meta: V1ObjectMeta = { name, namespace: this.ns, labels: { ...this.labels } };
    const annotations = this.agg.spec.annotations;
    if (annotations !== undefined) meta.annotations = { ...annotations };
    const refs = this.owner();
    if (refs !== undefined) meta.ownerReferences = refs;
    return meta;
  }

  /** Cluster-scoped RBAC: see the invariants for the names and owner references. */
  cluster(): V1ObjectMeta {
    const base = aggregatorName(this.agg);
    if (this.agg.kind === 'ClusterVectorAggregator') {
      const meta = this.of(base);
      delete meta.namespace;
      return meta;
    }
    const meta: V1ObjectMeta = {
      name: `${this.ns}.${base}`,
      labels: { ...this.labels, [ownerNamespaceLabel]: this.ns },
    };
    const annotations = this.agg.spec.annotations;
    if (annotations !== undefined) meta.annotations = { ...annotations };
    return meta;
  }
}

const claimProblem =
  'persistence.volumeClaimTemplates must include a claim named "data", which backs the Vector data_dir';

function claims(agg: Aggregator): V1PersistentVolumeClaim[] | string {
  const p = agg.spec.persistence ?? {};
  const given = p.volumeClaimTemplates as V1PersistentVolumeClaim[] | undefined;
  if (given !== undefined && given.length > 0)
    return given.some((c) => c.metadata?.name === 'data') ? structuredClone(given) : claimProblem;
  const size = p.size === undefined || p.size === 0 || p.size === '' || p.size === '0' ? '10Gi' : String(p.size);
  const spec: V1PersistentVolumeClaim['spec'] = {
    accessModes: p.accessModes ?? ['ReadWriteOnce'],
    resources: { requests: { storage: size } },
  };
  if (p.storageClassName !== undefined) spec.storageClassName = p.storageClassName;
  return [{ metadata: { name: 'data' }, spec }];
}

function workload(agg: Aggregator, m: Meta, assets: string | undefined): V1Deployment | V1StatefulSet | string {
  const name = aggregatorName(agg);
  const statefulSet = persistent(agg);
  const template = aggregatorPodTemplate({ spec: agg.spec, name, metadata: m.of(name), statefulSet });
  // The assets volume and mount exist only while there are values: templates without secrets are unchanged.
  if (assets !== undefined && template.spec !== undefined) mountAssets(template.spec, name, assets);
  // No replicas with autoscaling, or when unset: the API server defaults it, and an update keeps the live count.
  const replicas =
    agg.spec.autoscaling?.enabled === true || agg.spec.replicas === undefined ? {} : { replicas: agg.spec.replicas };
  const selector = { matchLabels: { ...m.fixed } };
  if (!statefulSet)
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: m.of(name),
      spec: { ...replicas, selector, template },
    };
  const volumeClaimTemplates = claims(agg);
  if (typeof volumeClaimTemplates === 'string') return volumeClaimTemplates;
  const retention = agg.spec.persistence?.retentionPolicy;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: m.of(name),
    spec: {
      ...replicas,
      serviceName: `${name}-headless`,
      podManagementPolicy: 'Parallel',
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: retention?.whenDeleted ?? 'Retain',
        whenScaled: retention?.whenScaled ?? 'Retain',
      },
      volumeClaimTemplates,
      selector,
      template,
    },
  };
}

function services(agg: Aggregator, build: AggregatorBuild, m: Meta): V1Service[] {
  const name = aggregatorName(agg);
  const out: V1Service[] = build.services.map((s) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: m.of(s.name),
    spec: {
      ports: s.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, targetPort: p.port })),
      selector: { ...m.fixed },
    },
  }));
  if (agg.spec.api?.enabled === true)
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: m.of(name),
      // kaasops selects by the aggregator labels here, `spec.labels` included (the source Services do not).
      spec: { ports: [{ name: 'api', protocol: 'TCP', port: 8686, targetPort: 8686 }], selector: { ...m.labels } },
    });
  if (persistent(agg))
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: m.of(`${name}-headless`),
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { ...m.fixed } },
    });
  return out;
}

function rbac(agg: Aggregator, m: Meta): [V1ServiceAccount, V1ClusterRole, V1ClusterRoleBinding] {
  const name = aggregatorName(agg);
  const cluster = m.cluster();
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: m.of(name) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: cluster,
      rules: [{ apiGroups: [''], resources: ['namespaces', 'nodes', 'pods'], verbs: ['list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: structuredClone(cluster),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: cluster.name ?? '' },
      subjects: [{ kind: 'ServiceAccount', name, namespace: m.ns }],
    },
  ];
}

/** `maxReplicas: 0` is what kaasops' finalizer update left on every VectorAggregator: read it as unset (3). */
function maxReplicas(agg: Aggregator): number {
  const n = agg.spec.autoscaling?.maxReplicas;
  return n === undefined || n <= 0 ? 3 : n;
}

function scaling(agg: Aggregator, m: Meta): (V2HorizontalPodAutoscaler | V1PodDisruptionBudget)[] {
  const name = aggregatorName(agg);
  const a = agg.spec.autoscaling;
  const out: (V2HorizontalPodAutoscaler | V1PodDisruptionBudget)[] = [];
  if (a?.enabled === true) {
    const spec: NonNullable<V2HorizontalPodAutoscaler['spec']> = {
      maxReplicas: maxReplicas(agg),
      scaleTargetRef: { apiVersion: 'apps/v1', kind: persistent(agg) ? 'StatefulSet' : 'Deployment', name },
    };
    if (a.minReplicas !== undefined) spec.minReplicas = a.minReplicas;
    if (a.metrics !== undefined)
      spec.metrics = structuredClone(a.metrics) as unknown as NonNullable<typeof spec.metrics>;
    if (a.behavior !== undefined) spec.behavior = structuredClone(a.behavior);
    out.push({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: m.of(name), spec });
  }
  const pdb = agg.spec.podDisruptionBudget;
  const effective = a?.enabled === true ? maxReplicas(agg) : (agg.spec.replicas ?? 1);
  if (pdb?.enabled === true && effective > 1) {
    const spec: NonNullable<V1PodDisruptionBudget['spec']> = { selector: { matchLabels: { ...m.fixed } } };
    if (pdb.minAvailable !== undefined) spec.minAvailable = pdb.minAvailable;
    else spec.maxUnavailable = pdb.maxUnavailable ?? 1;
    spec.unhealthyPodEvictionPolicy = pdb.unhealthyPodEvictionPolicy ?? 'AlwaysAllow';
    out.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: m.of(name), spec });
  }
  return out;
}

function podMonitor(agg: Aggregator, m: Meta): PodMonitor {
  const endpoint: Record<string, unknown> = { path: '/metrics', port: 'prom-exporter' };
  if (agg.spec.scrapeInterval !== undefined && agg.spec.scrapeInterval !== '')
    endpoint.interval = agg.spec.scrapeInterval;
  if (agg.spec.scrapeTimeout !== undefined && agg.spec.scrapeTimeout !== '')
    endpoint.scrapeTimeout = agg.spec.scrapeTimeout;
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: m.of(aggregatorName(agg)),
    spec: { podMetricsEndpoints: [endpoint], selector: { matchLabels: { ...m.fixed } } },
  };
}

/**
 * Every object the aggregator should have, in kaasops' write order (assets Secret, config Secret, workload, RBAC, Services,
 * PodMonitor, the event collector's, HPA, PDB), or the problems that stop it, each naming the field.
 */
export function aggregatorObjects(
  agg: Aggregator,
  build: AggregatorBuild,
  opts: AggregatorObjectOptions,
): AggregatorObjects {
  const m = new Meta(agg);
  if (m.ns === '') return { ok: false, problems: ['spec.resourceNamespace is empty'] };
  const name = aggregatorName(agg);
  const assets =
    opts.assetsData ??
    bridgedAssets(
      build.secretAssets,
      {},
      { configUnchanged: true, sincePublishedMs: undefined },
      aggregatorAssetsObjectBytes(agg),
    ).data;
  const assetsName = Object.keys(assets).length > 0 ? assetsSecretName(name) : undefined;
  const work = workload(agg, m, assetsName);
  if (typeof work === 'string') return { ok: false, problems: [`spec.${work}`] };
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: m.of(name),
    data: {
      [aggregatorConfigKey]: encodePayload(serializeConfig(build.config), agg.spec.compressConfigFile === true),
    },
  };
  // Assets before the config that names them (kaasops' order when gaining them); their deletion comes last.
  const objects: AggregatorObject[] =
    assetsName === undefined
      ? [secret]
      : [{ apiVersion: 'v1', kind: 'Secret', metadata: m.of(assetsName), data: assets }, secret];
  objects.push(work, ...rbac(agg, m), ...services(agg, build, m));
  if (agg.spec.internalMetrics === true && opts.podMonitor) objects.push(podMonitor(agg, m));
  objects.push(...eventCollectorObjects({ agg, ns: m.ns, owner: m.owner() }, build));
  objects.push(...scaling(agg, m));
  return { ok: true, objects };
}
