/** WorkQueue semantics (client-go's): pure unit tests on a manual clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/kube/clock.ts';
import { WorkQueue } from '../../src/kube/workqueue.ts';

/** True when the promise has settled by the time pending microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('workqueue', () => {
  it('coalesces a burst of events for one key into one queued item, in first-added order', async () => {
    const q = new WorkQueue();
    for (const k of ['a', 'b', 'a', 'a', 'c', 'b']) q.add(k);
    assert.equal(q.len(), 3);
    assert.deepEqual([await q.get(), await q.get(), await q.get()], ['a', 'b', 'c']);
    assert.equal(q.len(), 0);
  });

  it('never hands out a key being processed; one re-added meanwhile is processed again after done()', async () => {
    const q = new WorkQueue();
    q.add('a');
    assert.equal(await q.get(), 'a');
    q.add('a');
    q.add('a');
    assert.equal(q.len(), 0, 'not handed out while processing');
    const next = q.get();
    assert.equal(await settled(next), false);
    q.done('a');
    assert.equal(await next, 'a', 'processed again, once');
    q.done('a');
    assert.equal(q.len(), 0);
  });

  it('wakes a waiting get() when a key arrives', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    assert.equal(await settled(waiting), false);
    q.add('x');
    assert.equal(await waiting, 'x');
  });

  it('delays addAfter until its time, keeping the earliest deadline per key', () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 100);
    q.addAfter('b', 500);
    q.addAfter('b', 200);
    q.addAfter('b', 900);
    q.addAfter('now', 0);
    assert.equal(q.len(), 1);
    clock.advance(99);
    assert.equal(q.len(), 1);
    clock.advance(1);
    assert.equal(q.len(), 2);
    clock.advance(100);
    assert.equal(q.len(), 3);
    clock.advance(10_000);
    assert.equal(q.len(), 3, 'b was queued once');
  });

  it('backs off per key exponentially up to the cap, and forget() starts the key over', () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, baseDelayMs: 10, maxDelayMs: 50 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      q.addRateLimited('flaky');
      delays.push(clock.delays()[0] ?? -1);
      clock.advance(1000);
    }
    assert.deepEqual(delays, [10, 20, 40, 50, 50]);
    assert.equal(q.numRequeues('flaky'), 5);
    q.addRateLimited('other');
    assert.deepEqual(clock.delays(), [10], 'keys back off independently');
    clock.advance(10);
    q.forget('flaky');
    q.addRateLimited('flaky');
    assert.deepEqual(clock.delays(), [10]);
  });

  it('after shutDown hands out what was queued, then undefined; drops delayed and new keys', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    const idle = new WorkQueue();
    const waiting = idle.get();
    idle.shutDown();
    assert.equal(await waiting, undefined, 'a blocked get() is released');

    q.add('queued');
    q.addAfter('later', 100);
    q.shutDown();
    q.add('new');
    assert.equal(clock.timers(), 0, 'delayed adds are dropped');
    assert.equal(await q.get(), 'queued');
    assert.equal(await q.get(), undefined);
  });
});
