/**
 * The stand's nodes on the real control plane: kubelets register Ready Nodes and hold their Leases, so the node
 * lifecycle controller lifts the `not-ready` taint; the real DaemonSet controller and scheduler place a pod on each
 * node; the kubelet runs it (init container first) and reports a status kube-apiserver validates; a deleted pod is
 * stopped and then deleted with grace 0, and the DaemonSet controller replaces it. Also the cheap node (no
 * containers run) that a benchmark with many nodes would use.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../../lab/kube-real/control-plane.ts';
import { startNodes, type Nodes } from '../../lab/nodes/cluster.ts';
import { podCidr } from '../../lab/nodes/node-object.ts';
import { standControllers } from '../../lab/scenarios/kube.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { request } from '../../src/kube/client.ts';
import { realLaneSkip } from '../helpers/kube-target.ts';
import { eventually } from '../helpers/eventually.ts';

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string; volumes?: { name: string; projected?: unknown }[] };
  status: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    startTime?: string;
    conditions?: { type: string; status: string }[];
    initContainerStatuses?: { name: string; state?: { terminated?: { exitCode: number; reason: string } } }[];
    containerStatuses?: { name: string; ready: boolean }[];
  };
}

const daemonSet = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'probe', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'probe' } },
    template: {
      metadata: { labels: { app: 'probe' } },
      spec: {
        terminationGracePeriodSeconds: 30,
        initContainers: [{ name: 'init', image: 'lab/noop' }],
        containers: [{ name: 'main', image: 'lab/noop' }],
      },
    },
  },
};

for (const runContainers of [true, false]) {
  describe(
    `stand nodes on the real control plane (runContainers: ${String(runContainers)})`,
    { skip: realLaneSkip() },
    () => {
      let plane: ControlPlane | undefined;
      let nodes: Nodes | undefined;
      let kc: KubeConfig;
      let root: string;
      before(async () => {
        plane = await startControlPlane({
          serviceAccountAdmission: true,
          controllers: standControllers,
          scheduler: true,
        });
        kc = new KubeConfig();
        kc.loadFromString(plane.kubeconfig);
        root = mkdtempSync(join(tmpdir(), 'nodes-real-'));
        nodes = await startNodes({ kubeconfig: plane.kubeconfig, root, nodes: 2, kube: 'real', runContainers });
      });
      after(async () => {
        await nodes?.stop();
        await plane?.stop();
        rmSync(root, { recursive: true, force: true });
      });

      it('registers Ready, untainted nodes that hold their Leases', async () => {
        const list = await request<{
          items: {
            metadata: { name: string };
            spec: { taints?: unknown[] };
            status: { conditions: { type: string; status: string }[] };
          }[];
        }>(kc, 'GET', '/api/v1/nodes');
        assert.deepEqual(list.items.map((n) => n.metadata.name).sort(), ['node-0', 'node-1']);
        for (const n of list.items) {
          assert.equal(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
          assert.deepEqual(n.spec.taints ?? [], [], `${n.metadata.name}: the lifecycle controller lifted not-ready`);
        }
        const lease = await request<{ spec: { holderIdentity: string; renewTime: string } }>(
          kc,
          'GET',
          '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-0',
        );
        assert.equal(lease.spec.holderIdentity, 'node-0');
        assert.ok(Date.now() - Date.parse(lease.spec.renewTime) < 60_000);
      });

      it('runs the DaemonSet pod the real controllers place on each node, and reports its status as a kubelet', async () => {
        await request(kc, 'POST', '/apis/apps/v1/namespaces/default/daemonsets', { body: daemonSet });
        const pods = await eventually(
          'a Ready pod on each node',
          async () => {
            const l = await request<{ items: Pod[] }>(
              kc,
              'GET',
              '/api/v1/namespaces/default/pods?labelSelector=app%3Dprobe',
            );
            const ready = l.items.filter((p) =>
              p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
            );
            return ready.length === 2 ? ready : undefined;
          },
          { limitMs: 90_000, everyMs: 200 },
        );
        assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), ['node-0', 'node-1'], 'bound by the scheduler');
        for (const p of pods) {
          const index = Number(p.spec.nodeName?.slice('node-'.length));
          assert.equal(p.status.phase, 'Running');
          assert.ok(
            p.status.podIP?.startsWith(podCidr(index).replace(/0\/24$/, '')),
            `${p.status.podIP} in the node's range`,
          );
          assert.ok(p.status.hostIP?.startsWith('172.16.'));
          assert.ok(p.status.startTime !== undefined);
          assert.deepEqual(
            p.status.initContainerStatuses?.map((c) => c.state?.terminated),
            [
              {
                exitCode: 0,
                reason: 'Completed',
                startedAt:
                  p.status.initContainerStatuses?.[0]?.state?.terminated &&
                  (p.status.initContainerStatuses[0].state.terminated as { startedAt?: string }).startedAt,
                finishedAt: (
                  p.status.initContainerStatuses?.[0]?.state?.terminated as { finishedAt?: string } | undefined
                )?.finishedAt,
              },
            ],
          );
          assert.ok(
            p.spec.volumes?.some((v) => v.projected !== undefined),
            'ServiceAccount admission added the token volume',
          );
        }
        const ds = await request<{ status: { numberReady: number; desiredNumberScheduled: number } }>(
          kc,
          'GET',
          '/apis/apps/v1/namespaces/default/daemonsets/probe',
        );
        assert.equal(ds.status.desiredNumberScheduled, 2);
        const old = pods.find((p) => p.spec.nodeName === 'node-0') as Pod;
        await request(kc, 'DELETE', `/api/v1/namespaces/default/pods/${old.metadata.name}`);
        const replacement = await eventually(
          'the deleted pod gone and replaced',
          async () => {
            const l = await request<{ items: Pod[] }>(
              kc,
              'GET',
              '/api/v1/namespaces/default/pods?labelSelector=app%3Dprobe',
            );
            if (l.items.some((p) => p.metadata.uid === old.metadata.uid)) return undefined;
            return l.items.find(
              (p) =>
                p.spec.nodeName === 'node-0' &&
                p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
            );
          },
          { limitMs: 90_000, everyMs: 200 },
        );
        assert.notEqual(replacement.metadata.uid, old.metadata.uid);
      });
    },
  );
}
