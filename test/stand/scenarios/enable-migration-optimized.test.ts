/** The stand scenario `enable-migration-optimized`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { noLossNoDuplicate, settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('enabling migration while optimized: 0 duplicates, 0 lost', async () => {
    const r = await runScenario('enable-migration-optimized', size);
    settledWithWatches(r);
    noLossNoDuplicate(r);
  });
});
