/** Manifests as render and plan read them: what is left out is named, and `--namespace` fills a missing namespace. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifests } from '../../src/pipelines/manifests.ts';

const api = 'observability.kaasops.io/v1alpha1';
const docs = (...values: unknown[]) => values.map((value, i) => ({ origin: `in.yaml#${String(i + 1)}`, value }));

describe('manifests: what render and plan leave out', () => {
  it('names each ignored object, and reads the aggregator kinds', () => {
    const r = parseManifests(
      docs(
        { apiVersion: api, kind: 'VectorAggregator', metadata: { name: 'agg', namespace: 'obs' } },
        { apiVersion: api, kind: 'ClusterVectorAggregator', metadata: { name: 'cagg' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'obs' } },
        { apiVersion: 'observability.kaasops.io/v1beta1', kind: 'Vector', metadata: { name: 'old' } },
      ),
    );
    assert.equal(r.ignored, 2);
    assert.deepEqual(
      r.aggregators.map((a) => `${a.kind} ${a.metadata.namespace ?? ''}/${a.metadata.name}`),
      ['VectorAggregator obs/agg', 'ClusterVectorAggregator /cagg'],
    );
    assert.deepEqual(r.warnings, [
      `in.yaml#3: v1 ConfigMap obs/cm: ignored: only Vector, VectorPipeline, ClusterVectorPipeline, VectorAggregator and ClusterVectorAggregator of ${api} are read`,
      `in.yaml#4: observability.kaasops.io/v1beta1 Vector old: ignored: only Vector, VectorPipeline, ClusterVectorPipeline, VectorAggregator and ClusterVectorAggregator of ${api} are read`,
    ]);
  });

  it('names each unknown spec field it drops, at any depth, and none of free-form objects', () => {
    const r = parseManifests(
      docs(
        {
          apiVersion: api,
          kind: 'Vector',
          metadata: { name: 'logs', namespace: 'obs' },
          spec: {
            agent: {
              imagePulPolicy: 'Always',
              api: { enabled: true, playgroud: false },
              configCheck: { disabled: true, timeout: '1m' },
              tolerations: [{ key: 'k', operator: 'Exists', anything: 1 }],
            },
            aggregator: { replicas: 2 },
          },
        },
        {
          apiVersion: api,
          kind: 'VectorPipeline',
          metadata: { name: 'app', namespace: 'obs' },
          spec: { sources: { pods: { type: 'kubernetes_logs', any_option: 1 } }, sinks: {}, sink: {} },
        },
      ),
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.warnings.map((w) => w.replace(/: unknown field.*/, '')),
      [
        'in.yaml#1: Vector obs/logs: spec.agent.imagePulPolicy',
        'in.yaml#1: Vector obs/logs: spec.agent.api.playgroud',
        'in.yaml#1: Vector obs/logs: spec.agent.configCheck.timeout',
        'in.yaml#1: Vector obs/logs: spec.aggregator',
        'in.yaml#2: VectorPipeline obs/app: spec.sink',
      ],
    );
    assert.match(r.warnings[0] ?? '', /unknown field, ignored \(the API server prunes it too\)$/);
    assert.equal(r.vectors[0]?.spec.agent?.tolerations?.[0]?.anything, 1, 'a Kubernetes object is kept as written');
  });

  it('gives namespaced objects without a namespace the --namespace one, and keeps the ones they have', () => {
    const input = docs(
      { apiVersion: api, kind: 'Vector', metadata: { name: 'logs' } },
      { apiVersion: api, kind: 'VectorPipeline', metadata: { name: 'app' } },
      { apiVersion: api, kind: 'VectorPipeline', metadata: { name: 'other', namespace: 'team-b' } },
      { apiVersion: api, kind: 'ClusterVectorPipeline', metadata: { name: 'all' } },
    );
    const refused = parseManifests(input);
    assert.deepEqual(refused.errors, [
      'in.yaml#1: Vector ?/logs: metadata.namespace: is required: set it, or pass --namespace NS',
      'in.yaml#2: VectorPipeline ?/app: metadata.namespace: is required: set it, or pass --namespace NS',
    ]);
    const r = parseManifests(input, { namespace: 'team-a' });
    assert.deepEqual(r.errors, []);
    assert.equal(r.vectors[0]?.metadata.namespace, 'team-a');
    assert.deepEqual(
      r.pipelines.map((p) => `${p.kind} ${p.metadata.namespace ?? ''}/${p.metadata.name}`),
      ['VectorPipeline team-a/app', 'VectorPipeline team-b/other', 'ClusterVectorPipeline /all'],
    );
  });
});
