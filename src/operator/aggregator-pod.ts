/**
 * The aggregator's pod template, shared by its Deployment and its StatefulSet, as kaasops builds it
 * (`aggregatorPodTemplateSpec`, reference §1.9).
 *
 * Invariants:
 * - Field for field and in list order kaasops' template: user volumes (or the 3 default host paths), then `config`,
 *   `data` (Deployment only; a StatefulSet's `data` is its claim), `procfs`, `sysfs`, `app-config-compress`; user env
 *   then the 5 fixed vars; the template metadata carries the name, namespace, labels, annotations and owner
 *   references, as kaasops sends them. Any difference would roll every aggregator at cutover (kaasops #260).
 * - An operator volume or mount is added only when no user volume has its name, or no user mount its name or its
 *   mount path (kaasops checks names only, and sent two mounts on one path, which the API server refuses).
 * - Quantities are in the form a real API server stores (`1000m` → `1`), so a reconcile that changes nothing writes
 *   nothing.
 */
import type {
  V1Container,
  V1PodSpec,
  V1PodTemplateSpec,
  V1Probe,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { canonicalPodSpec } from '../kube/quantity.ts';
import type { AggregatorSpec } from '../pipelines/aggregator-schemas.ts';
import {
  defaultAgentImage,
  defaultResources,
  defaultVolumeMounts,
  defaultVolumes,
  env,
  healthProbe,
  reloader,
  securityContext,
} from './objects.ts';

export interface PodInputs {
  spec: AggregatorSpec;
  /** `<n>-aggregator`: container, ServiceAccount and config Secret name. */
  name: string;
  /** The workload's metadata, which kaasops also sends as the template's. */
  metadata: V1PodTemplateSpec['metadata'];
  statefulSet: boolean;
}

function volumes(i: PodInputs): V1Volume[] {
  const { spec, name } = i;
  const user = (spec.volumes as V1Volume[] | undefined) ?? defaultVolumes;
  const compress = spec.compressConfigFile === true;
  const own: V1Volume[] = [
    compress ? { name: 'config', emptyDir: {} } : { name: 'config', secret: { secretName: name } },
  ];
  if (!i.statefulSet) own.push({ name: 'data', hostPath: { path: spec.dataDir ?? '/var/lib/vector' } });
  own.push({ name: 'procfs', hostPath: { path: '/proc' } }, { name: 'sysfs', hostPath: { path: '/sys' } });
  if (compress) own.push({ name: 'app-config-compress', secret: { secretName: name } });
  const taken = new Set(user.map((v) => v.name));
  return [...user, ...own.filter((v) => !taken.has(v.name))];
}

function volumeMounts(spec: AggregatorSpec): V1VolumeMount[] {
  const user = (spec.volumeMounts as V1VolumeMount[] | undefined) ?? defaultVolumeMounts;
  const own: V1VolumeMount[] = [
    { name: 'config', mountPath: '/etc/vector' },
    { name: 'data', mountPath: '/vector-data-dir' },
    { name: 'procfs', mountPath: '/host/proc' },
    { name: 'sysfs', mountPath: '/host/sys' },
  ];
  if (spec.compressConfigFile === true) own.push({ name: 'app-config-compress', mountPath: '/tmp/archive' });
  const names = new Set(user.map((m) => m.name));
  const paths = new Set(user.map((m) => m.mountPath));
  return [...structuredClone(user), ...own.filter((m) => !names.has(m.name) && !paths.has(m.mountPath))];
}

function vectorContainer(spec: AggregatorSpec, name: string): V1Container {
  const healthcheck = spec.api?.enabled === true && spec.api.healthcheck === true;
  const c: V1Container = {
    name,
    image: spec.image ?? defaultAgentImage,
    args: ['--config-dir', '/etc/vector', '--watch-config'],
    env: env(spec),
    ports: [{ name: 'prom-exporter', containerPort: 9598, protocol: 'TCP' }],
    volumeMounts: volumeMounts(spec),
    resources: defaultResources(spec.resources),
  };
  const readiness = (spec.readinessProbe as V1Probe | undefined) ?? (healthcheck ? healthProbe() : undefined);
  const liveness = (spec.livenessProbe as V1Probe | undefined) ?? (healthcheck ? healthProbe() : undefined);
  if (readiness !== undefined) c.readinessProbe = readiness;
  if (liveness !== undefined) c.livenessProbe = liveness;
  const sc = securityContext(spec, false);
  if (sc !== undefined) c.securityContext = sc;
  if (spec.imagePullPolicy !== undefined) c.imagePullPolicy = spec.imagePullPolicy;
  if (spec.envFrom !== undefined && spec.envFrom.length > 0) c.envFrom = spec.envFrom;
  return c;
}

/**
 * The pod fields kaasops copies from the aggregator spec to both its pods (the aggregator's and the event
 * collector's): security context, pull secrets and scheduling. Only the fields that are set.
 */
export function podPlacement(spec: AggregatorSpec): Partial<V1PodSpec> {
  const pod: Partial<V1PodSpec> = {};
  if (spec.podSecurityContext !== undefined) pod.securityContext = spec.podSecurityContext;
  if (spec.imagePullSecrets !== undefined) pod.imagePullSecrets = spec.imagePullSecrets;
  if (spec.affinity !== undefined) pod.affinity = spec.affinity;
  if (spec.topologySpreadConstraints !== undefined)
    pod.topologySpreadConstraints = spec.topologySpreadConstraints as unknown as NonNullable<
      typeof pod.topologySpreadConstraints
    >;
  if (spec.runtimeClassName !== undefined) pod.runtimeClassName = spec.runtimeClassName;
  if (spec.schedulerName !== undefined) pod.schedulerName = spec.schedulerName;
  if (spec.tolerations !== undefined) pod.tolerations = spec.tolerations;
  if (spec.priorityClassName !== undefined) pod.priorityClassName = spec.priorityClassName;
  if (spec.hostNetwork === true) pod.hostNetwork = true;
  if (spec.host_aliases !== undefined) pod.hostAliases = spec.host_aliases as { ip: string }[];
  return pod;
}

export function aggregatorPodTemplate(i: PodInputs): V1PodTemplateSpec {
  const { spec, name } = i;
  const compress = spec.compressConfigFile === true;
  const pod: NonNullable<V1PodTemplateSpec['spec']> = {
    serviceAccountName: name,
    volumes: volumes(i),
    containers: compress
      ? [vectorContainer(spec, name), reloader(spec, 'config-reloader', false, false)]
      : [vectorContainer(spec, name)],
  };
  Object.assign(pod, podPlacement(spec));
  if (compress) pod.initContainers = [reloader(spec, 'init-config-reloader', true, false)];
  // A copy in the stored form: the spec shares user objects with the aggregator in the cache.
  return { metadata: structuredClone(i.metadata), spec: canonicalPodSpec(structuredClone(pod)) };
}
