/**
 * A small stand for tests: the API server stand-in (graceful pod deletion on, as with a real kubelet), N simulated
 * nodes, agent configs built by the real config builder, and bounded waits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../../lab/apiserver/server.ts';
import { startNodes, type Nodes } from '../../lab/nodes/cluster.ts';
import type { Deliveries } from '../../lab/vector-sim/deliveries.ts';
import type { SimTiming } from '../../lab/vector-sim/sim.ts';
import { buildModes } from '../../src/pipelines/modes.ts';
import type { Pipeline, Vector } from '../../src/pipelines/schemas.ts';
import { agentDaemonSet } from '../../src/operator/objects.ts';
import { eventually } from '../helpers/eventually.ts';

export interface Stand {
  server: ApiServer;
  nodes: Nodes;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  root: string;
  stop(): Promise<void>;
}

export async function startStand(nodeCount: number, timing?: Partial<SimTiming>): Promise<Stand> {
  const server = await startApiServer({ gracefulPodDeletion: true, bookmarkIntervalMs: 5_000 });
  const root = mkdtempSync(join(tmpdir(), 'stand-'));
  const nodes = await startNodes({ kubeconfig: server.kubeconfig, root, nodes: nodeCount, timing });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(server.kubeconfig);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'vector' } } });
  return {
    server,
    nodes,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    root,
    stop: async () => {
      await nodes.stop();
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export const vector: Vector = { kind: 'Vector', metadata: { name: 'agent', namespace: 'vector' }, spec: {} };

/** One VectorPipeline `logs` per namespace: kubernetes_logs -> blackhole sink `<ns>-logs-out`. */
export function configs(namespaces: readonly string[]): { legacy: string; optimized: string } {
  const pipelines = namespaces.map(
    (ns) =>
      ({
        kind: 'VectorPipeline',
        metadata: { name: 'logs', namespace: ns },
        spec: {
          sources: { pods: { type: 'kubernetes_logs' } },
          sinks: { out: { type: 'blackhole', inputs: ['pods'] } },
        },
      }) satisfies Pipeline,
  );
  const modes = buildModes(vector, pipelines, { optimize: true });
  return { optimized: modes.optimized.json, legacy: modes.legacy.json };
}

export function sinkOf(ns: string): string {
  return `${ns}-logs-out`;
}

export async function putSecret(core: k8s.CoreV1Api, name: string, json: string): Promise<void> {
  const body: k8s.V1Secret = {
    metadata: { name, namespace: 'vector' },
    data: { 'agent.json': Buffer.from(json).toString('base64') },
  };
  try {
    await core.replaceNamespacedSecret({ name, namespace: 'vector', body });
  } catch (err) {
    if (!(err instanceof k8s.ApiException && err.code === 404)) throw err;
    await core.createNamespacedSecret({ namespace: 'vector', body });
  }
}

/**
 * The agent DaemonSet as the operator builds it (src/operator/objects.ts), mounting `secret`; with `standby`, the
 * checkpoint-merger init container the migration design adds: config and standby read-only, the data dir, /var/log.
 */
export function agentDs(secret: string, standby?: string): k8s.V1DaemonSet {
  const ds = agentDaemonSet(vector, secret);
  const spec = ds.spec?.template.spec;
  if (spec === undefined) throw new Error('no pod spec');
  spec.terminationGracePeriodSeconds = 10;
  if (standby !== undefined) {
    spec.volumes = [...(spec.volumes ?? []), { name: 'config-standby', secret: { secretName: standby } }];
    spec.initContainers = [
      {
        name: 'checkpoint-merger',
        image: 'ghcr.io/kaasops/checkpoint-merger:0.1.0',
        args: [
          '--config=/etc/vector/agent.json',
          '--standby-config=/etc/vector-standby/agent.json',
          '--data-dir=/vector-data-dir',
          '--log-dir=/var/log/pods',
        ],
        volumeMounts: [
          { name: 'config', mountPath: '/etc/vector', readOnly: true },
          { name: 'config-standby', mountPath: '/etc/vector-standby', readOnly: true },
          { name: 'data', mountPath: '/vector-data-dir' },
          { name: 'var-log', mountPath: '/var/log', readOnly: true },
        ],
      },
    ];
  }
  return ds;
}

export async function applyDs(apps: k8s.AppsV1Api, ds: k8s.V1DaemonSet): Promise<void> {
  const name = ds.metadata?.name ?? '';
  try {
    const live = await apps.readNamespacedDaemonSet({ name, namespace: 'vector' });
    if (ds.metadata !== undefined) ds.metadata.resourceVersion = live.metadata?.resourceVersion;
    await apps.replaceNamespacedDaemonSet({ name, namespace: 'vector', body: ds });
  } catch (err) {
    if (!(err instanceof k8s.ApiException && err.code === 404)) throw err;
    await apps.createNamespacedDaemonSet({ namespace: 'vector', body: ds });
  }
}

/** Resolves once the DaemonSet's status shows every node updated and ready for the current generation. */
export async function rolledOut(apps: k8s.AppsV1Api, name: string, nodes: number): Promise<k8s.V1DaemonSet> {
  return eventually(`DaemonSet ${name} rolled out on ${nodes} nodes`, async () => {
    const ds = await apps.readNamespacedDaemonSet({ name, namespace: 'vector' });
    const s = ds.status;
    const done =
      s !== undefined &&
      s.observedGeneration === ds.metadata?.generation &&
      s.updatedNumberScheduled === nodes &&
      s.numberReady === nodes &&
      s.desiredNumberScheduled === nodes;
    return done ? ds : undefined;
  });
}

export interface Tally {
  distinct: number;
  duplicates: number;
  missing: number;
}

export function tally(d: Deliveries, sink: string, written: readonly string[]): Tally {
  const got = d.get(sink) ?? new Map<string, number>();
  let duplicates = 0;
  let missing = 0;
  for (const id of written) {
    const n = got.get(id) ?? 0;
    if (n === 0) missing++;
    else duplicates += n - 1;
  }
  return { distinct: written.length - missing, duplicates, missing };
}

/** Waits until every sink has every written line and the delivery records stop growing for a few polls. */
export async function settled(nodes: Nodes, written: Map<string, string[]>): Promise<Deliveries> {
  let last = -1;
  let quiet = 0;
  return eventually('every line delivered and deliveries quiet', () => {
    const d = nodes.deliveries();
    let total = 0;
    for (const m of d.values()) for (const n of m.values()) total += n;
    const complete = [...written].every(([sink, ids]) => tally(d, sink, ids).missing === 0);
    quiet = total === last ? quiet + 1 : 0;
    last = total;
    return complete && quiet >= 10 ? d : undefined;
  });
}
