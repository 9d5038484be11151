/** Applier against the API server stand-in: SSA idempotence, status, delete, finalizers, and a retried 409. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from '../apiserver/helpers.ts';
import { Applier } from '../../src/kube/apply.ts';
import { isConflict, KubeError, request, type KubeObject } from '../../src/kube/client.ts';
import { Controller } from '../../src/kube/controller.ts';
import { isSubset } from '../../src/kube/diff.ts';
import { WorkQueue } from '../../src/kube/workqueue.ts';
import { eventually } from '../helpers/eventually.ts';

const configMap = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', labels: { app: 'test' } },
  data,
});

const daemonSet = (name: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'agent', image: 'timberio/vector:0.48.0-debian' }] },
    },
  },
});

describe('applier', () => {
  let lab: Lab;
  let applier: Applier;
  before(async () => {
    lab = await startLab();
    applier = new Applier(lab.kc, 'kube-test');
  });
  after(async () => {
    await lab.server.close();
  });

  it('creates by server-side apply, and a second identical apply changes nothing on the server', async () => {
    const desired = configMap('ssa', { a: '1' });
    const created = await applier.apply(desired);
    assert.equal(created.metadata?.uid !== undefined, true);
    assert.equal(isSubset(desired, created), true, 'the stored object has everything we asked for');
    const again = await applier.apply(desired);
    assert.equal(again.metadata?.resourceVersion, created.metadata?.resourceVersion);
    const managers = (again.metadata as { managedFields?: { manager: string }[] }).managedFields?.map((m) => m.manager);
    assert.deepEqual(managers, ['kube-test']);

    const changed = await applier.apply(configMap('ssa', { a: '2' }));
    assert.notEqual(changed.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.deepEqual(changed.data, { a: '2' });
  });

  it("takes back a field another manager changed (force), and leaves the other manager's fields alone", async () => {
    await request(lab.kc, 'PATCH', '/api/v1/namespaces/default/configmaps/shared', {
      query: { fieldManager: 'kubectl-edit' },
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'shared' },
        data: { ours: 'hand-edited', theirs: 'x' },
      },
      contentType: 'application/apply-patch+yaml',
    });
    const stored = await applier.apply(configMap('shared', { ours: 'desired' }));
    assert.deepEqual(stored.data, { ours: 'desired', theirs: 'x' });
  });

  it('applies cluster-scoped objects and custom paths resolved through discovery', async () => {
    const role: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'kube-test-reader' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    };
    const stored = await applier.apply(role);
    assert.equal(stored.metadata?.namespace, undefined);
    await assert.rejects(
      applier.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no-namespace' } }),
      /ConfigMap "no-namespace" is namespaced: set metadata.namespace/,
    );
    await assert.rejects(
      applier.apply({ apiVersion: 'example.com/v1', kind: 'Nothing', metadata: { name: 'x' } }),
      (err: unknown) => err instanceof KubeError && err.code === 404,
    );
  });

  it('patches only the status subresource, leaving the spec alone', async () => {
    const ds = await applier.apply(daemonSet('agent'));
    await applier.patchStatus(ds, { numberReady: 3, desiredNumberScheduled: 3 });
    const live = await lab.apps.readNamespacedDaemonSet({ name: 'agent', namespace: 'default' });
    assert.equal(live.status?.numberReady, 3);
    assert.equal(live.metadata?.generation, ds.metadata?.generation);
    assert.equal(lab.server.hooks.count('patch', 'daemonsets.apps/status'), 1);
  });

  it('deletes, and reports false for an object that is already gone', async () => {
    const cm = await applier.apply(configMap('doomed', {}));
    assert.equal(await applier.delete(cm), true);
    assert.equal(await applier.delete(cm), false);
  });

  it('adds and removes finalizers without touching others, writing nothing when there is nothing to do', async () => {
    const cm = await applier.apply({ ...configMap('guarded', {}) });
    lab.server.hooks.resetCounts();
    await applier.addFinalizer(cm, 'example.com/cleanup');
    const withF = await lab.core.readNamespacedConfigMap({ name: 'guarded', namespace: 'default' });
    assert.deepEqual(withF.metadata?.finalizers, ['example.com/cleanup']);
    const asKube = withF as unknown as KubeObject;
    await applier.addFinalizer(asKube, 'example.com/cleanup');
    assert.equal(lab.server.hooks.count('patch', 'configmaps'), 1, 'already present: no request');

    // A stale copy (another writer got in between) is refused with a 409, not silently merged.
    await applier.addFinalizer(asKube, 'other.io/keep');
    await assert.rejects(applier.removeFinalizer(asKube, 'example.com/cleanup'), (e: unknown) => isConflict(e));
    const fresh = (await lab.core.readNamespacedConfigMap({ name: 'guarded', namespace: 'default' })) as unknown;
    await applier.removeFinalizer(fresh as KubeObject, 'example.com/cleanup');
    const after = await lab.core.readNamespacedConfigMap({ name: 'guarded', namespace: 'default' });
    assert.deepEqual(after.metadata?.finalizers, ['other.io/keep']);
  });

  it('surfaces an injected 409 as a conflict, which a controller retries until the apply lands', async () => {
    lab.server.hooks.resetCounts();
    lab.server.inject({ verb: 'patch', resource: 'configmaps', name: 'contended', code: 409 });
    const errors: unknown[] = [];
    const queue = new WorkQueue({ baseDelayMs: 1 });
    const c = new Controller({
      name: 'writer',
      queue,
      workers: 1,
      reconcile: async () => {
        await applier.apply(configMap('contended', { v: '1' }));
      },
      onError: (_key, err) => errors.push(err),
    });
    c.run();
    queue.add('default/contended');
    await eventually('the retry', () => lab.server.hooks.count('patch', 'configmaps') === 2 && c.busy() === 0);
    await c.stop();
    assert.equal(errors.length, 1);
    assert.ok(isConflict(errors[0]));
    assert.match((errors[0] as Error).message, /PATCH .*contended: Operation cannot be fulfilled/);
    const live = await lab.core.readNamespacedConfigMap({ name: 'contended', namespace: 'default' });
    assert.deepEqual(live.data, { v: '1' });
  });
});
