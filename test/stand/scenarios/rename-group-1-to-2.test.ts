/** The stand scenario `rename-group-1-to-2`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { noLossNoDuplicate, settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('a group going 1 -> 2 with migration: the agents roll once, the merger carries positions, 0 duplicates, 0 lost', async () => {
    const r = await runScenario('rename-group-1-to-2', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    assert.ok(r.retainedAtSwitch > 0);
    const [start, change] = r.phases;
    assert.deepEqual([start?.sources, change?.sources], [2, 2], 'big group + solo, then big group + new pair');
    assert.equal(change?.agentRestarts, size.nodes, 'the rename rolled every agent');
    const m = change.migrationStatus;
    assert.ok(m !== undefined, 'the Vector status shows the migration');
    assert.equal(m.nodesMigrated, size.nodes);
    assert.ok(Number(m.checkpointsCarried) > 0);
  });
});
