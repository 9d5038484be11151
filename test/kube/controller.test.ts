/** Controller: workers, retries with backoff, requeue-after, and a clean stop. Pure unit tests on a manual clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/kube/clock.ts';
import { Controller, type ReconcileResult } from '../../src/kube/controller.ts';
import { WorkQueue } from '../../src/kube/workqueue.ts';
import { deferred } from './helpers.ts';
import { eventually } from '../helpers/eventually.ts';

describe('controller', () => {
  it('retries a failing key with growing delays, and forgets its failures once it succeeds', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock, baseDelayMs: 100, maxDelayMs: 10_000 });
    const runs: string[] = [];
    const errors: string[] = [];
    let failuresLeft = 3;
    const c = new Controller({
      name: 'flaky',
      queue,
      workers: 2,
      reconcile: (key) => {
        runs.push(key);
        if (key === 'bad' && failuresLeft-- > 0) return Promise.reject(new Error('apiserver said no'));
        return Promise.resolve();
      },
      onError: (key, err) => errors.push(`${key}: ${(err as Error).message}`),
    });
    c.run();
    queue.add('bad');
    queue.add('good');
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await eventually(`retry ${i + 1} scheduled`, () => clock.timers() === 1 && c.busy() === 0);
      delays.push(clock.delays()[0] ?? -1);
      clock.advance(delays[i] ?? 0);
    }
    await eventually('the successful run', () => runs.length === 5);
    assert.deepEqual(delays, [100, 200, 400]);
    assert.deepEqual(
      runs.filter((k) => k === 'good'),
      ['good'],
      'the healthy key ran once, unaffected',
    );
    assert.equal(errors.length, 3);
    assert.equal(errors[0], 'bad: apiserver said no');
    await eventually('idle', () => c.busy() === 0);
    assert.equal(queue.numRequeues('bad'), 0, 'forgotten after success');
    assert.equal(clock.timers(), 0, 'nothing more scheduled');
    await c.stop();
  });

  it('re-runs a key after requeueAfterMs when the reconcile asks for it', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue({ clock });
    let runs = 0;
    const c = new Controller({
      name: 'poller',
      queue,
      workers: 1,
      reconcile: (): Promise<ReconcileResult> => {
        runs++;
        return Promise.resolve(runs === 1 ? { requeueAfterMs: 30_000 } : {});
      },
    });
    c.run();
    queue.add('k');
    await eventually('the requeue', () => clock.timers() === 1);
    assert.deepEqual(clock.delays(), [30_000]);
    clock.advance(30_000);
    await eventually('the second run', () => runs === 2);
    await c.stop();
  });

  it('never reconciles one key twice at once, and still sees the change that arrived meanwhile', async () => {
    const queue = new WorkQueue();
    const gate = deferred();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const c = new Controller({
      name: 'serial',
      queue,
      workers: 4,
      reconcile: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        if (runs === 1) await gate.promise;
        active--;
      },
    });
    c.run();
    queue.add('same');
    await eventually('the first run', () => runs === 1);
    queue.add('same');
    queue.add('same');
    await new Promise((r) => setImmediate(r));
    assert.equal(runs, 1, 'held back while the first run is in flight');
    gate.resolve();
    await eventually('the run for the change made meanwhile', () => runs === 2);
    await c.stop();
    assert.equal(maxActive, 1);
    assert.equal(runs, 2);
  });

  it('stop() waits for the reconcile in flight, then runs nothing more', async () => {
    const queue = new WorkQueue();
    const gate = deferred();
    const started: string[] = [];
    let finished = false;
    const c = new Controller({
      name: 'draining',
      queue,
      workers: 1,
      reconcile: async (key) => {
        started.push(key);
        if (key === 'slow') {
          await gate.promise;
          finished = true;
        }
      },
    });
    c.run();
    queue.add('slow');
    await eventually('slow started', () => started.length === 1);
    queue.add('queued-behind');
    let stopped = false;
    const stopping = c.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(stopped, false, 'still waiting for the in-flight reconcile');
    gate.resolve();
    await stopping;
    assert.equal(finished, true);
    assert.deepEqual(started, ['slow'], 'the queued key was not reconciled after stop()');
    queue.add('too-late');
    assert.equal(queue.len(), 0);
  });
});
