import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { cm, failure, startLab, type Lab } from './helpers.ts';

describe('deletion, finalizers and garbage collection in the API server stand-in', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.server.close();
  });

  const owned = (
    name: string,
    owner: k8s.V1ObjectMeta,
    kind = 'DaemonSet',
    apiVersion = 'apps/v1',
  ): k8s.V1ConfigMap => ({
    metadata: {
      name,
      ownerReferences: [{ apiVersion, kind, name: owner.name ?? '', uid: owner.uid ?? '', controller: true }],
    },
  });
  const ds = (name: string): k8s.V1DaemonSet => ({
    metadata: { name },
    spec: {
      selector: { matchLabels: { a: name } },
      template: { metadata: { labels: { a: name } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    },
  });

  it('collects the dependents of a deleted owner in the background, down the whole chain', async () => {
    const owner = await lab.apps.createNamespacedDaemonSet({ namespace: 'default', body: ds('owner') });
    const child = await lab.core.createNamespacedConfigMap({
      namespace: 'default',
      body: owned('child', owner.metadata ?? {}),
    });
    await lab.core.createNamespacedSecret({
      namespace: 'default',
      body: owned('grandchild', child.metadata ?? {}, 'ConfigMap', 'v1'),
    });
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('bystander') });
    await lab.apps.deleteNamespacedDaemonSet({ name: 'owner', namespace: 'default' });
    await lab.server.settled();
    const cms = await lab.core.listNamespacedConfigMap({ namespace: 'default' });
    assert.deepEqual(
      cms.items.map((c) => c.metadata?.name),
      ['bystander'],
    );
    const secret = await failure(() => lab.core.readNamespacedSecret({ name: 'grandchild', namespace: 'default' }));
    assert.equal(secret.code, 404);
  });

  it('keeps a dependent that still has a live owner, dropping only the dead reference', async () => {
    const a = await lab.apps.createNamespacedDaemonSet({ namespace: 'default', body: ds('a') });
    const b = await lab.apps.createNamespacedDaemonSet({ namespace: 'default', body: ds('b') });
    const shared = owned('shared', a.metadata ?? {});
    shared.metadata?.ownerReferences?.push({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      name: 'b',
      uid: b.metadata?.uid ?? '',
    });
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body: shared });
    await lab.apps.deleteNamespacedDaemonSet({ name: 'a', namespace: 'default' });
    await lab.server.settled();
    const left = await lab.core.readNamespacedConfigMap({ name: 'shared', namespace: 'default' });
    assert.deepEqual(
      left.metadata?.ownerReferences?.map((r) => r.name),
      ['b'],
    );
  });

  it('orphans dependents when asked to', async () => {
    const o = await lab.apps.createNamespacedDaemonSet({ namespace: 'default', body: ds('orphaner') });
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body: owned('orphan', o.metadata ?? {}) });
    await lab.apps.deleteNamespacedDaemonSet({ name: 'orphaner', namespace: 'default', propagationPolicy: 'Orphan' });
    await lab.server.settled();
    const left = await lab.core.readNamespacedConfigMap({ name: 'orphan', namespace: 'default' });
    assert.equal(left.metadata?.ownerReferences, undefined);
  });

  it('deletes dependents before the owner under Foreground propagation', async () => {
    const o = await lab.apps.createNamespacedDaemonSet({ namespace: 'default', body: ds('fg') });
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body: owned('fg-child', o.metadata ?? {}) });
    await lab.apps.deleteNamespacedDaemonSet({ name: 'fg', namespace: 'default', propagationPolicy: 'Foreground' });
    // No settling: under Foreground the dependents are gone by the time the owner's delete returns.
    const r = await failure(() => lab.core.readNamespacedConfigMap({ name: 'fg-child', namespace: 'default' }));
    assert.equal(r.code, 404);
  });

  it('holds an object with finalizers in deletion until the last finalizer is removed', async () => {
    const body = cm('held');
    (body.metadata ??= {}).finalizers = ['lab.test/hold'];
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body });
    await lab.core.deleteNamespacedConfigMap({ name: 'held', namespace: 'default' });
    const marked = await lab.core.readNamespacedConfigMap({ name: 'held', namespace: 'default' });
    assert.ok(marked.metadata?.deletionTimestamp instanceof Date);
    const addFinalizer = await failure(() =>
      lab.core.patchNamespacedConfigMap(
        { name: 'held', namespace: 'default', body: { metadata: { finalizers: ['lab.test/hold', 'lab.test/more'] } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    );
    assert.equal(addFinalizer.code, 422);
    await lab.core.patchNamespacedConfigMap(
      { name: 'held', namespace: 'default', body: [{ op: 'remove', path: '/metadata/finalizers' }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    const gone = await failure(() => lab.core.readNamespacedConfigMap({ name: 'held', namespace: 'default' }));
    assert.equal(gone.code, 404);
  });

  it('terminates a namespace: empties it, refuses new content while a finalizer holds it, then disappears', async () => {
    await lab.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await lab.core.createNamespacedConfigMap({ namespace: 'doomed', body: cm('plain') });
    const held = cm('held');
    (held.metadata ??= {}).finalizers = ['lab.test/hold'];
    await lab.core.createNamespacedConfigMap({ namespace: 'doomed', body: held });
    const ns = await lab.core.deleteNamespace({ name: 'doomed' });
    assert.equal((ns as k8s.V1Namespace).status?.phase, 'Terminating');
    await lab.server.settled();
    const left = await lab.core.listNamespacedConfigMap({ namespace: 'doomed' });
    assert.deepEqual(
      left.items.map((c) => c.metadata?.name),
      ['held'],
    );
    const refused = await failure(() => lab.core.createNamespacedConfigMap({ namespace: 'doomed', body: cm('late') }));
    assert.equal(refused.code, 403);
    assert.equal(refused.status.reason, 'Forbidden');
    await lab.core.patchNamespacedConfigMap(
      { name: 'held', namespace: 'doomed', body: { metadata: { finalizers: null } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await lab.server.settled();
    const gone = await failure(() => lab.core.readNamespace({ name: 'doomed' }));
    assert.equal(gone.code, 404);
  });

  it('deletes a bound pod gracefully when asked to, until a kubelet-style delete with grace 0', async () => {
    const graceful = await startLab({ gracefulPodDeletion: true });
    try {
      const pod: k8s.V1Pod = {
        metadata: { name: 'p' },
        spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] },
      };
      await graceful.core.createNamespacedPod({ namespace: 'default', body: pod });
      await graceful.core.deleteNamespacedPod({ name: 'p', namespace: 'default' });
      const terminating = await graceful.core.readNamespacedPod({ name: 'p', namespace: 'default' });
      assert.equal(terminating.metadata?.deletionGracePeriodSeconds, 30);
      await graceful.core.deleteNamespacedPod({ name: 'p', namespace: 'default', gracePeriodSeconds: 0 });
      const r = await failure(() => graceful.core.readNamespacedPod({ name: 'p', namespace: 'default' }));
      assert.equal(r.code, 404);
    } finally {
      await graceful.server.close();
    }
  });

  it('rejects a delete whose precondition names another resourceVersion', async () => {
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('pre') });
    const r = await failure(() =>
      lab.core.deleteNamespacedConfigMap({
        name: 'pre',
        namespace: 'default',
        body: { preconditions: { resourceVersion: '1' } },
      }),
    );
    assert.equal(r.code, 409);
    assert.equal(r.status.reason, 'Conflict');
  });
});
