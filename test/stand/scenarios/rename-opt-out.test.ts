/** The stand scenario `rename-opt-out`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { noLossNoDuplicate, settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('an opt-out toggled and restored with migration: one roll out, a live reload back, 0 duplicates, 0 lost', async () => {
    const r = await runScenario('rename-opt-out', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    const [, out, back] = r.phases;
    assert.deepEqual([out?.sources, back?.sources], [2, 1]);
    assert.equal(out?.agentRestarts, size.nodes, 'opting out renames: the agents roll');
    assert.equal(back?.agentRestarts, 0, 'opting back in moves onto a source that already read the namespace');
  });
});
