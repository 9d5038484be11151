/**
 * Each escape of issue #16, as the operator reports it on the pipeline: refused by default with a `Valid=False`
 * condition naming the component and the field; valid with the admin's setting; kept valid but flagged
 * `PolicyCompliant=False` in warn mode.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineStatus } from '../../src/operator/status.ts';
import { validatePipeline } from '../../src/operator/validate.ts';
import { defaultPolicy } from '../../src/pipelines/policy.ts';
import { escapes } from '../helpers/escapes.ts';
import { vp } from '../helpers/fixtures.ts';

const now = '2026-12-07T00:00:00Z';

describe('pipeline status under the tenant policy', () => {
  for (const e of escapes) {
    it(`shows ${e.name} as refused, allowed or tolerated, naming the field`, () => {
      const p = vp('team-a', 'escape', e.spec);
      const refused = pipelineStatus(validatePipeline(p), 1, undefined, now);
      const valid = refused.conditions?.find((c) => c.type === 'Valid');
      assert.equal(refused.configCheckResult, false);
      assert.deepEqual([valid?.status, valid?.reason], ['False', 'PolicyViolation']);
      assert.ok(valid?.message?.startsWith(`VectorPipeline team-a/escape: ${e.field}: `), valid?.message);

      if (e.allow !== undefined) {
        const allowed = pipelineStatus(validatePipeline(p, { ...defaultPolicy, ...e.allow }), 1, undefined, now);
        assert.equal(allowed.configCheckResult, true, allowed.reason);
        assert.deepEqual(
          allowed.conditions?.map((c) => c.type),
          ['Valid'],
        );
      }

      const warned = pipelineStatus(validatePipeline(p, { ...defaultPolicy, mode: 'warn' }), 1, undefined, now);
      assert.equal(warned.configCheckResult, true, warned.reason);
      const flagged = warned.conditions?.find((c) => c.type === 'PolicyCompliant');
      assert.deepEqual([flagged?.status, flagged?.reason], ['False', 'Tolerated']);
      assert.ok(flagged?.message?.includes(`: ${e.field}: `), flagged?.message);
    });
  }
});
