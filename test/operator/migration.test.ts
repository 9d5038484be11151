/**
 * The Secret binding state machine: walk the rollouts a user triggers (flag flips, pipeline changes that rename
 * sources or not) and check that no Secret pods may still mount ever gets a config that renames a source for them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  planMigration,
  rolloutComplete,
  type MigrationInput,
  type MigrationPlan,
  type SecretSlot,
} from '../../src/operator/migration.ts';
import type { ConfigMode } from '../../src/pipelines/modes.ts';

/** A config as far as renames go: consumer -> the source it reads. */
type Ids = Record<string, string>;
interface Content {
  mode: ConfigMode;
  ids: Ids;
}

/** A consumer (here: its own namespace) present in both moves to another source: it would re-read (handover.ts). */
function renames(from: Ids, to: Ids): boolean {
  return Object.entries(to).some(([c, s]) => from[c] !== undefined && from[c] !== s);
}

const slots = ['agent', 'opt'] as const;

/** A tiny cluster: Secrets with contents, a live mount and whether its rollout completed. */
class Cluster {
  secrets: Partial<Record<SecretSlot, Content>> = {};
  live: { mount: SecretSlot; complete: boolean } | undefined;
  /** What the pipelines build in each mode now. */
  world: Record<ConfigMode, Ids> = { legacy: { a: 'a-src', b: 'b-src' }, optimized: { a: 'grp', b: 'grp' } };
  rolls = 0;

  reconcile(migration: boolean, target: ConfigMode): MigrationPlan {
    const modes: MigrationInput['modes'] = {};
    for (const slot of slots) {
      const c = this.secrets[slot];
      if (c !== undefined) modes[slot] = c.mode;
    }
    const asks = (slot: SecretSlot, mode: ConfigMode): boolean => {
      const c = this.secrets[slot];
      assert.ok(c !== undefined, `asked whether ${mode} renames for the absent ${slot} Secret`);
      return renames(c.ids, this.world[mode]);
    };
    const plan = planMigration({ migration, target, live: this.live, modes, renames: asks });
    for (const slot of slots) {
      const w = plan[slot];
      const before = this.secrets[slot];
      const after =
        w === 'legacy' || w === 'optimized' ? { mode: w, ids: this.world[w] } : w === 'keep' ? before : undefined;
      const mounted = this.live !== undefined && (this.live.mount === slot || !this.live.complete);
      if (migration && mounted && before !== undefined) {
        assert.ok(after !== undefined, `${slot} deleted while mounted`);
        assert.equal(renames(before.ids, after.ids), false, `${slot} renamed a source for pods mounting it`);
      }
      this.secrets = { ...this.secrets, [slot]: after };
      if (after === undefined)
        this.secrets = Object.fromEntries(Object.entries(this.secrets).filter(([k]) => k !== slot));
    }
    const changed = this.live !== undefined && this.live.mount !== plan.mount;
    if (changed) this.rolls++;
    this.live = { mount: plan.mount, complete: this.live === undefined ? true : !changed && this.live.complete };
    return plan;
  }
  finishRollout(): void {
    if (this.live !== undefined) this.live.complete = true;
  }
  /** Reconcile until steady, finishing each rollout. */
  settle(migration: boolean, target: ConfigMode): void {
    for (let i = 0; i < 10; i++) {
      if (this.reconcile(migration, target).phase === 'Steady') return;
      this.finishRollout();
    }
    throw new Error('did not settle');
  }
  mounted(): Content | undefined {
    return this.live === undefined ? undefined : this.secrets[this.live.mount];
  }
}

describe('checkpoint migration: Secret binding', () => {
  it('starts on the slot of its mode, the other slot holding the other mode', () => {
    const rows: [boolean, ConfigMode, SecretSlot, ConfigMode, ConfigMode | 'absent'][] = [
      [false, 'legacy', 'agent', 'legacy', 'absent'],
      [false, 'optimized', 'agent', 'optimized', 'absent'],
      [true, 'legacy', 'agent', 'legacy', 'optimized'],
      [true, 'optimized', 'opt', 'legacy', 'optimized'],
    ];
    for (const [migration, target, mount, agent, opt] of rows) {
      const c = new Cluster();
      c.settle(migration, target);
      assert.equal(c.live?.mount, mount, `${String(migration)}/${target}`);
      assert.equal(c.secrets.agent?.mode, agent);
      assert.equal(c.secrets.opt?.mode ?? 'absent', opt);
    }
  });

  it('enabling optimization with migration on rolls once, to -agent-opt, and never renames in -agent', () => {
    const c = new Cluster();
    c.settle(true, 'legacy');
    const plan = c.reconcile(true, 'optimized');
    assert.deepEqual([plan.mount, plan.roll, plan.phase], ['opt', 'rename', 'Rolling']);
    assert.deepEqual([plan.agent, plan.opt], ['legacy', 'optimized']);
    c.finishRollout();
    assert.equal(c.reconcile(true, 'optimized').phase, 'Steady');
    assert.equal(c.rolls, 1);
  });

  it('a rename within optimized mode (a group going 1 -> 2) switches slots: the old one keeps what its pods run', () => {
    const c = new Cluster();
    c.world.optimized = { a: 'a-src', b: 'grp', c: 'grp' };
    c.settle(true, 'optimized');
    const running = c.mounted();
    c.world.optimized = { a: 'grp', b: 'grp', c: 'grp' };
    const plan = c.reconcile(true, 'optimized');
    assert.deepEqual([plan.mount, plan.roll, plan.agent, plan.opt], ['agent', 'rename', 'optimized', 'keep']);
    assert.deepEqual(c.secrets.opt, running, 'pods not yet rolled keep their config');
    c.finishRollout();
    const done = c.reconcile(true, 'optimized');
    assert.deepEqual([done.phase, done.mount, done.agent, done.opt], ['Steady', 'agent', 'optimized', 'legacy']);
    assert.equal(c.rolls, 1);
  });

  it('adding or removing a pipeline that renames nothing is a live reload: no roll', () => {
    const c = new Cluster();
    c.settle(true, 'optimized');
    c.world = { legacy: { ...c.world.legacy, d: 'd-src' }, optimized: { ...c.world.optimized, d: 'grp' } };
    const plan = c.reconcile(true, 'optimized');
    assert.deepEqual([plan.mount, plan.phase, plan.roll], ['opt', 'Steady', undefined]);
    assert.deepEqual(c.mounted()?.ids, c.world.optimized);
    assert.equal(c.rolls, 0);
  });

  it('a rename during a rollout waits; additions still reach the pods on either Secret; then it rolls', () => {
    const c = new Cluster();
    c.settle(true, 'legacy');
    c.reconcile(true, 'optimized'); // rolling to -agent-opt
    c.world = { legacy: { ...c.world.legacy, d: 'd-src' }, optimized: { ...c.world.optimized, d: 'grp' } };
    const added = c.reconcile(true, 'optimized');
    assert.deepEqual([added.phase, added.agent, added.opt], ['Rolling', 'legacy', 'optimized']);
    c.world.optimized = { ...c.world.optimized, a: 'a-out' }; // a pipeline opts out: a rename
    const waiting = c.reconcile(true, 'optimized');
    assert.deepEqual([waiting.phase, waiting.mount, waiting.opt], ['Waiting', 'opt', 'keep']);
    c.finishRollout();
    const rolled = c.reconcile(true, 'optimized');
    assert.deepEqual([rolled.mount, rolled.roll, rolled.agent], ['agent', 'rename', 'optimized']);
  });

  it('enabling migration while already optimized keeps the mount: nothing renames', () => {
    const c = new Cluster();
    c.settle(false, 'optimized');
    const plan = c.reconcile(true, 'optimized');
    assert.deepEqual([plan.mount, plan.agent, plan.opt, plan.phase], ['agent', 'optimized', 'legacy', 'Steady']);
  });

  it('enabling migration and disabling optimization at once is one rollout', () => {
    const c = new Cluster();
    c.settle(false, 'optimized');
    const plan = c.reconcile(true, 'legacy');
    assert.deepEqual([plan.mount, plan.opt, plan.agent], ['opt', 'legacy', 'optimized']);
    c.settle(true, 'legacy');
    assert.equal(c.rolls, 1);
  });

  it('turning migration off keeps -agent-opt until the pods rolled off it, then deletes it', () => {
    const c = new Cluster();
    c.settle(true, 'optimized');
    const off = c.reconcile(false, 'optimized');
    assert.deepEqual([off.mount, off.agent, off.opt], ['agent', 'optimized', 'optimized']);
    c.finishRollout();
    const done = c.reconcile(false, 'optimized');
    assert.equal(done.opt, 'delete');
    assert.equal(done.phase, 'Steady');
  });

  it('any walk of mode flips, renames and rollouts keeps the invariant and settles on the desired config', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const c = new Cluster();
    const pick = (): Ids => ({ a: ['a-src', 'grp', 'x'][rnd(3)] as string, b: ['b-src', 'grp'][rnd(2)] as string });
    for (let step = 0; step < 400; step++) {
      const target: ConfigMode = rnd(2) === 0 ? 'legacy' : 'optimized';
      if (rnd(3) === 0) c.world = { legacy: { a: 'a-src', b: 'b-src' }, optimized: pick() };
      c.reconcile(rnd(5) !== 0, target); // the invariant is asserted inside
      if (rnd(2) === 0) c.finishRollout();
    }
    c.settle(true, 'optimized');
    assert.deepEqual(c.mounted(), { mode: 'optimized', ids: c.world.optimized });
  });
});

describe('rollout completion from DaemonSet status', () => {
  it('needs the new generation observed and every scheduled pod updated and available', () => {
    const base = { generation: 2, observedGeneration: 2, desiredNumberScheduled: 3 };
    assert.equal(rolloutComplete({ ...base, updatedNumberScheduled: 3, numberAvailable: 3 }), true);
    assert.equal(rolloutComplete({ ...base, updatedNumberScheduled: 2, numberAvailable: 3 }), false);
    assert.equal(rolloutComplete({ ...base, updatedNumberScheduled: 3, numberAvailable: 2 }), false);
    assert.equal(
      rolloutComplete({ ...base, observedGeneration: 1, updatedNumberScheduled: 3, numberAvailable: 3 }),
      false,
    );
    assert.equal(rolloutComplete({ generation: 1 }), false);
  });
});
