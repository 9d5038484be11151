/**
 * The operator's caches: Vectors, pipelines and pods are kept without `managedFields` (never read, and on a real API
 * server often larger than the spec), while the owned objects we apply keep theirs, which removal detection reads.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { allReflectors, createInformers, type Informers } from '../../src/operator/informers.ts';
import { secretPath, vectorObj, vectorPath, vpObj, vpPath } from './stand.ts';
import { standSuite } from './stand-suite.ts';

standSuite('operator caches', {}, (stand) => {
  let informers: Informers;

  before(async () => {
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector'));
    await stand().create(vpPath('team-a'), vpObj('team-a', 'app'));
    await stand().create('/api/v1/namespaces/vector/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'logs-agent',
        namespace: 'vector',
        labels: {
          'app.kubernetes.io/managed-by': 'vector-operator',
          'app.kubernetes.io/component': 'Agent',
          'app.kubernetes.io/instance': 'logs',
        },
      },
      data: {},
    });
    informers = createInformers({ kc: stand().kc });
    await Promise.all(allReflectors(informers).map((r) => r.start()));
  });
  after(async () => {
    await Promise.all(allReflectors(informers).map((r) => r.stop()));
  });

  it('drops managedFields from Vectors and pipelines, and keeps them on owned objects', async () => {
    // The server records them on every object written; the cache is what differs.
    assert.ok(((await stand().get(vectorPath('vector', 'logs')))?.metadata?.managedFields?.length ?? 0) > 0);
    assert.ok(((await stand().get(secretPath('vector', 'logs-agent')))?.metadata?.managedFields?.length ?? 0) > 0);
    assert.equal(informers.vectors.get('vector/logs')?.metadata?.managedFields, undefined);
    assert.equal(informers.vectorPipelines.get('team-a/app')?.metadata?.managedFields, undefined);
    assert.ok((informers.owned.Secret.get('vector/logs-agent')?.metadata?.managedFields?.length ?? 0) > 0);
  });
});
