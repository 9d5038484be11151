/** Graceful shutdown: order, isolation of failures, the deadline, and the signal path. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import process from 'node:process';
import { ManualClock } from '../../src/kube/clock.ts';
import { Shutdown } from '../../src/kube/shutdown.ts';
import { eventually } from '../helpers/eventually.ts';

describe('graceful shutdown', () => {
  it('stops in reverse start order, runs every step even after one fails, and runs only once', async () => {
    const order: string[] = [];
    const errors: string[] = [];
    const s = new Shutdown({ onError: (step) => errors.push(step) });
    s.add('release lease', () => Promise.resolve(void order.push('lease')));
    s.add('stop reflectors', () => Promise.reject(new Error('boom')));
    s.add('stop controllers', () => Promise.resolve(void order.push('controllers')));
    assert.equal(await s.run(), false);
    assert.equal(await s.run(), false);
    assert.deepEqual(order, ['controllers', 'lease']);
    assert.deepEqual(errors, ['stop reflectors']);
  });

  it('gives up on a step that hangs once the deadline passes', async () => {
    const clock = new ManualClock();
    const errors: string[] = [];
    const s = new Shutdown({ clock, timeoutMs: 1000, onError: (step) => errors.push(step) });
    s.add('hangs', () => new Promise<void>(() => undefined));
    const result = s.run();
    clock.advance(1000);
    assert.equal(await result, false);
    assert.deepEqual(errors, ['shutdown']);
  });

  it('on a signal runs the steps and exits 0; the handlers are removed afterwards', async () => {
    const exits: number[] = [];
    const s = new Shutdown({ signals: ['SIGUSR2'], exit: (c) => exits.push(c) });
    let stopped = false;
    s.add('stop', () => Promise.resolve(void (stopped = true)));
    const before = process.listenerCount('SIGUSR2');
    s.listen();
    process.emit('SIGUSR2');
    await eventually('the exit', () => exits.length === 1);
    assert.equal(stopped, true);
    assert.deepEqual(exits, [0]);
    assert.equal(process.listenerCount('SIGUSR2'), before);
  });
});
