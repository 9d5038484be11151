/** The stand scenarios `lagging-min`, `lagging-max`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, type ScenarioResult } from '../../../lab/scenarios/catalog.ts';
import { settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
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
