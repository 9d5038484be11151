/**
 * The agent pod's termination grace (src/operator/agent-grace.ts), through the operator's one builder: it covers
 * Vector's drain where the template changes anyway (migration on), and leaves kaasops' template alone otherwise.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { agentTerminationGrace } from '../../src/operator/agent-grace.ts';
import { desiredState, type OperatorFlags } from '../../src/operator/desired.ts';
import { defaultMergerImage } from '../../src/operator/merger-container.ts';
import { operatorFlagsFrom } from '../../src/cli/object-flags.ts';
import { defaultPolicy } from '../../src/pipelines/policy.ts';
import type { AgentSpec } from '../../src/pipelines/schemas.ts';
import { vector } from '../helpers/fixtures.ts';

const off: OperatorFlags = { optimize: false, migration: false, mergerImage: defaultMergerImage, podMonitor: false };
const empty = { daemonSet: undefined, secrets: {} };

function graceOf(flags: OperatorFlags, agent: AgentSpec = {}): number | undefined {
  const d = desiredState(vector({ agent }), [], flags, empty);
  const ds = d.objects.find((o) => o.kind === 'DaemonSet') as V1DaemonSet;
  return ds.spec?.template.spec?.terminationGracePeriodSeconds;
}

describe('the agent pod termination grace', () => {
  it('with migration off the template sets none (Kubernetes’ 30 s, as kaasops), whatever the optimization', () => {
    assert.equal(graceOf(off), undefined);
    assert.equal(graceOf({ ...off, optimize: true }), undefined);
  });

  it('with migration on it covers Vector’s 60 s drain and 10 s to exit', () => {
    assert.equal(graceOf({ ...off, migration: true }), 70);
    assert.equal(graceOf({ ...off, migration: true, optimize: true }), 70);
  });

  it('follows a drain limit the agent’s environment sets, as Vector reads it', () => {
    const env = (name: string, value: string) => ({ env: [{ name, value }] });
    assert.equal(graceOf({ ...off, migration: true }, env('VECTOR_GRACEFUL_SHUTDOWN_LIMIT_SECS', '120')), 130);
    // No limit: Vector drains until killed; the default limit's grace still bounds it.
    assert.equal(graceOf({ ...off, migration: true }, env('VECTOR_NO_GRACEFUL_SHUTDOWN_LIMIT', 'true')), 70);
    assert.equal(agentTerminationGrace({ env: [{ name: 'X', valueFrom: {} }] }, true, undefined), 70);
  });

  it('an explicit --agent-termination-grace-period-seconds applies in every mode', () => {
    assert.equal(graceOf({ ...off, terminationGraceSeconds: 90 }), 90);
    assert.equal(graceOf({ ...off, migration: true, terminationGraceSeconds: 30 }), 30);
  });

  it('the flag takes a whole number of seconds, and names itself otherwise', () => {
    const values = {
      'enable-config-optimization': false,
      'enable-checkpoint-migration': false,
      'checkpoint-merger-image': '',
      'checkpoint-merger-position-policy': 'min',
      'agent-least-privilege': false,
      'agent-termination-grace-period-seconds': '',
    };
    const parsed = operatorFlagsFrom(values, defaultPolicy);
    assert.ok(typeof parsed !== 'string' && parsed.terminationGraceSeconds === undefined);
    const ninety = operatorFlagsFrom({ ...values, 'agent-termination-grace-period-seconds': '90' }, defaultPolicy);
    assert.ok(typeof ninety !== 'string' && ninety.terminationGraceSeconds === 90);
    const bad = operatorFlagsFrom({ ...values, 'agent-termination-grace-period-seconds': '70s' }, defaultPolicy);
    assert.equal(typeof bad, 'string');
    assert.match(bad as string, /--agent-termination-grace-period-seconds '70s' must be a whole number of seconds/);
  });
});
