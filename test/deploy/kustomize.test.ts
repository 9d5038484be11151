/**
 * The kustomize base in deploy/: it renders, it holds what an install needs and no more, its RBAC is least-privilege,
 * the operator Deployment is hardened. Applying it into an API server: kustomize-apply.test.ts.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { MERGER_VERSION } from '../../src/merger/version.ts';
import { defaultMergerImage } from '../../src/operator/merger-container.ts';
import { aggregatorObjects } from '../../src/operator/aggregator-objects.ts';
import { agentObjects } from '../../src/operator/objects.ts';
import { buildAggregatorConfig } from '../../src/pipelines/aggregator-build.ts';
import type { Aggregator } from '../../src/pipelines/aggregator-schemas.ts';
import type { Pipeline, Vector } from '../../src/pipelines/schemas.ts';
import {
  deployDir,
  grants,
  KUBECTL,
  kustomize,
  only,
  parseObjects,
  repoRoot,
  requireKubectl,
  type Obj,
  type Rule,
} from './manifests.ts';

const NS = 'vector-operator-system';
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
}
interface PodSpec {
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
  hostNetwork?: boolean;
  volumes?: unknown[];
}

function deploymentOf(objects: Obj[]): { pod: PodSpec; manager: Container; replicas: unknown } {
  const spec = only(objects, 'Deployment').spec as { replicas?: number; template: { spec: PodSpec } };
  const manager = spec.template.spec.containers.find((c) => c.name === 'manager');
  assert.ok(manager, 'the Deployment has a `manager` container');
  return { pod: spec.template.spec, manager, replicas: spec.replicas };
}

/** The client's minor version, from `kubectl version --client -o json`. */
function kubectlMinor(): number {
  const r = spawnSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  const v = JSON.parse(r.stdout) as { clientVersion: { minor: string } };
  return Number.parseInt(v.clientVersion.minor, 10);
}

function flagValue(args: string[], flag: string): string | undefined {
  const hit = args.find((a) => a === flag || a.startsWith(`${flag}=`));
  return hit === undefined ? undefined : hit === flag ? 'true' : hit.slice(flag.length + 1);
}

/**
 * The operator's cluster-wide grants, one line per resource. Least privilege is a reviewed list: adding a grant means
 * changing deploy/rbac/cluster-role.yaml *and* this table, with the reason in the former.
 */
const EXPECTED_CLUSTER_GRANTS: Record<string, string[]> = {
  'observability.kaasops.io/vectors': ['get', 'list', 'watch', 'update', 'patch'],
  'observability.kaasops.io/vectorpipelines': ['get', 'list', 'watch', 'update', 'patch'],
  'observability.kaasops.io/clustervectorpipelines': ['get', 'list', 'watch', 'update', 'patch'],
  'observability.kaasops.io/vectors/status': ['get', 'update', 'patch'],
  'observability.kaasops.io/vectorpipelines/status': ['get', 'update', 'patch'],
  'observability.kaasops.io/clustervectorpipelines/status': ['get', 'update', 'patch'],
  'observability.kaasops.io/vectors/finalizers': ['update'],
  'observability.kaasops.io/vectoraggregators': ['get', 'list', 'watch', 'update', 'patch'],
  'observability.kaasops.io/clustervectoraggregators': ['get', 'list', 'watch', 'update', 'patch'],
  'observability.kaasops.io/vectoraggregators/status': ['get', 'update', 'patch'],
  'observability.kaasops.io/clustervectoraggregators/status': ['get', 'update', 'patch'],
  'observability.kaasops.io/vectoraggregators/finalizers': ['update'],
  'observability.kaasops.io/clustervectoraggregators/finalizers': ['update'],
  // Aggregators: their workload, HPA and PDB.
  'apps/deployments': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  'apps/statefulsets': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  'autoscaling/horizontalpodautoscalers': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  'policy/poddisruptionbudgets': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  // The aggregator's event collector: its ConfigMap.
  '/configmaps': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  '/secrets': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  '/serviceaccounts': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  '/services': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  'apps/daemonsets': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  'rbac.authorization.k8s.io/clusterroles': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  'rbac.authorization.k8s.io/clusterrolebindings': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  '/pods': ['get', 'list', 'watch', 'create', 'delete'],
  '/namespaces': ['get', 'list', 'watch'],
  '/nodes': ['list', 'watch'],
  '/events': ['list', 'watch', 'create', 'patch'],
  'events.k8s.io/events': ['create', 'patch'],
  'monitoring.coreos.com/podmonitors': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  // Secure metrics (--metrics-secure, the default): each scrape's token and access are checked with the API server.
  'authentication.k8s.io/tokenreviews': ['create'],
  'authorization.k8s.io/subjectaccessreviews': ['create'],
};

/** The plural of each kind the aggregator controller writes. */
const plurals: Record<string, string> = {
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Service: 'services',
  PodMonitor: 'podmonitors',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  PodDisruptionBudget: 'poddisruptionbudgets',
};

/** A Vector with every optional agent object switched on (Service, PodMonitor). */
const fullVector = {
  apiVersion: 'observability.kaasops.io/v1alpha1',
  kind: 'Vector',
  metadata: { name: 'v', namespace: 'team-a', uid: '00000000-0000-0000-0000-000000000001' },
  spec: { agent: { api: { enabled: true, healthcheck: true }, internalMetrics: true } },
} as unknown as Vector;

describe('deploy/: the kustomize base', () => {
  let objects: Obj[];
  before(() => {
    objects = parseObjects(kustomize(deployDir));
  });

  it(`finds ${KUBECTL} (the deploy tests fail, not skip, without it)`, () => {
    requireKubectl();
  });

  it('renders the CRDs, the namespace, RBAC, the Deployment and its metrics Service, each valid YAML', () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      'ClusterRole/vector-operator',
      'ClusterRoleBinding/vector-operator',
      'CustomResourceDefinition/clustervectoraggregators.observability.kaasops.io',
      'CustomResourceDefinition/clustervectorpipelines.observability.kaasops.io',
      'CustomResourceDefinition/vectoraggregators.observability.kaasops.io',
      'CustomResourceDefinition/vectorpipelines.observability.kaasops.io',
      'CustomResourceDefinition/vectors.observability.kaasops.io',
      'Deployment/vector-operator',
      `Namespace/${NS}`,
      'Role/vector-operator-leader-election',
      'RoleBinding/vector-operator-leader-election',
      'Service/vector-operator-metrics',
      'ServiceAccount/vector-operator',
    ]);
    const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);
    for (const o of objects)
      assert.equal(o.metadata.namespace, clusterScoped.has(o.kind) ? undefined : NS, `${o.kind}/${o.metadata.name}`);
  });

  it('lists every generated CRD file, so a new CRD cannot be left out of the install', () => {
    const kustomization = parseYaml(readFileSync(join(deployDir, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    const generated = readdirSync(join(deployDir, 'crds')).filter((f) => f.endsWith('.yaml'));
    assert.ok(generated.length >= 3);
    for (const f of generated) assert.ok(kustomization.resources.includes(`crds/${f}`), `crds/${f} is not a resource`);
  });

  it('grants RBAC with no wildcard and no escalate, bind or impersonate, and Secrets only by named verbs', () => {
    for (const o of objects.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
      for (const r of o.rules ?? []) {
        const where = `${o.kind}/${o.metadata.name} ${JSON.stringify(r)}`;
        for (const field of [r.apiGroups, r.resources, r.verbs, r.resourceNames])
          assert.ok(!(field ?? []).some((v) => v.includes('*')), `wildcard in ${where}`);
        assert.equal(r.nonResourceURLs, undefined, `non-resource URLs in ${where}`);
        for (const v of ['escalate', 'bind', 'impersonate', 'deletecollection'])
          assert.ok(!r.verbs.includes(v), `${v} in ${where}`);
      }
    }
    const secretVerbs = [...grants(only(objects, 'ClusterRole').rules ?? [])]
      .filter((g) => g.startsWith('/secrets:'))
      .map((g) => g.slice('/secrets:'.length))
      .sort();
    assert.deepEqual(secretVerbs, ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
  });

  it('grants cluster-wide exactly the reviewed table, and Leases only in its own namespace', () => {
    const role = only(objects, 'ClusterRole', 'vector-operator');
    const got: Record<string, string[]> = {};
    for (const g of grants(role.rules ?? [])) {
      const [resource = '', verb = ''] = g.split(':');
      (got[resource] ??= []).push(verb);
    }
    const sorted = (t: Record<string, string[]>): Record<string, string[]> =>
      Object.fromEntries(
        Object.entries(t)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, [...v].sort()]),
      );
    assert.deepEqual(sorted(got), sorted(EXPECTED_CLUSTER_GRANTS));
    assert.ok(![...grants(role.rules ?? [])].some((g) => g.startsWith('coordination.k8s.io/')), 'no cluster Leases');

    const lease = only(objects, 'Role', 'vector-operator-leader-election');
    assert.equal(lease.metadata.namespace, NS);
    assert.deepEqual([...grants(lease.rules ?? [])].sort(), [
      'coordination.k8s.io/leases:create',
      'coordination.k8s.io/leases:get',
      'coordination.k8s.io/leases:patch',
      'coordination.k8s.io/leases:update',
    ]);
  });

  it('binds both roles to the operator ServiceAccount, the one the Deployment runs as', () => {
    const sa = only(objects, 'ServiceAccount');
    const subject = { kind: 'ServiceAccount', name: sa.metadata.name, namespace: NS };
    const crb = only(objects, 'ClusterRoleBinding');
    assert.deepEqual(crb.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'vector-operator',
    });
    assert.deepEqual(crb.subjects, [subject]);
    const rb = only(objects, 'RoleBinding');
    assert.deepEqual(rb.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'vector-operator-leader-election',
    });
    assert.deepEqual(rb.subjects, [subject]);
    assert.equal(deploymentOf(objects).pod.serviceAccountName, sa.metadata.name);
  });

  it('covers every agent object the operator writes, and every rule of the agent ClusterRole it grants (no escalate needed)', () => {
    const held = grants(only(objects, 'ClusterRole', 'vector-operator').rules ?? []);
    const group = (apiVersion: string): string => (apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '');
    const plural: Record<string, string> = {
      Secret: 'secrets',
      DaemonSet: 'daemonsets',
      ServiceAccount: 'serviceaccounts',
      ClusterRole: 'clusterroles',
      ClusterRoleBinding: 'clusterrolebindings',
      Service: 'services',
      PodMonitor: 'podmonitors',
    };
    const written = agentObjects(fullVector, '{}');
    assert.deepEqual(written.map((o) => o.kind).sort(), Object.keys(plural).sort(), 'every kind is exercised');
    for (const o of written) {
      const resource = plural[o.kind ?? ''];
      assert.ok(resource !== undefined, `no plural for ${o.kind ?? '?'}`);
      for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'])
        assert.ok(held.has(`${group(o.apiVersion ?? '')}/${resource}:${verb}`), `${o.kind ?? '?'}: ${verb}`);
    }
    const agentRole = written.find((o) => o.kind === 'ClusterRole') as { rules: Rule[] };
    for (const g of grants(agentRole.rules))
      assert.ok(held.has(g), `the agent ClusterRole grants ${g}, which the operator does not hold`);
  });

  it('covers every aggregator and event-collector object, and grants every rule of their ClusterRoles', () => {
    const held = grants(only(objects, 'ClusterRole', 'vector-operator').rules ?? []);
    const agg: Aggregator = {
      kind: 'VectorAggregator',
      metadata: { name: 'a', namespace: 'team-a', uid: '00000000-0000-0000-0000-000000000002' },
      spec: {
        api: { enabled: true },
        internalMetrics: true,
        autoscaling: { enabled: true, maxReplicas: 3 },
        podDisruptionBudget: { enabled: true },
      },
    };
    const events: Pipeline = {
      kind: 'VectorPipeline',
      metadata: { name: 'ev', namespace: 'team-a' },
      spec: { sources: { ev: { type: 'kubernetes_events' } }, sinks: { out: { type: 'blackhole', inputs: ['ev'] } } },
    };
    const built = aggregatorObjects(agg, buildAggregatorConfig(agg, [events]), { podMonitor: true });
    assert.ok(built.ok);
    const kinds = new Set(built.objects.map((o) => o.kind));
    assert.ok(kinds.has('ConfigMap') && kinds.has('Deployment'), 'the event collector is exercised');
    for (const o of built.objects) {
      const [groupOrVersion, version] = (o.apiVersion ?? '').split('/');
      const group = version === undefined ? '' : (groupOrVersion ?? '');
      const resource = plurals[o.kind ?? ''];
      assert.ok(resource !== undefined, `no plural for ${o.kind ?? '?'}`);
      for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'])
        assert.ok(held.has(`${group}/${resource}:${verb}`), `${o.kind ?? '?'}: ${verb}`);
    }
    for (const role of built.objects.filter((o) => o.kind === 'ClusterRole') as { rules: Rule[] }[])
      for (const g of grants(role.rules))
        assert.ok(held.has(g), `an aggregator ClusterRole grants ${g}, which the operator does not hold`);
  });

  it('runs the operator with leader election, probes, metrics, resources, non-root and a read-only root fs', () => {
    const { pod, manager, replicas } = deploymentOf(objects);
    assert.equal(replicas, 1);
    const args = manager.args ?? [];
    assert.equal(args[0], 'run');
    assert.equal(flagValue(args, '--leader-elect'), 'true');
    assert.equal(flagValue(args, '--metrics-bind-address'), ':8443');
    assert.equal(flagValue(args, '--health-probe-bind-address'), ':8081');
    const known = [
      '--enable-config-optimization',
      '--enable-checkpoint-migration',
      '--checkpoint-merger-image',
      '--watch-namespace',
      '--leader-elect',
      '--metrics-bind-address',
      '--health-probe-bind-address',
      '--configcheck-timeout',
      '--kubeconfig',
      '--log-level',
    ];
    for (const a of args.slice(1)) assert.ok(known.includes(a.split('=')[0] ?? ''), `unknown flag ${a}`);
    assert.equal(flagValue(args, '--kubeconfig'), undefined, 'in-cluster config');

    const port = (name: string | number): number | undefined =>
      typeof name === 'number' ? name : manager.ports?.find((p) => p.name === name)?.containerPort;
    const probe = (p: Container['livenessProbe']): string =>
      `${p?.httpGet?.path ?? '-'} ${port(p?.httpGet?.port ?? '')}`;
    assert.equal(probe(manager.livenessProbe), '/healthz 8081');
    assert.equal(probe(manager.readinessProbe), '/readyz 8081');
    assert.equal(port('metrics'), 8443);
    const svc = only(objects, 'Service', 'vector-operator-metrics').spec as {
      selector: Record<string, string>;
      ports: { targetPort: string | number }[];
    };
    assert.equal(port(svc.ports[0]?.targetPort ?? ''), 8443);
    const podLabels = (
      only(objects, 'Deployment').spec as { template: { metadata: { labels: Record<string, string> } } }
    ).template.metadata.labels;
    for (const [k, v] of Object.entries(svc.selector)) assert.equal(podLabels[k], v, `Service selector ${k}`);

    for (const half of ['requests', 'limits'] as const) {
      assert.ok(manager.resources?.[half]?.cpu, `${half}.cpu`);
      assert.ok(manager.resources[half].memory, `${half}.memory`);
    }
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.ok((pod.securityContext.runAsUser ?? 0) > 0, 'a non-zero uid');
    assert.equal(pod.securityContext.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(manager.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(manager.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(manager.securityContext.capabilities, { drop: ['ALL'] });
    assert.equal(pod.hostNetwork, undefined);
    assert.equal(pod.volumes, undefined, 'no volumes: nothing to write, nothing from the host');
  });

  it("tags the operator image with the package version, and leaves the merger image to the merger's own version", () => {
    const { manager } = deploymentOf(objects);
    assert.equal(manager.image, `vector-operator:${packageJson.version}`);
    // No flag in the base: the operator's default image carries MERGER_VERSION, so a new operator release that
    // leaves the merger alone rolls no agent, and a merger release needs no manifest edit.
    assert.equal(flagValue(manager.args ?? [], '--checkpoint-merger-image'), undefined);
    assert.equal(defaultMergerImage.slice(defaultMergerImage.lastIndexOf(':') + 1), MERGER_VERSION);
  });

  it('moves, namespace and binding subjects alike, when an overlay sets another namespace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-overlay-'));
    try {
      // `bases:` because kustomize v2.0.3 (kubectl 1.20) reads directories only there; newer ones accept it too.
      // Relative: kustomize refuses an absolute root.
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: logging\nbases:\n  - ${relative(dir, deployDir)}\n`,
      );
      const moved = parseObjects(kustomize(dir));
      // kustomize v2.0.3 (kubectl ≤ 1.20) leaves the Namespace object's name alone (docs/install.md says so).
      assert.equal(only(moved, 'Namespace').metadata.name, kubectlMinor() <= 20 ? NS : 'logging');
      for (const o of moved.filter((x) => x.metadata.namespace !== undefined))
        assert.equal(o.metadata.namespace, 'logging', `${o.kind}/${o.metadata.name}`);
      for (const kind of ['ClusterRoleBinding', 'RoleBinding'])
        assert.deepEqual(
          only(moved, kind).subjects?.map((s) => s.namespace),
          ['logging'],
          kind,
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
