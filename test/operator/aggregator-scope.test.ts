/**
 * Aggregators under `run --watch-namespace`: a scoped operator reconciles the VectorAggregators of its namespace and
 * the ClusterVectorAggregators whose `resourceNamespace` it is, and never changes or deletes anything of the
 * aggregators elsewhere (the cluster-scoped RBAC included), even when no operator runs there.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/kube/client.ts';
import { aggregatorInScope } from '../../src/operator/aggregator-informers.ts';
import type { Logger } from '../../src/operator/controller-context.ts';
import type { Operator } from '../../src/operator/operator.ts';
import { eventually, group, operator, type Stand, vaPath, vpPath } from './stand.ts';
import { standSuite } from './stand-suite.ts';

const rbac = '/apis/rbac.authorization.k8s.io/v1';
const cvaPath = (name = '') => `${group}/clustervectoraggregators${name === '' ? '' : `/${name}`}`;
const deploy = (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
const svc = (ns: string, name: string) => `/api/v1/namespaces/${ns}/services/${name}`;

describe('aggregatorInScope', () => {
  const clusters = new Map<string, KubeObject>([
    ['home', { metadata: { name: 'home' }, spec: { resourceNamespace: 'logs' } }],
    ['away', { metadata: { name: 'away' }, spec: { resourceNamespace: 'other' } }],
    ['unset', { metadata: { name: 'unset' }, spec: {} }],
  ]);
  it('keeps everything without a watched namespace', () => {
    for (const key of ['VectorAggregator/other/a', 'ClusterVectorAggregator/away'])
      assert.equal(aggregatorInScope(key, undefined, clusters), true);
  });
  it('keeps the namespace own VectorAggregators and the ClusterVectorAggregators that live there', () => {
    const inScope = (key: string) => aggregatorInScope(key, 'logs', clusters);
    assert.equal(inScope('VectorAggregator/logs/a'), true);
    assert.equal(inScope('VectorAggregator/other/a'), false);
    assert.equal(inScope('ClusterVectorAggregator/home'), true);
    assert.equal(inScope('ClusterVectorAggregator/away'), false);
    // Its only outcome is the status `spec.resourceNamespace is empty`, the same from every operator.
    assert.equal(inScope('ClusterVectorAggregator/unset'), true);
    // Gone: forgetting it touches nothing.
    assert.equal(inScope('ClusterVectorAggregator/gone'), true);
  });
});

function va(ns: string): KubeObject {
  return {
    apiVersion: `observability.kaasops.io/v1alpha1`,
    kind: 'VectorAggregator',
    metadata: { name: 'agg', namespace: ns },
  };
}

function cva(name: string, resourceNamespace: string): KubeObject {
  return {
    apiVersion: 'observability.kaasops.io/v1alpha1',
    kind: 'ClusterVectorAggregator',
    metadata: { name },
    spec: { resourceNamespace },
  };
}

function vp(ns: string): KubeObject {
  return {
    apiVersion: 'observability.kaasops.io/v1alpha1',
    kind: 'VectorPipeline',
    metadata: { name: 'ingest', namespace: ns },
    spec: {
      sources: { in: { type: 'http_server', address: '0.0.0.0:8080' } },
      sinks: { out: { type: 'blackhole', inputs: ['in'] } },
    },
  };
}

/** uid and resourceVersion of each object: equal before and after means neither deleted nor changed. */
async function fingerprint(stand: Stand, paths: string[]): Promise<string[]> {
  return Promise.all(
    paths.map(async (p) => {
      const o = await stand.get(p);
      return `${p} ${o?.metadata?.uid ?? 'gone'} ${o?.metadata?.resourceVersion ?? ''}`;
    }),
  );
}

/** Waits until `op` has reconciled aggregators `n` times (its first sync and resyncs): a bound, not a delay. */
async function resynced(op: Operator, n: number): Promise<void> {
  await eventually(`${n} aggregator reconciles`, async () => {
    const m = await op.metrics.reconciles.get();
    return m.values.filter((v) => v.labels.controller === 'aggregator').reduce((sum, v) => sum + v.value, 0) >= n;
  });
}

standSuite('aggregators under --watch-namespace', { namespaces: ['logs', 'other'] }, (stand) => {
  it('a scoped operator runs the aggregators of its namespace and leaves the others alone', async () => {
    // The aggregators of `other` were set up by a cluster-wide operator that is gone now.
    await stand().create(vaPath('other'), va('other'));
    await stand().create(vpPath('other'), vp('other'));
    await stand().create(cvaPath(), cva('away', 'other'));
    const wide = operator(stand());
    await wide.start();
    const theirs = [
      deploy('other', 'agg-aggregator'),
      svc('other', 'agg-aggregator-ingest'),
      `${rbac}/clusterroles/other.agg-aggregator`,
      `${rbac}/clusterrolebindings/other.agg-aggregator`,
      deploy('other', 'away-aggregator'),
      `${rbac}/clusterroles/away-aggregator`,
      vaPath('other', 'agg'),
      cvaPath('away'),
    ];
    try {
      await eventually('the aggregators of other', async () =>
        (await fingerprint(stand(), theirs)).every((l) => !l.includes(' gone ')),
      );
    } finally {
      await wide.stop();
    }
    const before = await fingerprint(stand(), theirs);

    await stand().create(vaPath('logs'), va('logs'));
    await stand().create(vpPath('logs'), vp('logs'));
    await stand().create(cvaPath(), cva('home', 'logs'));
    const warnings: string[] = [];
    const log: Logger = { info() {}, debug() {}, error() {}, warn: (_o, msg) => warnings.push(msg) };
    const scoped = operator(stand(), { watchNamespace: 'logs', resyncMs: 200, log });
    await scoped.start();
    try {
      await eventually('the VectorAggregator of logs', () => stand().get(svc('logs', 'agg-aggregator-ingest')));
      await eventually('its cluster RBAC', () => stand().get(`${rbac}/clusterrolebindings/logs.agg-aggregator`));
      await eventually('the ClusterVectorAggregator living in logs', () =>
        stand().get(deploy('logs', 'home-aggregator')),
      );
      const status = await eventually('the status of logs/agg', async () => {
        const o = await stand().get<{ status?: { configCheckResult?: boolean; reason?: string } }>(
          vaPath('logs', 'agg'),
        );
        return o?.status?.configCheckResult === undefined ? undefined : o.status;
      });
      assert.equal(status.configCheckResult, true, status.reason);
      // Its caches have listed and resynced everything it can see several times over by now.
      await resynced(scoped, 8);
      assert.deepEqual(await fingerprint(stand(), theirs), before, "other's aggregators untouched");
      assert.deepEqual(warnings, [], 'nothing outside the scope was even queued');
    } finally {
      await scoped.stop();
    }
  });
});
