/**
 * The event collector's objects, field for field against the reference (kaasops-aggregators-and-more.md §1.14): an
 * aggregator with a `kubernetes_events` pipeline gets kaasops' ConfigMap bytes, ServiceAccount, RBAC, Service and
 * Deployment; one without gets none; and the places where we do better (receiver order, cluster RBAC names, no
 * annotation leak).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Deployment,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { aggregatorObjects, type AggregatorObject } from '../../src/operator/aggregator-objects.ts';
import { collectorConfig, defaultEventCollectorImage } from '../../src/operator/event-collector.ts';
import { buildAggregatorConfig } from '../../src/pipelines/aggregator-build.ts';
import type { Aggregator, AggregatorSpec } from '../../src/pipelines/aggregator-schemas.ts';
import { parseManifests } from '../../src/pipelines/manifests.ts';
import type { Pipeline } from '../../src/pipelines/schemas.ts';
import { cvp, vp } from '../helpers/fixtures.ts';

const text = readFileSync(new URL('../fixtures/kaasops-aggregators.yaml', import.meta.url), 'utf8');
const parsed = parseManifests(parseAllDocuments(text).map((d, i) => ({ origin: `#${i}`, value: d.toJS() as unknown })));

const uid = 'uid-agg';
const va = (spec: AggregatorSpec = {}): Aggregator => ({
  kind: 'VectorAggregator',
  metadata: { name: 'agg', namespace: 'logs', uid },
  spec,
});
const events = (
  ns: string,
  name: string,
  created = '2026-01-01T00:00:00Z',
  labels?: Record<string, string>,
): Pipeline =>
  vp(
    ns,
    name,
    {
      sources: { ev: { type: 'kubernetes_events', ignored: 'option' } },
      sinks: { out: { type: 'blackhole', inputs: ['ev'] } },
    },
    { creationTimestamp: created, ...(labels === undefined ? {} : { labels }) },
  );

function objects(agg: Aggregator, pipelines: readonly Pipeline[]): AggregatorObject[] {
  const r = aggregatorObjects(agg, buildAggregatorConfig(agg, pipelines), { podMonitor: false });
  assert.ok(r.ok, r.ok ? '' : r.problems.join('; '));
  return r.objects;
}
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
const find = <T>(objs: AggregatorObject[], kind: string, name: string): T => {
  const o = objs.find((x) => x.kind === kind && x.metadata?.name === name);
  assert.ok(o, `${kind} ${name}`);
  return o as T;
};
const labels = {
  'app.kubernetes.io/managed-by': 'vector-operator',
  'app.kubernetes.io/name': 'vector',
  'app.kubernetes.io/component': 'EventCollector',
  'app.kubernetes.io/instance': 'agg',
};
const owner = [{ apiVersion: 'observability.kaasops.io/v1alpha1', kind: 'VectorAggregator', name: 'agg', uid }].map(
  (o) => ({ ...o, controller: true, blockOwnerDeletion: true }),
);

describe('event collector objects', () => {
  it('none without a kubernetes_events pipeline', () => {
    const objs = objects(va(), [
      vp('logs', 'ingest', { sources: { in: { type: 'socket', address: '0.0.0.0:9000', mode: 'tcp' } } }),
    ]);
    assert.deepEqual(
      objs.filter((o) => o.metadata?.labels?.['app.kubernetes.io/component'] === 'EventCollector'),
      [],
    );
  });

  it("kaasops' six objects, in its write order, named <n>-event-collector, with its labels and owner", () => {
    const objs = objects(va({ annotations: { team: 'obs' } }), [events('logs', 'kube')]);
    const ec = objs.filter((o) => o.metadata?.labels?.['app.kubernetes.io/component'] === 'EventCollector');
    assert.deepEqual(
      ec.map((o) => `${o.kind ?? ''}/${o.metadata?.name ?? ''}`),
      [
        'ConfigMap/agg-event-collector',
        'ServiceAccount/agg-event-collector',
        'ClusterRole/logs.agg-event-collector',
        'ClusterRoleBinding/logs.agg-event-collector',
        'Service/agg-event-collector',
        'Deployment/agg-event-collector',
      ],
    );
    for (const o of ec.filter((x) => x.metadata?.namespace !== undefined)) {
      assert.deepEqual(o.metadata?.labels, labels, `${o.kind ?? ''}: the 4 labels, never spec.labels`);
      assert.deepEqual(o.metadata.ownerReferences, owner);
      if (o.kind !== 'Deployment') assert.deepEqual(o.metadata.annotations, { team: 'obs' });
    }
    const cm = find<V1ConfigMap>(objs, 'ConfigMap', 'agg-event-collector');
    assert.deepEqual(cm.data, {
      'config.json':
        '{"MaxBatchSize":250,"Receivers":[{"ServiceName":"agg-aggregator-kube","ServiceNamespace":"logs","Port":"42000","WatchedNamespace":"logs"}]}',
    });
    const role = find<V1ClusterRole>(objs, 'ClusterRole', 'logs.agg-event-collector');
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['events'], verbs: ['list', 'watch'] }]);
    assert.equal(role.metadata?.ownerReferences, undefined, 'a namespaced owner cannot be resolved by GC');
    assert.equal(role.metadata?.labels?.['vector-operator.kaasops.io/owner-namespace'], 'logs');
    const crb = find<V1ClusterRoleBinding>(objs, 'ClusterRoleBinding', 'logs.agg-event-collector');
    assert.deepEqual(crb.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'logs.agg-event-collector',
    });
    assert.deepEqual(crb.subjects, [{ kind: 'ServiceAccount', name: 'agg-event-collector', namespace: 'logs' }]);
    const svc = find<V1Service>(objs, 'Service', 'agg-event-collector');
    assert.deepEqual(svc.spec, {
      ports: [{ name: 'metrics', protocol: 'TCP', port: 8080, targetPort: 8080 }],
      selector: labels,
    });
  });

  it("the Deployment: kaasops' template (named <n>-aggregator, sic), default volumes, no resources or probes", () => {
    const d = find<V1Deployment>(
      objects(va({ annotations: { team: 'obs' } }), [events('logs', 'kube')]),
      'Deployment',
      'agg-event-collector',
    );
    const annotations = { team: 'obs', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' };
    assert.deepEqual(d.metadata?.annotations, annotations);
    assert.equal(d.spec?.replicas, 1);
    assert.deepEqual(d.spec.selector, { matchLabels: labels });
    assert.deepEqual(d.spec.template.metadata, {
      name: 'agg-aggregator',
      namespace: 'logs',
      labels,
      annotations,
      ownerReferences: owner,
    });
    assert.deepEqual(d.spec.template.spec, {
      serviceAccountName: 'agg-event-collector',
      volumes: [
        { name: 'var-log', hostPath: { path: '/var/log/' } },
        { name: 'journal', hostPath: { path: '/var/log/journal' } },
        { name: 'var-lib', hostPath: { path: '/var/lib/' } },
        { name: 'event-collector-config', configMap: { name: 'agg-event-collector' } },
      ],
      containers: [
        {
          name: 'event-collector',
          image: 'kaasops/event-collector:v0.5.0',
          imagePullPolicy: 'IfNotPresent',
          volumeMounts: [{ name: 'event-collector-config', mountPath: '/etc/event-collector' }],
        },
      ],
    });
    assert.equal(defaultEventCollectorImage, 'kaasops/event-collector:v0.5.0');
  });

  it("copies the aggregator's pod fields (kaasops' every-field example) and its eventCollector settings", () => {
    const agg = parsed.aggregators.find((a) => a.metadata.name === 'every-field') as Aggregator;
    const s = agg.spec;
    const kube = events('logging', 'kube', undefined, { aggregator: 'main' });
    const objs = objects(agg, [kube]);
    const d = find<V1Deployment>(objs, 'Deployment', 'every-field-event-collector');
    const pod = d.spec?.template.spec;
    assert.ok(pod);
    assert.deepEqual(pod.securityContext, s.podSecurityContext);
    assert.deepEqual(pod.imagePullSecrets, s.imagePullSecrets);
    assert.deepEqual(pod.affinity, s.affinity);
    assert.deepEqual(pod.topologySpreadConstraints, s.topologySpreadConstraints);
    assert.deepEqual(pod.tolerations, s.tolerations);
    for (const k of ['runtimeClassName', 'schedulerName', 'priorityClassName'] as const) assert.equal(pod[k], s[k]);
    assert.deepEqual(pod.hostAliases, s.host_aliases);
    assert.deepEqual(
      pod.volumes?.map((v) => v.name),
      [...((s.volumes ?? []) as { name: string }[]).map((v) => v.name), 'event-collector-config'],
    );
    const c = pod.containers[0];
    assert.equal(c?.image, 'kaasops/event-collector:v0.5.0');
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(c.securityContext, s.containerSecurityContext);
    assert.equal(c.resources, undefined);
    assert.match(
      find<V1ConfigMap>(objs, 'ConfigMap', 'every-field-event-collector').data?.['config.json'] ?? '',
      /^\{"MaxBatchSize":500,/,
    );
    const hpa = objects({ ...agg, spec: { ...s, autoscaling: { enabled: true, maxReplicas: 3 } } }, [kube]).find(
      (o) => o.kind === 'HorizontalPodAutoscaler',
    ) as V2HorizontalPodAutoscaler;
    assert.equal(hpa.metadata?.annotations?.['prometheus.io/scrape'], undefined, 'no leak onto the HPA (T8)');
  });

  it('receivers sorted by Service name whatever the pipelines’ age; a ClusterVectorPipeline watches every namespace', () => {
    const older = events('logs', 'zeta', '2026-01-01T00:00:00Z');
    const younger = events('logs', 'alpha', '2026-02-01T00:00:00Z');
    const cm = find<V1ConfigMap>(objects(va(), [younger, older]), 'ConfigMap', 'agg-event-collector');
    assert.equal(
      cm.data?.['config.json'],
      '{"MaxBatchSize":250,"Receivers":[' +
        '{"ServiceName":"agg-aggregator-alpha","ServiceNamespace":"logs","Port":"42001","WatchedNamespace":"logs"},' +
        '{"ServiceName":"agg-aggregator-zeta","ServiceNamespace":"logs","Port":"42000","WatchedNamespace":"logs"}]}',
    );
    const cva: Aggregator = {
      kind: 'ClusterVectorAggregator',
      metadata: { name: 'agg', uid },
      spec: { resourceNamespace: 'obs', eventCollector: { maxBatchSize: 0 } },
    };
    const wide = cvp('cluster-events', {
      sources: { ev: { type: 'kubernetes_events' } },
      sinks: { out: { type: 'blackhole', inputs: ['ev'] } },
    });
    const objs = objects(cva, [wide]);
    assert.equal(
      find<V1ConfigMap>(objs, 'ConfigMap', 'agg-event-collector').data?.['config.json'],
      '{"MaxBatchSize":250,"Receivers":[{"ServiceName":"agg-aggregator-cluster-events","ServiceNamespace":"obs","Port":"42000","WatchedNamespace":""}]}',
    );
    const role = find<V1ClusterRole>(objs, 'ClusterRole', 'agg-event-collector');
    assert.equal(
      role.metadata?.ownerReferences?.[0]?.kind,
      'ClusterVectorAggregator',
      "a cluster owner: kaasops' name",
    );
  });

  it('config.json is Go JSON: escaping and field order as json.Marshal', () => {
    assert.equal(
      collectorConfig(7, [{ ServiceName: 'a<b', ServiceNamespace: 'n', Port: '1', WatchedNamespace: '' }]),
      '{"MaxBatchSize":7,"Receivers":[{"ServiceName":"a\\u003cb","ServiceNamespace":"n","Port":"1","WatchedNamespace":""}]}',
    );
  });
});
