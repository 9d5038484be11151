/** The stand scenario `switch-migration-docker`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { noLossNoDuplicate, settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('legacy -> optimized with migration on Docker nodes: the merger follows the symlinked logs, 0 duplicates, 0 lost', async () => {
    const r = await runScenario('switch-migration-docker', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    assert.ok(r.retainedAtSwitch > 0);
    const sw = r.phases[1];
    assert.ok(sw !== undefined);
    for (const m of sw.mergers) {
      assert.ok(typeof m.summary === 'object', JSON.stringify(m));
      assert.equal(m.summary.outcome, 'migrated');
      assert.ok(Number(m.summary.checkpointsCarried) > 0, JSON.stringify(m));
      assert.equal(m.summary.unscoped, 0, JSON.stringify(m));
    }
  });
});
