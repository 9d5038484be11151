/**
 * The real control plane harness (lab/kube-real): it starts etcd and kube-apiserver on loopback with TLS and RBAC,
 * hands out an admin kubeconfig that kubectl and client-node accept, runs the controller manager when asked (its
 * garbage collector deletes a dependent whose owner is gone), and leaves nothing behind when stopped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { KUBE_VERSION, kubeBinary, kubeBinDir } from '../../lab/kube-real/binaries.ts';
import { startControlPlane, type ControlPlane } from '../../lab/kube-real/control-plane.ts';
import { probeOnce } from '../../lab/kube-real/process.ts';
import { request, type KubeObject } from '../../src/kube/client.ts';
import { realLaneSkip } from '../helpers/kube-target.ts';
import { requestCounts, writesSince } from '../helpers/real-metrics.ts';

describe('the real control plane: build pin', () => {
  it('builds the Kubernetes version the harness expects (tools/kube/go.mod)', () => {
    const gomod = readFileSync(new URL('../../tools/kube/go.mod', import.meta.url), 'utf8');
    assert.match(gomod, new RegExp(`^\\s*(require )?k8s\\.io/kubernetes ${KUBE_VERSION.replaceAll('.', '\\.')}$`, 'm'));
  });
});

describe('the real control plane harness', { skip: realLaneSkip() }, () => {
  let plane: ControlPlane;
  let kc: KubeConfig;
  before(async () => {
    plane = await startControlPlane();
    kc = new KubeConfig();
    kc.loadFromString(plane.kubeconfig);
  });
  after(async () => {
    await plane.stop();
  });

  it('serves the version it was built as, and the four namespaces a real server creates', async () => {
    assert.equal(plane.gitVersion, KUBE_VERSION);
    const list = await request<{ items: KubeObject[] }>(kc, 'GET', '/api/v1/namespaces');
    assert.deepEqual(list.items.map((n) => n.metadata?.name).sort(), [
      'default',
      'kube-node-lease',
      'kube-public',
      'kube-system',
    ]);
  });

  it('verifies clients: no certificate is anonymous and forbidden, the admin certificate is allowed', async () => {
    const anonymous = await probeOnce({ url: `${plane.url}/api/v1/namespaces`, ca: plane.caPem });
    assert.equal(anonymous.status, 403, anonymous.body);
    assert.match(anonymous.body, /system:anonymous/);
    const admin = await plane.get('/api/v1/namespaces/default');
    assert.equal(admin.status, 200);
  });

  it("counts writes from the API server's own metrics, in the stand-in's terms", async () => {
    const base = await requestCounts(plane);
    await request(kc, 'POST', '/api/v1/namespaces/default/configmaps', {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'counted' } },
    });
    await request(kc, 'PATCH', '/api/v1/namespaces/default/configmaps/counted', {
      body: { data: { a: 'b' } },
      contentType: 'application/merge-patch+json',
    });
    await request(kc, 'GET', '/api/v1/namespaces/default/configmaps/counted');
    assert.deepEqual(writesSince(base, await requestCounts(plane)), { 'create configmaps': 1, 'patch configmaps': 1 });
  });

  it('gives kubectl of the same version a working kubeconfig', () => {
    const out = execFileSync(
      kubeBinary('kubectl', kubeBinDir()),
      ['--kubeconfig', plane.kubeconfigPath, 'version', '-o', 'json'],
      {
        encoding: 'utf8',
      },
    );
    const v = JSON.parse(out) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    assert.deepEqual([v.clientVersion.gitVersion, v.serverVersion.gitVersion], [KUBE_VERSION, KUBE_VERSION]);
  });

  it('runs the garbage collector when asked: a ConfigMap owned by a deleted one goes', async () => {
    await plane.startControllerManager(['garbage-collector-controller']);
    const owner = await request<KubeObject>(kc, 'POST', '/api/v1/namespaces/default/configmaps', {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } },
    });
    await request(kc, 'POST', '/api/v1/namespaces/default/configmaps', {
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'dependent',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid }],
        },
      },
    });
    await request(kc, 'DELETE', '/api/v1/namespaces/default/configmaps/owner');
    let gone = false;
    for (let i = 0; i < 300 && !gone; i++) {
      gone = (await plane.get('/api/v1/namespaces/default/configmaps/dependent')).status === 404;
      if (!gone) await sleep(100);
    }
    assert.ok(gone, 'the dependent was collected');
  });

  it('stops every process and removes its directory', async () => {
    const other = await startControlPlane();
    const { url, dir } = other;
    await other.stop();
    assert.equal(existsSync(dir), false);
    assert.equal((await probeOnce({ url: `${url}/readyz`, insecure: true })).status, 0, 'nothing listens any more');
  });
});
