/** The stand scenario `rollback-migration`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { noLossNoDuplicate, settledWithWatches, size, pipelines } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('rollback to legacy with migration: 0 duplicates, 0 lost', async () => {
    const r = await runScenario('rollback-migration', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    const back = r.phases[1];
    assert.ok(back !== undefined);
    assert.equal(back.sources, pipelines);
    assert.equal(back.migrationStatus?.nodesMigrated, size.nodes);
  });
});
