/**
 * The Vector simulator: one agent's config, its kubernetes_logs sources, its topology and counting sinks.
 *
 * Invariants:
 * - Start fails (throws) on a config the simulator cannot run, naming the component, before any watch is opened or
 *   any checkpoint touched; a real Vector refuses such a config the same way.
 * - With `watchConfig` (Vector's --watch-config), a changed config is reloaded as Vector does: sources whose config
 *   is unchanged keep running (their checkpoints and positions untouched); removed or changed ones are stopped
 *   (final checkpoint write); new or changed ones start from their own checkpoint dir. A config that fails to load
 *   leaves the running one in place.
 * - Between the sources and the sinks lies Vector's event path (buffers.ts): a stuck sink (listed in the control
 *   file) fills its buffer, then the source stops reading; its checkpoint is ahead of delivery by what is buffered.
 * - `stop()` is SIGTERM (shutdown.ts): the sources stop reading, the file servers write their final checkpoints,
 *   and the buffers drain until they are empty, Vector's drain limit passes, or the pod's termination grace ends
 *   (the kubelet's SIGKILL, played here on the simulator's scaled clock). It returns what the window left undelivered;
 *   `close()` then closes the files and watches (not after a kill).
 * - Deliveries are recorded (flushed) after every read tick and pump, and before `stop()` returns.
 * - `vector` sources and sinks (vector-links.ts) ride the same event path: a received event enters it like a read
 *   line, and a `vector` sink is one the path delivers to. At SIGTERM the sources finish the requests in flight
 *   before the drain can end, and the sinks send what they hold.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { EventPath, type Leftover } from './buffers.ts';
import { DeliveryLog, lineId } from './deliveries.ts';
import { KubernetesLogsSource, type SourceLine } from './kubernetes-logs.ts';
import { drainWithin, kubernetesDefaultGraceSecs, type ShutdownOutcome } from './shutdown.ts';
import { vectorDrainLimitSecs } from '../../src/vector/shutdown.ts';
import { buildTopology, readConfigDir, type Topology } from './topology.ts';
import { VectorLinks, type LinksRecord, type PathLine } from './vector-links.ts';
import type { SimEvent } from './vrl.ts';
import type { StandLog } from '../common/log.ts';

export interface SimTiming {
  /** Factor applied to Vector's durations: glob cooldown / checkpoint flush (60 s), expiry (60 s), deletion delay. */
  timeScale: number;
  /** Interval between read passes. */
  readIntervalMs: number;
  /**
   * Events per sink buffer (Vector: 500) and lines per source channel. The stand scales them down with its volumes
   * (tens of lines per namespace and round), so that a backlog outgrows the buffer as a real one outgrows 500.
   */
  sinkBufferEvents: number;
  channelLines: number;
}

export const defaultTiming: SimTiming = {
  timeScale: 1 / 300,
  readIntervalMs: 10,
  sinkBufferEvents: 10,
  channelLines: 3,
};

/** The control file: sinks stuck now, and optionally how long after this agent's SIGTERM they accept again. */
interface Control {
  stuckSinks?: string[];
  /** Vector seconds after SIGTERM at which the stuck sinks recover (a stall that ends during the drain). */
  recoverAfterShutdownSecs?: number;
}

/** What the shutdown window did (Vector's seconds, unscaled). */
export interface ShutdownRecord extends Leftover, LinksRecord {
  outcome: ShutdownOutcome;
  afterSecs: number;
  drainLimitSecs: number | null;
  graceSecs: number;
  /** Lines mapped after their source's final checkpoint write: delivered, and read again after the restart. */
  mappedAfterFinalWrite: number;
}

export interface SimOptions {
  kc: k8s.KubeConfig;
  /** The config dir, as a node path. */
  configDir: string;
  nodeName: string;
  mapPath: (containerPath: string) => string;
  deliveriesFile: string;
  /** JSON `{"stuckSinks": [...], "recoverAfterShutdownSecs"?: n}`, re-read each cooldown; absent = nothing stuck. */
  controlFile?: string;
  watchConfig?: boolean;
  /** The pod network (pod-network.ts), the pod's IP and namespace: for `vector` sources and sinks. */
  net?: { dir: string; podIP: string; namespace: string };
  /** Vector's drain limit in seconds (undefined = none) and the pod's termination grace. */
  shutdown?: { drainLimitSecs: number | undefined; graceSecs: number };
  timing?: Partial<SimTiming>;
  log?: StandLog;
}

function configFingerprint(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .sort()
    .map((f) => `${f}\0${readFileSync(join(dir, f), 'utf8')}`)
    .join('\0');
}

export class VectorSim {
  private readonly opts: SimOptions;
  private readonly timing: SimTiming;
  private readonly deliveries: DeliveryLog;
  private topology: Topology;
  private configText: string;
  private readonly sources = new Map<string, KubernetesLogsSource>();
  private stuck = new Set<string>();
  private recoverAfterShutdownMs: number | undefined;
  private shutdownAt: number | undefined;
  private controlMtime = -1;
  private readonly path: EventPath<PathLine, SimEvent>;
  private readonly links: VectorLinks;
  private timer: NodeJS.Timeout | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();

  private constructor(opts: SimOptions, topology: Topology, configText: string) {
    this.opts = opts;
    this.timing = { ...defaultTiming, ...opts.timing };
    this.deliveries = new DeliveryLog(opts.deliveriesFile);
    this.topology = topology;
    this.configText = configText;
    this.links = new VectorLinks(topology, {
      kc: opts.kc,
      netDir: opts.net?.dir,
      podIP: opts.net?.podIP ?? '',
      namespace: opts.net?.namespace ?? '',
      timeScale: this.timing.timeScale,
      batchEvents: this.timing.sinkBufferEvents,
      tickMs: this.timing.readIntervalMs,
      offer: (id, r) => this.path.offer(id, r),
      ...(opts.log === undefined ? {} : { log: opts.log }),
    });
    this.path = new EventPath<PathLine, SimEvent>(
      { sinkEvents: this.timing.sinkBufferEvents, channelLines: this.timing.channelLines },
      {
        map: (id, line) =>
          this.links.map(line, (s, e) => this.topology.route(s, e), id) ??
          this.sources.get(id)?.map(line as SourceLine),
        stuck: (sink) => this.isStuck(sink) || this.links.stuck(sink),
        deliver: (sink, e) => {
          if (!this.links.deliver(sink, e)) this.deliveries.add(sink, lineId(e.message));
        },
        finalWrite: (id) => this.sources.get(id)?.checkpointer.write(),
      },
    );
  }

  private isStuck(sink: string): boolean {
    if (!this.stuck.has(sink)) return false;
    const r = this.recoverAfterShutdownMs;
    return r === undefined || this.shutdownAt === undefined || Date.now() - this.shutdownAt < r;
  }

  private scaledMs(secs: number): number {
    return secs * 1000 * this.timing.timeScale;
  }

  static async start(opts: SimOptions): Promise<VectorSim> {
    const text = configFingerprint(opts.configDir);
    const sim = new VectorSim(opts, buildTopology(readConfigDir(opts.configDir)), text);
    sim.readControl();
    // Vector refuses to start when the data dir does not exist.
    const dataDir = opts.mapPath(sim.topology.dataDir);
    if (!existsSync(dataDir)) throw new Error(`data_dir ${sim.topology.dataDir} does not exist`);
    await sim.links.start();
    await Promise.all(sim.topology.sources.map((s) => sim.startSource(s)));
    const cooldown = Math.max(10, Math.round(60_000 * sim.timing.timeScale));
    sim.timer = setInterval(() => {
      sim.readControl();
      if (opts.watchConfig === true) sim.reloading = sim.reloading.then(() => sim.maybeReload());
    }, cooldown);
    // Sinks that recovered take their buffers, and sources blocked behind them move on.
    sim.pumpTimer = setInterval(() => {
      sim.path.pump();
      sim.links.tick();
      sim.deliveries.flush();
    }, sim.timing.readIntervalMs);
    return sim;
  }

  get sourceIds(): string[] {
    return [...this.sources.keys()].sort();
  }

  private async startSource(config: Topology['sources'][number]): Promise<void> {
    const source = new KubernetesLogsSource(config, {
      kc: this.opts.kc,
      nodeName: this.opts.nodeName,
      mapPath: this.opts.mapPath,
      dataDir: this.topology.dataDir,
      timeScale: this.timing.timeScale,
      readIntervalMs: this.timing.readIntervalMs,
      offer: (id, line) => this.path.offer(id, line),
      route: (id, e) => this.topology.route(id, e),
      flushDeliveries: () => {
        this.deliveries.flush();
      },
      log: (msg, fields) => this.opts.log?.(msg, { source: config.id, ...fields }),
    });
    this.sources.set(config.id, source);
    await source.start();
  }

  private readControl(): void {
    const f = this.opts.controlFile;
    if (f === undefined) return;
    try {
      const m = statSync(f).mtimeMs;
      if (m === this.controlMtime) return;
      this.controlMtime = m;
      const doc = JSON.parse(readFileSync(f, 'utf8')) as Control;
      this.stuck = new Set(doc.stuckSinks ?? []);
      const r = doc.recoverAfterShutdownSecs;
      this.recoverAfterShutdownMs = typeof r === 'number' ? this.scaledMs(r) : undefined;
    } catch {
      if (this.controlMtime !== -1) this.stuck = new Set();
      this.controlMtime = -1;
    }
  }

  private async maybeReload(): Promise<void> {
    let text: string;
    let next: Topology;
    try {
      text = configFingerprint(this.opts.configDir);
      if (text === this.configText) return;
      next = buildTopology(readConfigDir(this.opts.configDir));
    } catch (err) {
      this.opts.log?.('config reload failed, keeping the running config', { error: (err as Error).message });
      return;
    }
    this.configText = text;
    const wanted = new Map(next.sources.map((s) => [s.id, s]));
    const dataDirChanged = next.dataDir !== this.topology.dataDir;
    const stopping = [...this.sources].filter(([id, s]) => dataDirChanged || wanted.get(id)?.raw !== s.config.raw);
    for (const [id, s] of stopping) {
      s.stopReading();
      this.path.removeSource(id);
    }
    await Promise.all(stopping.map(([, s]) => s.close()));
    for (const [id] of stopping) this.sources.delete(id);
    this.topology = next;
    const starting = next.sources.filter((s) => !this.sources.has(s.id));
    await Promise.all(starting.map((s) => this.startSource(s)));
    this.opts.log?.('config reloaded', { stopped: stopping.map(([id]) => id), started: starting.map((s) => s.id) });
  }

  /** SIGTERM: stop reading, final checkpoint writes, and the drain within the shutdown window. */
  async stop(): Promise<ShutdownRecord> {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.pumpTimer !== undefined) clearInterval(this.pumpTimer);
    await this.reloading;
    this.shutdownAt = Date.now();
    for (const s of this.sources.values()) s.stopReading();
    this.links.shutdown();
    this.path.shutdown(this.sources.keys(), this.links.sourceIds);
    const w = this.opts.shutdown ?? { drainLimitSecs: vectorDrainLimitSecs, graceSecs: kubernetesDefaultGraceSecs };
    const window = {
      drainLimitMs: w.drainLimitSecs === undefined ? undefined : this.scaledMs(w.drainLimitSecs),
      graceMs: this.scaledMs(w.graceSecs),
    };
    const clock = { now: () => Date.now(), sleep: (ms: number) => sleep(ms) };
    const { path, deliveries, links } = this;
    const pumpAndRecord = {
      pump(): void {
        path.pump();
        links.tick(true);
        deliveries.flush();
      },
      get idle(): boolean {
        return links.idle && path.idle;
      },
    };
    const r = await drainWithin(pumpAndRecord, window, clock, this.timing.readIntervalMs);
    this.deliveries.flush();
    return {
      outcome: r.outcome,
      afterSecs: Math.round(r.afterMs / this.timing.timeScale / 100) / 10,
      drainLimitSecs: w.drainLimitSecs ?? null,
      graceSecs: w.graceSecs,
      mappedAfterFinalWrite: this.path.mappedAfterFinalWrite,
      ...this.links.adjust(this.path.leftover()),
    };
  }

  /** After a drain or Vector's own forced stop: close the files and watches. */
  async close(): Promise<void> {
    this.links.close();
    await Promise.all([...this.sources.values()].map((s) => s.close()));
  }
}
