/** The stand scenario `rename-chunk-boundary`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { noLossNoDuplicate, settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('a group crossing its chunk size with migration: every chunk renamed, the agents roll once, 0 duplicates, 0 lost', async () => {
    const r = await runScenario('rename-chunk-boundary', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    const [start, change] = r.phases;
    assert.deepEqual([start?.sources, change?.sources], [2, 2], 'one chunk + a single, then two chunks');
    assert.equal(change?.agentRestarts, size.nodes);
    const m = change.migrationStatus;
    assert.ok(m !== undefined, 'the Vector status shows the migration');
    assert.ok(Number(m.checkpointsCarried) > 0);
  });
});
