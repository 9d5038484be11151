import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { cm, failure, startLab, type Lab } from './helpers.ts';

const daemonSet = (name: string, image: string): k8s.V1DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'vector', image, env: [{ name: 'A', value: '1' }] }] },
    },
  },
});

describe('the API server stand-in, driven by client-node typed APIs', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.server.close();
  });

  it('creates over verified TLS, stamps uid, creationTimestamp and a resourceVersion, and reads it back', async () => {
    const made = await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('one', {}, { k: 'v' }) });
    assert.match(made.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(made.metadata?.creationTimestamp instanceof Date);
    const read = await lab.core.readNamespacedConfigMap({ name: 'one', namespace: 'default' });
    assert.equal(read.data?.k, 'v');
    assert.equal(read.metadata?.resourceVersion, made.metadata.resourceVersion);
  });

  it('answers a second create with 409 AlreadyExists and a missing object with 404 NotFound', async () => {
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('dup') });
    const again = await failure(() => lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('dup') }));
    assert.equal(again.code, 409);
    assert.equal(again.status.reason, 'AlreadyExists');
    const missing = await failure(() => lab.core.readNamespacedConfigMap({ name: 'nope', namespace: 'default' }));
    assert.equal(missing.code, 404);
    assert.equal(missing.status.reason, 'NotFound');
    assert.equal(missing.status.message, 'configmaps "nope" not found');
  });

  it('refuses an update carrying a stale resourceVersion with 409 Conflict', async () => {
    const v1 = await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('stale', {}, { n: '1' }) });
    await lab.core.replaceNamespacedConfigMap({
      name: 'stale',
      namespace: 'default',
      body: { metadata: v1.metadata, data: { n: '2' } },
    });
    const r = await failure(() =>
      lab.core.replaceNamespacedConfigMap({
        name: 'stale',
        namespace: 'default',
        body: { metadata: v1.metadata, data: { n: '3' } },
      }),
    );
    assert.equal(r.code, 409);
    assert.equal(r.status.reason, 'Conflict');
    assert.match(r.status.message ?? '', /the object has been modified/);
  });

  it('bumps generation on a spec change only, and keeps status out of the main endpoint', async () => {
    const ds = await lab.apps.createNamespacedDaemonSet({ namespace: 'default', body: daemonSet('gen', 'v:1') });
    assert.equal(ds.metadata?.generation, 1);
    const labelled = await lab.apps.patchNamespacedDaemonSet(
      { name: 'gen', namespace: 'default', body: { metadata: { labels: { extra: 'x' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    assert.equal(labelled.metadata?.generation, 1);
    const status = await lab.apps.replaceNamespacedDaemonSetStatus({
      name: 'gen',
      namespace: 'default',
      body: {
        metadata: labelled.metadata,
        spec: labelled.spec,
        status: {
          currentNumberScheduled: 3,
          desiredNumberScheduled: 3,
          numberMisscheduled: 0,
          numberReady: 3,
          observedGeneration: 1,
        },
      },
    });
    assert.equal(status.status?.numberReady, 3);
    assert.equal(status.metadata?.generation, 1);
    const changed = await lab.apps.patchNamespacedDaemonSet(
      {
        name: 'gen',
        namespace: 'default',
        body: [
          { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'v:2' },
          { op: 'replace', path: '/status/numberReady', value: 0 },
        ],
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    assert.equal(changed.metadata?.generation, 2);
    assert.equal(changed.status?.numberReady, 3, 'the main endpoint must not change status');
  });

  it('does not bump resourceVersion for a write that changes nothing', async () => {
    const made = await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('noop', {}, { a: 'b' }) });
    const same = await lab.core.replaceNamespacedConfigMap({ name: 'noop', namespace: 'default', body: made });
    assert.equal(same.metadata?.resourceVersion, made.metadata?.resourceVersion);
  });

  it('lists with equality and set-based label selectors, field selectors, and limit/continue pages', async () => {
    await lab.core.createNamespace({ body: { metadata: { name: 'sel' } } });
    const specs: [string, Record<string, string>][] = [
      ['a', { tier: 'web', env: 'prod' }],
      ['b', { tier: 'db', env: 'prod' }],
      ['c', { tier: 'web' }],
      ['d', { env: 'dev' }],
    ];
    for (const [name, labels] of specs)
      await lab.core.createNamespacedConfigMap({ namespace: 'sel', body: cm(name, labels) });
    const names = async (q: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> =>
      (await lab.core.listNamespacedConfigMap({ namespace: 'sel', ...q })).items.map((i) => i.metadata?.name ?? '');
    assert.deepEqual(await names({ labelSelector: 'tier=web' }), ['a', 'c']);
    assert.deepEqual(await names({ labelSelector: 'tier in (web,db),env=prod' }), ['a', 'b']);
    assert.deepEqual(await names({ labelSelector: 'env notin (prod)' }), ['c', 'd']);
    assert.deepEqual(await names({ labelSelector: 'env,!tier' }), ['d']);
    assert.deepEqual(await names({ labelSelector: 'tier!=web' }), ['b', 'd']);
    assert.deepEqual(await names({ fieldSelector: 'metadata.name=b' }), ['b']);
    assert.deepEqual(await names({ fieldSelector: 'metadata.name!=b,metadata.namespace=sel' }), ['a', 'c', 'd']);
    const bad = await failure(() => lab.core.listNamespacedConfigMap({ namespace: 'sel', fieldSelector: 'data.x=1' }));
    assert.equal(bad.code, 400);

    const first = await lab.core.listNamespacedConfigMap({ namespace: 'sel', limit: 3 });
    assert.deepEqual(
      first.items.map((i) => i.metadata?.name),
      ['a', 'b', 'c'],
    );
    assert.equal(first.metadata?.remainingItemCount, 1);
    const second = await lab.core.listNamespacedConfigMap({
      namespace: 'sel',
      limit: 3,
      _continue: first.metadata._continue ?? '',
    });
    assert.deepEqual(
      second.items.map((i) => i.metadata?.name),
      ['d'],
    );
    assert.equal(second.metadata?._continue, undefined);
  });

  it('selects pods by spec.nodeName across namespaces', async () => {
    const pod = (name: string, node: string): k8s.V1Pod => ({
      metadata: { name },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'i' }] },
    });
    await lab.core.createNamespacedPod({ namespace: 'default', body: pod('p1', 'node-a') });
    await lab.core.createNamespacedPod({ namespace: 'kube-system', body: pod('p2', 'node-b') });
    await lab.core.createNamespacedPod({ namespace: 'kube-system', body: pod('p3', 'node-a') });
    const onA = await lab.core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-a' });
    assert.deepEqual(
      onA.items.map((p) => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`),
      ['default/p1', 'kube-system/p3'],
    );
  });

  it('merges containers and env by name under a strategic merge patch', async () => {
    await lab.apps.createNamespacedDaemonSet({ namespace: 'default', body: daemonSet('smp', 'v:1') });
    const patched = await lab.apps.patchNamespacedDaemonSet(
      {
        name: 'smp',
        namespace: 'default',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'vector', env: [{ name: 'B', value: '2' }] },
                  { name: 'sidecar', image: 's:1' },
                ],
              },
            },
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    const containers = patched.spec?.template.spec?.containers ?? [];
    assert.deepEqual(
      containers.map((c) => c.name),
      ['vector', 'sidecar'],
    );
    assert.equal(containers[0]?.image, 'v:1');
    assert.deepEqual(
      containers[0].env?.map((e) => e.name),
      ['A', 'B'],
    );
    const deleted = await lab.apps.patchNamespacedDaemonSet(
      {
        name: 'smp',
        namespace: 'default',
        body: { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(
      deleted.spec?.template.spec?.containers.map((c) => c.name),
      ['vector'],
    );
  });

  it('server-side apply tracks managers, refuses a conflicting field without force, and takes it with force', async () => {
    const ssa = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
    const first = daemonSet('ssa', 'v:1');
    (first.metadata ??= {}).annotations = { 'op-only': 'yes' };
    await lab.apps.patchNamespacedDaemonSet(
      { name: 'ssa', namespace: 'default', body: first, fieldManager: 'operator' },
      ssa,
    );
    await lab.apps.patchNamespacedDaemonSet(
      { name: 'ssa', namespace: 'default', body: { metadata: { labels: { team: 'obs' } } }, fieldManager: 'human' },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const other = daemonSet('ssa', 'v:evil');
    const c = await failure(() =>
      lab.apps.patchNamespacedDaemonSet(
        { name: 'ssa', namespace: 'default', body: other, fieldManager: 'intruder' },
        ssa,
      ),
    );
    assert.equal(c.code, 409);
    assert.equal(c.status.reason, 'Conflict');
    assert.match(
      c.status.message ?? '',
      /conflict with "operator": \.spec\.template\.spec\.containers\[name="vector"\]\.image/,
    );
    const forced = await lab.apps.patchNamespacedDaemonSet(
      { name: 'ssa', namespace: 'default', body: other, fieldManager: 'intruder', force: true },
      ssa,
    );
    assert.equal(forced.spec?.template.spec?.containers[0]?.image, 'v:evil');
    const managers = (forced.metadata?.managedFields ?? []).map((m) => `${m.manager}:${m.operation}`).sort();
    assert.deepEqual(managers, ['human:Update', 'intruder:Apply', 'operator:Apply']);
    // The operator re-applies without its env var: the field it alone owned goes away, the others' stay.
    const slim = daemonSet('ssa', 'v:1');
    const container = slim.spec?.template.spec?.containers[0];
    if (container !== undefined) delete container.env;
    const after = await lab.apps.patchNamespacedDaemonSet(
      { name: 'ssa', namespace: 'default', body: slim, fieldManager: 'operator', force: true },
      ssa,
    );
    assert.equal(after.metadata?.labels?.team, 'obs');
    assert.equal(
      after.metadata.annotations?.['op-only'],
      undefined,
      'a field only the operator owned and no longer applies is removed',
    );
    assert.deepEqual(
      after.spec?.template.spec?.containers[0]?.env?.map((e) => `${e.name}=${e.value ?? ''}`),
      ['A=1'],
      'env A is co-owned by intruder and must stay',
    );
  });

  it('serves any kind through KubernetesObjectApi, which resolves plurals through discovery', async () => {
    const role: k8s.KubernetesObject & { rules: unknown[] } = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'reader', namespace: 'default' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
    };
    await lab.objects.create(role);
    const lease = await lab.objects.patch(
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'leader', namespace: 'kube-system' },
        spec: { holderIdentity: 'me' },
      } as k8s.KubernetesObject,
      undefined,
      undefined,
      'operator',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
    assert.equal((lease as k8s.V1Lease).spec?.holderIdentity, 'me');
    const roles = await lab.objects.list('rbac.authorization.k8s.io/v1', 'Role', 'default');
    assert.deepEqual(
      roles.items.map((r) => r.metadata?.name),
      ['reader'],
    );
    const crb = await lab.objects.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } });
    assert.equal((crb as k8s.V1Namespace).status?.phase, 'Active');
  });

  it('runs a dryRun=All write through every check without storing it', async () => {
    const before = lab.server.store.currentRv;
    const dry = await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('dry'), dryRun: 'All' });
    assert.equal(dry.metadata?.name, 'dry');
    assert.equal(lab.server.store.currentRv, before);
    const r = await failure(() => lab.core.readNamespacedConfigMap({ name: 'dry', namespace: 'default' }));
    assert.equal(r.code, 404);
  });

  it('deletes a collection by label selector, leaving the rest', async () => {
    await lab.core.createNamespace({ body: { metadata: { name: 'coll' } } });
    for (const [name, app] of [
      ['x1', 'x'],
      ['x2', 'x'],
      ['y1', 'y'],
    ])
      await lab.core.createNamespacedConfigMap({ namespace: 'coll', body: cm(name ?? '', { app: app ?? '' }) });
    await lab.core.deleteCollectionNamespacedConfigMap({ namespace: 'coll', labelSelector: 'app=x' });
    const left = await lab.core.listNamespacedConfigMap({ namespace: 'coll' });
    assert.deepEqual(
      left.items.map((c) => c.metadata?.name),
      ['y1'],
    );
  });

  it('refuses a namespaced object in a namespace that does not exist', async () => {
    const r = await failure(() =>
      lab.core.createNamespacedSecret({ namespace: 'ghost', body: { metadata: { name: 's' } } }),
    );
    assert.equal(r.code, 404);
    assert.equal(r.status.message, 'namespaces "ghost" not found');
  });
});
