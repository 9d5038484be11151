/**
 * The log workload: pods in many namespaces whose containers write CRI lines, each with a unique id, into the real
 * node directories, rotated the kubelet way, with a ledger of what was written where.
 *
 * Invariants:
 * - Deterministic given the seed: pod names, placement on nodes, line counts, payloads, timestamps (a virtual clock)
 *   and rotation points. Only the pod uids (assigned by the API server) differ between runs.
 * - Every line carries `id=<ns>/<pod>/<seq>`; seq counts from 0 per pod and never repeats, so a delivered id
 *   identifies exactly one written line.
 * - The ledger knows, for each id, whether its file is still plain (re-readable by Vector), gzipped (excluded from
 *   discovery) or deleted: `retained()` is what a checkpoint-less source would read again.
 * - Namespaces carry `kubernetes.io/metadata.name` (the real API server adds it; the stand-in does not), and the
 *   workload's pods are ordinary pods bound to a node, so the kubelet and Vector's reflectors see them as real.
 */
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ContainerLog, type RotationEvent } from './cri-log.ts';

/** mulberry32: small, fast, and the same sequence on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadNode {
  name: string;
  /** The node's filesystem root; logs go to `<root>/var/log/pods/...`. */
  root: string;
}

export interface WorkloadOptions {
  seed: number;
  namespaces: readonly string[];
  podsPerNamespace: number;
  nodes: readonly WorkloadNode[];
  /** Rotate once the live file exceeds this (the kubelet's containerLogMaxSize, scaled down). */
  maxFileBytes?: number;
  /** The kubelet's containerLogMaxFiles. */
  maxFiles?: number;
  podLabels?: (ns: string, index: number) => Record<string, string>;
  /** Virtual clock start, ns since the epoch. */
  startNs?: bigint;
  /**
   * A Docker node (cri-dockerd): each container writes `/var/lib/docker/containers/<id>/<id>-json.log`, rotated
   * there, and the pod log dir holds only a link `0.log` to the live file (still in CRI format: the simulator parses
   * nothing else). The link is relative, so it resolves in the node tree as in a container that mounts both dirs.
   */
  dockerLinks?: boolean;
}

type FileState = 'plain' | 'gz' | 'deleted';

interface Segment {
  /** Current file name in the container dir. */
  file: string;
  first: number;
  /** Exclusive end seq. */
  end: number;
  state: FileState;
}

export interface WorkloadPod {
  ns: string;
  name: string;
  uid: string;
  node: string;
  labels: Record<string, string>;
  /** Lines written so far (the next seq). */
  seq: number;
  readonly log: ContainerLog;
  readonly segments: Segment[];
  /** Deleted from the API server: written no more, its files and ledger kept (Vector may still drain them). */
  deleted?: boolean;
}

export class Workload {
  readonly pods: WorkloadPod[];
  private readonly rng: () => number;
  private readonly maxFileBytes: number;
  private clock: bigint;

  private constructor(pods: WorkloadPod[], rng: () => number, opts: WorkloadOptions) {
    this.pods = pods;
    this.rng = rng;
    this.maxFileBytes = opts.maxFileBytes ?? 64 * 1024;
    this.clock = opts.startNs ?? 1_798_761_600_000_000_000n; // 2027-01-01T00:00:00Z
  }

  /**
   * Creates the namespaces and pods in the API server and the pods' log dirs on their nodes. Placement is drawn
   * from the seed first; the API calls then run a few at a time (order does not matter to the API server).
   */
  static async create(core: k8s.CoreV1Api, opts: WorkloadOptions): Promise<Workload> {
    const rng = prng(opts.seed);
    if (opts.nodes.length === 0) throw new Error('the workload needs at least one node');
    const plan: { ns: string; name: string; node: WorkloadNode; labels: Record<string, string> }[] = [];
    for (const ns of opts.namespaces) {
      for (let i = 0; i < opts.podsPerNamespace; i++) {
        const node = opts.nodes[Math.floor(rng() * opts.nodes.length)] as WorkloadNode;
        plan.push({ ns, name: `app-${i}`, node, labels: { app: 'log-writer', ...(opts.podLabels?.(ns, i) ?? {}) } });
      }
    }
    await inParallel(opts.namespaces, async (ns) => {
      try {
        await core.createNamespace({ body: { metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } } } });
      } catch (err) {
        if (!(err instanceof k8s.ApiException) || err.code !== 409) throw err;
      }
    });
    const pods = await inParallel(plan, async ({ ns, name, node, labels }): Promise<WorkloadPod> => {
      const created = await core.createNamespacedPod({
        namespace: ns,
        body: {
          metadata: { name, namespace: ns, labels },
          spec: { nodeName: node.name, containers: [{ name: 'app', image: 'lab/log-writer' }] },
        },
      });
      const uid = created.metadata?.uid ?? '';
      const dir = join(node.root, 'var/log/pods', `${ns}_${name}_${uid}`, 'app');
      const log =
        opts.dockerLinks === true
          ? dockerLog(node.root, dir, uid, opts)
          : new ContainerLog(dir, '0.log', opts.maxFiles ?? 5);
      const segments: Segment[] = [{ file: log.name, first: 0, end: 0, state: 'plain' }];
      return { ns, name, uid, node: node.name, labels, seq: 0, log, segments };
    });
    return new Workload(pods, rng, opts);
  }

  private tick(): bigint {
    this.clock += BigInt(1 + Math.floor(this.rng() * 999_999));
    return this.clock;
  }

  /** Appends `count(pod)` lines to each pod's live file, rotating when it grows past the size limit. */
  write(count: number | ((pod: WorkloadPod) => number)): number {
    let total = 0;
    for (const pod of this.pods) {
      if (pod.deleted === true) continue;
      const n = typeof count === 'number' ? count : count(pod);
      const lines = [];
      for (let i = 0; i < n; i++) {
        const id = `${pod.ns}/${pod.name}/${pod.seq + i}`;
        const payload = 'x'.repeat(16 + Math.floor(this.rng() * 96));
        lines.push({
          stream: this.rng() < 0.9 ? ('stdout' as const) : ('stderr' as const),
          message: `id=${id} ${payload}`,
        });
      }
      pod.log.append(lines, () => this.tick());
      pod.seq += n;
      (pod.segments.at(-1) as Segment).end = pod.seq;
      total += n;
      if (pod.log.size() > this.maxFileBytes) this.rotatePod(pod);
    }
    return total;
  }

  rotatePod(pod: WorkloadPod): void {
    this.clock += 1_000_000_000n;
    this.apply(pod, pod.log.rotate(this.clock));
  }

  rotateAll(): void {
    for (const pod of this.pods) this.rotatePod(pod);
  }

  private apply(pod: WorkloadPod, events: RotationEvent[]): void {
    for (const e of events) {
      if (e.kind === 'renamed') {
        const live = pod.segments.find((s) => s.file === e.from && s.state === 'plain');
        if (live !== undefined) live.file = e.to;
        pod.segments.push({ file: e.from, first: pod.seq, end: pod.seq, state: 'plain' });
      } else {
        const seg = pod.segments.find((s) => s.file === e.file && s.state === 'plain');
        if (seg !== undefined) seg.state = e.kind === 'gzipped' ? 'gz' : 'deleted';
      }
    }
  }

  /** Deletes the pod from the API server; its log files stay, as they do until the kubelet cleans the pod up. */
  async deletePod(core: k8s.CoreV1Api, pod: WorkloadPod): Promise<void> {
    await core.deleteNamespacedPod({ name: pod.name, namespace: pod.ns, gracePeriodSeconds: 0 });
    pod.deleted = true;
  }

  namespaces(): string[] {
    return [...new Set(this.pods.map((p) => p.ns))].sort();
  }

  /** Every id written, per namespace. */
  written(ns?: string): string[] {
    return this.ids((s) => s.end > s.first, ns);
  }

  /** Ids still in plain files: what a source without checkpoints reads again. */
  retained(ns?: string): string[] {
    return this.ids((s) => s.state === 'plain', ns);
  }

  private ids(keep: (s: Segment) => boolean, ns?: string): string[] {
    const out: string[] = [];
    for (const p of this.pods) {
      if (ns !== undefined && p.ns !== ns) continue;
      for (const s of p.segments) if (keep(s)) for (let i = s.first; i < s.end; i++) out.push(`${p.ns}/${p.name}/${i}`);
    }
    return out;
  }
}

/** The container's log in Docker's data dir, and the pod dir's link to it (replacing whatever the kubelet made). */
function dockerLog(root: string, podDir: string, uid: string, opts: WorkloadOptions): ContainerLog {
  const id = uid.replace(/-/g, '').padEnd(64, '0');
  const log = new ContainerLog(join(root, 'var/lib/docker/containers', id), `${id}-json.log`, opts.maxFiles ?? 5);
  mkdirSync(podDir, { recursive: true });
  const link = join(podDir, '0.log');
  rmSync(link, { force: true });
  symlinkSync(relative(podDir, log.path), link);
  return log;
}

/** Maps with at most `limit` calls in flight; results keep the input order. */
async function inParallel<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, limit = 16): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
