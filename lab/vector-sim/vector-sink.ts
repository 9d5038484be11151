/**
 * Vector's `vector` sink (the agent's side of agent -> aggregator): it batches events and sends each batch to the
 * address's Service (pod-network.ts), one request at a time, retrying until the batch is answered.
 *
 * What Vector does (vector@v0.48.0 `src/sinks/vector/config.rs`, `service.rs`, `src/sinks/util/retries.rs`): a
 * batch is sent when it is full or `batch.timeout_secs` (1 s) after its first event; a failed request (refused or
 * reset connection, `Unavailable`, a timeout after `request.timeout_secs`, 60 s) is retried without limit, with a
 * backoff from 1 s growing to 30 s. The sink forgets a batch only when it is answered. While a batch waits, the next
 * one fills, then the sink's buffer, then the topology holds the source: backpressure (buffers.ts).
 *
 * Invariants:
 * - At most one request in flight, and a batch is resent whole until it is answered: nothing is dropped while the
 *   sink runs, and a batch the receiver took but did not answer is sent again (the receiver's duplicates).
 * - A connection lives until it fails or the receiver closes it; only a new connection resolves the Service again,
 *   so a sender stays on a pod until that pod closes its connection (conntrack), as through kube-proxy.
 * - The request timeout is Vector's 60 s on the stand's clock, but never below `minTimeoutMs`: a loaded stand
 *   machine can take longer than the scaled 200 ms to answer, which no real aggregator's 60 s would see.
 */
import { Agent, request as httpRequest } from 'node:http';
import type * as k8s from '@kubernetes/client-node';
import { parseServiceAddress, resolveBackend, type Backend } from './pod-network.ts';
import type { SimEvent } from './vrl.ts';
import type { StandLog } from '../common/log.ts';

export interface VectorSinkConfig {
  id: string;
  address: string;
}

export interface VectorSinkContext {
  kc: k8s.KubeConfig;
  netDir: string;
  /** The sender's namespace, for a short Service name. */
  namespace: string;
  timeScale: number;
  /** Events per batch (Vector's are bounded by bytes, 10 MB; the stand scales its volumes down). */
  batchEvents: number;
  minTimeoutMs: number;
  /** Where a new connection goes; by default the Service's endpoints (pod-network.ts). */
  resolve?: () => Promise<Backend | undefined>;
  log?: StandLog;
}

export interface VectorSinkFigures {
  requests: number;
  /** Failed attempts, each retried: by cause. */
  retries: Record<string, number>;
}

const vectorBatchTimeoutSecs = 1;
const vectorRequestTimeoutSecs = 60;
const vectorRetryInitialSecs = 1;
const vectorRetryMaxSecs = 30;

export class VectorSink {
  readonly config: VectorSinkConfig;
  private readonly ctx: VectorSinkContext;
  private readonly target: { service: string; namespace: string; port: number };
  private next: SimEvent[] = [];
  private firstAt: number | undefined;
  private inFlight: SimEvent[] | undefined;
  private backend: Backend | undefined;
  private agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private stopped = false;
  readonly figures: VectorSinkFigures = { requests: 0, retries: {} };

  constructor(config: VectorSinkConfig, ctx: VectorSinkContext) {
    this.config = config;
    this.ctx = ctx;
    const t = parseServiceAddress(config.address, ctx.namespace);
    if (typeof t === 'string') throw new Error(`sink '${config.id}': ${t}`);
    this.target = t;
  }

  private scaled(secs: number): number {
    return secs * 1000 * this.ctx.timeScale;
  }

  /** Takes an event into the next batch. */
  accept(e: SimEvent): void {
    this.next.push(e);
    this.firstAt ??= Date.now();
  }

  /** The next batch is full while one is in flight: the sink takes nothing more (its buffer fills). */
  get full(): boolean {
    return this.next.length >= this.ctx.batchEvents;
  }

  /** Nothing waits to be sent or answered. */
  get idle(): boolean {
    return this.inFlight === undefined && this.next.length === 0;
  }

  /** Events taken and not yet answered: lost if the sender stops now. */
  get pending(): number {
    return (this.inFlight?.length ?? 0) + this.next.length;
  }

  /** Sends the next batch when no request is in flight and it is full, timed out, or `flush` (a shutdown drain). */
  tick(flush = false): void {
    if (this.inFlight !== undefined || this.next.length === 0 || this.stopped) return;
    const due = this.full || flush || Date.now() - (this.firstAt ?? 0) >= this.scaled(vectorBatchTimeoutSecs);
    if (!due) return;
    const batch = this.next.splice(0, this.ctx.batchEvents);
    this.firstAt = this.next.length > 0 ? Date.now() : undefined;
    this.inFlight = batch;
    void this.send(batch);
  }

  private async send(batch: SimEvent[]): Promise<void> {
    let backoff = this.scaled(vectorRetryInitialSecs);
    let prev = 0;
    while (!this.stopped) {
      this.figures.requests++;
      const failure = await this.attempt(batch);
      if (failure === undefined) {
        this.inFlight = undefined;
        this.tick();
        return;
      }
      this.figures.retries[failure] = (this.figures.retries[failure] ?? 0) + 1;
      this.ctx.log?.('vector sink request failed; retrying', { sink: this.config.id, failure });
      await new Promise((r) => setTimeout(r, backoff));
      // Fibonacci, as Vector's retry policy grows, capped at 30 s.
      [prev, backoff] = [backoff, Math.min(this.scaled(vectorRetryMaxSecs), backoff + prev)];
    }
  }

  /** One request; undefined when answered, else the cause of the failure. */
  private async attempt(batch: SimEvent[]): Promise<string | undefined> {
    let backend = this.backend;
    if (backend === undefined) {
      try {
        backend = await (this.ctx.resolve?.() ?? resolveBackend(this.ctx.kc, this.ctx.netDir, this.target));
      } catch {
        return 'service lookup failed';
      }
      if (backend === undefined) return 'no ready endpoint';
      this.backend = backend;
    }
    const body = JSON.stringify(batch);
    const timeoutMs = Math.max(this.ctx.minTimeoutMs, this.scaled(vectorRequestTimeoutSecs));
    const outcome = await new Promise<string | undefined>((resolve) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: backend.realPort,
          method: 'POST',
          path: '/vector.Vector/PushEvents',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            resolve(res.statusCode === 200 ? undefined : `status ${String(res.statusCode)}`);
          });
          res.on('error', () => {
            resolve('reset');
          });
        },
      );
      req.on('socket', (s) => {
        // The receiver closed the connection: the next request opens a new one, through the Service again.
        s.once('close', () => {
          if (this.backend === backend) this.backend = undefined;
        });
      });
      req.on('timeout', () => {
        req.destroy(new Error('timeout'));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        resolve(err.message === 'timeout' ? 'timeout' : (err.code ?? 'reset'));
      });
      req.end(body);
    });
    if (outcome !== undefined) {
      this.backend = undefined;
      this.agent.destroy();
      this.agent = new Agent({ keepAlive: true, maxSockets: 1 });
    }
    return outcome;
  }

  /** A kill: stop sending; what is pending is lost. */
  stop(): void {
    this.stopped = true;
    this.agent.destroy();
  }
}
