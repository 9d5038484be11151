/** The stand scenario `switch-migration`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { noLossNoDuplicate, settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
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
});
