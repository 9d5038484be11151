import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { cm, recordWatch, startLab, type Lab } from './helpers.ts';

const PATH = '/api/v1/namespaces/default/configmaps';

describe('watches against the API server stand-in', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ eventLogSize: 50, bookmarkIntervalMs: 200 });
  });
  after(async () => {
    await lab.server.close();
  });

  it('resumes from a resourceVersion with no event lost or duplicated', async () => {
    const list = await lab.core.listNamespacedConfigMap({ namespace: 'default' });
    const start = list.metadata?.resourceVersion ?? '';
    const first = await recordWatch(lab.kc, PATH, { resourceVersion: start, timeoutSeconds: 30 });
    for (let i = 0; i < 5; i++) await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm(`r${i}`) });
    await first.until((e) => e.length === 5);
    // The connection is dropped (as a load balancer or an apiserver restart would); writes continue meanwhile.
    assert.equal(lab.server.dropWatches(), 1);
    await first.done;
    const last = first.events.at(-1)?.object.metadata?.resourceVersion ?? '';
    await lab.core.patchNamespacedConfigMap(
      { name: 'r0', namespace: 'default', body: { data: { x: '1' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await lab.core.deleteNamespacedConfigMap({ name: 'r1', namespace: 'default' });
    for (let i = 5; i < 8; i++) await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm(`r${i}`) });

    const second = await recordWatch(lab.kc, PATH, { resourceVersion: last, timeoutSeconds: 30 });
    await second.until((e) => e.length === 5);
    second.abort();
    const seen = [...first.events, ...second.events].map((e) => `${e.type} ${e.object.metadata?.name ?? ''}`);
    assert.deepEqual(seen, [
      'ADDED r0',
      'ADDED r1',
      'ADDED r2',
      'ADDED r3',
      'ADDED r4',
      'MODIFIED r0',
      'DELETED r1',
      'ADDED r5',
      'ADDED r6',
      'ADDED r7',
    ]);
    const rvs = [...first.events, ...second.events].map((e) => Number(e.object.metadata?.resourceVersion));
    assert.deepEqual(
      rvs,
      [...rvs].sort((a, b) => a - b),
    );
    assert.equal(new Set(rvs).size, rvs.length);
  });

  it('answers a watch from before a compaction with 410 Expired', async () => {
    const list = await lab.core.listNamespacedConfigMap({ namespace: 'default' });
    const old = list.metadata?.resourceVersion ?? '';
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('after-list') });
    lab.server.compact();
    const w = await recordWatch(lab.kc, PATH, { resourceVersion: old });
    await w.done;
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0]?.type, 'ERROR');
    assert.equal(w.events[0].object.code, 410);
    assert.equal(w.events[0].object.reason, 'Expired');
  });

  it('expires resourceVersions that fell out of the bounded event log', async () => {
    const list = await lab.core.listNamespacedConfigMap({ namespace: 'default' });
    const old = list.metadata?.resourceVersion ?? '';
    for (let i = 0; i < 60; i++)
      await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm(`churn${i}`) });
    const w = await recordWatch(lab.kc, PATH, { resourceVersion: old });
    await w.done;
    assert.equal(w.events[0]?.object.code, 410);
  });

  it('sends a BOOKMARK carrying the current resourceVersion when bookmarks are allowed', async () => {
    const w = await recordWatch(lab.kc, PATH, { resourceVersion: '0', allowWatchBookmarks: true, timeoutSeconds: 5 });
    await w.until((e) => e.some((x) => x.type === 'BOOKMARK'));
    w.abort();
    const b = w.events.find((x) => x.type === 'BOOKMARK');
    assert.equal(b?.object.kind, 'ConfigMap');
    assert.equal(b.object.metadata?.resourceVersion, String(lab.server.store.currentRv));
  });

  it('ends a watch cleanly after timeoutSeconds, having sent only bookmarks to an idle watcher', async () => {
    const w = await recordWatch(lab.kc, '/api/v1/nodes', { allowWatchBookmarks: true, timeoutSeconds: 1 });
    const err = await w.done;
    assert.equal(err, null);
    assert.ok(w.events.length > 0);
    assert.ok(w.events.every((e) => e.type === 'BOOKMARK'));
  });

  it('turns selector transitions into ADDED and DELETED for a label-filtered watch', async () => {
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('flip', { role: 'a' }) });
    const w = await recordWatch(lab.kc, PATH, { labelSelector: 'role=b', timeoutSeconds: 30 });
    const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    await lab.core.patchNamespacedConfigMap(
      { name: 'flip', namespace: 'default', body: { metadata: { labels: { role: 'b' } } } },
      merge,
    );
    await lab.core.patchNamespacedConfigMap({ name: 'flip', namespace: 'default', body: { data: { k: 'v' } } }, merge);
    await lab.core.patchNamespacedConfigMap(
      { name: 'flip', namespace: 'default', body: { metadata: { labels: { role: 'c' } } } },
      merge,
    );
    await w.until((e) => e.length === 3);
    w.abort();
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
  });

  it('counts open watch connections per resource and lets an informer recover from dropped watches', async () => {
    const core = lab.core;
    const informer = k8s.makeInformer(lab.kc, '/api/v1/namespaces/default/secrets', () =>
      core.listNamespacedSecret({ namespace: 'default' }),
    );
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name ?? ''}`));
    informer.on('error', () => {
      // Dropped watches end cleanly; client-node's ListWatch re-watches from its last resourceVersion by itself.
    });
    await informer.start();
    assert.equal(lab.server.openWatches('secrets'), 1);
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 's1' } } });
    lab.server.dropWatches();
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 's2' } } });
    for (let i = 0; i < 200 && informer.list('default').length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(
      informer
        .list('default')
        .map((s) => s.metadata?.name)
        .sort(),
      ['s1', 's2'],
    );
    assert.deepEqual(seen.sort(), ['add s1', 'add s2']);
    await informer.stop();
    for (let i = 0; i < 200 && lab.server.openWatches('secrets') > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(lab.server.openWatches('secrets'), 0);
    assert.ok(lab.server.hooks.count('watch', 'secrets') >= 2, 'the informer re-watched after the drop');
  });
});
