/**
 * What a real API server does to an object on its way to storage that a client can observe: canonical resource
 * quantities, the namespace name label, and no empty associative list left behind by server-side apply.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { failure, startLab, type Lab } from './helpers.ts';

const ssa = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const NAME_LABEL = 'kubernetes.io/metadata.name';
/** client-node returns class instances; compare their JSON. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

const resources = { requests: { cpu: '100m', memory: '200Mi' }, limits: { cpu: '1000m', memory: '1024Mi' } };

const daemonSet = (name: string, spec: Partial<k8s.V1PodSpec> = {}): k8s.V1DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'vector', image: 'v:1', resources }], ...spec },
    },
  },
});

describe('the API server stand-in stores objects as a real server does', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.server.close();
  });

  it('canonicalises resource quantities of pods and DaemonSet templates on create, update, patch and apply', async () => {
    const made = await lab.apps.createNamespacedDaemonSet({
      namespace: 'default',
      body: daemonSet('q', {
        initContainers: [{ name: 'init', image: 'i:1', resources: { limits: { cpu: '0.5', memory: '1.5Gi' } } }],
        volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '2048Mi' } }],
      }),
    });
    const spec = made.spec?.template.spec;
    assert.deepEqual(plain(spec?.containers[0]?.resources), {
      requests: { cpu: '100m', memory: '200Mi' },
      limits: { cpu: '1', memory: '1Gi' },
    });
    assert.deepEqual(plain(spec?.initContainers?.[0]?.resources), { limits: { cpu: '500m', memory: '1536Mi' } });
    assert.equal(spec?.volumes?.[0]?.emptyDir?.sizeLimit, '2Gi');
    assert.equal(made.metadata?.generation, 1);

    // The same values in another notation are the same object: no new resourceVersion, no generation bump.
    const rv = made.metadata.resourceVersion;
    const same = await lab.apps.patchNamespacedDaemonSet(
      {
        name: 'q',
        namespace: 'default',
        body: { spec: { template: { spec: { containers: [{ name: 'vector', resources: { limits: { cpu: 1 } } }] } } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    assert.equal(same.metadata?.resourceVersion, rv);

    const applied = await lab.apps.patchNamespacedDaemonSet(
      { name: 'q', namespace: 'default', body: daemonSet('q'), fieldManager: 'operator', force: true },
      ssa,
    );
    assert.equal(applied.spec?.template.spec?.containers[0]?.resources?.limits?.memory, '1Gi');
    // Conflicts compare the applied value as sent with the stored one, as structured-merge-diff does: `1000m` over
    // another manager's stored `1` is a conflict although the quantities are equal. The forced apply above took the
    // limits from the creator: a write that changes only ownership is stored, as on a real server.
    const c = await failure(() =>
      lab.apps.patchNamespacedDaemonSet(
        { name: 'q', namespace: 'default', body: daemonSet('q'), fieldManager: 'other' },
        ssa,
      ),
    );
    assert.equal(c.code, 409);
    assert.match(c.status.message ?? '', /conflict with "operator": .*resources\.limits\.cpu/);
    assert.doesNotMatch(c.status.message ?? '', /requests/, 'equal strings are co-owned');
    const canonical = daemonSet('q');
    const container = canonical.spec?.template.spec?.containers[0];
    if (container !== undefined) container.resources = { limits: { cpu: '1', memory: '1Gi' } };
    await lab.apps.patchNamespacedDaemonSet(
      { name: 'q', namespace: 'default', body: canonical, fieldManager: 'other' },
      ssa,
    );

    const pod = await lab.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'p' },
        spec: { containers: [{ name: 'c', image: 'c:1', resources: { requests: { cpu: '1e3', memory: '129e6' } } }] },
      },
    });
    assert.deepEqual(plain(pod.spec?.containers[0]?.resources?.requests), { cpu: '1e3', memory: '129e6' });
    const replaced = await lab.core.replaceNamespacedPod({
      name: 'p',
      namespace: 'default',
      body: {
        metadata: { name: 'p', resourceVersion: pod.metadata?.resourceVersion },
        spec: {
          containers: [{ name: 'c', image: 'c:1', resources: { requests: { cpu: '2000m', memory: '128974848' } } }],
        },
      },
    });
    assert.deepEqual(plain(replaced.spec?.containers[0]?.resources?.requests), { cpu: '2', memory: '128974848' });
  });

  it('refuses an unparsable quantity with 400 BadRequest, as the decoder does', async () => {
    const bad = daemonSet('bad');
    const c = bad.spec?.template.spec?.containers[0];
    if (c !== undefined) c.resources = { limits: { cpu: 'lots' } };
    const f = await failure(() => lab.apps.createNamespacedDaemonSet({ namespace: 'default', body: bad }));
    assert.equal(f.code, 400);
    assert.equal(f.status.reason, 'BadRequest');
    assert.match(f.status.message ?? '', /cannot be handled as a DaemonSet: quantities must match the regular/);
  });

  it('labels every namespace with kubernetes.io/metadata.name, and puts the label back when a client changes it', async () => {
    const ns = await lab.core.createNamespace({ body: { metadata: { name: 'team-a', labels: { team: 'a' } } } });
    assert.deepEqual(ns.metadata?.labels, { team: 'a', [NAME_LABEL]: 'team-a' });

    const renamed = await lab.core.patchNamespace(
      { name: 'team-a', body: { metadata: { labels: { [NAME_LABEL]: 'other', team: null } } } },
      mergePatch,
    );
    assert.deepEqual(renamed.metadata?.labels, { [NAME_LABEL]: 'team-a' });

    const put = await lab.core.replaceNamespace({
      name: 'team-a',
      body: { metadata: { name: 'team-a', labels: { x: 'y' } } },
    });
    assert.deepEqual(put.metadata?.labels, { x: 'y', [NAME_LABEL]: 'team-a' });

    const applied = await lab.core.patchNamespace(
      {
        name: 'team-b',
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } },
        fieldManager: 'm',
      },
      ssa,
    );
    assert.equal(applied.metadata?.labels?.[NAME_LABEL], 'team-b');

    // A label selector on it, which is what generated namespace selectors rely on.
    const listed = await lab.core.listNamespace({ labelSelector: `${NAME_LABEL} in (team-a,team-b)` });
    assert.deepEqual(listed.items.map((n) => n.metadata?.name).sort(), ['team-a', 'team-b']);
    const def = await lab.core.readNamespace({ name: 'default' });
    assert.equal(def.metadata?.labels?.[NAME_LABEL], 'default', 'the namespaces present at start too');
  });

  it('drops an associative list that server-side apply emptied, instead of storing []', async () => {
    const withInit = daemonSet('empty', {
      initContainers: [{ name: 'merger', image: 'm:1' }],
      imagePullSecrets: [{ name: 'reg' }],
    });
    withInit.metadata = { name: 'empty', namespace: 'default', annotations: { a: 'b' } };
    const first = await lab.apps.patchNamespacedDaemonSet(
      { name: 'empty', namespace: 'default', body: withInit, fieldManager: 'operator' },
      ssa,
    );
    assert.equal(first.spec?.template.spec?.initContainers?.length, 1);
    const without = await lab.apps.patchNamespacedDaemonSet(
      { name: 'empty', namespace: 'default', body: daemonSet('empty'), fieldManager: 'operator' },
      ssa,
    );
    const spec = without.spec?.template.spec as Record<string, unknown> | undefined;
    assert.equal('initContainers' in (spec ?? {}), false, 'initContainers is dropped, not []');
    assert.equal('imagePullSecrets' in (spec ?? {}), false, 'imagePullSecrets is dropped, not []');
    assert.equal(without.metadata?.annotations, undefined, 'emptied annotations are dropped, not {}');
    const stored = await lab.apps.readNamespacedDaemonSet({ name: 'empty', namespace: 'default' });
    assert.equal(stored.spec?.template.spec?.initContainers, undefined);
    const fields = JSON.stringify(stored.metadata?.managedFields ?? []);
    assert.doesNotMatch(fields, /initContainers/, 'nobody owns the dropped field');

    // A list someone else still has items in stays, with only their items.
    await lab.apps.patchNamespacedDaemonSet(
      { name: 'empty', namespace: 'default', body: withInit, fieldManager: 'operator' },
      ssa,
    );
    await lab.apps.patchNamespacedDaemonSet(
      {
        name: 'empty',
        namespace: 'default',
        body: daemonSet('empty', { initContainers: [{ name: 'other', image: 'o:1' }] }),
        fieldManager: 'human',
        force: true,
      },
      ssa,
    );
    const kept = await lab.apps.patchNamespacedDaemonSet(
      { name: 'empty', namespace: 'default', body: daemonSet('empty'), fieldManager: 'operator', force: true },
      ssa,
    );
    assert.deepEqual(
      kept.spec?.template.spec?.initContainers?.map((c) => c.name),
      ['other'],
    );
  });
});
