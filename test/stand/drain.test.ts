/**
 * A drain does not end on quiet time while an agent is not Ready: a simulator that is still listing has delivered
 * nothing yet, and nothing it will deliver has arrived.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { drain } from '../../lab/scenarios/steps.ts';
import type { LabStand } from '../../lab/scenarios/stand.ts';
import type { Deliveries } from '../../lab/vector-sim/deliveries.ts';

/** One node, one pipeline with one line written; the agent turns Ready after `notReadyPolls` pod reads. */
function fakeStand(notReadyPolls: number, deliverWhenReady: boolean) {
  let polls = 0;
  const ready = (): boolean => polls > notReadyPolls;
  const stand = {
    nodes: {
      nodes: [{ name: 'node-0' }],
      deliveries: (): Deliveries =>
        new Map(deliverWhenReady && ready() ? [['sink-a', new Map([['ns-a/app/1', 1]])]] : []),
    },
    pipelines: [{ ns: 'ns-a', name: 'logs', sink: 'sink-a' }],
    workload: { written: () => ['ns-a/app/1'] },
    get: (path: string) => {
      assert.equal(path, '/api/v1/namespaces/vector/pods?labelSelector=app.kubernetes.io%2Fcomponent%3DAgent');
      polls++;
      const status = ready() ? 'True' : 'False';
      return Promise.resolve({ items: [{ status: { conditions: [{ type: 'Ready', status }] } }] });
    },
  };
  return { stand: stand as unknown as LabStand, polls: () => polls };
}

describe('drain', () => {
  it('counts no quiet time while an agent is not Ready, then gets every line', async () => {
    const f = fakeStand(8, true);
    assert.equal(await drain(f.stand, 2_000), true);
    assert.ok(f.polls() > 8, `returned after ${String(f.polls())} polls, before the agent was Ready`);
  });

  it('ends on quiet time once the agents are Ready, reporting the lines still missing', async () => {
    const f = fakeStand(5, false);
    assert.equal(await drain(f.stand, 1_000), false);
    assert.ok(f.polls() > 5);
  });
});
