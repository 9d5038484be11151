/** The stand scenario `restart-flags-on`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { restartChangesNothing, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('restart-flags-on: an operator restart and an upgrade restart no agent and change no figure', async () => {
    restartChangesNothing(await runScenario('restart-flags-on', size));
  });
});
