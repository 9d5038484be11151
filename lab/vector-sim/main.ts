/**
 * The Vector simulator as an agent container process, started by the simulated kubelet.
 *
 *   node lab/vector-sim/main.ts --config-dir <node path> [--watch-config]
 *
 * Environment: `VECTOR_SELF_NODE_NAME` (from the pod's fieldRef, as in the real agent) and `LAB_VECTOR_SIM`, a JSON
 * object `{kubeconfig, mounts, deliveriesFile, controlFile?, timing?}` that stands for what a real container gets
 * from its mount namespace and service account.
 *
 * Invariants:
 * - After SIGTERM or SIGINT, the shutdown window of sim.ts: exit 0 once the buffers drained or Vector's drain limit
 *   passed; exit 137 at once, closing nothing, when the pod's termination grace ended first (the kubelet's SIGKILL).
 *   Either way the window's figures go to `<deliveriesFile>.shutdown.json` first (ShutdownRecord).
 * - The drain limit is Vector's: `--graceful-shutdown-limit-secs`, `--no-graceful-shutdown-limit` or their
 *   environment variables, default 60 s; the grace is the pod's `terminationGracePeriodSeconds` (default 30 s), which
 *   the kubelet passes in LAB_VECTOR_SIM.
 * - Exit 78 (EX_CONFIG) with the reason on stderr when the config cannot be run; the kubelet then reports the
 *   container as failed, as for a real Vector that rejects its config.
 * - `{"type":"ready"}` is sent over IPC (when present) once every source has its three watches open and synced:
 *   the kubelet's readiness signal.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import process from 'node:process';
import * as k8s from '@kubernetes/client-node';
import { sharePool } from '../common/kube-http.ts';
import { mapPath, type Mount } from '../common/mounts.ts';
import { kubernetesDefaultGraceSecs } from './shutdown.ts';
import { drainLimitSecs } from '../../src/vector/shutdown.ts';
import { VectorSim, type SimTiming } from './sim.ts';

interface Env {
  kubeconfig?: string;
  mounts: Mount[];
  deliveriesFile: string;
  controlFile?: string;
  timing?: Partial<SimTiming>;
  /** The pod's terminationGracePeriodSeconds, when it sets one. */
  terminationGracePeriodSeconds?: number;
  /** The stand's pod network (pod-network.ts) and this pod's IP, for `vector` sources and sinks. */
  netDir?: string;
  podIP?: string;
}

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level: 'info', msg, ...fields })}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { 'config-dir': { type: 'string' }, 'watch-config': { type: 'boolean' }, config: { type: 'string' } },
    strict: false,
  });
  const env = JSON.parse(process.env.LAB_VECTOR_SIM ?? '{}') as Env;
  const configDir = values['config-dir'];
  const nodeName = process.env.VECTOR_SELF_NODE_NAME;
  if (typeof configDir !== 'string' || nodeName === undefined || env.kubeconfig === undefined) {
    process.stderr.write('vector-sim: needs --config-dir, VECTOR_SELF_NODE_NAME and LAB_VECTOR_SIM.kubeconfig\n');
    process.exit(78);
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(env.kubeconfig);
  // One keep-alive pool for the whole agent, as Vector's kube client keeps (client-node alone opens one per request).
  sharePool(kc);
  // Signals are taken from the first moment: a SIGTERM while sources are still starting waits for them, then stops
  // them all with their final checkpoint writes (the default action would kill the process without a flush).
  const state: { sim?: VectorSim; stopping: boolean; requested: boolean } = { stopping: false, requested: false };
  const shutdown = (): void => {
    state.requested = true;
    const sim = state.sim;
    if (sim === undefined || state.stopping) return;
    state.stopping = true;
    sim.stop().then(
      async (record) => {
        writeFileSync(`${env.deliveriesFile}.shutdown.json`, JSON.stringify(record));
        log('shutdown window over', { ...record });
        if (record.outcome === 'killed') process.exit(137);
        await sim.close();
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`vector-sim: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // The IPC channel closing means the kubelet is gone: stop as on SIGTERM rather than linger.
  process.on('disconnect', shutdown);
  try {
    state.sim = await VectorSim.start({
      kc,
      configDir,
      nodeName,
      mapPath: (p) => mapPath(env.mounts, p),
      deliveriesFile: env.deliveriesFile,
      controlFile: env.controlFile,
      ...(env.netDir === undefined
        ? {}
        : {
            net: {
              dir: env.netDir,
              podIP: env.podIP ?? '',
              namespace: process.env.VECTOR_SELF_POD_NAMESPACE ?? '',
            },
          }),
      watchConfig: values['watch-config'] === true,
      timing: env.timing,
      shutdown: {
        drainLimitSecs: drainLimitSecs(process.argv.slice(2), process.env),
        graceSecs: env.terminationGracePeriodSeconds ?? kubernetesDefaultGraceSecs,
      },
      log,
    });
  } catch (err) {
    process.stderr.write(`vector-sim: configuration error: ${(err as Error).message}\n`);
    process.exit(78);
  }
  log('started', { sources: state.sim.sourceIds.length, node: nodeName });
  if (state.requested) {
    shutdown();
    return;
  }
  process.send?.({ type: 'ready' });
}

void main();
