/**
 * The stand scenarios `aggregator-roll*` (lab/scenarios/aggregator-roll.ts), on the small stand (./scenario.ts):
 * agents ship through `vector` sinks to a 2-replica aggregator that the operator rolls after a VectorAggregator spec
 * change. The lines lost and duplicated are exactly what the stopped aggregators' shutdown records predict
 * (vector-source.ts): lost = events of batches they answered and never delivered, duplicated = deliveries of batches
 * they never answered. With a healthy downstream that is nothing; with a downstream stuck past the 30 s grace and no
 * acknowledgements, the old pods' buffers; with acknowledgements, nothing again. On the stand-in, and the stuck case
 * on the real control plane too (kube-controller-manager's Deployment controller and kube-scheduler).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario, type ScenarioResult } from '../../../lab/scenarios/catalog.ts';
import { kubeTargets } from '../../helpers/kube-target.ts';
import { settledWithWatches, size } from './scenario.ts';

/** The roll happened through the operator, and the figures are the model's prediction. */
function asPredicted(r: ScenarioResult): void {
  settledWithWatches(r);
  const a = r.aggregator;
  assert.ok(a !== undefined);
  assert.equal(a.settled, true, `${r.name}: the aggregator rolled out`);
  assert.equal(a.podsReplaced, 2, `${r.name}: both aggregator pods replaced`);
  assert.ok(a.roundsDuringRoll > 0, `${r.name}: the agents shipped while it rolled`);
  const sd = r.shutdowns;
  assert.equal(sd.aggregators, 2, `${r.name}: the two old aggregator pods stopped`);
  assert.equal(sd.agents, 0, `${r.name}: no agent stopped`);
  assert.equal(r.pipelines.length, size.pipelines, 'one pipeline per namespace');
  for (const p of r.pipelines) assert.ok(p.written > 0);
  assert.equal(r.totals.lost, sd.lostEvents, `${r.name}: lost = answered and never delivered`);
  assert.equal(r.totals.duplicated, sd.resentDelivered, `${r.name}: duplicated = delivered, then sent again`);
}

describe('the aggregator scenarios (small stand, stand-in)', () => {
  it('a healthy downstream: the old pods drain, nothing lost or repeated', async () => {
    const r = await runScenario('aggregator-roll', size);
    asPredicted(r);
    assert.equal(r.shutdowns.drained, 2);
    assert.deepEqual([r.totals.lost, r.totals.duplicated], [0, 0]);
  });

  it("a downstream stuck past the grace, no acknowledgements: each old pod's buffer is lost", async () => {
    const r = await runScenario('aggregator-roll-stuck-sink', size);
    asPredicted(r);
    assert.equal(r.shutdowns.killed, 2, 'killed at the 30 s grace');
    assert.ok(r.totals.lost > 0, 'answered, buffered, lost');
  });

  it('the same with acknowledgements: every unanswered batch is sent again, nothing lost', async () => {
    const r = await runScenario('aggregator-roll-stuck-sink-acks', size);
    asPredicted(r);
    assert.equal(r.shutdowns.killed, 2);
    assert.ok(r.shutdowns.unansweredBatches > 0, 'batches waiting for their acknowledgement at the kill');
    assert.equal(r.totals.lost, 0);
  });
});

const real = kubeTargets().find((t) => t.name === 'real');
describe('the aggregator scenario on the real control plane', { skip: real?.skip ?? 'no real lane' }, () => {
  it("a downstream stuck past the grace, no acknowledgements: each old pod's buffer is lost", async () => {
    const r = await runScenario('aggregator-roll-stuck-sink', { ...size, kube: 'real' });
    asPredicted(r);
    assert.equal(r.server.kube, 'real');
    assert.equal(r.shutdowns.killed, 2);
    assert.ok(r.totals.lost > 0);
  });
});
