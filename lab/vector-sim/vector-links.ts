/**
 * One simulator's `vector` sources and sinks, between the topology (buffers.ts) and the pod network: what an
 * aggregator receives and what an agent ships.
 *
 * Invariants:
 * - An event received by a `vector` source is mapped like a read line (it enters the topology through the source's
 *   channel, routed by the topology); its batch learns of each delivery, for acknowledgements and the shutdown record.
 * - A `vector` sink takes an event when the topology delivers to it; it is stuck (the topology buffers and then
 *   holds) while its next batch is full.
 * - The shutdown record counts each event once, by who will deliver it (`adjust`): an agent's unanswered batches
 *   are lost with it; an aggregator's events of answered batches not delivered are lost, those of unanswered batches
 *   come again (and count as repeated when already delivered).
 */
import type * as k8s from '@kubernetes/client-node';
import type { Leftover, Routed } from './buffers.ts';
import type { SourceLine } from './kubernetes-logs.ts';
import type { Topology } from './topology.ts';
import { VectorSink, type VectorSinkFigures } from './vector-sink.ts';
import { VectorSource, type ReceivedBatch, type Received, type ReceivedLeftover } from './vector-source.ts';
import type { SimEvent } from './vrl.ts';
import type { StandLog } from '../common/log.ts';

export type PathLine = SourceLine | Received;

export interface LinksContext {
  kc: k8s.KubeConfig;
  /** The pod network (pod-network.ts); undefined = a simulator without one refuses `vector` components. */
  netDir: string | undefined;
  podIP: string;
  namespace: string;
  timeScale: number;
  batchEvents: number;
  tickMs: number;
  offer: (sourceId: string, r: Received) => boolean;
  log?: StandLog;
}

/** What a shutdown window left in `vector` sources and sinks. */
export interface LinksRecord {
  received?: ReceivedLeftover & { requests: number; refused: number };
  sent?: VectorSinkFigures & { pending: number };
}

export class VectorLinks {
  private readonly sources = new Map<string, VectorSource>();
  private readonly sinks = new Map<string, VectorSink>();
  private readonly batchOf = new WeakMap<SimEvent, ReceivedBatch>();
  private readonly ctx: LinksContext;

  constructor(topology: Topology, ctx: LinksContext) {
    this.ctx = ctx;
    const any = topology.vectorSources.length + topology.vectorSinks.length > 0;
    if (any && ctx.netDir === undefined) throw new Error('vector sources and sinks need the pod network');
    const netDir = ctx.netDir ?? '';
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, ctx.tickMs));
    for (const c of topology.vectorSources) this.sources.set(c.id, new VectorSource(c, { offer: ctx.offer, tick }));
    for (const c of topology.vectorSinks)
      this.sinks.set(
        c.id,
        new VectorSink(c, {
          kc: ctx.kc,
          netDir,
          namespace: ctx.namespace,
          timeScale: ctx.timeScale,
          batchEvents: ctx.batchEvents,
          minTimeoutMs: 10_000,
          ...(ctx.log === undefined ? {} : { log: ctx.log }),
        }),
      );
  }

  async start(): Promise<void> {
    for (const s of this.sources.values()) await s.start(this.ctx.netDir ?? '', this.ctx.podIP);
  }

  get sourceIds(): ReadonlySet<string> {
    return new Set(this.sources.keys());
  }

  /** The topology's map of a received event; undefined when `line` is a read line. */
  map(line: PathLine, route: (id: string, e: SimEvent) => string[], sourceId: string): Routed<SimEvent> | undefined {
    if (!('batch' in line)) return undefined;
    const sinks = route(sourceId, line.event);
    line.batch.mapped++;
    line.batch.routed += sinks.length;
    this.batchOf.set(line.event, line.batch);
    return { event: line.event, sinks };
  }

  stuck(sink: string): boolean {
    return this.sinks.get(sink)?.full === true;
  }

  /** Takes a delivery: into a `vector` sink (true), or only counted for its batch (false: record it). */
  deliver(sink: string, e: SimEvent): boolean {
    const batch = this.batchOf.get(e);
    if (batch !== undefined) batch.delivered++;
    const s = this.sinks.get(sink);
    if (s === undefined) return false;
    s.accept(e);
    return true;
  }

  tick(flush = false): void {
    for (const s of this.sinks.values()) s.tick(flush);
    for (const s of this.sources.values()) s.prune();
  }

  /** SIGTERM: the sources refuse new requests and finish those in flight. */
  shutdown(): void {
    for (const s of this.sources.values()) s.stop();
  }

  get idle(): boolean {
    for (const s of this.sources.values()) if (!s.idle) return false;
    for (const s of this.sinks.values()) if (!s.idle) return false;
    return true;
  }

  /** The topology's leftover with received events counted by who will deliver them, and the links' figures. */
  adjust(left: Leftover): Leftover & LinksRecord {
    const out: Leftover & LinksRecord = { ...left };
    if (this.sources.size > 0) {
      const r = {
        answeredUndelivered: 0,
        unansweredBatches: 0,
        unansweredDelivered: 0,
        mappedUndelivered: 0,
        unmapped: 0,
      };
      let requests = 0;
      let refused = 0;
      for (const s of this.sources.values()) {
        const l = s.leftover();
        for (const k of Object.keys(r) as (keyof typeof r)[]) r[k] += l[k];
        requests += s.requests;
        refused += s.refused;
      }
      out.lostEvents += r.answeredUndelivered - r.mappedUndelivered;
      out.unmappedLines -= r.unmapped;
      out.received = { ...r, requests, refused };
    }
    if (this.sinks.size > 0) {
      const sent = { requests: 0, retries: {} as Record<string, number>, pending: 0 };
      for (const s of this.sinks.values()) {
        sent.requests += s.figures.requests;
        sent.pending += s.pending;
        for (const [k, v] of Object.entries(s.figures.retries)) sent.retries[k] = (sent.retries[k] ?? 0) + v;
      }
      out.lostEvents += sent.pending;
      out.sent = sent;
    }
    return out;
  }

  close(): void {
    for (const s of this.sources.values()) s.close();
    for (const s of this.sinks.values()) s.stop();
  }
}
