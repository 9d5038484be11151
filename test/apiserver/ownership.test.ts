/**
 * The stand-in refuses what a real API server refuses in a pod template (duplicate list keys in an apply body,
 * duplicate volume names and mount paths on any write), and treats `metadata.managedFields` as the real field manager
 * does: a client may replace it with a non-empty list (how csaupgrade moves Update entries to Apply), an empty or
 * absent list keeps what is stored, and a write that changes only ownership is stored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { request } from '../../src/kube/client.ts';
import { failure, startLab, type Lab } from './helpers.ts';

const ssa = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);

const daemonSet = (name: string, spec: Partial<k8s.V1PodSpec> = {}): k8s.V1DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'vector', image: 'v:1' }], ...spec },
    },
  },
});

const twoMounts: Partial<k8s.V1PodSpec> = {
  volumes: [{ name: 'data', hostPath: { path: '/var/lib/vector' } }],
  containers: [
    {
      name: 'vector',
      image: 'v:1',
      volumeMounts: [
        { name: 'data', mountPath: '/vector-data-dir' },
        { name: 'data', mountPath: '/vector-data-dir', readOnly: true },
      ],
    },
  ],
};

describe('the API server stand-in: pod template keys and field ownership', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.server.close();
  });

  it('rejects an apply body with two volumeMounts at one mountPath, instead of merging them', async () => {
    const f = await failure(() =>
      lab.apps.patchNamespacedDaemonSet(
        { name: 'dup', namespace: 'default', body: daemonSet('dup', twoMounts), fieldManager: 'op', force: true },
        ssa,
      ),
    );
    assert.equal(f.code, 422);
    assert.match(
      f.status.message ?? '',
      /failed to create typed patch object \(default\/dup; apps\/v1, Kind=DaemonSet\): \.spec\.template\.spec\.containers\[name="vector"\]\.volumeMounts: duplicate entries for key \[mountPath="\/vector-data-dir"\]/,
    );
    assert.equal(
      await lab.apps.readNamespacedDaemonSet({ name: 'dup', namespace: 'default' }).catch(() => 'gone'),
      'gone',
    );
  });

  it('rejects duplicate mount paths and volume names on create, as core validation does', async () => {
    const mounts = await failure(() =>
      lab.apps.createNamespacedDaemonSet({ namespace: 'default', body: daemonSet('dup', twoMounts) }),
    );
    assert.equal(mounts.code, 422);
    assert.deepEqual(
      mounts.status.details?.causes?.map((c) => c.field),
      ['spec.template.spec.containers[0].volumeMounts[1].mountPath'],
    );
    const volumes = await failure(() =>
      lab.apps.createNamespacedDaemonSet({
        namespace: 'default',
        body: daemonSet('dup', {
          volumes: [
            { name: 'a', emptyDir: {} },
            { name: 'a', emptyDir: {} },
          ],
        }),
      }),
    );
    assert.equal(volumes.code, 422);
    assert.match(volumes.status.message ?? '', /spec\.template\.spec\.volumes\[1\]\.name: Duplicate value: "a"/);
  });

  it('takes a managedFields list a client sends on the main resource, with the resourceVersion as a lock', async () => {
    const made = await lab.apps.createNamespacedDaemonSet({
      namespace: 'default',
      body: daemonSet('owned'),
      fieldManager: 'manager',
    });
    const entries = made.metadata?.managedFields ?? [];
    assert.deepEqual(
      entries.map((e) => [e.manager, e.operation]),
      [['manager', 'Update']],
    );
    const upgraded = entries.map((e) => ({
      ...(JSON.parse(JSON.stringify(e)) as object),
      manager: 'vector-operator',
      operation: 'Apply',
    }));
    const path = '/apis/apps/v1/namespaces/default/daemonsets/owned';
    const stale = await failure(() =>
      lab.apps.patchNamespacedDaemonSet(
        {
          name: 'owned',
          namespace: 'default',
          body: [
            { op: 'replace', path: '/metadata/managedFields', value: upgraded },
            { op: 'replace', path: '/metadata/resourceVersion', value: '1' },
          ],
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      ),
    );
    assert.equal(stale.code, 409, 'a stale resourceVersion is a conflict, not an overwrite');
    const patched = await request<k8s.V1DaemonSet>(lab.kc, 'PATCH', path, {
      contentType: 'application/json-patch+json',
      body: [
        { op: 'replace', path: '/metadata/managedFields', value: JSON.parse(JSON.stringify(upgraded)) as unknown },
        { op: 'replace', path: '/metadata/resourceVersion', value: made.metadata?.resourceVersion },
      ],
    });
    assert.notEqual(patched.metadata?.resourceVersion, made.metadata?.resourceVersion, 'ownership is content');
    assert.equal(patched.metadata?.generation, 1, 'but not spec: no rollout');
    assert.deepEqual(
      patched.metadata.managedFields?.map((e) => [e.manager, e.operation]),
      [['vector-operator', 'Apply']],
    );
    // An empty list keeps the stored ownership (clients that do not know the field cannot erase it).
    const kept = await request<k8s.V1DaemonSet>(lab.kc, 'PATCH', path, {
      contentType: 'application/merge-patch+json',
      body: { metadata: { managedFields: [], labels: { x: 'y' } } },
    });
    const managers = kept.metadata?.managedFields?.map((e) => e.manager) ?? [];
    assert.ok(managers.includes('vector-operator'), `the Apply entry is kept: ${managers.join(', ')}`);
  });
});
