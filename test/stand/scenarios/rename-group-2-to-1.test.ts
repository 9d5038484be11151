/** The stand scenario `rename-group-2-to-1`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { noLossNoDuplicate, settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('a group going 2 -> 1 with migration: the agents roll once, 0 duplicates, 0 lost', async () => {
    const r = await runScenario('rename-group-2-to-1', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    assert.ok(r.retainedAtSwitch > 0);
    const change = r.phases[1];
    assert.equal(change?.agentRestarts, size.nodes, 'the rename rolled every agent');
    const m = change.migrationStatus;
    assert.ok(m !== undefined, 'the Vector status shows the migration');
    assert.equal(m.nodesMigrated, size.nodes);
  });
});
