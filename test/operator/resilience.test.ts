/**
 * The operator keeps converging through what a real API server does to it: dropped watches, an expired
 * resourceVersion (410), a conflicting write (409), and a leader that goes away.
 */
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, hasSource, operator, secretPath, vectorObj, vectorPath, vpObj, vpPath } from './stand.ts';
import { standInOnly } from '../helpers/kube-target.ts';
import { standSuite } from './stand-suite.ts';

standSuite('operator: resilience', {}, (stand, target) => {
  before(async () => {
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector'));
  });

  const recovers = 'recovers from dropped watches and from a 410 Expired, and picks up what changed meanwhile';
  it(recovers, { skip: standInOnly(target, 'dropWatches() and compact()') }, async () => {
    const op = operator(stand());
    await op.start();
    try {
      await eventually('the agent Secret', async () => stand().get(secretPath('vector', 'logs-agent')));
      assert.ok(stand().server.dropWatches() > 0);
      await stand().create(vpPath('team-a'), vpObj('team-a', 'after-drop'));
      await eventually('a pipeline created after the drop', hasSource(stand(), 'team-a-after-drop-pods'));

      const watchesBefore = stand().server.hooks.count('list', 'vectorpipelines.observability.kaasops.io');
      // Compaction alone expires the watch only if the reflector's resourceVersion is older than the newest write; a
      // bookmark can have brought it up to date, and then the re-watch is valid (as on a real server). The
      // injected 410 makes the expiry certain, the way a real server answers a watch from a compacted revision.
      stand().server.compact();
      stand().server.inject({ verb: 'watch', resource: 'vectorpipelines.observability.kaasops.io', code: 410 });
      stand().server.dropWatches();
      await stand().create(vpPath('team-b'), vpObj('team-b', 'after-410'));
      await eventually('a pipeline created after the 410', hasSource(stand(), 'team-b-after-410-pods'));
      assert.ok(
        stand().server.hooks.count('list', 'vectorpipelines.observability.kaasops.io') > watchesBefore,
        'the 410 forced a relist',
      );
    } finally {
      await op.stop();
    }
  });

  it('retries a write that fails with 409 Conflict', { skip: standInOnly(target, 'inject()') }, async () => {
    const op = operator(stand());
    await op.start();
    try {
      await eventually('settled', hasSource(stand(), 'team-b-after-410-pods'));
      stand().server.hooks.resetCounts();
      stand().server.inject({ verb: 'patch', resource: 'secrets', name: 'logs-agent', code: 409, times: 2 });
      await stand().create(vpPath('team-a'), vpObj('team-a', 'after-409'));
      await eventually('the pipeline despite two conflicts', hasSource(stand(), 'team-a-after-409-pods'));
      assert.ok(stand().server.hooks.count('patch', 'secrets') >= 3, 'two refused writes, then one that landed');
      const errors = await op.metrics.registry.getSingleMetricAsString('vector_operator_reconcile_errors_total');
      assert.match(errors, /controller="vector"} [2-9]/);
    } finally {
      await op.stop();
    }
  });

  it('fails over between two operator processes holding one Lease', async () => {
    const election = (identity: string) => ({
      leaderElection: {
        namespace: 'vector',
        name: 'vector-operator-leader',
        identity,
        leaseDurationMs: 1500,
        renewDeadlineMs: 1000,
        retryPeriodMs: 100,
      },
    });
    const a = operator(stand(), election('a'));
    const b = operator(stand(), election('b'));
    await a.start();
    await eventually('a leads', () => a.isLeader());
    await b.start();
    try {
      await a.whenRunning();
      // b campaigns but cannot lead while a renews.
      await sleep(300);
      assert.equal(b.isLeader(), false);
      assert.equal(b.ready(), true, 'a standby replica is ready');
      await a.stop(); // releases the lease
      await eventually('b leads', () => b.isLeader());
      await b.whenRunning();
      await stand().create(vpPath('team-b'), vpObj('team-b', 'after-failover'));
      await eventually('b reconciles', hasSource(stand(), 'team-b-after-failover-pods'));
      const lease = await stand().get<{ spec?: { holderIdentity?: string } }>(
        '/apis/coordination.k8s.io/v1/namespaces/vector/leases/vector-operator-leader',
      );
      assert.equal(lease?.spec?.holderIdentity, 'b');
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
