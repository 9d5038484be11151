/** The stand-in serves lists a bounded number at a time, fairly across clients (lab/apiserver/list-queue.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ListQueue } from '../../lab/apiserver/list-queue.ts';

/** A response that closes when the test says so. */
class FakeRes extends EventEmitter {
  close(): void {
    this.emit('close');
  }
}

describe('the stand-in list queue', () => {
  it('sends at most `limit` replies at once, the next when one closes', () => {
    const q = new ListQueue(2);
    const agent = {};
    const started: number[] = [];
    const res = Array.from({ length: 5 }, () => new FakeRes());
    res.forEach((r, i) => {
      q.run(agent, r, () => started.push(i));
    });
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(q.depth(), { running: 2, waiting: 3 });
    res[1]?.close();
    assert.deepEqual(started, [0, 1, 2]);
    res[0]?.close();
    res[2]?.close();
    assert.deepEqual(started, [0, 1, 2, 3, 4]);
    assert.deepEqual(q.depth(), { running: 2, waiting: 0 });
  });

  it("takes waiting flows in turn: the operator's one list does not wait behind an agent's thousand", () => {
    const q = new ListQueue(1);
    const agent = {};
    const operator = {};
    const started: string[] = [];
    const first = new FakeRes();
    q.run(agent, first, () => started.push('agent-0'));
    const res: FakeRes[] = [];
    for (let i = 1; i <= 1000; i++) {
      const r = new FakeRes();
      res.push(r);
      q.run(agent, r, () => started.push(`agent-${String(i)}`));
    }
    q.run(operator, new FakeRes(), () => started.push('operator'));
    first.close();
    res[0]?.close();
    assert.deepEqual(started, ['agent-0', 'agent-1', 'operator']);
  });

  it('drops a request whose client went away while it waited', () => {
    const q = new ListQueue(1);
    const flow = {};
    const started: string[] = [];
    const running = new FakeRes();
    q.run(flow, running, () => started.push('a'));
    const abandoned = new FakeRes();
    q.run(flow, abandoned, () => started.push('b'));
    q.run(flow, new FakeRes(), () => started.push('c'));
    abandoned.close();
    running.close();
    assert.deepEqual(started, ['a', 'c']);
    assert.deepEqual(q.depth(), { running: 1, waiting: 0 });
  });
});
