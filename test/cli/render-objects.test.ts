/**
 * One builder for the objects of a Vector: `render --objects` prints exactly what the operator's reconciler would
 * apply (`desiredState`, with the flags `run` would pass it) on a cluster where none of the Vector's objects exist
 * yet, for every combination of the operator flags that shape those objects.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { loadManifests, pickVector } from '../../src/cli/manifest-input.ts';
import { policyFromFlags, policyOptions } from '../../src/cli/policy-flags.ts';
import { desiredState, type OperatorFlags } from '../../src/operator/desired.ts';
import { defaultMergerImage } from '../../src/operator/merger-container.ts';
import { cli } from '../helpers/cli.ts';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

interface Combination {
  optimize: boolean;
  migration: boolean;
  position: 'min' | 'max';
  leastPrivilege: boolean;
  tenant: string[];
}

function combinations(): Combination[] {
  const out: Combination[] = [];
  const tenants = [[], ['--pipeline-policy=warn', '--pipeline-policy-cluster-pipelines']];
  for (const optimize of [false, true])
    for (const migration of [false, true])
      for (const position of ['min', 'max'] as const)
        for (const leastPrivilege of [false, true])
          for (const tenant of tenants) out.push({ optimize, migration, position, leastPrivilege, tenant });
  return out;
}

function flagsOf(c: Combination): string[] {
  return [
    ...(c.optimize ? ['--enable-config-optimization'] : []),
    ...(c.migration ? ['--enable-checkpoint-migration'] : []),
    `--checkpoint-merger-position-policy=${c.position}`,
    ...(c.leastPrivilege ? ['--agent-least-privilege'] : []),
    ...c.tenant,
  ];
}

/** What the operator's reconciler builds for these flags, as `run` passes them (src/cli/run.ts). */
function operatorObjects(c: Combination): unknown[] {
  const policy = policyFromFlags(parseArgs({ args: c.tenant, options: policyOptions }).values);
  if (typeof policy === 'string') assert.fail(policy);
  const flags: OperatorFlags = {
    optimize: c.optimize,
    migration: c.migration,
    mergerImage: defaultMergerImage,
    mergerPositionPolicy: c.position,
    policy,
    leastPrivilege: c.leastPrivilege,
    podMonitor: true,
  };
  const parsed = loadManifests([examples]);
  const desired = desiredState(pickVector(parsed.vectors, undefined), parsed.pipelines, flags, {
    daemonSet: undefined,
    secrets: {},
  });
  assert.equal(desired.ok, true, desired.problems.join('\n'));
  return JSON.parse(JSON.stringify([...desired.assets, ...desired.objects])) as unknown[];
}

describe('render --objects is what the operator applies', () => {
  for (const c of combinations()) {
    const args = flagsOf(c);
    it(`render --objects ${args.join(' ')}`, async () => {
      const r = await cli(['render', '-f', examples, '--objects', ...args]);
      assert.equal(r.status, 0, r.stderr);
      const printed = parseAllDocuments(r.stdout).map((d) => d.toJS() as unknown);
      assert.deepEqual(printed, operatorObjects(c));
    });
  }

  it('the combinations differ: migration adds the standby Secret and the merger, least privilege a read-only pod', () => {
    const kinds = (c: Combination): string =>
      JSON.stringify(
        (operatorObjects(c) as { kind: string; metadata: { name: string } }[]).map((o) => o.metadata.name),
      );
    const base: Combination = { optimize: true, migration: false, position: 'min', leastPrivilege: false, tenant: [] };
    assert.notEqual(kinds(base), kinds({ ...base, migration: true }));
    const ds = (c: Combination): string =>
      JSON.stringify(operatorObjects(c).find((o) => (o as { kind: string }).kind === 'DaemonSet'));
    assert.notEqual(ds(base), ds({ ...base, leastPrivilege: true }));
    assert.notEqual(ds({ ...base, migration: true }), ds({ ...base, migration: true, position: 'max' }));
  });

  it('refuses a position policy other than min or max, as run does', async () => {
    const r = await cli(['render', '-f', examples, '--objects', '--checkpoint-merger-position-policy=mid']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--checkpoint-merger-position-policy 'mid' must be min or max/);
  });
});
