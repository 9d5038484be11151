/** Leader election on a Lease in the API server stand-in: one leader, handover, takeover from a hung leader. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type Lab } from '../apiserver/helpers.ts';
import { ManualClock, type Clock } from '../../src/kube/clock.ts';
import { request } from '../../src/kube/client.ts';
import { LeaderElector } from '../../src/kube/lease.ts';
import { eventually } from '../helpers/eventually.ts';

interface Lease {
  spec?: { holderIdentity?: string; leaseTransitions?: number; renewTime?: string };
}

describe('leader election', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.server.close();
  });

  /** Short, real-time durations keep the suite fast; nothing asserts how long anything took. */
  function elector(name: string, identity: string, log: string[], clock?: Clock): LeaderElector {
    const e = new LeaderElector({
      kc: lab.kc,
      namespace: 'kube-system',
      name,
      identity,
      leaseDurationMs: 1_000,
      renewDeadlineMs: 600,
      retryPeriodMs: 50,
      clock,
    });
    e.run({
      onStartedLeading: () => log.push(`${identity} leads`),
      onStoppedLeading: () => log.push(`${identity} stopped leading`),
    });
    return e;
  }

  const lease = (name: string): Promise<Lease> =>
    request<Lease>(lab.kc, 'GET', `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`);

  it('elects exactly one of two candidates, and hands over at once when the leader stops', async () => {
    const log: string[] = [];
    const a = elector('handover', 'a', log);
    const b = elector('handover', 'b', log);
    await eventually('a leader', () => a.isLeader() || b.isLeader());
    const [leader, follower, leaderId, followerId] = a.isLeader() ? [a, b, 'a', 'b'] : [b, a, 'b', 'a'];
    // Several renewal rounds go by: the follower never takes over a lease that is being renewed.
    const renewedAt = (await lease('handover')).spec?.renewTime;
    await eventually(
      'renewals',
      () => log.length > 1 || lab.server.hooks.count('update', 'leases.coordination.k8s.io') >= 5,
    );
    assert.notEqual((await lease('handover')).spec?.renewTime, renewedAt, 'the leader renews');
    assert.deepEqual(log, [`${leaderId} leads`]);
    assert.equal(follower.isLeader(), false);
    assert.equal((await lease('handover')).spec?.holderIdentity, leaderId);

    await leader.stop();
    assert.equal(leader.isLeader(), false);
    // Released, so the follower needs no lease expiry: it takes over on its next retry.
    await eventually('failover', () => follower.isLeader());
    assert.deepEqual(log, [`${leaderId} leads`, `${followerId} leads`]);
    const { spec } = await lease('handover');
    assert.deepEqual([spec?.holderIdentity, spec?.leaseTransitions], [followerId, 1]);
    await follower.stop();
  });

  it('lets a candidate take over from a leader that stopped renewing, which steps down when it wakes', async () => {
    const log: string[] = [];
    // The first leader's clock stands still: its renewal timer never fires, like a process hung in a long GC pause.
    const frozen = new ManualClock();
    const hung = elector('takeover', 'hung', log, frozen);
    await eventually('the first leader', () => hung.isLeader());
    const healthy = elector('takeover', 'healthy', log);
    await eventually('the takeover after the lease expired', () => healthy.isLeader());
    assert.equal((await lease('takeover')).spec?.holderIdentity, 'healthy');
    assert.deepEqual(log, ['hung leads', 'healthy leads']);

    // The hung process wakes up: its next renewal finds another holder, and it steps down instead of writing.
    frozen.advance(50);
    await eventually('the old leader steps down', () => !hung.isLeader());
    assert.deepEqual(log, ['hung leads', 'healthy leads', 'hung stopped leading']);
    assert.equal((await lease('takeover')).spec?.holderIdentity, 'healthy');
    await hung.stop();
    await healthy.stop();
  });

  it('steps down by its renew deadline when the API server keeps failing its renewals', async () => {
    const log: string[] = [];
    const e = elector('outage', 'alone', log);
    await eventually('leading', () => e.isLeader());
    lab.server.inject({ verb: 'get', resource: 'leases.coordination.k8s.io', name: 'outage', code: 500, times: 1e6 });
    await eventually('stepping down', () => !e.isLeader());
    assert.deepEqual(log, ['alone leads', 'alone stopped leading']);
    await e.stop();
  });

  it('refuses settings where the renew deadline is not shorter than the lease', () => {
    assert.throws(
      () =>
        new LeaderElector({
          kc: lab.kc,
          namespace: 'kube-system',
          name: 'x',
          identity: 'x',
          leaseDurationMs: 1000,
          renewDeadlineMs: 1000,
        }),
      /renewDeadlineMs must be shorter/,
    );
  });
});
