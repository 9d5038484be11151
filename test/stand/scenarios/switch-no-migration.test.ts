/** The stand scenario `switch-no-migration`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { settledWithWatches, size, pipelines } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('legacy -> optimized without migration: the retained lines come again, nothing is lost; watches 3 per source, then 3 per group', async () => {
    const r = await runScenario('switch-no-migration', size);
    settledWithWatches(r);
    const [legacy, optimized] = r.phases;
    assert.equal(legacy?.sources, pipelines);
    assert.equal(legacy.agentWatches, 3 * pipelines * size.nodes);
    assert.equal(optimized?.sources, 1, 'identical selectors: one group');
    assert.equal(optimized.agentWatches, 3 * size.nodes);
    assert.equal(r.totals.lost, 0);
    assert.ok(r.retainedAtSwitch > 0 && r.retainedAtSwitch < r.totals.written, 'rotation gzipped some lines');
    assert.equal(r.totals.duplicated, r.retainedAtSwitch, 'every retained line re-delivered once');
    assert.equal(optimized.agentRestarts, 0, 'the switch is a live reload');
  });
});
