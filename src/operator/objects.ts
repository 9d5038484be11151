/**
 * Desired Kubernetes objects for one Vector agent, as plain typed literals (no client, no I/O).
 *
 * Invariants:
 * - The pod template matches kaasops' (reference §2) field for field and in list order: user volumes, then `config`,
 *   `data`, `procfs`, `sysfs` (and `app-config-compress` when compressing); user env, then the 5 fixed vars. Any
 *   difference would roll every agent at operator cutover (kaasops #260). The template carries no config hash:
 *   config changes reach pods through the Secret volume and Vector's --watch-config.
 * - The user's wins on a clash (kaasops #203): a user volume named like a built-in one replaces it, and so does a
 *   user mount at a built-in mount path. Env is the exception: a fixed variable stays and the user's of that name is
 *   dropped, because kaasops' agents ran with the fixed value (the last of a name wins in a pod). No list ever holds
 *   two items with one key (volumes and env by name, mounts by mountPath), which server-side apply rejects.
 * - Defaults are applied here, in one place, and never written back to the Vector.
 * - Resource quantities in the pod template are canonical (src/kube/quantity.ts), as a real API server stores them
 *   and as kaasops' Go client sends them: kaasops' `1000m`/`1024Mi` defaults are stored as `1`/`1Gi`. Sending the
 *   stored form keeps `isSubset(desired, live)` exact, so a reconcile that changes nothing writes nothing.
 * - Cluster-scoped RBAC is named `<namespace>.<vector>-agent`, unlike kaasops' `<vector>-agent`: two Vectors of the
 *   same name in different namespaces would otherwise share (and fight over) one ClusterRole. It carries no ownerRef
 *   (a namespaced owner of a cluster-scoped object is unresolvable for GC, so kaasops' RBAC leaked); its
 *   `app.kubernetes.io/instance` and `vector-operator.kaasops.io/owner-namespace` labels let the operator find and
 *   delete it.
 * - Output depends only on the inputs: the same Vector and config give the same objects.
 * - The pod-level helpers (env, resources, probes, reloader containers) are shared with the aggregator's pod
 *   (aggregator-objects.ts): kaasops builds both from the same VectorCommon fields.
 */
import { gzipSync } from 'node:zlib';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Container,
  V1DaemonSet,
  V1EnvVar,
  V1ObjectMeta,
  V1OwnerReference,
  V1Probe,
  V1ResourceRequirements,
  V1Secret,
  V1SecurityContext,
  V1Service,
  V1ServiceAccount,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { canonicalPodSpec } from '../kube/quantity.ts';
import { apiVersion, type AgentSpec, type Vector } from '../pipelines/schemas.ts';
import { mergerInitContainer, mergerVolumes, type MergerWiring } from './merger-container.ts';

export const defaultAgentImage = 'timberio/vector:0.48.0-distroless-libc';
const defaultConfigReloaderImage = 'docker.io/kaasops/config-reloader:v0.1.4';
export const configKey = 'agent.json';
/** On cluster-scoped objects: the owning Vector's namespace (its name is in app.kubernetes.io/instance). */
export const ownerNamespaceLabel = 'vector-operator.kaasops.io/owner-namespace';

/** Plain JSON objects: what `kubectl apply -f` would read. */
export interface PodMonitor {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'PodMonitor';
  metadata: V1ObjectMeta;
  spec: Record<string, unknown>;
}
export type AgentObject =
  V1Secret | V1DaemonSet | V1ServiceAccount | V1ClusterRole | V1ClusterRoleBinding | V1Service | PodMonitor;

export function agentName(vector: Vector): string {
  return `${vector.metadata.name}-agent`;
}

function clusterRbacName(vector: Vector): string {
  // A namespace is a DNS label (no '.'), so the first '.' splits the name unambiguously; a '-' join would not
  // (`a-b`/`c` and `a`/`b-c` both give `a-b-c`).
  return `${vector.metadata.namespace}.${vector.metadata.name}-agent`;
}

function selectorLabels(vector: Vector): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': 'vector-operator',
    'app.kubernetes.io/name': 'vector',
    'app.kubernetes.io/component': 'Agent',
    'app.kubernetes.io/instance': vector.metadata.name,
  };
}

function labelsFor(vector: Vector): Record<string, string> {
  // The fixed labels win: they are the DaemonSet selector, which is immutable.
  return { ...(vector.spec.agent?.labels ?? {}), ...selectorLabels(vector) };
}

function ownerReferences(vector: Vector): V1OwnerReference[] | undefined {
  const uid = vector.metadata.uid;
  if (uid === undefined) return undefined; // rendering from manifests: no uid yet, the apply step adds it
  return [{ apiVersion, kind: 'Vector', name: vector.metadata.name, uid, controller: true, blockOwnerDeletion: true }];
}

function objectMeta(vector: Vector, name: string): V1ObjectMeta {
  const meta: V1ObjectMeta = { name, namespace: vector.metadata.namespace, labels: labelsFor(vector) };
  const annotations = vector.spec.agent?.annotations;
  if (annotations !== undefined) meta.annotations = { ...annotations };
  const refs = ownerReferences(vector);
  if (refs !== undefined) meta.ownerReferences = refs;
  return meta;
}

function clusterMeta(vector: Vector): V1ObjectMeta {
  const meta: V1ObjectMeta = {
    name: clusterRbacName(vector),
    labels: { ...labelsFor(vector), [ownerNamespaceLabel]: vector.metadata.namespace },
  };
  const annotations = vector.spec.agent?.annotations;
  if (annotations !== undefined) meta.annotations = { ...annotations };
  return meta;
}

export function defaultResources(given: Record<string, unknown> | undefined): V1ResourceRequirements {
  const r = { ...(given ?? {}) } as V1ResourceRequirements;
  r.requests ??= { cpu: '100m', memory: '200Mi' };
  r.limits ??= { cpu: '1000m', memory: '1024Mi' };
  return r;
}

export function healthProbe(): V1Probe {
  return { httpGet: { path: '/health', port: 8686 }, initialDelaySeconds: 15, periodSeconds: 20, timeoutSeconds: 3 };
}

export const defaultVolumes: V1Volume[] = [
  { name: 'var-log', hostPath: { path: '/var/log/' } },
  { name: 'journal', hostPath: { path: '/var/log/journal' } },
  { name: 'var-lib', hostPath: { path: '/var/lib/' } },
];
export const defaultVolumeMounts: V1VolumeMount[] = [
  { name: 'var-log', mountPath: '/var/log/' },
  { name: 'journal', mountPath: '/run/log/journal' },
  { name: 'var-lib', mountPath: '/var/lib/' },
];

function volumes(vector: Vector, agent: AgentSpec, secretName: string): V1Volume[] {
  const user = (agent.volumes as V1Volume[] | undefined) ?? defaultVolumes;
  const compress = agent.compressConfigFile === true;
  const own: V1Volume[] = [
    compress ? { name: 'config', emptyDir: {} } : { name: 'config', secret: { secretName } },
    { name: 'data', hostPath: { path: agent.dataDir ?? '/var/lib/vector' } },
    { name: 'procfs', hostPath: { path: '/proc' } },
    { name: 'sysfs', hostPath: { path: '/sys' } },
  ];
  if (compress) own.push({ name: 'app-config-compress', secret: { secretName } });
  const taken = new Set(user.map((v) => v.name));
  return [...user, ...own.filter((v) => !taken.has(v.name))];
}

function volumeMounts(agent: AgentSpec, leastPrivilege: boolean): V1VolumeMount[] {
  const ro = leastPrivilege ? { readOnly: true } : {};
  // The Vector's own volumeMounts are the admin's explicit choice and stay as written.
  const user =
    (agent.volumeMounts as V1VolumeMount[] | undefined) ??
    defaultVolumeMounts.map((m) => ({ name: m.name, mountPath: m.mountPath, ...ro }));
  const own: V1VolumeMount[] = [
    { name: 'config', mountPath: '/etc/vector' },
    { name: 'data', mountPath: '/vector-data-dir' },
    { name: 'procfs', mountPath: '/host/proc', ...ro },
    { name: 'sysfs', mountPath: '/host/sys', ...ro },
  ];
  if (agent.compressConfigFile === true) own.push({ name: 'app-config-compress', mountPath: '/tmp/archive' });
  // volumeMounts are keyed by mountPath: a user mount at a built-in path replaces the built-in one (kaasops #203),
  // as a user volume named like a built-in volume does; sending both is rejected by the API server.
  const taken = new Set(user.map((m) => m.mountPath));
  return [...user, ...own.filter((m) => !taken.has(m.mountPath))];
}

export function env(agent: AgentSpec): V1EnvVar[] {
  const field = (fieldPath: string): V1EnvVar['valueFrom'] => ({ fieldRef: { apiVersion: 'v1', fieldPath } });
  const user = (agent.env as V1EnvVar[] | undefined) ?? [];
  const own: V1EnvVar[] = [
    { name: 'VECTOR_SELF_NODE_NAME', valueFrom: field('spec.nodeName') },
    { name: 'VECTOR_SELF_POD_NAME', valueFrom: field('metadata.name') },
    { name: 'VECTOR_SELF_POD_NAMESPACE', valueFrom: field('metadata.namespace') },
    { name: 'PROCFS_ROOT', value: '/host/proc' },
    { name: 'SYSFS_ROOT', value: '/host/sys' },
  ];
  // env is keyed by name, and server-side apply rejects two items of one key (the Vector got no DaemonSet). kaasops
  // sends both, user's first; the kubelet lets the last of a name win, so its agents run with the fixed value. The
  // fixed one therefore stays, and what a running agent sees is unchanged at cutover.
  const fixed = new Set(own.map((e) => e.name));
  return [...user.filter((e) => !fixed.has(e.name)), ...own];
}

/**
 * The container securityContext: the Vector's own, plus `allowPrivilegeEscalation: false` under least privilege
 * unless the Vector sets it or asks for a privileged container (the API server refuses that combination).
 */
export function securityContext(agent: AgentSpec, leastPrivilege: boolean): V1SecurityContext | undefined {
  // A plain object from the Vector's spec; typed as the client's class only once it is returned.
  const given = agent.containerSecurityContext;
  if (!leastPrivilege || given?.allowPrivilegeEscalation !== undefined || given?.privileged === true) return given;
  return { ...given, allowPrivilegeEscalation: false };
}

export function reloader(agent: AgentSpec, name: string, initMode: boolean, leastPrivilege: boolean): V1Container {
  const c: V1Container = {
    name,
    image: agent.configReloaderImage ?? defaultConfigReloaderImage,
    args: [`--init-mode=${initMode}`, '--volume-dir-archive=/tmp/archive', '--dir-for-unarchive=/etc/vector'],
    resources: defaultResources(agent.configReloaderResources),
    volumeMounts: [
      { name: 'config', mountPath: '/etc/vector' },
      { name: 'app-config-compress', mountPath: '/tmp/archive' },
    ],
  };
  if (agent.imagePullPolicy !== undefined) c.imagePullPolicy = agent.imagePullPolicy;
  const sc = securityContext(agent, leastPrivilege);
  if (sc !== undefined) c.securityContext = sc;
  return c;
}

function agentContainer(vector: Vector, leastPrivilege = false): V1Container {
  const agent = vector.spec.agent ?? {};
  const healthcheck = agent.api?.enabled === true && agent.api.healthcheck === true;
  const c: V1Container = {
    name: agentName(vector),
    image: agent.image ?? defaultAgentImage,
    args: ['--config-dir', '/etc/vector', '--watch-config'],
    env: env(agent),
    ports: [{ name: 'prom-exporter', containerPort: 9598, protocol: 'TCP' }],
    volumeMounts: volumeMounts(agent, leastPrivilege),
    resources: defaultResources(agent.resources),
  };
  const readiness = (agent.readinessProbe as V1Probe | undefined) ?? (healthcheck ? healthProbe() : undefined);
  const liveness = (agent.livenessProbe as V1Probe | undefined) ?? (healthcheck ? healthProbe() : undefined);
  if (readiness !== undefined) c.readinessProbe = readiness;
  if (liveness !== undefined) c.livenessProbe = liveness;
  const sc = securityContext(agent, leastPrivilege);
  if (sc !== undefined) c.securityContext = sc;
  if (agent.imagePullPolicy !== undefined) c.imagePullPolicy = agent.imagePullPolicy;
  if (agent.envFrom !== undefined && agent.envFrom.length > 0) c.envFrom = agent.envFrom;
  return c;
}

/**
 * `merger` (checkpoint migration on) adds the `checkpoint-merger` init container after `init-config-reloader` and its
 * volumes after the operator's own; without it the template is exactly the pre-migration one (golden-tested).
 *
 * Least privilege (docs/security.md) applies with the merger, whose cutover rolls the agents anyway, or when asked
 * (`--agent-least-privilege`): the default host mounts and /proc, /sys become read-only (the data dir stays
 * writable), and containers get `allowPrivilegeEscalation: false`. Without either, nothing changes, so an operator
 * upgrade rolls no agent.
 */
export function agentDaemonSet(
  vector: Vector,
  configSecretName = agentName(vector),
  merger?: MergerWiring,
  leastPrivilegeFlag = false,
): V1DaemonSet {
  const leastPrivilege = leastPrivilegeFlag || merger !== undefined;
  const agent = vector.spec.agent ?? {};
  const name = agentName(vector);
  const compress = agent.compressConfigFile === true;
  const podSpec: NonNullable<V1DaemonSet['spec']>['template']['spec'] = {
    serviceAccountName: name,
    volumes: volumes(vector, agent, configSecretName),
    containers: compress
      ? [agentContainer(vector, leastPrivilege), reloader(agent, 'config-reloader', false, leastPrivilege)]
      : [agentContainer(vector, leastPrivilege)],
  };
  const inits: V1Container[] = [];
  if (compress) inits.push(reloader(agent, 'init-config-reloader', true, leastPrivilege));
  if (merger !== undefined) {
    inits.push(mergerInitContainer(agent, merger));
    const taken = new Set(podSpec.volumes?.map((v) => v.name));
    podSpec.volumes?.push(...mergerVolumes(merger).filter((v) => !taken.has(v.name)));
  }
  if (inits.length > 0) podSpec.initContainers = inits;
  if (agent.podSecurityContext !== undefined) podSpec.securityContext = agent.podSecurityContext;
  if (agent.imagePullSecrets !== undefined) podSpec.imagePullSecrets = agent.imagePullSecrets;
  if (agent.affinity !== undefined) podSpec.affinity = agent.affinity;
  if (agent.runtimeClassName !== undefined) podSpec.runtimeClassName = agent.runtimeClassName;
  if (agent.schedulerName !== undefined) podSpec.schedulerName = agent.schedulerName;
  if (agent.tolerations !== undefined) podSpec.tolerations = agent.tolerations;
  if (agent.priorityClassName !== undefined) podSpec.priorityClassName = agent.priorityClassName;
  if (agent.hostNetwork === true) podSpec.hostNetwork = true;
  if (agent.host_aliases !== undefined) podSpec.hostAliases = agent.host_aliases as { ip: string }[];
  // In the form a real server stores (`1000m` → `1`, `1024Mi` → `1Gi`), so the desired template equals the stored
  // one and `isSubset` holds after a write. A copy: the spec shares user objects with the Vector in the cache.
  const stored = canonicalPodSpec(structuredClone(podSpec));
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: objectMeta(vector, name),
    spec: {
      selector: { matchLabels: selectorLabels(vector) },
      template: { metadata: objectMeta(vector, name), spec: stored },
    },
  };
}

/** Config payload bytes as the Secret holds them: gzip when the Vector asks (`compressConfigFile`), then base64. */
export function encodePayload(json: string, compress: boolean): string {
  const raw = Buffer.from(json, 'utf8');
  return (compress ? gzipSync(raw) : raw).toString('base64');
}

/** `payload`: the encoded config when the caller has it already (`encodePayload` of `configJson`). */
export function configSecret(
  vector: Vector,
  configJson: string,
  name = agentName(vector),
  payload = encodePayload(configJson, vector.spec.agent?.compressConfigFile === true),
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMeta(vector, name),
    data: { [configKey]: payload },
  };
}

/** The most a Secret's data may hold: the API server's MaxSecretSize, counted over the decoded values. */
const maxSecretBytes = 1024 * 1024;

/**
 * Why the API server would refuse this config Secret for its size, naming the Secret and the way out; undefined when
 * it fits. Checked before anything is written, so an oversized config is reported, not retried forever.
 */
export function secretSizeProblem(vector: Vector, secret: V1Secret): string | undefined {
  const bytes = Object.values(secret.data ?? {}).reduce((n, b64) => n + Buffer.byteLength(b64, 'base64'), 0);
  if (bytes <= maxSecretBytes) return undefined;
  const mib = (bytes / 2 ** 20).toFixed(1);
  const what = `Secret ${vector.metadata.namespace}/${secret.metadata?.name ?? ''} would hold ${mib} MiB of config`;
  const limit = `over the 1 MiB (${maxSecretBytes} bytes) a Secret holds`;
  return vector.spec.agent?.compressConfigFile === true
    ? `${what} even gzipped, ${limit}: spread the pipelines over more Vectors`
    : `${what}, ${limit}: set spec.agent.compressConfigFile: true (gzip; configs shrink 10 to 30 times) or spread the pipelines over more Vectors`;
}

export function agentObjects(vector: Vector, configJson: string, leastPrivilege = false): AgentObject[] {
  const agent = vector.spec.agent ?? {};
  const name = agentName(vector);
  const objects: AgentObject[] = [
    configSecret(vector, configJson),
    agentDaemonSet(vector, agentName(vector), undefined, leastPrivilege),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: objectMeta(vector, name) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: clusterMeta(vector),
      rules: [{ apiGroups: [''], resources: ['namespaces', 'nodes', 'pods'], verbs: ['list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: clusterMeta(vector),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRbacName(vector) },
      subjects: [{ kind: 'ServiceAccount', name, namespace: vector.metadata.namespace }],
    },
  ];
  if (agent.api?.enabled === true) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: objectMeta(vector, name),
      spec: {
        ports: [{ name: 'api', port: 8686, protocol: 'TCP', targetPort: 8686 }],
        selector: selectorLabels(vector),
      },
    });
  }
  if (agent.internalMetrics === true) {
    const endpoint: Record<string, unknown> = { path: '/metrics', port: 'prom-exporter' };
    if (agent.scrapeInterval !== undefined) endpoint.interval = agent.scrapeInterval;
    if (agent.scrapeTimeout !== undefined) endpoint.scrapeTimeout = agent.scrapeTimeout;
    objects.push({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: objectMeta(vector, name),
      spec: { podMetricsEndpoints: [endpoint], selector: { matchLabels: selectorLabels(vector) } },
    });
  }
  return objects;
}
