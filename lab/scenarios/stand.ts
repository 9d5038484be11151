/**
 * One scenario's stand: an API server with our CRDs (the stand-in, or a real control plane: kube.ts), N simulated
 * nodes, the seeded log workload, one
 * VectorPipeline per namespace (plus an `audit` pipeline in every 4th namespace, so that two sources read the same
 * files), one Vector, and the real operator driven by its flags.
 *
 * Invariants:
 * - Mode switches go through the operator only: a flag change is an operator restart, as on a cluster. The lab never
 *   writes the agent DaemonSet or its Secrets.
 * - Agent watches are the server's open watches on pods, namespaces and nodes (what a kubernetes_logs source
 *   watches) above a baseline (kubelets, the DaemonSet controller, on a real control plane the controller manager and
 *   scheduler, the operator) taken once the first operator's informers watch and before the Vector, and so any
 *   agent, exists.
 * - `stop()` stops the operator, every agent (SIGTERM, final checkpoints) and the server, and removes the tree.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startNodes, type Nodes } from '../nodes/cluster.ts';
import { retrying, sharePool } from '../common/kube-http.ts';
import { repoRoot } from '../nodes/runtime.ts';
import { Workload } from '../workload/workload.ts';
import { errorCode, request } from '../../src/kube/client.ts';
import { defaultMergerImage } from '../../src/operator/merger-container.ts';
import { Operator } from '../../src/operator/operator.ts';
import { defaultTiming, type SimTiming } from '../vector-sim/sim.ts';
import { startKube, type KubeKind, type StandKube } from './kube.ts';
import { OperatorProcess } from './operator-process.ts';

const group = '/apis/observability.kaasops.io/v1alpha1';
export const agentNs = 'vector';
export const vectorName = 'agent';
export const dsName = `${vectorName}-agent`;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** Polls `check` every 100 ms until it is true; fails naming `what` after `limitMs`. */
async function until(what: string, check: () => Promise<boolean>, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

export interface Flags {
  optimize: boolean;
  migration: boolean;
  policy?: 'min' | 'max';
  /** The agent pod's termination grace, as `--agent-termination-grace-period-seconds` sets it. */
  grace?: number;
}

/** Pipelines up to which the stand runs on the default clock. */
const clockPipelines = 200;

/**
 * The stand's clock for a size without explicit `timing`: the default up to 200 pipelines, then slower in proportion
 * (1 000 pipelines: Vector's 60 s glob cooldown is 1 s, not 200 ms), and the kubelets' Secret re-reads alike. Every
 * Vector duration scales together, so what a scenario simulates is the same in Vector's time; what changes is how
 * often a thousand sources per agent walk their pods and directories, which on two cores would otherwise take the
 * CPU the agents need to list, read and deliver.
 */
export function standClock(size: Pick<StandSize, 'pipelines' | 'timing'>): {
  timing: Partial<SimTiming>;
  secretSyncMs: number;
} {
  const factor = Math.max(1, size.pipelines / clockPipelines);
  return {
    timing: size.timing ?? { timeScale: defaultTiming.timeScale * factor },
    secretSyncMs: Math.round(100 * factor),
  };
}

export interface StandSize {
  pipelines: number;
  nodes: number;
  podsPerNamespace: number;
  seed: number;
  timing?: Partial<SimTiming>;
  maxFileBytes: number;
  maxFiles: number;
  /** Extra options of every pipeline's `kubernetes_logs` source (e.g. `log_namespace: true`). */
  sourceOptions?: Record<string, unknown>;
  /** A Docker node: pod logs are symlinks into `/var/lib/docker/containers` (Workload `dockerLinks`). */
  dockerLinks?: boolean;
  /** Source options of given pipelines (`<ns>/<name>`), in place of `sourceOptions`: a signature of their own. */
  pipelineOptions?: Record<string, Record<string, unknown>>;
  /** Pipelines beyond `logs` and `audit`, by namespace index, each with its source options. */
  extraPipelines?: { nsIndex: number; name: string; sourceOptions: Record<string, unknown> }[];
  /** The in-process operator's namespaces per collapsed source (tests and the stand only; the product's is 1000). */
  maxNamespacesPerSource?: number;
  /** The API server: the stand-in (default) or a real control plane. */
  kube?: KubeKind;
  /**
   * Every `logs` pipeline sends through this sink (its spec) instead of its own counting sink, and no `audit`
   * pipeline is made; deliveries are recorded under `recordedAs` (the aggregator scenario: aggregator-roll.ts).
   */
  shipTo?: { sink: Record<string, unknown>; recordedAs: string };
}

/** A pipeline: its namespace, name, and the sink id its deliveries are recorded under. */
export interface PipelineRef {
  ns: string;
  name: string;
  sink: string;
}

type Running = { kind: 'in-process'; op: Operator } | { kind: 'process'; op: OperatorProcess };

export class LabStand {
  readonly pipelines: PipelineRef[] = [];
  private running: Running | undefined;
  private baseline: Record<string, number> = {};
  private vectorCreated = false;

  readonly kube: StandKube;
  readonly nodes: Nodes;
  readonly kc: k8s.KubeConfig;
  readonly workload: Workload;
  readonly root: string;

  private readonly maxNamespacesPerSource: number | undefined;

  private constructor(
    kube: StandKube,
    nodes: Nodes,
    kc: k8s.KubeConfig,
    workload: Workload,
    root: string,
    maxNamespacesPerSource: number | undefined,
  ) {
    this.kube = kube;
    this.nodes = nodes;
    this.kc = kc;
    this.workload = workload;
    this.root = root;
    this.maxNamespacesPerSource = maxNamespacesPerSource;
  }

  static async start(size: StandSize): Promise<LabStand> {
    const kube = await startKube(size.kube ?? 'stand-in');
    const root = mkdtempSync(join(tmpdir(), 'lab-'));
    try {
      const kc = new k8s.KubeConfig();
      kc.loadFromString(kube.kubeconfig);
      sharePool(kc);
      // From the repository root: this file also runs compiled, from dist/lab/scenarios/.
      const crdDir = join(repoRoot, 'deploy/crds');
      for (const f of readdirSync(crdDir).sort()) {
        const crd = parse(readFileSync(join(crdDir, f), 'utf8')) as unknown;
        await request(kc, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
      }
      await request(kc, 'POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: agentNs } },
      });
      const nodes = await startNodes({
        kubeconfig: kube.kubeconfig,
        root,
        nodes: size.nodes,
        kube: kube.kind,
        ...standClock(size),
      });
      const namespaces = Array.from({ length: size.pipelines }, (_, i) => `ns-${String(i).padStart(4, '0')}`);
      if (kube.kind === 'real') await LabStand.readyForPods(kc, namespaces);
      const workload = await Workload.create(kc.makeApiClient(k8s.CoreV1Api), {
        seed: size.seed,
        namespaces,
        podsPerNamespace: size.podsPerNamespace,
        nodes: nodes.nodes.map((n) => ({ name: n.name, root: n.root })),
        maxFileBytes: size.maxFileBytes,
        maxFiles: size.maxFiles,
        dockerLinks: size.dockerLinks === true,
      });
      const stand = new LabStand(kube, nodes, kc, workload, root, size.maxNamespacesPerSource);
      await stand.createPipelines(namespaces, size);
      return stand;
    } catch (err) {
      await kube.close();
      rmSync(root, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * What a real cluster needs before the workload's pods and the pipelines can be created: the CRDs Established, and
   * each namespace's `default` ServiceAccount, which the controller manager creates a moment after the namespace
   * (ServiceAccount admission refuses a pod until then). The namespaces are made here; the workload finds them.
   */
  private static async readyForPods(kc: k8s.KubeConfig, namespaces: string[]): Promise<void> {
    const crds = await request<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(
      kc,
      'GET',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
    );
    const established = (c: (typeof crds.items)[number]): boolean =>
      (c.status?.conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True');
    for (const crd of crds.items) {
      const name = (crd as { metadata?: { name?: string } }).metadata?.name ?? '';
      await until(`CRD ${name} Established`, async () =>
        established(await request(kc, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`)),
      );
    }
    for (const ns of namespaces) {
      await request(kc, 'POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      });
    }
    for (const ns of [agentNs, ...namespaces]) {
      await until(`ServiceAccount ${ns}/default`, async () => {
        try {
          await request(kc, 'GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`);
          return true;
        } catch (err) {
          if (errorCode(err) === 404) return false;
          throw err;
        }
      });
    }
  }

  /**
   * `logs` in every namespace; `audit` too in every 4th, so that two sources share files (the lagging case); then
   * `extraPipelines`. Every one reads its namespace's pods into a blackhole sink.
   */
  private async createPipelines(namespaces: string[], size: StandSize): Promise<void> {
    const work: (PipelineRef & { options: Record<string, unknown> })[] = [];
    const add = (ns: string, name: string, options?: Record<string, unknown>): void => {
      const own = size.pipelineOptions?.[`${ns}/${name}`];
      const sink = size.shipTo?.recordedAs ?? `${ns}-${name}-out`;
      work.push({ ns, name, sink, options: options ?? own ?? size.sourceOptions ?? {} });
    };
    for (const [i, ns] of namespaces.entries()) {
      add(ns, 'logs');
      if (i % 4 === 0 && size.shipTo === undefined) add(ns, 'audit');
    }
    for (const e of size.extraPipelines ?? []) add(namespaces[e.nsIndex] ?? '', e.name, e.sourceOptions);
    const queue = [...work];
    const worker = async (): Promise<void> => {
      for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
        await request(this.kc, 'POST', `${group}/namespaces/${p.ns}/vectorpipelines`, {
          body: {
            apiVersion: 'observability.kaasops.io/v1alpha1',
            kind: 'VectorPipeline',
            metadata: { name: p.name, namespace: p.ns },
            spec: {
              sources: { pods: { type: 'kubernetes_logs', ...p.options } },
              sinks: { out: { ...(size.shipTo?.sink ?? { type: 'blackhole' }), inputs: ['pods'] } },
            },
          },
        });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    this.pipelines.push(...work.map(({ ns, name, sink }) => ({ ns, name, sink })));
  }

  /** A JSON merge patch of one pipeline (its source options, its annotations): what a user edits. */
  async patchPipeline(ns: string, name: string, patch: Record<string, unknown>): Promise<void> {
    await request(this.kc, 'PATCH', `${group}/namespaces/${ns}/vectorpipelines/${name}`, {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  /**
   * Records the watch baseline (kubelets, the DaemonSet controller and the operator: everything but agents), then
   * creates the Vector. Called once, by the first `operator()`, whose informers are synced by then.
   */
  private async createVector(): Promise<void> {
    this.vectorCreated = true;
    await this.checksIdle();
    this.baseline = await this.watchesByResource();
    await request(this.kc, 'POST', `${group}/namespaces/${agentNs}/vectors`, {
      body: {
        apiVersion: 'observability.kaasops.io/v1alpha1',
        kind: 'Vector',
        metadata: { name: vectorName, namespace: agentNs },
        spec: { agent: {} },
      },
    });
  }

  private watchesByResource(): Promise<Record<string, number>> {
    return this.kube.openWatches(['pods', 'namespaces', 'nodes']);
  }

  /** Open watches the agents hold: pods, namespaces and nodes above the baseline. */
  async agentWatches(): Promise<number> {
    const now = await this.watchesByResource();
    let n = 0;
    for (const [r, v] of Object.entries(now)) n += v - (this.baseline[r] ?? 0);
    return n;
  }

  /**
   * Starts the operator with `flags`, stopping the one running first (a flag change is a restart). `process` runs
   * the compiled `vector-operator run` as a child process instead of in-process: the upgrade scenarios' new binary.
   */
  async operator(flags: Flags, how: 'in-process' | 'process' = 'in-process'): Promise<void> {
    await this.stopOperator();
    const podWatches = (await this.watchesByResource()).pods;
    if (how === 'process') {
      const op = await OperatorProcess.start(this.kube.kubeconfig, this.root, flags);
      this.running = { kind: 'process', op };
    } else {
      const op = new Operator({
        kc: this.kc,
        flags: {
          optimize: flags.optimize,
          migration: flags.migration,
          mergerImage: defaultMergerImage,
          ...(flags.policy === undefined ? {} : { mergerPositionPolicy: flags.policy }),
          ...(flags.grace === undefined ? {} : { terminationGraceSeconds: flags.grace }),
          ...(this.maxNamespacesPerSource === undefined ? {} : { maxNamespacesPerSource: this.maxNamespacesPerSource }),
        },
        log: quiet,
        resyncMs: 0,
        // As `run` by default: configcheck pods, per pipeline and per Vector, which the stand's kubelets run.
        configCheckPods: { timeoutMs: 300_000 },
      });
      await op.start();
      this.running = { kind: 'in-process', op };
    }
    if (!this.vectorCreated) {
      // The operator's pod informers open their watches just after their lists (start() resolves on the lists): wait
      // for them, so the baseline holds them and agentWatches() counts agents only.
      // Two pod watches: its agent pods and its configcheck pods.
      for (let i = 0; i < 200 && ((await this.watchesByResource()).pods ?? 0) < (podWatches ?? 0) + 2; i++)
        await sleep(50);
      await this.createVector();
    }
  }

  /**
   * Waits (bounded) until every pipeline records its configcheck (`LastAppliedPipelineHash`) and no configcheck pod
   * is left: each check holds a pod watch while it runs, which must not enter the baseline.
   */
  private async checksIdle(): Promise<void> {
    const checked = async (p: PipelineRef): Promise<boolean> => {
      const obj = await this.get<{ status?: { LastAppliedPipelineHash?: number } }>(
        `${group}/namespaces/${p.ns}/vectorpipelines/${p.name}`,
      );
      return obj?.status?.LastAppliedPipelineHash !== undefined;
    };
    for (let i = 0; i < 1200; i++) {
      const pods = await this.get<{ items: unknown[] }>(
        `/api/v1/namespaces/${agentNs}/pods?labelSelector=app.kubernetes.io%2Fcomponent%3DConfigCheck`,
      );
      const pending = (pods?.items.length ?? 0) > 0 || !(await Promise.all(this.pipelines.map(checked))).every(Boolean);
      if (!pending) return;
      await sleep(100);
    }
  }

  async stopOperator(): Promise<void> {
    const r = this.running;
    this.running = undefined;
    if (r !== undefined) await r.op.stop();
  }

  async get<T>(path: string): Promise<T | undefined> {
    try {
      // A read, so retried on a reset or timed-out connection, 429 and 5xx, as client-go retries GETs. The budget
      // (minutes) outlasts a thousand-source agent's start, when the stand-in answers handshakes late.
      return await retrying(`GET ${path}`, () => request<T>(this.kc, 'GET', path), { attempts: 40, maxDelayMs: 5_000 });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  vectorPath(): string {
    return `${group}/namespaces/${agentNs}/vectors/${vectorName}`;
  }

  async stop(): Promise<void> {
    try {
      await this.stopOperator();
      await this.nodes.stop();
    } finally {
      await this.kube.close();
      if (process.env.LAB_KEEP === undefined) rmSync(this.root, { recursive: true, force: true });
      else console.error(`kept ${this.root}`);
    }
  }
}
