/**
 * The `vector` sink and source of the simulator (lab/vector-sim/vector-sink.ts, vector-source.ts), agent and
 * aggregator in one process over real loopback connections: what an aggregator pod that stops does to the batches
 * in flight. The topology behind the source is a stub that delivers at once, or holds (a stuck downstream).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { parseServiceAddress, type Backend } from '../../lab/vector-sim/pod-network.ts';
import { VectorSink } from '../../lab/vector-sim/vector-sink.ts';
import { VectorSource, type Received } from '../../lab/vector-sim/vector-source.ts';
import type { SimEvent } from '../../lab/vector-sim/vrl.ts';
import { eventually } from '../helpers/eventually.ts';

/** An aggregator pod: its source, and a downstream that delivers (recording ids) or holds everything. */
class Pod {
  readonly name: string;
  readonly source: VectorSource;
  readonly delivered: string[] = [];
  readonly held: Received[] = [];
  stuck = false;
  /** Accept only this many more events (then the topology is full and send_batch waits). */
  room = Infinity;
  constructor(name: string, acknowledgements = false) {
    this.name = name;
    this.source = new VectorSource(
      { id: 'in', port: 9000, acknowledgements },
      {
        offer: (_id, r) => {
          if (this.room <= 0) return false;
          this.room--;
          r.batch.mapped++;
          r.batch.routed++;
          if (this.stuck) this.held.push(r);
          else {
            this.delivered.push(r.event.message);
            r.batch.delivered++;
          }
          return true;
        },
        tick: () => sleep(2),
      },
    );
  }
}

const events = (n: number): SimEvent[] =>
  Array.from({ length: n }, (_, i) => ({ message: `id=ns/p/${String(i)}`, fields: {}, meta: {} }));

async function link(pods: Pod[], dir: string): Promise<{ sink: VectorSink; route: { to: number } }> {
  for (const [i, p] of pods.entries()) await p.source.start(dir, `10.0.0.${String(i + 1)}`);
  const route = { to: 0 };
  const sink = new VectorSink(
    { id: 'to-agg', address: 'agg-aggregator-ingest.vector.svc.cluster.local:9000' },
    {
      kc: new KubeConfig(),
      netDir: dir,
      namespace: 'ns-0000',
      timeScale: 1 / 300,
      batchEvents: 5,
      minTimeoutMs: 10_000,
      resolve: () => {
        const i = route.to;
        const port = Number(readFileSync(join(dir, `10.0.0.${String(i + 1)}_9000`), 'utf8'));
        return Promise.resolve<Backend>({ pod: pods[i]?.name ?? '', podIP: `10.0.0.${String(i + 1)}`, realPort: port });
      },
    },
  );
  return { sink, route };
}

describe('vector sink -> vector source', () => {
  it('parses Service addresses as cluster DNS names', () => {
    assert.deepEqual(parseServiceAddress('agg-aggregator-ingest.vector.svc.cluster.local:9000', 'x'), {
      service: 'agg-aggregator-ingest',
      namespace: 'vector',
      port: 9000,
    });
    assert.deepEqual(parseServiceAddress('agg:9000', 'ns-1'), { service: 'agg', namespace: 'ns-1', port: 9000 });
    assert.match(JSON.stringify(parseServiceAddress('a.b.c:1', 'x')), /names no Service/);
  });

  it('a stopping pod refuses new batches (503) and the sender goes on to the next pod: nothing lost or repeated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlink-'));
    const [a, b] = [new Pod('a'), new Pod('b')];
    const { sink, route } = await link([a, b], dir);
    try {
      for (const e of events(5)) sink.accept(e);
      sink.tick();
      await eventually('first batch answered', () => sink.idle);
      a.source.stop();
      for (const e of events(10).slice(5)) sink.accept(e);
      sink.tick();
      await sleep(20);
      route.to = 1;
      await eventually('second batch answered by b', () => sink.idle);
      assert.deepEqual(
        [...a.delivered, ...b.delivered].sort(),
        events(10)
          .map((e) => e.message)
          .sort(),
      );
      assert.equal(b.delivered.length, 5);
      assert.ok((sink.figures.retries['status 503'] ?? 0) + (sink.figures.retries.ECONNREFUSED ?? 0) >= 1);
    } finally {
      sink.stop();
      a.source.close();
      b.source.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a pod killed inside a batch (downstream full) leaves it unanswered: resent whole, its delivered part twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlink-'));
    const [a, b] = [new Pod('a'), new Pod('b')];
    a.room = 3;
    const { sink, route } = await link([a, b], dir);
    try {
      for (const e of events(5)) sink.accept(e);
      sink.tick();
      await eventually('3 events in, send_batch waiting', () => a.delivered.length === 3);
      const left = a.source.leftover();
      assert.deepEqual(
        { batches: left.unansweredBatches, repeated: left.unansweredDelivered, lost: left.answeredUndelivered },
        { batches: 1, repeated: 3, lost: 0 },
      );
      route.to = 1;
      a.source.close(); // the kill: every connection reset
      await eventually('resent to b', () => sink.idle);
      assert.equal(b.delivered.length, 5);
      assert.equal(a.delivered.length + b.delivered.length - 5, left.unansweredDelivered, 'the repeats predicted');
    } finally {
      sink.stop();
      a.source.stop();
      b.source.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const acknowledgements of [false, true]) {
    it(`a stuck downstream at the kill: ${acknowledgements ? 'with acknowledgements the batch is resent, nothing lost' : 'without acknowledgements the answered batch is lost'}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vlink-'));
      const [a, b] = [new Pod('a', acknowledgements), new Pod('b')];
      a.stuck = true;
      const { sink, route } = await link([a, b], dir);
      try {
        for (const e of events(5)) sink.accept(e);
        sink.tick();
        await eventually('5 events held by a', () => a.held.length === 5);
        await sleep(20);
        const left = a.source.leftover();
        route.to = 1;
        a.source.close();
        await sleep(50);
        await eventually('sender idle', () => sink.idle);
        if (acknowledgements) {
          assert.deepEqual([left.unansweredBatches, left.answeredUndelivered], [1, 0]);
          assert.equal(b.delivered.length, 5, 'resent and delivered by b');
        } else {
          assert.deepEqual([left.unansweredBatches, left.answeredUndelivered], [0, 5]);
          assert.equal(b.delivered.length, 0, 'the sender dropped the answered batch: lost');
        }
      } finally {
        sink.stop();
        a.source.stop();
        b.source.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
