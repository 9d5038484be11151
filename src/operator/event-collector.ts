/**
 * The event collector of an aggregator: the objects kaasops creates when a pipeline it selects has a
 * `kubernetes_events` source (reference §1.14), as plain typed literals. The collector itself is kaasops' image
 * (`kaasops/event-collector`); its ConfigMap is the contract between us: which Services and ports to push events to,
 * and which namespace to watch for each.
 *
 * Invariants:
 * - No `kubernetes_events` port in the build: no object (the caller deletes what its caches hold).
 * - Names, labels (the 4 fixed ones with `component: EventCollector`, never `spec.labels`), annotations and the pod
 *   template are kaasops' field for field: the template metadata is named `<n>-aggregator` (sic) and carries the
 *   Deployment's labels, annotations and owner references; the volumes are the aggregator's (the 3 default host paths
 *   when unset) then the ConfigMap; the container has no resources, probes or ports. So a cutover rolls no collector.
 * - The image defaults to `kaasops/event-collector:v0.5.0`, the tag of the kaasops release whose defaults we keep
 *   (its vector image is our agent default too): kaasops tags it with its own version, so the same tag rolls nothing.
 * - `config.json` is Go's `json.Marshal` of kaasops' struct, fields in declaration order. Receivers are sorted by
 *   Service name (one per pipeline; kaasops iterated a Go map, i.e. random order): the order depends on nothing but
 *   the receivers, so the ConfigMap is written only when one changes. A different order than kaasops' at cutover
 *   costs one ConfigMap write and no restart: the ConfigMap is not in the pod template, and the collector, which
 *   reloads it live, keys its senders by Service host, so the same receivers in another order change nothing.
 * - Do better than kaasops: a VectorAggregator's ClusterRole and binding are named `<namespace>.<n>-event-collector`
 *   with the owner-namespace label and no owner reference, like its other cluster-scoped RBAC (kaasops' name was
 *   shared across namespaces and its namespaced owner reference leaked them, T9); the `prometheus.io/*` annotations
 *   are on the Deployment and its template only (kaasops wrote them into the shared map, T8).
 */
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Deployment,
  V1ObjectMeta,
  V1OwnerReference,
  V1Service,
  V1ServiceAccount,
  V1Volume,
} from '@kubernetes/client-node';
import { canonicalPodSpec } from '../kube/quantity.ts';
import type { AggregatorBuild } from '../pipelines/aggregator-build.ts';
import type { Aggregator } from '../pipelines/aggregator-schemas.ts';
import { goJson, goStruct } from '../pipelines/gojson.ts';
import { podPlacement } from './aggregator-pod.ts';
import { defaultVolumes, ownerNamespaceLabel, securityContext } from './objects.ts';

/** kaasops v0.5.0's event collector: see the invariants for why this tag. */
export const defaultEventCollectorImage = 'kaasops/event-collector:v0.5.0';
const configVolume = 'event-collector-config';
const defaultMaxBatchSize = 250;

export type EventCollectorObject =
  V1ConfigMap | V1ServiceAccount | V1ClusterRole | V1ClusterRoleBinding | V1Service | V1Deployment;

/** One entry of the collector's `Receivers`: where to push the events of `WatchedNamespace` ('' = all). */
export interface Receiver {
  ServiceName: string;
  ServiceNamespace: string;
  Port: string;
  WatchedNamespace: string;
}

export interface EventCollectorInputs {
  agg: Aggregator;
  /** The namespace of the aggregator's objects. */
  ns: string;
  /** The aggregator's controller owner reference; undefined when rendering from manifests. */
  owner: V1OwnerReference[] | undefined;
}

/** `<n>-event-collector`: every event-collector object (cluster RBAC of a VectorAggregator: see the invariants). */
function eventCollectorName(agg: Aggregator): string {
  return `${agg.metadata.name}-event-collector`;
}

/** The receivers of the build's `kubernetes_events` ports, sorted by Service name then port. */
function receivers(build: AggregatorBuild, ns: string): Receiver[] {
  const out: Receiver[] = [];
  for (const s of build.services)
    for (const p of s.ports)
      if (p.kubernetesEvents === true)
        out.push({
          ServiceName: s.name,
          ServiceNamespace: ns,
          Port: String(p.port),
          WatchedNamespace: s.pipeline?.namespace ?? '',
        });
  return out.sort((a, b) =>
    a.ServiceName === b.ServiceName ? Number(a.Port) - Number(b.Port) : a.ServiceName < b.ServiceName ? -1 : 1,
  );
}

/** kaasops' `config.json`: `{"MaxBatchSize":..,"Receivers":[{"ServiceName":..,"ServiceNamespace":..,"Port":..,...}]}`. */
export function collectorConfig(maxBatchSize: number | undefined, list: readonly Receiver[]): string {
  const batch = maxBatchSize === undefined || maxBatchSize <= 0 ? defaultMaxBatchSize : maxBatchSize;
  return goJson(
    goStruct([
      ['MaxBatchSize', batch],
      [
        'Receivers',
        list.map((r) =>
          goStruct([
            ['ServiceName', r.ServiceName],
            ['ServiceNamespace', r.ServiceNamespace],
            ['Port', r.Port],
            ['WatchedNamespace', r.WatchedNamespace],
          ]),
        ),
      ],
    ]),
  );
}

function labels(agg: Aggregator): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': 'vector-operator',
    'app.kubernetes.io/name': 'vector',
    'app.kubernetes.io/component': 'EventCollector',
    'app.kubernetes.io/instance': agg.metadata.name,
  };
}

function meta(i: EventCollectorInputs, name: string, extra?: Record<string, string>): V1ObjectMeta {
  const m: V1ObjectMeta = { name, namespace: i.ns, labels: labels(i.agg) };
  const annotations = { ...(i.agg.spec.annotations ?? {}), ...(extra ?? {}) };
  if (i.agg.spec.annotations !== undefined || extra !== undefined) m.annotations = annotations;
  if (i.owner !== undefined) m.ownerReferences = structuredClone(i.owner);
  return m;
}

function clusterMeta(i: EventCollectorInputs): V1ObjectMeta {
  const base = eventCollectorName(i.agg);
  const m = meta(i, base);
  delete m.namespace;
  if (i.agg.kind === 'ClusterVectorAggregator') return m;
  delete m.ownerReferences;
  m.name = `${i.ns}.${base}`;
  m.labels = { ...m.labels, [ownerNamespaceLabel]: i.ns };
  return m;
}

function deployment(i: EventCollectorInputs): V1Deployment {
  const { spec } = i.agg;
  const name = eventCollectorName(i.agg);
  const scrape = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' };
  const user = ((spec.volumes as V1Volume[] | undefined) ?? defaultVolumes).filter((v) => v.name !== configVolume);
  const container: NonNullable<V1Deployment['spec']>['template']['spec'] = {
    serviceAccountName: name,
    volumes: [...structuredClone(user), { name: configVolume, configMap: { name } }],
    containers: [
      {
        name: 'event-collector',
        image: spec.eventCollector?.image ?? defaultEventCollectorImage,
        imagePullPolicy: spec.eventCollector?.imagePullPolicy ?? 'IfNotPresent',
        volumeMounts: [{ name: configVolume, mountPath: '/etc/event-collector' }],
      },
    ],
    ...structuredClone(podPlacement(spec)),
  };
  const sc = securityContext(spec, false);
  if (sc !== undefined && container.containers[0] !== undefined) container.containers[0].securityContext = sc;
  // kaasops names the template metadata after the aggregator workload, not the collector (sic).
  const template = {
    metadata: meta(i, `${i.agg.metadata.name}-aggregator`, scrape),
    spec: canonicalPodSpec(container),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(i, name, scrape),
    spec: { replicas: 1, selector: { matchLabels: labels(i.agg) }, template },
  };
}

/** The event collector's objects in kaasops' write order (ConfigMap, SA, ClusterRole, binding, Service, Deployment). */
export function eventCollectorObjects(i: EventCollectorInputs, build: AggregatorBuild): EventCollectorObject[] {
  const list = receivers(build, i.ns);
  if (list.length === 0) return [];
  const name = eventCollectorName(i.agg);
  const cluster = clusterMeta(i);
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(i, name),
      data: { 'config.json': collectorConfig(i.agg.spec.eventCollector?.maxBatchSize, list) },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(i, name) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: cluster,
      rules: [{ apiGroups: [''], resources: ['events'], verbs: ['list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: structuredClone(cluster),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: cluster.name ?? '' },
      subjects: [{ kind: 'ServiceAccount', name, namespace: i.ns }],
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(i, name),
      spec: {
        ports: [{ name: 'metrics', protocol: 'TCP', port: 8080, targetPort: 8080 }],
        selector: labels(i.agg),
      },
    },
    deployment(i),
  ];
}
