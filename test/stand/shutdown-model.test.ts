/**
 * The simulator's model of Vector's event path and shutdown window (lab/vector-sim/buffers.ts, shutdown.ts), pure:
 * one source reads numbered lines, its checkpoint is the last mapped line, a restart resumes from the last written
 * checkpoint. The figures are what a real agent loses or repeats at a restart with a stuck sink.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventPath } from '../../lab/vector-sim/buffers.ts';
import { drainWithin, windowEnd, type ShutdownWindow } from '../../lab/vector-sim/shutdown.ts';
import { drainLimitSecs } from '../../src/vector/shutdown.ts';

/** One source `s` reading lines 0..n-1 into sinks `a` (and `b` when fanned out); `stuck` decides who accepts. */
function agent(sizes = { sinkEvents: 5, channelLines: 2 }, sinks = ['a']) {
  const st = {
    stuck: new Set<string>(),
    /** The in-memory checkpoint: lines 0..mapped-1 are behind it. */
    mapped: 0,
    /** The checkpoint on disk. */
    written: 0,
    finalWrites: 0,
    delivered: new Map<string, number[]>(),
    next: 0,
  };
  const path = new EventPath<number, number>(sizes, {
    map: (_id, line) => {
      st.mapped = line + 1;
      return { event: line, sinks };
    },
    stuck: (sink) => st.stuck.has(sink),
    deliver: (sink, e) => {
      const got = st.delivered.get(sink) ?? [];
      got.push(e);
      st.delivered.set(sink, got);
    },
    finalWrite: () => {
      st.written = st.mapped;
      st.finalWrites++;
    },
  });
  /** The file server: reads until refused or `upTo` lines were read. */
  const read = (upTo: number): void => {
    while (st.next < upTo && path.offer('s', st.next)) st.next++;
  };
  /** Lines 0..n-1 delivered to sink `a` before the restart and after it (resuming at the written checkpoint). */
  const afterRestart = (n: number): { lost: number; duplicated: number } => {
    const got = new Map<number, number>();
    for (const e of st.delivered.get('a') ?? []) got.set(e, (got.get(e) ?? 0) + 1);
    for (let i = st.written; i < n; i++) got.set(i, (got.get(i) ?? 0) + 1);
    let lost = 0;
    let duplicated = 0;
    for (let i = 0; i < n; i++) {
      const k = got.get(i) ?? 0;
      if (k === 0) lost++;
      else duplicated += k - 1;
    }
    return { lost, duplicated };
  };
  return { st, path, read, afterRestart };
}

/** A clock that only moves when the drain sleeps. */
function fakeClock() {
  let t = 0;
  return {
    now: () => t,
    sleep: (ms: number): Promise<void> => {
      t += ms;
      return Promise.resolve();
    },
  };
}

describe('the simulated event path (buffers.ts)', () => {
  it('with healthy sinks every read line is delivered at once: the checkpoint equals delivery', () => {
    const a = agent();
    a.read(100);
    assert.equal(a.st.next, 100);
    assert.equal(a.st.mapped, 100);
    assert.equal(a.st.delivered.get('a')?.length, 100);
    assert.equal(a.path.idle, true);
  });

  it('a stuck sink fills its buffer, holds one more event, fills the channel, then stops the file server', () => {
    const a = agent({ sinkEvents: 5, channelLines: 2 });
    a.st.stuck.add('a');
    a.read(100);
    // 5 buffered + 1 held are mapped (checkpointed), 2 wait in the channel; the file server waits on line 8.
    assert.equal(a.st.mapped, 6);
    assert.equal(a.st.next, 8);
    assert.equal(a.st.delivered.get('a'), undefined);
    assert.deepEqual(a.path.leftover(), { lostEvents: 6, unmappedLines: 2, missingFinalWrites: 0 });
    a.st.stuck.clear();
    a.path.pump();
    a.read(100);
    assert.equal(a.st.delivered.get('a')?.length, 100);
  });

  it('one stuck sink of a fan-out holds the event for the healthy sink too (one backpressure domain)', () => {
    const a = agent({ sinkEvents: 2, channelLines: 1 }, ['a', 'b']);
    a.st.stuck.add('b');
    a.read(10);
    // b buffers 0 and 1 (a got them at once); event 2 is held for both.
    assert.deepEqual(a.st.delivered.get('a'), [0, 1]);
    assert.equal(a.st.mapped, 3);
  });

  it('at SIGTERM a file server that is not waiting writes its final checkpoints at once', () => {
    const a = agent();
    a.read(10);
    a.path.shutdown(['s']);
    assert.equal(a.st.finalWrites, 1);
    assert.equal(a.st.written, 10);
    assert.equal(a.path.offer('s', 10), false, 'no reads after SIGTERM');
    assert.deepEqual(a.afterRestart(10), { lost: 0, duplicated: 0 });
  });

  it('a source that never read a line still writes its checkpoints at SIGTERM, and at a reload that removes it', () => {
    const a = agent();
    a.path.shutdown(['s']);
    assert.equal(a.st.finalWrites, 1);
    const b = agent();
    b.path.removeSource('s');
    assert.equal(b.st.finalWrites, 1);
    assert.equal(b.path.idle, true);
  });

  it('a waiting file server writes when its send completes; the channel lines mapped after that are read again', () => {
    const a = agent({ sinkEvents: 5, channelLines: 2 });
    a.st.stuck.add('a');
    a.read(100);
    a.path.shutdown(['s']);
    assert.equal(a.st.finalWrites, 0, 'waiting in its send, it has not written');
    assert.deepEqual(a.path.leftover(), { lostEvents: 6, unmappedLines: 2, missingFinalWrites: 1 });
    a.st.stuck.clear();
    a.path.pump();
    assert.equal(a.path.idle, true);
    assert.equal(a.st.finalWrites, 1);
    assert.equal(a.st.written, 6, 'the write covers what was mapped before the channel had room');
    assert.equal(a.path.mappedAfterFinalWrite, 2);
    assert.deepEqual(a.afterRestart(8), { lost: 0, duplicated: 2 });
  });
});

describe('the shutdown window (shutdown.ts)', () => {
  const limit60 = (graceSecs: number): ShutdownWindow => ({ drainLimitMs: 60_000, graceMs: graceSecs * 1000 });

  it('ends at the earlier of Vector’s drain limit and the kubelet’s SIGKILL', () => {
    assert.deepEqual(windowEnd(limit60(30)), { atMs: 30_000, by: 'killed' });
    assert.deepEqual(windowEnd(limit60(70)), { atMs: 60_000, by: 'drain-limit' });
    assert.deepEqual(windowEnd({ drainLimitMs: undefined, graceMs: 70_000 }), { atMs: 70_000, by: 'killed' });
  });

  it('reads Vector’s drain limit as its CLI does: flag, then environment, default 60', () => {
    assert.equal(drainLimitSecs(['--config-dir', '/etc/vector'], {}), 60);
    assert.equal(drainLimitSecs([], { VECTOR_GRACEFUL_SHUTDOWN_LIMIT_SECS: '90' }), 90);
    assert.equal(
      drainLimitSecs(['--graceful-shutdown-limit-secs', '20'], { VECTOR_GRACEFUL_SHUTDOWN_LIMIT_SECS: '90' }),
      20,
    );
    assert.equal(drainLimitSecs(['--graceful-shutdown-limit-secs=25'], {}), 25);
    assert.equal(drainLimitSecs(['--no-graceful-shutdown-limit'], {}), undefined);
    assert.equal(drainLimitSecs([], { VECTOR_NO_GRACEFUL_SHUTDOWN_LIMIT: 'true' }), undefined);
  });

  /** A sink stuck since before SIGTERM that accepts again `recoverSecs` after it. */
  async function stuckAtSigterm(graceSecs: number, recoverSecs: number) {
    const a = agent({ sinkEvents: 5, channelLines: 2 });
    a.st.stuck.add('a');
    a.read(100);
    // The periodic checkpoint write ran while the source was blocked: it covers the 6 mapped lines.
    a.st.written = a.st.mapped;
    const clock = fakeClock();
    a.path.shutdown(['s']);
    const drain = {
      pump: () => {
        if (clock.now() >= recoverSecs * 1000) a.st.stuck.clear();
        a.path.pump();
      },
      get idle() {
        return a.path.idle;
      },
    };
    const r = await drainWithin(drain, limit60(graceSecs), clock, 1000);
    return { r, leftover: a.path.leftover(), figures: a.afterRestart(8) };
  }

  it('a sink back 45 s after SIGTERM: with Kubernetes’ 30 s grace the buffered lines are lost', async () => {
    const { r, leftover, figures } = await stuckAtSigterm(30, 45);
    assert.equal(r.outcome, 'killed');
    assert.deepEqual(leftover, { lostEvents: 6, unmappedLines: 2, missingFinalWrites: 1 });
    // Checkpointed by the periodic write, never delivered: lost. The channel's 2 lines are read again.
    assert.deepEqual(figures, { lost: 6, duplicated: 0 });
  });

  it('the same stall with a grace past Vector’s 60 s drain: everything is delivered, the channel repeats', async () => {
    const { r, figures } = await stuckAtSigterm(70, 45);
    assert.equal(r.outcome, 'drained');
    assert.equal(r.afterMs, 45_000);
    assert.deepEqual(figures, { lost: 0, duplicated: 2 });
  });

  it('a sink that never comes back: Vector gives up at its drain limit and the buffer is lost whatever the grace', async () => {
    const { r, figures } = await stuckAtSigterm(70, 1e9);
    assert.equal(r.outcome, 'drain-limit');
    assert.equal(r.afterMs, 60_000);
    assert.deepEqual(figures, { lost: 6, duplicated: 0 });
  });
});
