/**
 * The Secret binding state machine: walk the rollouts a user triggers (flag flips) and check that no Secret's mode
 * changes while pods that have not rolled still mount it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  planMigration,
  rolloutComplete,
  type ConfigMode,
  type MigrationInput,
  type MigrationPlan,
  type SecretSlot,
} from '../../src/operator/migration.ts';

/** A tiny cluster: Secrets with modes, a live mount and whether its rollout completed. */
class Cluster {
  modes: Partial<Record<SecretSlot, ConfigMode>> = {};
  live: { mount: SecretSlot; complete: boolean } | undefined;
  /** Modes of Secrets as seen by the pods that have not rolled, to check the invariant. */
  reconcile(migration: boolean, target: ConfigMode): MigrationPlan {
    const input: MigrationInput = { migration, target, live: this.live, modes: { ...this.modes } };
    const plan = planMigration(input);
    // Invariant: with migration on, a Secret pods may still mount keeps its mode.
    if (migration && this.live !== undefined) {
      for (const slot of ['agent', 'opt'] as const) {
        const mounted = this.live.mount === slot || !this.live.complete;
        const before = this.modes[slot];
        const after = slot === 'agent' ? plan.agent : plan.opt;
        if (mounted && before !== undefined) assert.equal(after, before, `${slot} changed mode while mounted`);
      }
    }
    this.modes.agent = plan.agent;
    if (plan.opt === 'delete' || plan.opt === 'absent') delete this.modes.opt;
    else this.modes.opt = plan.opt;
    const changed = this.live?.mount !== plan.mount;
    this.live = { mount: plan.mount, complete: this.live === undefined ? true : !changed && this.live.complete };
    return plan;
  }
  finishRollout(): void {
    if (this.live !== undefined) this.live.complete = true;
  }
  /** Reconcile until steady, finishing each rollout; returns the mounts passed through. */
  settle(migration: boolean, target: ConfigMode): SecretSlot[] {
    const mounts: SecretSlot[] = [];
    for (let i = 0; i < 10; i++) {
      const plan = this.reconcile(migration, target);
      mounts.push(plan.mount);
      if (plan.phase === 'Steady') return mounts;
      this.finishRollout();
    }
    throw new Error('did not settle');
  }
}

describe('checkpoint migration: Secret binding', () => {
  it('follows the binding table in steady state', () => {
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
      assert.equal(c.modes.agent, agent);
      assert.equal(c.modes.opt ?? 'absent', opt);
    }
  });

  it('enabling optimization with migration on mounts -agent-opt and never flips -agent', () => {
    const c = new Cluster();
    c.settle(true, 'legacy');
    const plan = c.reconcile(true, 'optimized');
    assert.equal(plan.mount, 'opt');
    assert.equal(plan.phase, 'Rolling');
    assert.deepEqual([plan.agent, plan.opt], ['legacy', 'optimized']);
    c.finishRollout();
    assert.equal(c.reconcile(true, 'optimized').phase, 'Steady');
  });

  it('enabling migration while already optimized keeps -agent optimized until the rollout to -agent-opt completes', () => {
    const c = new Cluster();
    c.settle(false, 'optimized');
    assert.equal(c.modes.agent, 'optimized');
    const first = c.reconcile(true, 'optimized');
    assert.equal(first.mount, 'opt');
    assert.equal(first.agent, 'optimized', '-agent is still mounted by pods that have not rolled');
    assert.equal(first.opt, 'optimized');
    // A resync mid-rollout changes nothing.
    const again = c.reconcile(true, 'optimized');
    assert.equal(again.agent, 'optimized');
    c.finishRollout();
    const done = c.reconcile(true, 'optimized');
    assert.equal(done.agent, 'legacy', 'once nothing mounts -agent it becomes the legacy standby');
    assert.equal(done.phase, 'Steady');
  });

  it('enabling migration and disabling optimization at once goes through the optimized row first', () => {
    const c = new Cluster();
    c.settle(false, 'optimized');
    const first = c.reconcile(true, 'legacy');
    assert.equal(first.phase, 'Waiting');
    assert.equal(first.mount, 'opt');
    assert.match(first.message, /still holds the optimized config/);
    c.finishRollout();
    const second = c.reconcile(true, 'legacy');
    assert.deepEqual([second.mount, second.agent, second.opt], ['agent', 'legacy', 'optimized']);
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

  it('flipping the mode back and forth mid-rollout never rewrites a mounted Secret', () => {
    const c = new Cluster();
    c.settle(true, 'legacy');
    for (const target of ['optimized', 'legacy', 'optimized', 'legacy'] as const) c.reconcile(true, target);
    c.settle(true, 'legacy');
    assert.deepEqual([c.live?.mount, c.modes.agent, c.modes.opt], ['agent', 'legacy', 'optimized']);
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
