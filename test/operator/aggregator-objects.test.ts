/**
 * An aggregator's desired objects, field for field against the reference (kaasops-aggregators-and-more.md
 * §1.7-§1.13), with golden files for kaasops' documented aggregators, and the places where we do better.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type {
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { aggregatorObjects, type AggregatorObject } from '../../src/operator/aggregator-objects.ts';
import { buildAggregatorConfig } from '../../src/pipelines/aggregator-build.ts';
import type { Aggregator, AggregatorSpec } from '../../src/pipelines/aggregator-schemas.ts';
import { parseManifests } from '../../src/pipelines/manifests.ts';
import type { Pipeline } from '../../src/pipelines/schemas.ts';
import { vp } from '../helpers/fixtures.ts';
import { assertGolden } from '../helpers/golden.ts';

const text = readFileSync(new URL('../fixtures/kaasops-aggregators.yaml', import.meta.url), 'utf8');
const parsed = parseManifests(parseAllDocuments(text).map((d, i) => ({ origin: `#${i}`, value: d.toJS() as unknown })));

const va = (spec: AggregatorSpec = {}, meta: Partial<Aggregator['metadata']> = {}): Aggregator => ({
  kind: 'VectorAggregator',
  metadata: { name: 'agg', namespace: 'logs', ...meta },
  spec,
});

function objects(agg: Aggregator, pipelines: readonly Pipeline[] = []): AggregatorObject[] {
  const r = aggregatorObjects(agg, buildAggregatorConfig(agg, pipelines), { podMonitor: true });
  assert.ok(r.ok, r.ok ? '' : r.problems.join('; '));
  return r.objects;
}
// A typed lookup: the caller names the kind it expects.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
const find = <T>(objs: AggregatorObject[], kind: string, name?: string): T | undefined =>
  objs.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name)) as T | undefined;
const fixed = {
  'app.kubernetes.io/managed-by': 'vector-operator',
  'app.kubernetes.io/name': 'vector',
  'app.kubernetes.io/component': 'Aggregator',
  'app.kubernetes.io/instance': 'agg',
};

describe('aggregator objects: golden files of kaasops documented aggregators', () => {
  for (const name of ['vector-aggregator1', 'cluster-vector-aggregator1', 'vector-aggregator', 'every-field'])
    it(name, () => {
      const agg = parsed.aggregators.find((a) => a.metadata.name === name) as Aggregator;
      // A uid, as on a cluster, so that owner references are rendered.
      const withUid = { ...agg, metadata: { ...agg.metadata, uid: `uid-${name}` } };
      const yaml = objects(withUid, parsed.pipelines)
        .map((o) => `---\n${stringify(o, { lineWidth: 0 })}`)
        .join('');
      assertGolden(`objects/aggregator-${name}.yaml`, yaml);
    });
});

describe('aggregator objects: field for field', () => {
  it('a Deployment with the default pod template: kaasops volume order, mounts, env, port, resources', () => {
    const d = find<V1Deployment>(objects(va()), 'Deployment', 'agg-aggregator') as V1Deployment;
    assert.deepEqual(d.spec?.selector, { matchLabels: fixed });
    assert.equal(d.spec.replicas, undefined, 'unset: the API server defaults it, an update keeps the live count');
    const tpl = d.spec.template;
    assert.equal(tpl.metadata?.name, 'agg-aggregator', 'template metadata is the workload metadata, as kaasops');
    assert.equal(tpl.metadata.namespace, 'logs');
    const pod = tpl.spec;
    assert.equal(pod?.serviceAccountName, 'agg-aggregator');
    assert.deepEqual(
      pod.volumes?.map((v) => v.name),
      ['var-log', 'journal', 'var-lib', 'config', 'data', 'procfs', 'sysfs'],
    );
    assert.deepEqual(pod.volumes[4], { name: 'data', hostPath: { path: '/var/lib/vector' } });
    const c = pod.containers[0];
    assert.equal(c?.name, 'agg-aggregator');
    assert.equal(c.image, 'timberio/vector:0.48.0-distroless-libc');
    assert.deepEqual(c.args, ['--config-dir', '/etc/vector', '--watch-config']);
    assert.deepEqual(c.ports, [{ name: 'prom-exporter', containerPort: 9598, protocol: 'TCP' }]);
    assert.deepEqual(
      c.volumeMounts?.map((m) => `${m.name}:${m.mountPath}`),
      [
        'var-log:/var/log/',
        'journal:/run/log/journal',
        'var-lib:/var/lib/',
        'config:/etc/vector',
        'data:/vector-data-dir',
        'procfs:/host/proc',
        'sysfs:/host/sys',
      ],
    );
    assert.deepEqual(
      c.env?.map((e) => e.name),
      ['VECTOR_SELF_NODE_NAME', 'VECTOR_SELF_POD_NAME', 'VECTOR_SELF_POD_NAMESPACE', 'PROCFS_ROOT', 'SYSFS_ROOT'],
    );
    assert.deepEqual(c.resources, { requests: { cpu: '100m', memory: '200Mi' }, limits: { cpu: '1', memory: '1Gi' } });
  });

  it('a StatefulSet with persistence: headless Service, Parallel, Retain/Retain, one 10Gi claim named data', () => {
    const objs = objects(va({ persistence: { enabled: true, storageClassName: 'gp3' }, replicas: 2 }));
    assert.equal(find(objs, 'Deployment'), undefined);
    const s = find<V1StatefulSet>(objs, 'StatefulSet', 'agg-aggregator') as V1StatefulSet;
    assert.equal(s.spec?.serviceName, 'agg-aggregator-headless');
    assert.equal(s.spec.podManagementPolicy, 'Parallel');
    assert.equal(s.spec.replicas, 2);
    assert.deepEqual(s.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    assert.deepEqual(s.spec.volumeClaimTemplates, [
      {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, storageClassName: 'gp3' },
      },
    ]);
    const pod = s.spec.template.spec;
    assert.deepEqual(
      pod?.volumes?.map((v) => v.name),
      ['var-log', 'journal', 'var-lib', 'config', 'procfs', 'sysfs'],
      'no data volume: the claim serves the data mount',
    );
    assert.ok(pod.containers[0]?.volumeMounts?.some((m) => m.name === 'data' && m.mountPath === '/vector-data-dir'));
    const headless = find<V1Service>(objs, 'Service', 'agg-aggregator-headless');
    assert.deepEqual(headless?.spec, { clusterIP: 'None', publishNotReadyAddresses: true, selector: fixed });
  });

  it("refuses claim templates without a claim named data, with kaasops' text", () => {
    const agg = va({ persistence: { volumeClaimTemplates: [{ metadata: { name: 'buffer' } }] } });
    const r = aggregatorObjects(agg, buildAggregatorConfig(agg, []), { podMonitor: false });
    assert.deepEqual(r.ok ? [] : r.problems, [
      'spec.persistence.volumeClaimTemplates must include a claim named "data", which backs the Vector data_dir',
    ]);
  });

  it('an HPA with autoscaling (no workload replicas), its maxReplicas 0 read as 3, and the PDB gate', () => {
    const objs = objects(
      va({
        replicas: 5,
        autoscaling: { enabled: true, maxReplicas: 0, minReplicas: 2 },
        podDisruptionBudget: { enabled: true },
      }),
    );
    assert.equal(find<V1Deployment>(objs, 'Deployment')?.spec?.replicas, undefined);
    const hpa = find<V2HorizontalPodAutoscaler>(objs, 'HorizontalPodAutoscaler', 'agg-aggregator');
    assert.deepEqual(hpa?.spec, {
      maxReplicas: 3,
      minReplicas: 2,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'agg-aggregator' },
    });
    const pdb = find<V1PodDisruptionBudget>(objs, 'PodDisruptionBudget', 'agg-aggregator');
    assert.deepEqual(pdb?.spec, {
      selector: { matchLabels: fixed },
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    const single = objects(va({ podDisruptionBudget: { enabled: true, minAvailable: '50%' } }));
    assert.equal(find(single, 'PodDisruptionBudget'), undefined, 'one replica: no PDB');
    const two = objects(
      va({ replicas: 2, podDisruptionBudget: { enabled: true, minAvailable: '50%', maxUnavailable: 1 } }),
    );
    assert.equal(find<V1PodDisruptionBudget>(two, 'PodDisruptionBudget')?.spec?.minAvailable, '50%');
    assert.equal(find<V1PodDisruptionBudget>(two, 'PodDisruptionBudget')?.spec?.maxUnavailable, undefined);
  });

  it('Services: one per pipeline from source addresses, the API Service selecting spec.labels too', () => {
    const p = vp('logs', 'ingest', { sources: { in: { type: 'http_server', address: '0.0.0.0:8080' } } });
    const objs = objects(
      va({ api: { enabled: true }, labels: { team: 'obs' }, annotations: { a: 'b' } }, { uid: 'u1' }),
      [p],
    );
    const svc = find<V1Service>(objs, 'Service', 'agg-aggregator-ingest') as V1Service;
    assert.deepEqual(svc.metadata?.labels, { team: 'obs', ...fixed });
    assert.deepEqual(svc.metadata.annotations, { a: 'b' });
    assert.deepEqual(svc.metadata.ownerReferences, [
      {
        apiVersion: 'observability.kaasops.io/v1alpha1',
        kind: 'VectorAggregator',
        name: 'agg',
        uid: 'u1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.deepEqual(svc.spec, {
      ports: [{ name: 'in', protocol: 'TCP', port: 8080, targetPort: 8080 }],
      selector: fixed,
    });
    const api = find<V1Service>(objs, 'Service', 'agg-aggregator');
    assert.deepEqual(api?.spec?.selector, { team: 'obs', ...fixed });
  });

  it('compressConfigFile: config is an emptyDir, the reloader init container and sidecar are added', () => {
    const d = find<V1Deployment>(objects(va({ compressConfigFile: true })), 'Deployment') as V1Deployment;
    const pod = d.spec?.template.spec;
    assert.deepEqual(
      pod?.volumes?.find((v) => v.name === 'config'),
      { name: 'config', emptyDir: {} },
    );
    assert.deepEqual(pod.volumes.at(-1), { name: 'app-config-compress', secret: { secretName: 'agg-aggregator' } });
    assert.deepEqual(
      pod.initContainers?.map((c) => c.name),
      ['init-config-reloader'],
    );
    assert.deepEqual(
      pod.containers.map((c) => c.name),
      ['agg-aggregator', 'config-reloader'],
    );
  });

  it('never sends two mounts on one path: a user mount at /etc/vector replaces the config mount', () => {
    const d = find<V1Deployment>(
      objects(va({ volumes: [], volumeMounts: [{ name: 'mine', mountPath: '/etc/vector' }] })),
      'Deployment',
    ) as V1Deployment;
    const mounts = d.spec?.template.spec?.containers[0]?.volumeMounts ?? [];
    assert.deepEqual(
      mounts.map((m) => m.mountPath),
      ['/etc/vector', '/vector-data-dir', '/host/proc', '/host/sys'],
    );
  });

  it('names a VectorAggregator RBAC by namespace, with no owner reference; a cluster one keeps kaasops name', () => {
    const objs = objects(va({}, { uid: 'u1' }));
    const role = find<AggregatorObject>(objs, 'ClusterRole');
    assert.equal(role?.metadata?.name, 'logs.agg-aggregator');
    assert.equal(role.metadata.ownerReferences, undefined);
    const cva: Aggregator = {
      kind: 'ClusterVectorAggregator',
      metadata: { name: 'agg', uid: 'u2' },
      spec: { resourceNamespace: 'obs' },
    };
    const cobjs = objects(cva);
    const crole = find<AggregatorObject>(cobjs, 'ClusterRole');
    assert.equal(crole?.metadata?.name, 'agg-aggregator');
    assert.equal(crole.metadata.namespace, undefined);
    assert.equal(crole.metadata.ownerReferences?.[0]?.kind, 'ClusterVectorAggregator');
    assert.ok(
      cobjs
        .filter((o) => o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding')
        .every((o) => o.metadata?.namespace === 'obs'),
    );
    const none = { ...cva, spec: {} };
    const r = aggregatorObjects(none, buildAggregatorConfig(none, []), { podMonitor: true });
    assert.deepEqual(r.ok ? [] : r.problems, ['spec.resourceNamespace is empty']);
  });

  it('a PodMonitor with internalMetrics when the kind exists, with interval and timeout', () => {
    const agg = va({ internalMetrics: true, scrapeInterval: '30s', scrapeTimeout: '10s' });
    const pm = find<AggregatorObject>(objects(agg), 'PodMonitor') as { spec: unknown };
    assert.deepEqual(pm.spec, {
      podMetricsEndpoints: [{ path: '/metrics', port: 'prom-exporter', interval: '30s', scrapeTimeout: '10s' }],
      selector: { matchLabels: fixed },
    });
    const r = aggregatorObjects(agg, buildAggregatorConfig(agg, []), { podMonitor: false });
    assert.ok(r.ok && r.objects.every((o) => o.kind !== 'PodMonitor'));
  });

  it('puts the config JSON, base64, under config.json in Secret <n>-aggregator', () => {
    const s = find<{ data: Record<string, string> }>(objects(va()), 'Secret', 'agg-aggregator');
    const json = Buffer.from(s?.data['config.json'] ?? '', 'base64').toString();
    assert.match(json, /^\{"api":\{"address":"\[::\]:8686"\},"data_dir":"\/vector-data-dir"/);
  });
});
