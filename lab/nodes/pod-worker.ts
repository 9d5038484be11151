/**
 * One pod on a simulated node: its volumes, its containers in order, and its status as the kubelet reports it.
 *
 * Invariants:
 * - A pod runs in order: volumes materialised (a missing Secret or ConfigMap keeps it Pending and is retried), init
 *   containers one at a time, each to completion (a failure is retried with backoff, restartCount counted), then the
 *   main containers. Status is written after each step, through the status subresource, in order.
 * - Init container statuses carry `state.terminated.message` from the container's termination-message file (capped
 *   at 4096 bytes like the kubelet), or the log tail when the policy is FallbackToLogsOnError and it failed.
 * - A pod is Ready when every main container is: a no-op container at once, the Vector simulator when it says so.
 *   A main container that exits is restarted with backoff (restartCount, lastState), as restartPolicy Always. Under
 *   restartPolicy Never (configcheck pods) it stays terminated with its exit code and termination message, and the
 *   pod turns Succeeded (every main container exited 0) or Failed once all have exited; a no-op container exits 0.
 * - Without `runContainers` nothing runs and no volume is made: every init container completes and every main
 *   container is ready at once, in one status write (the cheap node, for many pods).
 * - `stop()` SIGTERMs every container (SIGKILL after the grace period); `terminated()` then reports each container
 *   terminated and the pod in its terminal phase, as the kubelet does before it deletes a pod with grace 0.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describeError, retrying } from '../common/kube-http.ts';
import { rewriteArg } from '../common/mounts.ts';
import { ContainerLog } from '../workload/cri-log.ts';
import { MERGER_NODE_FLAGS } from '../../src/merger/node-flags.ts';
import type { Kubelet } from './kubelet.ts';
import { containerMounts, prepareVolumes, writeSecretFiles, type PreparedVolume } from './node-fs.ts';
import { rfc3339 } from './node-object.ts';
import { ConditionClock, podStatus, type PodState } from './pod-status.ts';
import {
  containerKind,
  mergerArgs,
  mergerCli,
  runProcess,
  simEntry,
  stopProcess,
  validateEntry,
  type Running,
} from './runtime.ts';

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

export class PodWorker {
  readonly pod: k8s.V1Pod;
  private readonly k: Kubelet;
  volumes = new Map<string, PreparedVolume>();
  private readonly state: PodState;
  private readonly clock = new ConditionClock();
  private readonly running = new Map<string, Running>();
  /** Exit codes of main containers stopped by `stop()`. */
  private readonly exits = new Map<string, number>();
  private stopping = false;
  private writes: Promise<void> = Promise.resolve();
  done: Promise<void> = Promise.resolve();

  constructor(k: Kubelet, pod: k8s.V1Pod, podIP: string) {
    this.k = k;
    this.pod = pod;
    this.state = {
      phase: 'Pending',
      init: (pod.spec?.initContainers ?? []).map((c) => waiting(c, 'PodInitializing')),
      main: (pod.spec?.containers ?? []).map((c) => waiting(c, 'PodInitializing')),
      hostIP: k.hostIP,
      podIP: pod.spec?.hostNetwork === true ? k.hostIP : podIP,
      startTime: rfc3339(isoNow()),
    };
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
    const status = podStatus(this.state, this.clock, isoNow());
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

  private async mountVolumes(): Promise<void> {
    for (;;) {
      if (this.halted()) return;
      try {
        this.volumes = await prepareVolumes(this.k.opts.node, this.pod, this.k);
        return;
      } catch (err) {
        for (const s of this.state.main)
          s.state = { waiting: { reason: 'CreateContainerConfigError', message: describeError(err) } };
        this.report();
        await this.sleep(this.k.opts.restartBackoffMs);
      }
    }
  }

  private async run(): Promise<void> {
    const { ns, name } = this.meta();
    if (this.k.runContainers) {
      await this.mountVolumes();
      this.report();
    }
    const specs = this.pod.spec?.initContainers ?? [];
    for (const [i, c] of specs.entries()) {
      const st = this.state.init[i] as Status;
      for (;;) {
        if (this.halted()) return;
        const startedAt = isoNow();
        st.state = { running: { startedAt } };
        if (this.k.runContainers) this.report();
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
        if (this.k.runContainers) this.report();
        if (code === 0) break;
        st.restartCount++;
        await this.sleep(this.k.opts.restartBackoffMs);
      }
    }
    if (this.halted()) return;
    this.state.phase = 'Running';
    const once = this.pod.spec?.restartPolicy === 'Never';
    for (const [i, c] of (this.pod.spec?.containers ?? []).entries())
      if (once) this.startOnce(c, this.state.main[i] as Status);
      else this.startMain(c, this.state.main[i] as Status);
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

  private kind(c: k8s.V1Container): ReturnType<typeof containerKind> {
    return this.k.runContainers ? containerKind(c) : 'noop';
  }

  private async runToCompletion(c: k8s.V1Container, restart: number): Promise<{ code: number; message?: string }> {
    if (this.kind(c) !== 'merger') return { code: 0 };
    const tm = this.terminationLog(c);
    const mounts = containerMounts(c, this.volumes, tm);
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
    if (this.kind(c) !== 'vector') {
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
        netDir: this.k.opts.netDir,
        podIP: this.state.podIP,
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

  /** A main container under restartPolicy Never: runs to its exit, which is final. */
  private startOnce(c: k8s.V1Container, st: Status): void {
    if (this.halted()) return;
    const startedAt = isoNow();
    st.state = { running: { startedAt } };
    st.started = true;
    const finish = (code: number, message?: string): void => {
      st.started = false;
      st.state = {
        terminated: {
          exitCode: code,
          reason: code === 0 ? 'Completed' : 'Error',
          ...(message === undefined ? {} : { message }),
          startedAt,
          finishedAt: isoNow(),
        },
      };
      const exits = this.state.main.map((s) => s.state?.terminated?.exitCode);
      if (exits.every((x) => x !== undefined)) this.state.phase = exits.every((x) => x === 0) ? 'Succeeded' : 'Failed';
      this.report();
    };
    if (this.kind(c) !== 'validate') {
      finish(0);
      return;
    }
    const tm = this.terminationLog(c);
    const mounts = containerMounts(c, this.volumes, tm);
    const env = { ...this.env(c), LAB_VECTOR_SIM: JSON.stringify({ mounts }) };
    const r = runProcess(validateEntry, c.args ?? [], env, this.logFor(c, st.restartCount), false);
    this.running.set(c.name, r);
    void r.exited.then((code) => {
      this.running.delete(c.name);
      if (!this.halted()) finish(code, this.message(c, tm, code, r));
    });
  }

  /** SIGTERM every running container and wait for them; no restart afterwards. */
  async stop(): Promise<void> {
    this.stopping = true;
    const graceMs = (this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    await Promise.all(
      [...this.running].map(async ([name, r]) => {
        this.exits.set(name, await stopProcess(r, graceMs));
      }),
    );
    await this.done;
    await this.writes;
  }

  /** After `stop()`: every container terminated, the pod Succeeded (all exited 0) or Failed; resolves once written. */
  async terminated(): Promise<void> {
    const finishedAt = isoNow();
    for (const st of this.state.main) {
      const running = st.state?.running;
      if (running === undefined) continue;
      const code = this.exits.get(st.name) ?? 0;
      st.ready = false;
      st.state = {
        terminated: {
          exitCode: code,
          reason: code === 0 ? 'Completed' : 'Error',
          ...(running.startedAt === undefined ? {} : { startedAt: running.startedAt }),
          finishedAt,
        },
      };
    }
    const codes = this.state.main.map((s) => s.state?.terminated?.exitCode ?? 0);
    this.state.phase = codes.every((c) => c === 0) ? 'Succeeded' : 'Failed';
    this.report();
    await this.writes;
  }

  /** Re-reads this pod's Secret volumes. */
  async syncSecrets(): Promise<void> {
    for (const v of this.volumes.values()) {
      if (v.secret === undefined) continue;
      const s = await this.k.secret(this.meta().ns, v.secret.name);
      if (s !== undefined) writeSecretFiles(v.hostPath, s, v.secret.items);
    }
  }
}
