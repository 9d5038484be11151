/** The stand scenarios `lagging-min`, `lagging-max`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, type ScenarioResult } from '../../../lab/scenarios/catalog.ts';
import { defaultTiming } from '../../../lab/vector-sim/sim.ts';
import { settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('a lagging pipeline at the switch: min re-reads what the laggard had not read, but its buffered lines are lost; max skips the backlog', async () => {
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
    const detail = (r: ScenarioResult): string =>
      JSON.stringify({ backlog: r.backlog, shutdowns: r.shutdowns, pipelines: r.pipelines });
    // Three rounds while stuck: past a rotation, so part of the backlog is in files the laggard had not started.
    assert.ok(min.backlog.lines > 0 && min.backlog.lines === max.backlog.lines);
    // min: the laggard's source had mapped (checkpointed) a sink buffer's worth and a held event ahead of delivery.
    // The sink stays stuck through the switch, so Vector's 60 s drain limit ends each old agent (the grace is 70 s)
    // and those lines are lost: Vector's own loss, which no position policy can see. The rest of the backlog is
    // read again from the laggard's position, so the neighbour, which had read it all, gets it a second time.
    const buffered = min.shutdowns.lostEvents;
    assert.ok(buffered > 0 && buffered <= (defaultTiming.sinkBufferEvents + 1) * size.nodes, detail(min));
    assert.ok(min.shutdowns.drainLimit >= 1 && min.shutdowns.killed === 0, detail(min));
    assert.equal(min.totals.lost, buffered, detail(min));
    assert.deepEqual(backlogOf(min, lagging), { lost: buffered, redelivered: 0 }, detail(min));
    assert.deepEqual(backlogOf(min, neighbour), { lost: 0, redelivered: min.backlog.lines - buffered }, detail(min));
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
