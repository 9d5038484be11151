/**
 * The kubelet of one simulated node: runs the pods bound to it and reports their status to the API server.
 *
 * Invariants:
 * - It watches only pods with `spec.nodeName=<node>` (one watch connection), as a real kubelet does.
 * - A pod runs in order: volumes materialised (a missing Secret keeps it Pending and is retried), init containers one
 *   at a time, each to completion (a failure is retried with backoff, restartCount counted), then the main
 *   containers. Status is written after each step, through the status subresource, in order.
 * - Init container statuses carry `state.terminated.message` from the container's termination-message file (capped
 *   at 4096 bytes like the kubelet), or the log tail when the policy is FallbackToLogsOnError and it failed.
 * - A pod is Ready when every main container is: a no-op container at once, the Vector simulator when it says so.
 *   A main container that exits is restarted with backoff (restartCount, lastState), as restartPolicy Always.
 * - Deletion: on a deletionTimestamp the containers get SIGTERM (SIGKILL after the grace period); once they are gone
 *   the pod is deleted with grace 0. A pod removed outright is stopped the same way. Stop order is what makes the
 *   final checkpoint flush happen before the next pod on the node starts.
 * - Mounted Secrets are re-read every `secretSyncMs` and their files rewritten when they change (the kubelet's
 *   TTL-cache strategy; it opens no watch, so the watch count stays the agents' own).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { LabReflector } from '../common/reflector.ts';
import { describeError, retrying } from '../common/kube-http.ts';
import type { SimTiming } from '../vector-sim/sim.ts';
import { ContainerLog } from '../workload/cri-log.ts';
import { containerMounts, prepareVolumes, writeSecretFiles, type NodeFs, type PreparedVolume } from './node-fs.ts';
import { containerKind, mergerArgs, mergerCli, runProcess, simEntry, stopProcess, type Running } from './runtime.ts';
import { rewriteArg } from '../common/mounts.ts';
import { MERGER_NODE_FLAGS } from '../../src/merger/node-flags.ts';

export interface KubeletOptions {
  kc: k8s.KubeConfig;
  /** Given to agent containers in place of a service account. */
  kubeconfigPath: string;
  node: NodeFs;
  /** Vector simulator delivery records: `<dir>/<node>/<pod>-<container>-<restart>.tsv`. */
  deliveriesDir: string;
  controlFile?: string;
  timing: SimTiming;
  secretSyncMs: number;
  /** Backoff before restarting a failed container. */
  restartBackoffMs: number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

type Status = k8s.V1ContainerStatus;
const isoNow = (): Date => new Date();

function waiting(c: k8s.V1Container, reason: string): Status {
  return {
    name: c.name,
    image: c.image ?? '',
    imageID: '',
    ready: false,
    restartCount: 0,
    state: { waiting: { reason } },
  };
}

class PodWorker {
  readonly pod: k8s.V1Pod;
  private readonly k: Kubelet;
  volumes = new Map<string, PreparedVolume>();
  private readonly init: Status[];
  private readonly main: Status[];
  private phase = 'Pending';
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private writes: Promise<void> = Promise.resolve();
  done: Promise<void> = Promise.resolve();

  constructor(k: Kubelet, pod: k8s.V1Pod) {
    this.k = k;
    this.pod = pod;
    this.init = (pod.spec?.initContainers ?? []).map((c) => waiting(c, 'PodInitializing'));
    this.main = (pod.spec?.containers ?? []).map((c) => waiting(c, 'PodInitializing'));
  }

  /** A method, not a field read: `stop()` sets the flag while `run()` awaits, which narrowing cannot see. */
  private halted(): boolean {
    return this.stopping;
  }

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  private meta(): { ns: string; name: string } {
    return { ns: this.pod.metadata?.namespace ?? 'default', name: this.pod.metadata?.name ?? '' };
  }

  /**
   * Queues a status write; writes go out in order, a transient failure is retried (the same merge patch, so
   * idempotent; a real kubelet's status manager re-syncs), and a 404 (pod gone) is ignored.
   */
  private report(): void {
    const ready = this.main.length > 0 && this.main.every((s) => s.ready);
    const initialized = this.init.every((s) => s.state?.terminated?.exitCode === 0);
    const cond = (type: string, ok: boolean): k8s.V1PodCondition => ({ type, status: ok ? 'True' : 'False' });
    const status: k8s.V1PodStatus = {
      phase: this.phase,
      hostIP: '10.0.0.1',
      conditions: [
        cond('PodScheduled', true),
        cond('Initialized', initialized),
        cond('ContainersReady', ready),
        cond('Ready', ready),
      ],
      initContainerStatuses: this.init.map((s) => structuredClone(s)),
      containerStatuses: this.main.map((s) => structuredClone(s)),
    };
    const { ns, name } = this.meta();
    this.writes = this.writes.then(() =>
      retrying(
        `patch pods/status ${ns}/${name}`,
        () =>
          this.k.core.patchNamespacedPodStatus(
            { name, namespace: ns, body: { status } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          ),
        { attempts: 40, maxDelayMs: 5_000 },
      ).then(
        () => undefined,
        (err: unknown) => {
          if (!(err instanceof k8s.ApiException && err.code === 404))
            this.k.opts.log('pod status write failed', { pod: name, error: describeError(err) });
        },
      ),
    );
  }

  start(): void {
    this.done = this.run().catch((err: unknown) => {
      this.k.opts.log('pod worker failed', { pod: this.meta().name, error: describeError(err) });
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }

  private async run(): Promise<void> {
    const { ns, name } = this.meta();
    for (;;) {
      if (this.halted()) return;
      try {
        this.volumes = await prepareVolumes(this.k.opts.node, this.pod, (n, s) => this.k.getSecret(n, s));
        break;
      } catch (err) {
        for (const s of this.main)
          s.state = { waiting: { reason: 'CreateContainerConfigError', message: describeError(err) } };
        this.report();
        await this.sleep(this.k.opts.restartBackoffMs);
      }
    }
    this.report();
    const specs = this.pod.spec?.initContainers ?? [];
    for (const [i, c] of specs.entries()) {
      const st = this.init[i] as Status;
      for (;;) {
        if (this.halted()) return;
        const startedAt = isoNow();
        st.state = { running: { startedAt } };
        this.report();
        const { code, message } = await this.runToCompletion(c, st.restartCount);
        st.state = {
          terminated: {
            exitCode: code,
            reason: code === 0 ? 'Completed' : 'Error',
            message,
            startedAt,
            finishedAt: isoNow(),
          },
        };
        this.report();
        if (code === 0) break;
        st.restartCount++;
        await this.sleep(this.k.opts.restartBackoffMs);
      }
    }
    if (this.halted()) return;
    this.phase = 'Running';
    for (const [i, c] of (this.pod.spec?.containers ?? []).entries()) this.startMain(c, this.main[i] as Status);
    this.report();
    this.k.opts.log('pod started', { pod: `${ns}/${name}`, node: this.k.opts.node.name });
  }

  private logFor(c: k8s.V1Container, restart: number): ContainerLog {
    const { ns, name } = this.meta();
    return new ContainerLog(join(this.k.opts.node.podLogDir(ns, name, this.uid), c.name), `${restart}.log`);
  }

  private terminationLog(c: k8s.V1Container): string {
    const f = this.k.opts.node.terminationLog(this.uid, c.name);
    mkdirSync(join(f, '..'), { recursive: true });
    rmSync(f, { force: true });
    return f;
  }

  private message(c: k8s.V1Container, tm: string, code: number, r: Running | undefined): string | undefined {
    const text = existsSync(tm) ? readFileSync(tm).subarray(0, 4096).toString('utf8') : '';
    if (text !== '') return text;
    if (code !== 0 && c.terminationMessagePolicy === 'FallbackToLogsOnError' && r !== undefined)
      return r.tail().slice(-2048);
    return undefined;
  }

  private env(c: k8s.V1Container): Record<string, string> {
    const out: Record<string, string> = {};
    const fields: Record<string, string> = {
      'spec.nodeName': this.k.opts.node.name,
      'metadata.name': this.pod.metadata?.name ?? '',
      'metadata.namespace': this.pod.metadata?.namespace ?? '',
      'metadata.uid': this.uid,
    };
    for (const e of c.env ?? []) {
      if (e.value !== undefined) out[e.name] = e.value;
      else if (e.valueFrom?.fieldRef !== undefined) out[e.name] = fields[e.valueFrom.fieldRef.fieldPath] ?? '';
    }
    return out;
  }

  private async runToCompletion(c: k8s.V1Container, restart: number): Promise<{ code: number; message?: string }> {
    const tm = this.terminationLog(c);
    const mounts = containerMounts(c, this.volumes, tm);
    if (containerKind(c) !== 'merger') return { code: 0 };
    const log = this.logFor(c, restart);
    const r = runProcess(mergerCli, mergerArgs(c, mounts, tm), this.env(c), log, false, MERGER_NODE_FLAGS);
    this.running.set(c.name, r);
    const code = await r.exited;
    this.running.delete(c.name);
    return { code, message: this.message(c, tm, code, r) };
  }

  private startMain(c: k8s.V1Container, st: Status): void {
    if (this.halted()) return;
    const startedAt = isoNow();
    st.state = { running: { startedAt } };
    if (containerKind(c) !== 'vector') {
      st.ready = true;
      st.started = true;
      return;
    }
    const tm = this.terminationLog(c);
    const mounts = containerMounts(c, this.volumes, tm);
    const { ns, name } = this.meta();
    const deliveries = join(this.k.opts.deliveriesDir, this.k.opts.node.name);
    mkdirSync(deliveries, { recursive: true });
    const env = {
      ...this.env(c),
      LAB_VECTOR_SIM: JSON.stringify({
        kubeconfig: this.k.opts.kubeconfigPath,
        mounts,
        deliveriesFile: join(deliveries, `${ns}_${name}-${c.name}-${st.restartCount}.tsv`),
        controlFile: this.k.opts.controlFile,
        timing: this.k.opts.timing,
        // The simulator plays the SIGKILL at the end of the grace on its own scaled clock (vector-sim/shutdown.ts).
        terminationGracePeriodSeconds: this.pod.spec?.terminationGracePeriodSeconds,
      }),
    };
    const args = (c.args ?? []).map((a) => rewriteArg(mounts, a));
    const r = runProcess(simEntry, args, env, this.logFor(c, st.restartCount), true);
    this.running.set(c.name, r);
    r.child.on('message', (m: { type?: string }) => {
      if (m.type === 'ready' && !this.stopping) {
        st.ready = true;
        st.started = true;
        this.report();
      }
    });
    void r.exited.then(async (code) => {
      this.running.delete(c.name);
      if (this.halted()) return;
      st.ready = false;
      st.lastState = {
        terminated: {
          exitCode: code,
          reason: 'Error',
          message: this.message(c, tm, code, r),
          startedAt,
          finishedAt: isoNow(),
        },
      };
      st.state = { waiting: { reason: 'CrashLoopBackOff' } };
      st.restartCount++;
      this.report();
      await this.sleep(this.k.opts.restartBackoffMs * Math.min(8, st.restartCount));
      this.startMain(c, st);
    });
  }

  /** SIGTERM every running container and wait for them; no restart afterwards. */
  async stop(): Promise<void> {
    this.stopping = true;
    const graceMs = (this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    await Promise.all([...this.running.values()].map((r) => stopProcess(r, graceMs)));
    await this.done;
    await this.writes;
  }

  /** Re-reads this pod's Secret volumes. */
  async syncSecrets(): Promise<void> {
    for (const v of this.volumes.values()) {
      if (v.secret === undefined) continue;
      const s = await this.k.getSecret(this.meta().ns, v.secret.name);
      if (s !== undefined) writeSecretFiles(v.hostPath, s, v.secret.items);
    }
  }
}

export class Kubelet {
  readonly opts: KubeletOptions;
  readonly core: k8s.CoreV1Api;
  private readonly pods: LabReflector<k8s.V1Pod>;
  private readonly workers = new Map<string, PodWorker>();
  private readonly finishing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: KubeletOptions) {
    this.opts = opts;
    this.core = opts.kc.makeApiClient(k8s.CoreV1Api);
    const fieldSelector = `spec.nodeName=${opts.node.name}`;
    this.pods = new LabReflector<k8s.V1Pod>({
      kc: opts.kc,
      path: '/api/v1/pods',
      fieldSelector,
      list: () => this.core.listPodForAllNamespaces({ fieldSelector }),
      log: opts.log,
      onChange: (type, pod) => {
        this.changed(type, pod);
      },
    });
  }

  async getSecret(namespace: string, name: string): Promise<k8s.V1Secret | undefined> {
    try {
      return await retrying(`get secrets ${namespace}/${name}`, () =>
        this.core.readNamespacedSecret({ name, namespace }),
      );
    } catch (err) {
      if (err instanceof k8s.ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  async start(): Promise<void> {
    await this.pods.start();
    this.timer = setInterval(() => {
      for (const w of this.workers.values())
        w.syncSecrets().catch((err: unknown) => {
          this.opts.log('secret sync failed', { error: describeError(err) });
        });
    }, this.opts.secretSyncMs);
  }

  private changed(type: 'add' | 'update' | 'delete', pod: k8s.V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const worker = this.workers.get(uid);
    if (type === 'delete' || pod.metadata?.deletionTimestamp !== undefined) {
      if (this.finishing.has(uid)) return;
      this.finishing.add(uid);
      void (async () => {
        await worker?.stop();
        this.workers.delete(uid);
        if (type !== 'delete') await this.finalize(pod);
        this.finishing.delete(uid);
      })();
      return;
    }
    if (worker === undefined) {
      const w = new PodWorker(this, pod);
      this.workers.set(uid, w);
      w.start();
    }
  }

  /** The kubelet's last word on a terminated pod: delete with grace 0. */
  private async finalize(pod: k8s.V1Pod): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? 'default',
        gracePeriodSeconds: 0,
      });
    } catch (err) {
      if (!(err instanceof k8s.ApiException && err.code === 404))
        this.opts.log('pod finalize failed', { pod: pod.metadata?.name, error: describeError(err) });
    }
  }

  /** Stops every pod (SIGTERM, final flushes) and the watch; the pods stay in the API server. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.pods.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
  }
}
