import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  leaseObject,
  maxNodes,
  microTime,
  nodeIP,
  nodeObject,
  podCidr,
  podIP,
  rfc3339,
} from '../../lab/nodes/node-object.ts';
import { ConditionClock, podStatus, type PodState } from '../../lab/nodes/pod-status.ts';

describe('a simulated node as the API server sees it', () => {
  it('gives every node its own address and pod range, outside the service range, up to the last index', () => {
    assert.equal(nodeIP(0), '172.16.0.1');
    assert.equal(nodeIP(255), '172.16.1.0');
    assert.equal(nodeIP(maxNodes - 1), '172.16.128.0');
    assert.equal(podCidr(0), '10.128.0.0/24');
    assert.equal(podCidr(300), '10.129.44.0/24');
    assert.equal(podIP(300, 0), '10.129.44.2');
    assert.equal(podIP(300, 253), '10.129.44.2', 'round robin over .2 to .254');
    const ips = new Set(Array.from({ length: 2000 }, (_, i) => nodeIP(i)));
    assert.equal(ips.size, 2000);
    assert.throws(() => nodeIP(maxNodes), /outside 0\.\.32767/);
    assert.throws(() => podCidr(-1), /outside/);
  });

  it('registers Ready with capacity, addresses and node info, and a Lease owned by the Node with a MicroTime', () => {
    const now = new Date('2026-12-07T06:30:01.234Z');
    const node = nodeObject('node-1', 1, now);
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'node-1');
    assert.equal(node.spec.podCIDR, '10.128.1.0/24');
    const ready = node.status.conditions.find((c) => c.type === 'Ready');
    assert.deepEqual(
      { status: ready?.status, heartbeat: ready?.lastHeartbeatTime },
      { status: 'True', heartbeat: '2026-12-07T06:30:01Z' },
    );
    assert.ok(node.status.conditions.filter((c) => c.type !== 'Ready').every((c) => c.status === 'False'));
    assert.deepEqual(node.status.addresses, [
      { type: 'InternalIP', address: '172.16.0.2' },
      { type: 'Hostname', address: 'node-1' },
    ]);
    assert.equal(node.status.allocatable.pods, node.status.capacity.pods);
    const lease = leaseObject('node-1', 'uid-1', now);
    assert.equal(lease.metadata.namespace, 'kube-node-lease');
    assert.deepEqual(lease.metadata.ownerReferences, [
      { apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'uid-1' },
    ]);
    assert.equal(lease.spec.renewTime, '2026-12-07T06:30:01.234000Z');
    assert.equal(lease.spec.leaseDurationSeconds, 40);
    assert.equal(microTime(new Date('2026-12-07T00:00:00Z')), '2026-12-07T00:00:00.000000Z');
    assert.equal(rfc3339(new Date('2026-12-07T00:00:00.999Z')), '2026-12-07T00:00:00Z');
  });
});

describe('a pod status as the kubelet reports it', () => {
  const base = (): PodState => ({
    phase: 'Pending',
    init: [{ name: 'checkpoint-merger', image: 'm', imageID: '', ready: false, restartCount: 0, state: {} }],
    main: [{ name: 'vector', image: 'v', imageID: '', ready: false, restartCount: 0, state: {} }],
    hostIP: '172.16.0.1',
    podIP: '10.128.0.2',
    startTime: '2026-12-07T06:30:00Z',
  });
  const cond = (s: ReturnType<typeof podStatus>, type: string) => s.conditions.find((c) => c.type === type);

  it('is Initialized once the init container exits 0 and Ready once every container is; times move on change only', () => {
    const clock = new ConditionClock();
    const s = base();
    const t0 = new Date('2026-12-07T06:30:00Z');
    const pending = podStatus(s, clock, t0);
    assert.equal(cond(pending, 'Initialized')?.status, 'False');
    assert.equal(cond(pending, 'Ready')?.status, 'False');
    assert.deepEqual(pending.podIPs, [{ ip: '10.128.0.2' }]);
    assert.deepEqual(pending.hostIPs, [{ ip: '172.16.0.1' }]);
    (s.init[0] as { state: object }).state = { terminated: { exitCode: 0, reason: 'Completed' } };
    s.phase = 'Running';
    (s.main[0] as { ready: boolean }).ready = true;
    const t1 = new Date('2026-12-07T06:30:05Z');
    const running = podStatus(s, clock, t1);
    assert.equal(running.phase, 'Running');
    assert.equal(cond(running, 'Initialized')?.lastTransitionTime, '2026-12-07T06:30:05Z');
    assert.equal(cond(running, 'Ready')?.status, 'True');
    assert.equal(cond(running, 'PodScheduled')?.lastTransitionTime, '2026-12-07T06:30:00Z', 'unchanged, kept');
    s.phase = 'Succeeded';
    const done = podStatus(s, clock, new Date('2026-12-07T06:31:00Z'));
    assert.equal(cond(done, 'Ready')?.status, 'False', 'nothing is Ready in a terminal phase');
    assert.equal(cond(done, 'PodReadyToStartContainers')?.status, 'False');
  });
});
