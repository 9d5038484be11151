/** The stand scenario `switch-migration-log-namespace`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { noLossNoDuplicate, settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('legacy -> optimized with migration, sources with log_namespace: the group routes on metadata, 0 duplicates, 0 lost', async () => {
    const r = await runScenario('switch-migration-log-namespace', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
    assert.equal(r.phases[1]?.sources, 1, 'collapsed into one group');
    assert.ok(r.retainedAtSwitch > 0);
  });
});
