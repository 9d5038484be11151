/** `plan`: what turning optimization on (or back off) does to one agent. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planOptimization } from '../../src/pipelines/plan.ts';
import { logsToSink, namespaces, optOutAnnotations, vector, vp } from '../helpers/fixtures.ts';

describe('optimization plan', () => {
  it('counts 3 watches per kubernetes_logs source before and after', () => {
    const plan = planOptimization(
      vector(),
      namespaces(40).map((ns) => logsToSink(ns)),
    );
    assert.deepEqual(plan.watches, { legacy: 120, optimized: 3 });
    assert.deepEqual(plan.problems, { legacy: [], optimized: [] });
  });

  it("shows each namespace's route chain: its md5 bucket, then its namespace condition", () => {
    const plan = planOptimization(
      vector(),
      namespaces(40).map((ns) => logsToSink(ns)),
    );
    const group = plan.groups[0];
    assert.ok(group);
    assert.equal(group.routing, 'two-level');
    assert.equal(group.routes.length, 40);
    const first = group.routes[0];
    assert.equal(first?.namespace, 'ns-00');
    assert.match(first.conditions[0] ?? '', /^%bucket == \d+$/);
    assert.equal(first.conditions[1], '.kubernetes.pod_namespace == "ns-00"');
    const buckets = new Set(group.routes.map((r) => r.conditions[0]));
    assert.ok(group.conditionsPerEvent > buckets.size && group.conditionsPerEvent < 40);
  });

  it('seeds the new shared source from the retiring per-namespace sources, and the reverse on rollback', () => {
    const optedOut = vp('c', 'logs', logsToSink('c').spec, { annotations: optOutAnnotations });
    const plan = planOptimization(vector(), [logsToSink('a'), logsToSink('b'), optedOut]);
    assert.deepEqual(plan.enable, { targets: ['optimizedSource-b8c6f0ff'], from: ['a-logs-pods', 'b-logs-pods'] });
    assert.deepEqual(plan.rollback, { targets: ['a-logs-pods', 'b-logs-pods'], from: ['optimizedSource-b8c6f0ff'] });
    assert.deepEqual(plan.unchanged, ['c-logs-pods']);
  });

  it('plans nothing for a Vector that opts out', () => {
    const plan = planOptimization(vector({}, { annotations: optOutAnnotations }), [logsToSink('a'), logsToSink('b')]);
    assert.equal(plan.optOut, true);
    assert.deepEqual(plan.groups, []);
    assert.deepEqual(plan.enable, { targets: [], from: [] });
    assert.deepEqual(plan.watches, { legacy: 6, optimized: 6 });
  });
});
