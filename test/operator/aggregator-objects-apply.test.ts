/**
 * The desired objects of kaasops' documented aggregators, server-side applied as the operator's Applier writes them:
 * the API server accepts every one (Deployment, StatefulSet, Services, HPA, PDB, RBAC, config Secret), stores what
 * was sent (the stored object holds every desired field unchanged, so the next reconcile writes nothing), and a
 * second apply changes nothing. On the real kube-apiserver and on the stand-in alike.
 */
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { Applier } from '../../src/kube/apply.ts';
import { request, type KubeObject } from '../../src/kube/client.ts';
import { isSubset } from '../../src/kube/diff.ts';
import { aggregatorObjects } from '../../src/operator/aggregator-objects.ts';
import { buildAggregatorConfig } from '../../src/pipelines/aggregator-build.ts';
import type { Aggregator } from '../../src/pipelines/aggregator-schemas.ts';
import { parseManifests } from '../../src/pipelines/manifests.ts';
import { group } from './stand.ts';
import { standSuite } from './stand-suite.ts';

const text = readFileSync(new URL('../fixtures/kaasops-aggregators.yaml', import.meta.url), 'utf8');
const docs = parseAllDocuments(text).map((d) => d.toJS() as KubeObject);
const parsed = parseManifests(docs.map((value, i) => ({ origin: `#${i}`, value })));

standSuite('aggregator objects applied', { namespaces: ['vector', 'logging'] }, (stand) => {
  before(async () => {
    if ((await stand().get('/api/v1/namespaces/default')) === undefined)
      await stand().create('/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'default' },
      });
  });

  it('are accepted and stored as sent, and a second apply changes nothing', async () => {
    const applier = new Applier(stand().kc, 'vector-operator');
    const names = ['vector-aggregator1', 'cluster-vector-aggregator1', 'vector-aggregator', 'every-field'];
    let applied = 0;
    for (const name of names) {
      const agg = parsed.aggregators.find((a) => a.metadata.name === name) as Aggregator;
      const doc = docs.find((d) => d.kind === agg.kind && d.metadata?.name === name) as KubeObject;
      const ns = agg.metadata.namespace;
      const plural = agg.kind === 'VectorAggregator' ? 'vectoraggregators' : 'clustervectoraggregators';
      const created = await stand().create(`${group}${ns === undefined ? '' : `/namespaces/${ns}`}/${plural}`, doc);
      const owned = { ...agg, metadata: { ...agg.metadata, uid: created.metadata?.uid } };
      const r = aggregatorObjects(owned, buildAggregatorConfig(owned, parsed.pipelines), { podMonitor: false });
      assert.ok(r.ok, r.ok ? '' : r.problems.join('; '));
      for (const obj of r.objects) {
        const what = `${name}: ${obj.kind} ${obj.metadata?.name}`;
        const stored = await applier.apply(obj as KubeObject);
        assert.ok(isSubset(obj, stored), `${what}: stored as sent`);
        const again = await applier.apply(obj as KubeObject);
        assert.equal(again.metadata?.resourceVersion, stored.metadata?.resourceVersion, `${what}: no change`);
        applied++;
      }
    }
    assert.ok(applied >= 25, `${applied} objects`);
    const hpa = await request<KubeObject>(
      stand().kc,
      'GET',
      '/apis/autoscaling/v2/namespaces/logging/horizontalpodautoscalers/vector-aggregator-aggregator',
    );
    assert.equal((hpa as { spec?: { maxReplicas?: number } }).spec?.maxReplicas, 10);
  });
});
