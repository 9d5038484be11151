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
 * - A stuck sink (listed in the control file) refuses events, and the source feeding it stops reading: Vector's
 *   backpressure with a zero-length buffer.
 * - `stop()` is SIGTERM: every source writes its checkpoints a last time, deliveries are flushed, watches closed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { DeliveryLog, lineId } from './deliveries.ts';
import { KubernetesLogsSource } from './kubernetes-logs.ts';
import { buildTopology, readConfigDir, type Topology } from './topology.ts';
import type { SimEvent } from './vrl.ts';

export interface SimTiming {
  /** Factor applied to Vector's durations: glob cooldown / checkpoint flush (60 s), expiry (60 s), deletion delay. */
  timeScale: number;
  /** Interval between read passes. */
  readIntervalMs: number;
}

export const defaultTiming: SimTiming = { timeScale: 1 / 300, readIntervalMs: 10 };

export interface SimOptions {
  kc: k8s.KubeConfig;
  /** The config dir, as a node path. */
  configDir: string;
  nodeName: string;
  mapPath: (containerPath: string) => string;
  deliveriesFile: string;
  /** JSON `{"stuckSinks": [...]}`, re-read each cooldown; absent = nothing stuck. */
  controlFile?: string;
  watchConfig?: boolean;
  timing?: Partial<SimTiming>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
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
  private controlMtime = -1;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();

  private constructor(opts: SimOptions, topology: Topology, configText: string) {
    this.opts = opts;
    this.timing = { ...defaultTiming, ...opts.timing };
    this.deliveries = new DeliveryLog(opts.deliveriesFile);
    this.topology = topology;
    this.configText = configText;
  }

  static async start(opts: SimOptions): Promise<VectorSim> {
    const text = configFingerprint(opts.configDir);
    const sim = new VectorSim(opts, buildTopology(readConfigDir(opts.configDir)), text);
    sim.readControl();
    // Vector refuses to start when the data dir does not exist.
    const dataDir = opts.mapPath(sim.topology.dataDir);
    if (!existsSync(dataDir)) throw new Error(`data_dir ${sim.topology.dataDir} does not exist`);
    await Promise.all(sim.topology.sources.map((s) => sim.startSource(s)));
    const cooldown = Math.max(10, Math.round(60_000 * sim.timing.timeScale));
    sim.timer = setInterval(() => {
      sim.readControl();
      if (opts.watchConfig === true) sim.reloading = sim.reloading.then(() => sim.maybeReload());
    }, cooldown);
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
      deliver: (id, e) => this.deliver(id, e),
      flushDeliveries: () => {
        this.deliveries.flush();
      },
      log: (msg, fields) => this.opts.log?.(msg, { source: config.id, ...fields }),
    });
    this.sources.set(config.id, source);
    await source.start();
  }

  private deliver(sourceId: string, event: SimEvent): boolean {
    const sinks = this.topology.route(sourceId, event);
    if (sinks.some((s) => this.stuck.has(s))) return false;
    const id = lineId(event.message);
    for (const s of sinks) this.deliveries.add(s, id);
    return true;
  }

  private readControl(): void {
    const f = this.opts.controlFile;
    if (f === undefined) return;
    try {
      const m = statSync(f).mtimeMs;
      if (m === this.controlMtime) return;
      this.controlMtime = m;
      const doc = JSON.parse(readFileSync(f, 'utf8')) as { stuckSinks?: string[] };
      this.stuck = new Set(doc.stuckSinks ?? []);
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
    await Promise.all(stopping.map(([, s]) => s.stop()));
    for (const [id] of stopping) this.sources.delete(id);
    this.topology = next;
    const starting = next.sources.filter((s) => !this.sources.has(s.id));
    await Promise.all(starting.map((s) => this.startSource(s)));
    this.opts.log?.('config reloaded', { stopped: stopping.map(([id]) => id), started: starting.map((s) => s.id) });
  }

  /** SIGTERM: final checkpoint writes and delivery flush. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.reloading;
    await Promise.all([...this.sources.values()].map((s) => s.stop()));
    this.deliveries.flush();
  }
}
