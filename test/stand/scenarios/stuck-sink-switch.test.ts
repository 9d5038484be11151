/**
 * The stand scenarios `stuck-sink-switch` and `stuck-sink-switch-short-grace`, on the small stand (./scenario.ts): a
 * sink stuck while the agents roll for the switch to optimized with migration, back 45 s (Vector time) after each
 * agent's SIGTERM. Vector checkpoints a line before it is buffered, so what the shutdown window does not deliver is
 * lost; the figures come from the delivery records and the agents' own shutdown records.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, type ScenarioResult } from '../../../lab/scenarios/catalog.ts';
import { defaultTiming } from '../../../lab/vector-sim/sim.ts';
import { settledWithWatches, size } from './scenario.ts';

const detail = (r: ScenarioResult): string =>
  JSON.stringify({ backlog: r.backlog, shutdowns: r.shutdowns, pipelines: r.pipelines });

/** Every pipeline but the stuck one: nothing lost, nothing repeated. */
function othersClean(r: ScenarioResult): void {
  for (const p of r.pipelines)
    if (`${p.ns}/${p.pipeline}` !== r.lagging[0])
      assert.deepEqual([p.lost, p.duplicated], [0, 0], `${r.name}: ${p.ns}/${p.pipeline} ${detail(r)}`);
}

describe('the stand scenarios (small stand)', () => {
  it('a sink stuck at the switch: a 30 s grace kills the drain and loses the buffered lines; 70 s delivers them', async () => {
    const short = await runScenario('stuck-sink-switch-short-grace', size);
    const fixed = await runScenario('stuck-sink-switch', size);
    for (const r of [short, fixed]) {
      settledWithWatches(r);
      othersClean(r);
      assert.ok(r.backlog.lines > 0);
      assert.equal(r.backlog.pipelines.length, 1, 'no other pipeline reads the stuck namespace');
      assert.equal(r.shutdowns.agents, size.nodes, `${r.name}: one old agent per node stopped at the switch`);
      assert.equal(r.shutdowns.drainLimit, 0, `${r.name}: the sink came back before Vector's 60 s`);
    }
    const backlog = (r: ScenarioResult): { lost: number; redelivered: number } => {
      const b = r.backlog.pipelines[0];
      return { lost: b?.lost ?? -1, redelivered: b?.redelivered ?? -1 };
    };
    const perNode = defaultTiming.sinkBufferEvents + 1;
    // The agents stopped at the switch are the old ones: migration was on before, so the template gave them 70 s.
    assert.deepEqual(short.shutdowns.graceSecs, [30], detail(short));
    assert.deepEqual(fixed.shutdowns.graceSecs, [70], detail(fixed));
    // 30 s: the kubelet kills the agent still waiting for its sink: what it had checkpointed and buffered is lost,
    // exactly what the agents' records counted; the file server never wrote again, so nothing repeats.
    assert.ok(short.shutdowns.killed >= 1, detail(short));
    assert.ok(short.shutdowns.lostEvents > 0 && short.shutdowns.lostEvents <= perNode * size.nodes, detail(short));
    assert.equal(short.totals.lost, short.shutdowns.lostEvents, detail(short));
    assert.deepEqual(backlog(short), { lost: short.shutdowns.lostEvents, redelivered: 0 }, detail(short));
    assert.equal(short.totals.duplicated, 0, detail(short));
    // 70 s: every drain outlasts the stall; nothing lost. The lines still in a channel when the file server wrote
    // its final checkpoints are delivered, then read again: Vector's own few duplicates.
    assert.equal(fixed.shutdowns.killed, 0, detail(fixed));
    assert.equal(fixed.shutdowns.lostEvents, 0, detail(fixed));
    assert.equal(fixed.totals.lost, 0, detail(fixed));
    assert.equal(backlog(fixed).lost, 0, detail(fixed));
    assert.equal(fixed.totals.duplicated, fixed.shutdowns.mappedAfterFinalWrite, detail(fixed));
    assert.ok(fixed.totals.duplicated <= defaultTiming.channelLines * size.nodes, detail(fixed));
  });
});
