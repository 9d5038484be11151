/** The stand scenario `rename-group-1-to-2-no-migration`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('a group going 1 -> 2 without migration: a live reload, and the two renamed namespaces re-read', async () => {
    const r = await runScenario('rename-group-1-to-2-no-migration', size);
    settledWithWatches(r);
    assert.equal(r.totals.lost, 0);
    assert.equal(r.phases[1]?.agentRestarts, 0, 'no roll: the rename reached the agents by live reload');
    const dup = new Map(r.pipelines.map((p) => [`${p.ns}/${p.pipeline}`, p.duplicated]));
    assert.ok((dup.get('ns-0001/solo') ?? 0) > 0, 'the solo pipeline re-read its namespace');
    assert.ok((dup.get('ns-0002/logs') ?? 0) > 0, 'the pipeline that changed group re-read its namespace');
    assert.equal(dup.get('ns-0003/logs'), 0, 'a pipeline that kept its source did not');
  });
});
