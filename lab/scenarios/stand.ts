/**
 * One scenario's stand: the API server stand-in with our CRDs, N simulated nodes, the seeded log workload, one
 * VectorPipeline per namespace (plus an `audit` pipeline in every 4th namespace, so that two sources read the same
 * files), one Vector, and the real operator driven by its flags.
 *
 * Invariants:
 * - Mode switches go through the operator only: a flag change is an operator restart, as on a cluster. The lab never
 *   writes the agent DaemonSet or its Secrets.
 * - Agent watches are the stand-in's open watches on pods, namespaces and nodes (what a kubernetes_logs source
 *   watches) above a baseline (kubelets, DaemonSet controller, operator) taken once the first operator's informers
 *   watch and before the Vector, and so any agent, exists.
 * - `stop()` stops the operator, every agent (SIGTERM, final checkpoints) and the server, and removes the tree.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startApiServer, type ApiServer } from '../apiserver/server.ts';
import { startNodes, type Nodes } from '../nodes/cluster.ts';
import { retrying, sharePool } from '../common/kube-http.ts';
import { repoRoot } from '../nodes/runtime.ts';
import { Workload } from '../workload/workload.ts';
import { request } from '../../src/kube/client.ts';
import { defaultMergerImage } from '../../src/operator/merger-container.ts';
import { Operator } from '../../src/operator/operator.ts';
import type { SimTiming } from '../vector-sim/sim.ts';
import { OperatorProcess } from './operator-process.ts';

const group = '/apis/observability.kaasops.io/v1alpha1';
export const agentNs = 'vector';
export const vectorName = 'agent';
export const dsName = `${vectorName}-agent`;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

export interface Flags {
  optimize: boolean;
  migration: boolean;
  policy?: 'min' | 'max';
  /** The agent pod's termination grace, as `--agent-termination-grace-period-seconds` sets it. */
  grace?: number;
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

  readonly server: ApiServer;
  readonly nodes: Nodes;
  readonly kc: k8s.KubeConfig;
  readonly workload: Workload;
  readonly root: string;

  private constructor(server: ApiServer, nodes: Nodes, kc: k8s.KubeConfig, workload: Workload, root: string) {
    this.server = server;
    this.nodes = nodes;
    this.kc = kc;
    this.workload = workload;
    this.root = root;
  }

  static async start(size: StandSize): Promise<LabStand> {
    const server = await startApiServer({ gracefulPodDeletion: true, bookmarkIntervalMs: 5_000 });
    const root = mkdtempSync(join(tmpdir(), 'lab-'));
    try {
      const kc = new k8s.KubeConfig();
      kc.loadFromString(server.kubeconfig);
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
        kubeconfig: server.kubeconfig,
        root,
        nodes: size.nodes,
        ...(size.timing === undefined ? {} : { timing: size.timing }),
      });
      const namespaces = Array.from({ length: size.pipelines }, (_, i) => `ns-${String(i).padStart(4, '0')}`);
      const workload = await Workload.create(kc.makeApiClient(k8s.CoreV1Api), {
        seed: size.seed,
        namespaces,
        podsPerNamespace: size.podsPerNamespace,
        nodes: nodes.nodes.map((n) => ({ name: n.name, root: n.root })),
        maxFileBytes: size.maxFileBytes,
        maxFiles: size.maxFiles,
        dockerLinks: size.dockerLinks === true,
      });
      const stand = new LabStand(server, nodes, kc, workload, root);
      await stand.createPipelines(namespaces, size.sourceOptions ?? {});
      return stand;
    } catch (err) {
      await server.close();
      rmSync(root, { recursive: true, force: true });
      throw err;
    }
  }

  /** `logs` in every namespace; `audit` too in every 4th, so that two sources share files (the lagging case). */
  private async createPipelines(namespaces: string[], sourceOptions: Record<string, unknown>): Promise<void> {
    const spec = {
      sources: { pods: { type: 'kubernetes_logs', ...sourceOptions } },
      sinks: { out: { type: 'blackhole', inputs: ['pods'] } },
    };
    const work: PipelineRef[] = [];
    for (const [i, ns] of namespaces.entries()) {
      work.push({ ns, name: 'logs', sink: `${ns}-logs-out` });
      if (i % 4 === 0) work.push({ ns, name: 'audit', sink: `${ns}-audit-out` });
    }
    const queue = [...work];
    const worker = async (): Promise<void> => {
      for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
        await request(this.kc, 'POST', `${group}/namespaces/${p.ns}/vectorpipelines`, {
          body: {
            apiVersion: 'observability.kaasops.io/v1alpha1',
            kind: 'VectorPipeline',
            metadata: { name: p.name, namespace: p.ns },
            spec,
          },
        });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    this.pipelines.push(...work);
  }

  /**
   * Records the watch baseline (kubelets, the DaemonSet controller and the operator: everything but agents), then
   * creates the Vector. Called once, by the first `operator()`, whose informers are synced by then.
   */
  private async createVector(): Promise<void> {
    this.vectorCreated = true;
    this.baseline = this.watchesByResource();
    await request(this.kc, 'POST', `${group}/namespaces/${agentNs}/vectors`, {
      body: {
        apiVersion: 'observability.kaasops.io/v1alpha1',
        kind: 'Vector',
        metadata: { name: vectorName, namespace: agentNs },
        spec: { agent: {} },
      },
    });
  }

  private watchesByResource(): Record<string, number> {
    return Object.fromEntries(['pods', 'namespaces', 'nodes'].map((r) => [r, this.server.openWatches(r)]));
  }

  /** Open watches the agents hold: pods, namespaces and nodes above the baseline. */
  agentWatches(): number {
    const now = this.watchesByResource();
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
    const podWatches = this.server.openWatches('pods');
    if (how === 'process') {
      const op = await OperatorProcess.start(this.server.kubeconfig, this.root, flags);
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
        },
        log: quiet,
        resyncMs: 0,
      });
      await op.start();
      this.running = { kind: 'in-process', op };
    }
    if (!this.vectorCreated) {
      // The operator's pod informer opens its watch just after its list (start() resolves on the lists): wait for
      // it, so the baseline holds it and agentWatches() counts agents only.
      for (let i = 0; i < 200 && this.server.openWatches('pods') === podWatches; i++) await sleep(50);
      await this.createVector();
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
      await this.server.close();
      if (process.env.LAB_KEEP === undefined) rmSync(this.root, { recursive: true, force: true });
      else console.error(`kept ${this.root}`);
    }
  }
}
