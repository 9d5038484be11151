/** The stand scenario `deleted-pod-backlog`, on the small stand (./scenario.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../lab/scenarios/catalog.ts';
import { noLossNoDuplicate, settledWithWatches, size } from './scenario.ts';

describe('the stand scenarios (small stand)', () => {
  it('a pod deleted with a backlog, optimized: its lines drained without pod metadata still reach both pipelines', async () => {
    const r = await runScenario('deleted-pod-backlog', size);
    settledWithWatches(r);
    const detail = JSON.stringify({ backlog: r.backlog, pipelines: r.pipelines });
    assert.ok(r.backlog.lines > 0, detail);
    // Both pipelines of the namespace (logs and audit) get every backlog line once, through the fallback route.
    assert.equal(r.backlog.pipelines.length, 2, detail);
    for (const b of r.backlog.pipelines)
      assert.deepEqual({ lost: b.lost, redelivered: b.redelivered }, { lost: 0, redelivered: 0 }, detail);
    noLossNoDuplicate(r);
  });
});
