/**
 * The stand runs Deployments, as the aggregators need: on the stand-in our Deployment and ReplicaSet controllers
 * (lab/nodes/deployment-controller.ts) with the bare-pod scheduler; on the real control plane
 * kube-controller-manager's and kube-scheduler. The same assertions hold on both: the pods are bound to the stand's
 * nodes and turn Ready, and a template change rolls them surge-first (never fewer Ready pods than replicas, for
 * 2 replicas: surge 1, unavailable 0), ending with only new pods. Plus the rollout arithmetic alone (rollout.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { startNodes, type Nodes } from '../../lab/nodes/cluster.ts';
import { rolloutStep } from '../../lab/nodes/rollout.ts';
import { startKube, type StandKube } from '../../lab/scenarios/kube.ts';
import { request } from '../../src/kube/client.ts';
import { kubeTargets } from '../helpers/kube-target.ts';

describe('the rollout arithmetic (rollout.ts)', () => {
  const base = { strategy: 'RollingUpdate' as const, maxSurge: undefined, maxUnavailable: undefined };
  it('2 replicas: one new pod first (surge 1), an old one stops only once it is Ready (unavailable 0)', () => {
    const old = [{ replicas: 2, ready: 2, pods: 2 }];
    assert.deepEqual(rolloutStep({ ...base, desired: 2, current: { replicas: 0, ready: 0 }, old }), {
      current: 1,
      old: [2],
    });
    assert.deepEqual(rolloutStep({ ...base, desired: 2, current: { replicas: 1, ready: 0 }, old }), {
      current: 1,
      old: [2],
    });
    assert.deepEqual(rolloutStep({ ...base, desired: 2, current: { replicas: 1, ready: 1 }, old }), {
      current: 1,
      old: [1],
    });
  });
  it('4 replicas, 25 %: surge 1 and unavailable 1; Recreate empties the old set first', () => {
    const old = [{ replicas: 4, ready: 4, pods: 4 }];
    assert.deepEqual(rolloutStep({ ...base, desired: 4, current: { replicas: 0, ready: 0 }, old }), {
      current: 1,
      old: [3],
    });
    const recreate = { ...base, strategy: 'Recreate' as const, desired: 4, current: { replicas: 0, ready: 0 } };
    assert.deepEqual(rolloutStep({ ...recreate, old }), { current: 0, old: [0] });
    assert.deepEqual(rolloutStep({ ...recreate, old: [{ replicas: 0, ready: 0, pods: 0 }] }), { current: 4, old: [0] });
  });
});

interface Pod {
  metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

const deployment = (version: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'probe', namespace: 'default' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'probe' } },
    template: {
      metadata: { labels: { app: 'probe' }, annotations: { version } },
      spec: { containers: [{ name: 'main', image: 'lab/noop' }] },
    },
  },
});

for (const target of kubeTargets()) {
  describe(`Deployments on the stand (${target.name})`, { skip: target.skip }, () => {
    let kube: StandKube | undefined;
    let nodes: Nodes | undefined;
    let root: string;
    let kc: KubeConfig;
    before(async () => {
      kube = await startKube(target.name);
      kc = new KubeConfig();
      kc.loadFromString(kube.kubeconfig);
      root = mkdtempSync(join(tmpdir(), 'deployments-'));
      nodes = await startNodes({ kubeconfig: kube.kubeconfig, root, nodes: 2, kube: kube.kind, runContainers: false });
      if (target.name === 'real') {
        for (let i = 0; i < 300; i++) {
          const sa = await request(kc, 'GET', '/api/v1/namespaces/default/serviceaccounts/default').catch(() => null);
          if (sa !== null) break;
          await sleep(100);
        }
      }
    });
    after(async () => {
      await nodes?.stop();
      await kube?.close();
      rmSync(root, { recursive: true, force: true });
    });

    const pods = async (): Promise<Pod[]> =>
      (await request<{ items: Pod[] }>(kc, 'GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dprobe')).items;
    const ready = (p: Pod): boolean =>
      p.metadata.deletionTimestamp === undefined &&
      (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

    /** Polls until `done` holds for the pods; returns the fewest Ready pods seen meanwhile. */
    async function watchUntil(done: (ps: Pod[]) => boolean, limitMs = 90_000): Promise<number> {
      const deadline = Date.now() + limitMs;
      let fewest = Infinity;
      for (;;) {
        const ps = await pods();
        fewest = Math.min(fewest, ps.filter(ready).length);
        if (done(ps)) return fewest;
        if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(ps.map((p) => p.metadata))}`);
        await sleep(50);
      }
    }

    it('runs the pods on the stand nodes, then rolls them surge-first on a template change', async () => {
      await request(kc, 'POST', '/apis/apps/v1/namespaces/default/deployments', { body: deployment('1') });
      await watchUntil((ps) => ps.filter(ready).length === 2 && ps.length === 2);
      const first = await pods();
      assert.ok(first.every((p) => p.spec.nodeName?.startsWith('node-') === true));
      assert.ok(first.every((p) => p.metadata.labels?.['pod-template-hash'] !== undefined));
      const oldNames = new Set(first.map((p) => p.metadata.name));
      await request(kc, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/probe', {
        body: { spec: { template: { metadata: { annotations: { version: '2' } } } } },
        contentType: 'application/merge-patch+json',
      });
      const fewest = await watchUntil(
        (ps) => ps.length === 2 && ps.every((p) => ready(p) && !oldNames.has(p.metadata.name)),
      );
      assert.equal(fewest, 2, 'never fewer Ready pods than replicas during the rollout');
      const deadline = Date.now() + 30_000;
      for (;;) {
        const d = await request<{ metadata: { generation: number }; status?: Record<string, number> }>(
          kc,
          'GET',
          '/apis/apps/v1/namespaces/default/deployments/probe',
        );
        const s = d.status ?? {};
        if (s.observedGeneration === d.metadata.generation && s.updatedReplicas === 2 && s.readyReplicas === 2) break;
        assert.ok(Date.now() < deadline, `deployment status ${JSON.stringify(s)}`);
        await sleep(50);
      }
      const rs = await request<{ items: { spec: { replicas: number } }[] }>(
        kc,
        'GET',
        '/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dprobe',
      );
      assert.deepEqual(rs.items.map((r) => r.spec.replicas).sort(), [0, 2], 'the old ReplicaSet scaled to 0');
    });
  });
}
