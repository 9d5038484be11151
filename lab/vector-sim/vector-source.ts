/**
 * Vector's `vector` source (the aggregator's side of agent -> aggregator): it receives batches from `vector` sinks
 * and sends them into the topology. Vector serves this over gRPC (`PushEvents`); the stand serves one JSON request
 * per batch over HTTP/1.1 keep-alive, which has the same request/response and connection semantics that decide
 * what is delivered, repeated or lost.
 *
 * What Vector does (vector@v0.48.0 `src/sources/vector/mod.rs`, `src/sources/util/grpc/mod.rs`):
 * - A request's events go into the source's output with `send_batch`, which waits while the topology is full
 *   (backpressure). Without acknowledgements the response is sent once every event is in: the sender then drops the
 *   batch, so events still buffered here are this pod's to deliver. With `acknowledgements` the response waits until
 *   the sinks delivered the batch.
 * - At SIGTERM the gRPC server shuts down gracefully: it accepts no new connection or request (the sender is told to
 *   go elsewhere: gRPC `Unavailable`, here 503) and lets the requests in flight finish; then the topology drains.
 * - A request whose sender gave up (timeout, reset) stops sending; what it sent stays in the topology.
 *
 * Invariants:
 * - A batch is answered at most once, after all its events entered the topology (and, with acknowledgements, after
 *   they were all delivered); a batch whose connection closed first is never answered, and its sender sends it again.
 * - `leftover()` splits what a stopped source leaves by who will deliver it: events of answered batches not delivered
 *   are lost (the sender dropped them); events of unanswered batches will come again, and those of them already
 *   delivered will be delivered twice.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { publishPort } from './pod-network.ts';
import type { SimEvent } from './vrl.ts';

export interface VectorSourceConfig {
  id: string;
  /** The port of `address` (the pod's port, which the Service targets). */
  port: number;
  acknowledgements: boolean;
}

/** One received batch, followed through the topology. */
export interface ReceivedBatch {
  size: number;
  /** Events sent into the topology (the source's channel). */
  accepted: number;
  /** Events the topology took out of the channel, and the sink deliveries they were routed to. */
  mapped: number;
  routed: number;
  delivered: number;
  answered: boolean;
  /** The sender's connection closed before the answer: it sends the batch again. */
  abandoned: boolean;
}

/** An event as it waits in the source's channel: the event and its batch. */
export interface Received {
  event: SimEvent;
  batch: ReceivedBatch;
}

export interface VectorSourceHooks {
  /** Into the topology; false = full, try again later (send_batch waits). */
  offer(sourceId: string, r: Received): boolean;
  /** One turn of the topology's clock. */
  tick(): Promise<void>;
}

export interface ReceivedLeftover {
  /** Events of answered batches never delivered (per sink delivery, and per event still in the channel). */
  answeredUndelivered: number;
  unansweredBatches: number;
  /** Deliveries of events in unanswered batches: their sender sends them again. */
  unansweredDelivered: number;
  /** Of the topology's leftover: routed deliveries not made, and events still in the channel, of every batch. */
  mappedUndelivered: number;
  unmapped: number;
}

export class VectorSource {
  readonly config: VectorSourceConfig;
  private readonly hooks: VectorSourceHooks;
  private readonly server: Server;
  private readonly batches = new Set<ReceivedBatch>();
  private inFlight = 0;
  private stopping = false;
  requests = 0;
  refused = 0;

  constructor(config: VectorSourceConfig, hooks: VectorSourceHooks) {
    this.config = config;
    this.hooks = hooks;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
  }

  /** Listens on a loopback port and publishes it as `<podIP>:<port>` on the pod network. */
  async start(netDir: string, podIP: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        resolve();
      });
    });
    publishPort(netDir, podIP, this.config.port, (this.server.address() as AddressInfo).port);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.stopping) {
      this.refused++;
      res.writeHead(503, { connection: 'close' }).end('{"code":"Unavailable"}');
      return;
    }
    this.inFlight++;
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const events = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SimEvent[];
      this.requests++;
      const batch: ReceivedBatch = {
        size: events.length,
        accepted: 0,
        mapped: 0,
        routed: 0,
        delivered: 0,
        answered: false,
        abandoned: false,
      };
      this.batches.add(batch);
      res.on('close', () => {
        if (!batch.answered) batch.abandoned = true;
      });
      for (const event of events) {
        while (!batch.abandoned && !this.hooks.offer(this.config.id, { event, batch })) await this.hooks.tick();
        if (batch.abandoned) return;
        batch.accepted++;
      }
      while (
        this.config.acknowledgements &&
        !batch.abandoned &&
        (batch.mapped < batch.size || batch.delivered < batch.routed)
      )
        await this.hooks.tick();
      if (batch.abandoned) return;
      batch.answered = true;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } finally {
      this.inFlight--;
    }
  }

  /** SIGTERM: no new connection or request; the requests in flight go on. */
  stop(): void {
    this.stopping = true;
    this.server.close();
    this.server.closeIdleConnections();
  }

  /** Every request in flight has been answered or given up. */
  get idle(): boolean {
    return this.inFlight === 0;
  }

  /** Forgets batches that are over: answered (or abandoned) and with nothing left in the topology. */
  prune(): void {
    for (const p of this.batches)
      if ((p.answered || p.abandoned) && p.delivered >= p.routed && p.mapped >= p.accepted) this.batches.delete(p);
  }

  leftover(): ReceivedLeftover {
    const out = {
      answeredUndelivered: 0,
      unansweredBatches: 0,
      unansweredDelivered: 0,
      mappedUndelivered: 0,
      unmapped: 0,
    };
    for (const p of this.batches) {
      out.mappedUndelivered += p.routed - p.delivered;
      out.unmapped += p.accepted - p.mapped;
      if (p.answered) out.answeredUndelivered += p.routed - p.delivered + (p.accepted - p.mapped);
      else {
        out.unansweredBatches++;
        out.unansweredDelivered += p.delivered;
      }
    }
    return out;
  }

  /** Closes the listener and every connection (a kill, or after the drain). */
  close(): void {
    this.stopping = true;
    this.server.close();
    this.server.closeAllConnections();
  }
}
