/**
 * One simulated `kubernetes_logs` source: three watches, Vector's paths provider, the file server, CRI parsing and
 * pod annotation, and the checkpoint writer.
 *
 * Invariants:
 * - Exactly three watch connections while running: pods (field-selected on this node plus `extra_field_selector`,
 *   label-selected by `vector.dev/exclude!=true` plus `extra_label_selector`), namespaces (`vector.dev/exclude!=true`
 *   plus `extra_namespace_label_selector`) and this node. They are what the stand-in's watch counter measures.
 * - Paths come from the pod store as Vector builds them: `/var/log/pods/<ns>_<name>_<uid>/*\/*.log*`, skipping pods
 *   whose namespace is not in the namespace store (that is how the namespace selector filters), containers listed in
 *   `vector.dev/exclude-containers`, and the exclude globs (default `**\/*.gz`, `**\/*.tmp`). A deleted pod stays
 *   listed for `delay_deletion_ms` (scaled).
 * - Checkpoints are written every glob cooldown, the first one cooldown after start, and once more at shutdown
 *   (by the event path, buffers.ts). They hold what was mapped, not what was delivered: `map` moves the checkpoint
 *   before the event is routed or buffered (`vector@v0.48.0:src/sources/kubernetes_logs/mod.rs:908`).
 */
import { readdirSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { standReflector } from '../common/reflector.ts';
import type { Reflector } from '../../src/kube/reflector.ts';
import { Checkpointer } from './checkpointer.ts';
import type { FingerprintKey } from '../../src/vector/checkpoints.ts';
import { FileServer, type WatchedFile } from './file-server.ts';
import type { KubernetesLogsConfig } from './topology.ts';
import { annotateEvent, type PodInfo } from './annotate.ts';
import type { SimEvent } from './vrl.ts';
import type { StandLog } from '../common/log.ts';

export interface SourceContext {
  kc: k8s.KubeConfig;
  nodeName: string;
  /** Container path -> node path. */
  mapPath: (p: string) => string;
  dataDir: string;
  /** Multiplies Vector's own durations (cooldown, expiry, deletion delay). */
  timeScale: number;
  readIntervalMs: number;
  /** The file server's send into the source's channel (buffers.ts); false = full, the file server waits. */
  offer: (sourceId: string, line: SourceLine) => boolean;
  /** The sinks an event reaches (the topology's routes). */
  route: (sourceId: string, event: SimEvent) => string[];
  /** Records the deliveries made so far. */
  flushDeliveries: () => void;
  /** Failed lists and watches, with their cause (they are retried). */
  log?: StandLog;
}

/** A line read by the file server, waiting in the source's channel to be mapped. */
export interface SourceLine {
  text: string;
  file: WatchedFile;
  endOffset: bigint;
}

interface WatchedPod extends PodInfo {
  excludedContainers: Set<string>;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function pick(map: Record<string, string> | undefined, key: string): Record<string, string> | undefined {
  const v = map?.[key];
  return v === undefined ? undefined : { [key]: v };
}

function withExclude(extra: string): string {
  return extra === '' ? 'vector.dev/exclude!=true' : `vector.dev/exclude!=true,${extra}`;
}

/** Per exclude-containers annotation: listed pod -> its slim copy, shared by the sources that listed the same reply. */
const slimmed = new Map<string, WeakMap<k8s.V1Pod, k8s.V1Pod>>();
/** Slim pod -> the paths provider's view of it, shared likewise. */
const watchedOf = new WeakMap<k8s.V1Pod, WatchedPod>();

/**
 * Every source caches every pod of the node (that is the cost the optimization removes); it keeps only what the
 * paths provider and the annotator read. Sources of one agent that decoded the same list (kube-http.ts) share the
 * copies, which nobody mutates: a thousand sources then hold one node's pods once, not a thousand times.
 */
function slimPod(pod: k8s.V1Pod, annotation: string): k8s.V1Pod {
  let cache = slimmed.get(annotation);
  if (cache === undefined) slimmed.set(annotation, (cache = new WeakMap()));
  const hit = cache.get(pod);
  if (hit !== undefined) return hit;
  const m = pod.metadata;
  const slim: k8s.V1Pod = {
    metadata: {
      name: m?.name,
      namespace: m?.namespace,
      uid: m?.uid,
      resourceVersion: m?.resourceVersion,
      labels: m?.labels,
      annotations: pick(m?.annotations, annotation),
    },
    spec: { nodeName: pod.spec?.nodeName, containers: [] },
  };
  cache.set(pod, slim);
  return slim;
}

const CRI = /^(\S+) (stdout|stderr) ([PF]) ?(.*)$/s;

export class KubernetesLogsSource {
  readonly config: KubernetesLogsConfig;
  private readonly ctx: SourceContext;
  private readonly pods: Reflector<k8s.V1Pod>;
  private readonly namespaces: Reflector<k8s.V1Namespace>;
  private readonly nodes: Reflector<k8s.V1Node>;
  private readonly byUid = new Map<string, WatchedPod>();
  /** Namespace -> uids of `byUid` in it: the paths provider visits the listed namespaces' pods only. */
  private readonly byNs = new Map<string, Set<string>>();
  private readonly deletedUntil = new Map<string, number>();
  private readonly partial = new Map<FingerprintKey, string>();
  /** Node path -> the container path Vector sees (`/var/log/pods/...`), as listed by the paths provider. */
  private readonly containerPaths = new Map<string, string>();
  readonly checkpointer: Checkpointer;
  private readonly server: FileServer;
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];
  private timers: NodeJS.Timeout[] = [];
  private discovering = false;

  constructor(config: KubernetesLogsConfig, ctx: SourceContext) {
    this.config = config;
    this.ctx = ctx;
    const podFields = [`spec.nodeName=${ctx.nodeName}`, config.extraFieldSelector].filter((s) => s !== '').join(',');
    const podLabels = withExclude(config.extraLabelSelector);
    this.pods = standReflector<k8s.V1Pod>({
      kc: ctx.kc,
      path: '/api/v1/pods',
      fieldSelector: podFields,
      labelSelector: podLabels,
      slim: (pod) => slimPod(pod, config.excludeContainersAnnotation),
      onChange: (type, pod) => {
        this.podChanged(type, pod);
      },
      log: ctx.log,
    });
    const nsLabels = withExclude(config.extraNamespaceLabelSelector);
    this.namespaces = standReflector<k8s.V1Namespace>({
      kc: ctx.kc,
      path: '/api/v1/namespaces',
      labelSelector: nsLabels,
      log: ctx.log,
    });
    const nodeFields = `metadata.name=${ctx.nodeName}`;
    this.nodes = standReflector<k8s.V1Node>({
      kc: ctx.kc,
      path: '/api/v1/nodes',
      fieldSelector: nodeFields,
      log: ctx.log,
    });
    const base = config.dataDir ?? ctx.dataDir;
    this.checkpointer = new Checkpointer(ctx.mapPath(`${base.replace(/\/+$/, '')}/${config.id}`), this.scaled(60_000));
    this.include = config.includeGlobs.map(globToRegExp);
    this.exclude = config.excludeGlobs.map(globToRegExp);
    const ignoreBeforeMs =
      config.ignoreOlderSecs === undefined ? undefined : Date.now() - this.scaled(config.ignoreOlderSecs * 1000);
    this.server = new FileServer({
      checkpointer: this.checkpointer,
      paths: () => this.paths(),
      onLine: (line, file, endOffset) => this.ctx.offer(config.id, { text: line.toString('utf8'), file, endOffset }),
      ignoreBeforeMs,
      fingerprint: config.fingerprint,
    });
  }

  private scaled(ms: number): number {
    return Math.max(1, Math.round(ms * this.ctx.timeScale));
  }

  get cooldownMs(): number {
    return Math.max(10, this.scaled(this.config.globCooldownMs));
  }

  private podChanged(type: 'add' | 'update' | 'delete', pod: k8s.V1Pod): void {
    const m = pod.metadata ?? {};
    const uid = m.uid ?? '';
    if (type === 'delete') {
      this.deletedUntil.set(uid, Date.now() + this.scaled(this.config.delayDeletionMs));
      return;
    }
    this.deletedUntil.delete(uid);
    const ns = m.namespace ?? '';
    let uids = this.byNs.get(ns);
    if (uids === undefined) this.byNs.set(ns, (uids = new Set()));
    uids.add(uid);
    let watched = watchedOf.get(pod);
    if (watched === undefined) {
      const excluded = (m.annotations?.[this.config.excludeContainersAnnotation] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      watched = {
        ns,
        name: m.name ?? '',
        uid,
        labels: m.labels ?? {},
        excludedContainers: new Set(excluded),
        node: pod.spec?.nodeName ?? '',
      };
      watchedOf.set(pod, watched);
    }
    this.byUid.set(uid, watched);
  }

  async start(): Promise<void> {
    const ignoreBeforeNs =
      this.config.ignoreOlderSecs === undefined
        ? undefined
        : BigInt(Date.now() - this.scaled(this.config.ignoreOlderSecs * 1000)) * 1_000_000n;
    this.checkpointer.load(ignoreBeforeNs);
    await Promise.all([this.pods.start(), this.namespaces.start(), this.nodes.start()]);
    await this.server.discover();
    this.timers.push(
      setInterval(() => {
        void this.discoverOnce();
      }, this.cooldownMs),
      setInterval(() => {
        this.checkpointer.write();
      }, this.cooldownMs),
      setInterval(() => {
        this.readSome();
      }, this.ctx.readIntervalMs),
    );
  }

  private async discoverOnce(): Promise<void> {
    if (this.discovering) return;
    this.discovering = true;
    try {
      await this.server.discover();
    } finally {
      this.discovering = false;
    }
  }

  /** Read passes until the files are drained or a budget is spent, so one timer tick stays short. */
  readSome(): void {
    let consumed = 0;
    for (let i = 0, n = 1; i < 32 && n > 0; i++) consumed += n = this.server.readPass();
    // Delivered lines are recorded promptly, so observers need not wait for the next checkpoint write.
    if (consumed > 0) this.ctx.flushDeliveries();
  }

  /**
   * Shutdown reaches the source: no more reads, discovery or periodic writes (the checkpoint writer task ends without
   * writing; the final write is the file server's, through the event path).
   */
  stopReading(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Closes the files and the watches. */
  async close(): Promise<void> {
    this.stopReading();
    this.server.close();
    await Promise.all([this.pods.stop(), this.namespaces.stop(), this.nodes.stop()]);
  }

  /** Container paths, filtered like Vector's K8sPathsProvider; returned as node paths. */
  private paths(): string[] {
    const now = Date.now();
    const out: string[] = [];
    // Rebuilt each cycle; a watcher's path is always one listed by an earlier cycle, the mapping only grows stale.
    if (this.containerPaths.size > 100_000) this.containerPaths.clear();
    for (const [uid, until] of this.deletedUntil) {
      if (until <= now) {
        this.deletedUntil.delete(uid);
        this.forget(uid);
      }
    }
    for (const p of this.candidatePods()) {
      const dir = `/var/log/pods/${p.ns}_${p.name}_${p.uid}`;
      let containers: string[];
      try {
        containers = readdirSync(this.ctx.mapPath(dir));
      } catch {
        continue;
      }
      for (const c of containers) {
        if (p.excludedContainers.has(c)) continue;
        let files: string[];
        try {
          files = readdirSync(this.ctx.mapPath(`${dir}/${c}`));
        } catch {
          continue;
        }
        for (const f of files) {
          if (!f.includes('.log')) continue;
          const path = `${dir}/${c}/${f}`;
          if (!this.include.some((r) => r.test(path)) || this.exclude.some((r) => r.test(path))) continue;
          const nodePath = this.ctx.mapPath(path);
          this.containerPaths.set(nodePath, path);
          out.push(nodePath);
        }
      }
    }
    return out;
  }

  private forget(uid: string): void {
    const p = this.byUid.get(uid);
    this.byUid.delete(uid);
    if (p === undefined) return;
    const uids = this.byNs.get(p.ns);
    uids?.delete(uid);
    if (uids?.size === 0) this.byNs.delete(p.ns);
  }

  /**
   * The pods whose paths are listed: with namespace fields, those of namespaces in the namespace store (that is how
   * the namespace selector filters), else all. Visiting the listed namespaces rather than every pod of the node gives
   * the same pods; it matters when each of a thousand sources holds the node's pods and the cycle is scaled to 200 ms.
   */
  private *candidatePods(): Generator<WatchedPod> {
    if (!this.config.insertNamespaceFields) {
      yield* this.byUid.values();
      return;
    }
    for (const ns of this.namespaces.keys()) {
      for (const uid of this.byNs.get(ns) ?? []) {
        const p = this.byUid.get(uid);
        if (p !== undefined) yield p;
      }
    }
  }

  /**
   * The source's `map`: the checkpoint moves past the line first, then CRI parsing, partial merge and annotation;
   * returns the routed event, or undefined when the line yields none.
   */
  map(line: SourceLine): { event: SimEvent; sinks: string[] } | undefined {
    const { file } = line;
    this.checkpointer.update(file.fingerprint, line.endOffset);
    const m = CRI.exec(line.text);
    // Vector's CRI parser drops a line it cannot parse (and logs an error).
    if (m === null) return undefined;
    const [, timestamp, stream, tag, text] = m as unknown as [string, string, string, string, string];
    if (tag === 'P') {
      // A partial line is merged with what follows; its checkpoint has moved all the same.
      this.partial.set(file.fpKey, (this.partial.get(file.fpKey) ?? '') + text);
      return undefined;
    }
    const message = (this.partial.get(file.fpKey) ?? '') + text;
    this.partial.delete(file.fpKey);
    const path = this.containerPaths.get(file.path) ?? file.path;
    const event = annotateEvent(this.config, { message, stream, timestamp }, path, this.podOfPath(path));
    return { event, sinks: this.ctx.route(this.config.id, event) };
  }

  private podOfPath(path: string): WatchedPod | undefined {
    const m = /\/var\/log\/pods\/[^/_]+_[^/_]+_([^/_]+)\//.exec(path);
    return m === null ? undefined : this.byUid.get(m[1] as string);
  }
}
