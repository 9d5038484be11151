/**
 * The acceptance on a small stand, through the real operator (flag changes are restarts), the real merger CLI
 * and the Vector simulators: with migration 0 duplicates and 0 lost on the switch and the rollback; without it, the
 * retained lines re-delivered; 3 watches per kubernetes_logs source before, 3 per group after; policy min loses
 * nothing for a lagging pipeline while max skips its backlog; operator restarts and upgrades restart no agent.
 *
 * Every figure asserted here is measured by the scenario (ledger vs delivery records, the stand-in's watch counter,
 * pod statuses); needs `npm run build` (the merger and the operator run compiled), which `npm test` does first.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, type ScenarioResult } from '../../lab/scenarios/catalog.ts';
import type { StandSize } from '../../lab/scenarios/stand.ts';

const size: StandSize = { pipelines: 4, nodes: 2, podsPerNamespace: 2, seed: 5, maxFileBytes: 4096, maxFiles: 4 };
// 4 namespaces: `logs` in each and `audit` in the first: 5 pipelines, one kubernetes_logs source each.
const pipelines = 5;

function noLossNoDuplicate(r: ScenarioResult): void {
  assert.equal(r.drained, true, `${r.name}: every line delivered`);
  for (const p of r.pipelines) {
    assert.equal(p.lost, 0, `${r.name}: ${p.ns}/${p.pipeline} lost lines`);
    assert.equal(p.duplicated, 0, `${r.name}: ${p.ns}/${p.pipeline} duplicated lines`);
    assert.ok(p.written > 0);
  }
}

function settledWithWatches(r: ScenarioResult): void {
  for (const ph of r.phases) {
    assert.equal(ph.settled, true, `${r.name}/${ph.label} settled`);
    assert.equal(ph.agentWatches, 3 * ph.sources * size.nodes, `${r.name}/${ph.label}: 3 watches per source per node`);
  }
}

describe('the stand scenarios (small stand)', () => {
  it('legacy -> optimized without migration: the retained lines come again, nothing is lost; watches 3 per source, then 3 per group', async () => {
    const r = await runScenario('switch-no-migration', size);
    settledWithWatches(r);
    const [legacy, optimized] = r.phases;
    assert.equal(legacy?.sources, pipelines);
    assert.equal(legacy.agentWatches, 3 * pipelines * size.nodes);
    assert.equal(optimized?.sources, 1, 'identical selectors: one group');
    assert.equal(optimized.agentWatches, 3 * size.nodes);
    assert.equal(r.totals.lost, 0);
    assert.ok(r.retainedAtSwitch > 0 && r.retainedAtSwitch < r.totals.written, 'rotation gzipped some lines');
    assert.equal(r.totals.duplicated, r.retainedAtSwitch, 'every retained line re-delivered once');
    assert.equal(optimized.agentRestarts, 0, 'the switch is a live reload');
  });

  it('legacy -> optimized with migration: 0 duplicates, 0 lost, every node migrated per the Vector status', async () => {
    const r = await runScenario('switch-migration', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    assert.ok(r.retainedAtSwitch > 0);
    const sw = r.phases[1];
    assert.ok(sw !== undefined);
    assert.equal(sw.sources, 1);
    assert.deepEqual(
      sw.mergers.map((m) => (typeof m.summary === 'object' ? m.summary.outcome : m.summary)),
      ['migrated', 'migrated'],
    );
    const m = sw.migrationStatus;
    assert.ok(m !== undefined, 'the Vector status shows the migration');
    assert.equal(m.nodesMigrated, size.nodes);
    assert.equal(m.nodesFailed, 0);
    assert.ok(Number(m.checkpointsCarried) > 0);
  });

  it('legacy -> optimized with migration, sources with log_namespace: the group routes on metadata, 0 duplicates, 0 lost', async () => {
    const r = await runScenario('switch-migration-log-namespace', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    assert.equal(r.phases[1]?.sources, 1, 'collapsed into one group');
    assert.ok(r.retainedAtSwitch > 0);
  });

  it('a pod deleted with a backlog, optimized: its lines drained without pod metadata still reach both pipelines', async () => {
    const r = await runScenario('deleted-pod-backlog', size);
    settledWithWatches(r);
    const detail = JSON.stringify({ backlog: r.backlog, pipelines: r.pipelines });
    assert.ok(r.backlog.lines > 0, detail);
    // Both pipelines of the namespace (logs and audit) get every backlog line once, through the fallback route.
    assert.equal(r.backlog.pipelines.length, 2, detail);
    for (const b of r.backlog.pipelines)
      assert.deepEqual({ lost: b.lost, redelivered: b.redelivered }, { lost: 0, redelivered: 0 }, detail);
    noLossNoDuplicate(r);
  });

  it('legacy -> optimized with migration on Docker nodes: the merger follows the symlinked logs, 0 duplicates, 0 lost', async () => {
    const r = await runScenario('switch-migration-docker', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    assert.ok(r.retainedAtSwitch > 0);
    const sw = r.phases[1];
    assert.ok(sw !== undefined);
    for (const m of sw.mergers) {
      assert.ok(typeof m.summary === 'object', JSON.stringify(m));
      assert.equal(m.summary.outcome, 'migrated');
      assert.ok(Number(m.summary.checkpointsCarried) > 0, JSON.stringify(m));
      assert.equal(m.summary.unscoped, 0, JSON.stringify(m));
    }
  });

  it('rollback to legacy with migration: 0 duplicates, 0 lost', async () => {
    const r = await runScenario('rollback-migration', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    const back = r.phases[1];
    assert.ok(back !== undefined);
    assert.equal(back.sources, pipelines);
    assert.equal(back.migrationStatus?.nodesMigrated, size.nodes);
  });

  for (const name of ['restart-flags-off', 'restart-flags-on']) {
    it(`${name}: an operator restart and an upgrade restart no agent and change no figure`, async () => {
      const r = await runScenario(name, size);
      settledWithWatches(r);
      noLossNoDuplicate(r);
      assert.equal(r.phases.length, 3);
      for (const ph of r.phases.slice(1)) assert.equal(ph.agentRestarts, 0, `${ph.label}: agent restarts`);
      assert.equal(r.phases[2]?.operator, 'process');
    });
  }

  it('enabling migration while optimized: 0 duplicates, 0 lost', async () => {
    const r = await runScenario('enable-migration-optimized', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
  });

  it('a lagging pipeline at the switch: policy min loses nothing (its neighbour re-reads), max skips the backlog', async () => {
    const min = await runScenario('lagging-min', size);
    const max = await runScenario('lagging-max', size);
    for (const r of [min, max]) settledWithWatches(r);
    const backlogOf = (r: ScenarioResult, pipeline: string): { lost: number; redelivered: number } => {
      const b = r.backlog.pipelines.find((x) => x.pipeline === pipeline);
      assert.ok(b !== undefined, `${r.name}: ${pipeline} reads the backlog's namespace`);
      return { lost: b.lost, redelivered: b.redelivered };
    };
    const lagging = min.lagging[0] ?? '';
    const neighbour = `${lagging.split('/')[0] ?? ''}/logs`;
    const detail = (r: ScenarioResult): string => JSON.stringify({ backlog: r.backlog, pipelines: r.pipelines });
    // Three rounds while stuck: past a rotation, so part of the backlog is in files the laggard had not started.
    assert.ok(min.backlog.lines > 0 && min.backlog.lines === max.backlog.lines);
    // min: nothing lost anywhere; the neighbour, which had read the backlog, reads all of it again.
    assert.equal(min.totals.lost, 0, detail(min));
    assert.deepEqual(backlogOf(min, lagging), { lost: 0, redelivered: 0 }, detail(min));
    assert.deepEqual(backlogOf(min, neighbour), { lost: 0, redelivered: min.backlog.lines }, detail(min));
    // max: the laggard loses exactly its backlog, and nothing else; the neighbour gets none of it again.
    assert.equal(max.totals.lost, max.backlog.lines, detail(max));
    assert.deepEqual(backlogOf(max, lagging), { lost: max.backlog.lines, redelivered: 0 }, detail(max));
    assert.deepEqual(backlogOf(max, neighbour), { lost: 0, redelivered: 0 }, detail(max));
    // Duplicates outside the backlog are not the policy's doing (every retiring position was already behind); one CI
    // run saw 40 under max, suspected to be Vector's own restart window (docs/stand.md). The lagging namespace only.
    for (const r of [min, max])
      for (const p of r.pipelines)
        if (p.duplicated > 0) assert.equal(`${p.ns}/logs`, neighbour, `${r.name}: ${p.ns}/${p.pipeline} duplicated`);
  });
});
