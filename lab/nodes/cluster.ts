/**
 * The stand's nodes: N Node objects in the API server (registered and kept alive by heartbeat.ts), one directory tree
 * and one kubelet per node, and, on the stand-in, our DaemonSet, Deployment and ReplicaSet controllers and a scheduler
 * for pods created without a node, such as configcheck and aggregator pods (a real control plane has its own).
 *
 * Invariants:
 * - Everything talks to the API server over HTTP with client-node, like the real components; nothing reaches into
 *   the stand-in's store.
 * - `stop()` stops every agent gracefully (SIGTERM, final checkpoint writes) before closing the watches, so no child
 *   process outlives the stand.
 * - The agents read the kubeconfig file written here; it is what a service account token is to a real agent.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { defaultTiming, type SimTiming } from '../vector-sim/sim.ts';
import { readDeliveries, type Deliveries } from '../vector-sim/deliveries.ts';
import { DaemonSetController } from './daemonset-controller.ts';
import { DeploymentController } from './deployment-controller.ts';
import { NodeHeartbeat } from './heartbeat.ts';
import { Kubelet } from './kubelet.ts';
import { NodeFs } from './node-fs.ts';
import { BarePodScheduler } from './scheduler.ts';
import { sharePool } from '../common/kube-http.ts';
import type { StandLog } from '../common/log.ts';

export interface NodesOptions {
  /** A kubeconfig (YAML) for the API server. */
  kubeconfig: string;
  /** Where node trees, delivery records and the control file go. */
  root: string;
  nodes: number;
  timing?: Partial<SimTiming>;
  /** How often kubelets re-read mounted Secrets (default 100 ms). */
  secretSyncMs?: number;
  restartBackoffMs?: number;
  /**
   * What the control plane lacks: `stand-in` runs our DaemonSet controller and holds no Leases; `real` leaves the
   * DaemonSets to kube-controller-manager and kube-scheduler, holds a Lease per node and waits until the node lifecycle
   * controller has made every node schedulable. Default `stand-in`.
   */
  kube?: 'stand-in' | 'real';
  /** Run the pods' containers (default true); false: every container a no-op, ready at once (kubelet.ts). */
  runContainers?: boolean;
  log?: StandLog;
}

export interface Nodes {
  readonly nodes: NodeFs[];
  readonly kc: k8s.KubeConfig;
  readonly timing: SimTiming;
  readonly deliveriesDir: string;
  /** JSON `{"stuckSinks": [...], "recoverAfterShutdownSecs"?: n}` read by every Vector simulator. */
  readonly controlFile: string;
  /** Holds these sinks; with `recoverAfterShutdownSecs`, each agent's accept again that long after its SIGTERM. */
  setStuckSinks(sinks: string[], recoverAfterShutdownSecs?: number): void;
  deliveries(): Deliveries;
  /** Ours, on the stand-in only. */
  controller: DaemonSetController | undefined;
  /** Ours, on the stand-in only: Deployments and their ReplicaSets (the aggregators' workloads). */
  deploymentController: DeploymentController | undefined;
  kubelets: Kubelet[];
  stop(): Promise<void>;
}

export function nodeName(i: number): string {
  return `node-${i}`;
}

export async function startNodes(opts: NodesOptions): Promise<Nodes> {
  const log = opts.log ?? (() => undefined);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(opts.kubeconfig);
  // The kubelets and the DaemonSet controller share one keep-alive pool, as one client-go transport would.
  sharePool(kc);
  mkdirSync(opts.root, { recursive: true });
  const kubeconfigPath = join(opts.root, 'kubeconfig');
  writeFileSync(kubeconfigPath, opts.kubeconfig, { mode: 0o600 });
  const deliveriesDir = join(opts.root, 'deliveries');
  const controlFile = join(opts.root, 'control.json');
  mkdirSync(deliveriesDir, { recursive: true });
  const timing: SimTiming = { ...defaultTiming, ...opts.timing };
  const real = opts.kube === 'real';
  const nodes = Array.from(
    { length: opts.nodes },
    (_, i) => new NodeFs(nodeName(i), join(opts.root, 'nodes', nodeName(i))),
  );
  const heartbeat = await NodeHeartbeat.start({ kc, nodes: nodes.map((n) => n.name), leases: real, log });
  const kubelets = nodes.map(
    (node, index) =>
      new Kubelet({
        kc,
        kubeconfigPath,
        node,
        index,
        runContainers: opts.runContainers ?? true,
        deliveriesDir,
        controlFile,
        netDir: join(opts.root, 'net'),
        timing,
        secretSyncMs: opts.secretSyncMs ?? 100,
        restartBackoffMs: opts.restartBackoffMs ?? 200,
        log,
      }),
  );
  const controller = real ? undefined : new DaemonSetController(kc, log);
  const deploymentController = real ? undefined : new DeploymentController(kc, log);
  const scheduler = real
    ? undefined
    : new BarePodScheduler(
        kc,
        nodes.map((n) => n.name),
        log,
      );
  await Promise.all(kubelets.map((k) => k.start()));
  await controller?.start();
  await deploymentController?.start();
  await scheduler?.start();
  if (real) await heartbeat.schedulable();
  return {
    nodes,
    kc,
    timing,
    deliveriesDir,
    controlFile,
    controller,
    deploymentController,
    kubelets,
    setStuckSinks: (sinks, recoverAfterShutdownSecs) => {
      writeFileSync(controlFile, JSON.stringify({ stuckSinks: sinks, recoverAfterShutdownSecs }));
    },
    deliveries: () => readDeliveries(deliveriesDir),
    stop: async () => {
      await scheduler?.stop();
      await controller?.stop();
      await deploymentController?.stop();
      await Promise.all(kubelets.map((k) => k.stop()));
      await heartbeat.stop();
    },
  };
}
