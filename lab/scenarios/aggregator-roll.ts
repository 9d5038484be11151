/**
 * The aggregator scenario: agents ship every namespace's logs to an aggregator (a `vector` sink on each `logs`
 * pipeline, a `vector` source on the aggregator's), and the aggregator rolls while they ship.
 *
 * - A VectorAggregator `agg` (2 replicas) in the agents' namespace, with one aggregator-role VectorPipeline
 *   `ingest`: `vector` source on `0.0.0.0:9000` into a counting sink. The operator makes its Deployment and the
 *   Service `agg-aggregator-ingest`; every agent pipeline's sink sends to `agg-aggregator-ingest.vector.svc:9000`.
 * - The roll is a user's spec change (an env var of the VectorAggregator): the operator changes the pod template and
 *   the Deployment controller (ours on the stand-in, kube-controller-manager's on a real plane) replaces the pods,
 *   surge first. The workload writes a round every `writeEveryMs` until the rollout is over.
 * - With `stall`, the aggregators' sink is stuck from before the roll until it is over (the control file): a
 *   downstream that stalls, longer than the old pods' 30 s grace. The old pods are killed with batches they
 *   answered still buffered (lost without acknowledgements), and batches they never answered (sent again).
 *   With `acknowledgements` on the aggregator's source, no batch is answered before it is delivered.
 * - What the model predicts (vector-source.ts): each stopped aggregator pod's shutdown record counts the events of
 *   answered batches it never delivered (lost: the agents dropped them) and the deliveries of batches it never
 *   answered (repeated: the agents send them again). Nothing else loses or repeats a line, so the pipelines' lost
 *   and duplicated lines must equal those counts.
 *
 * Invariants:
 * - Deliveries are recorded by the aggregators' sink, so every pipeline's figures are counted on one sink id; line
 *   ids carry their namespace, so the per-pipeline tally is exact. No namespace has a second pipeline.
 * - The scenario never writes the aggregator's Deployment or pods: the roll goes through the operator.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from '../../src/kube/client.ts';
import { agentNs, type LabStand, type StandSize } from './stand.ts';
import { drain, switchOperator, write, type PhaseResult } from './steps.ts';

const group = '/apis/observability.kaasops.io/v1alpha1';
export const aggregatorName = 'agg';
const pipeline = 'ingest';
const port = 9000;
const replicas = 2;
const writeEveryMs = 150;

/** The stand options: every `logs` pipeline ships to the aggregator, whose sink records the deliveries. */
export const aggregatorStand: Partial<StandSize> = {
  shipTo: {
    sink: { type: 'vector', address: `${aggregatorName}-aggregator-${pipeline}.${agentNs}.svc:${String(port)}` },
    recordedAs: `${agentNs}-${pipeline}-out`,
  },
};

export interface RollOptions {
  /** The aggregators' sink is stuck through the roll. */
  stall: boolean;
  /** `acknowledgements: true` on the aggregator's `vector` source. */
  acknowledgements: boolean;
}

export interface AggregatorRoll extends RollOptions {
  replicas: number;
  /** Aggregator pods replaced by the roll (old pods gone), and how long the rollout took. */
  podsReplaced: number;
  rolloutMs: number;
  settled: boolean;
  /** Workload rounds written while the aggregator rolled. */
  roundsDuringRoll: number;
}

interface Deployment {
  metadata?: { generation?: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number };
}

interface Pod {
  metadata?: { uid?: string; deletionTimestamp?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

const deploymentPath = `/apis/apps/v1/namespaces/${agentNs}/deployments/${aggregatorName}-aggregator`;
const podsPath = `/api/v1/namespaces/${agentNs}/pods?labelSelector=${encodeURIComponent(
  `app.kubernetes.io/component=Aggregator,app.kubernetes.io/instance=${aggregatorName}`,
)}`;

async function aggregatorPods(stand: LabStand): Promise<Pod[]> {
  return (await stand.get<{ items: Pod[] }>(podsPath))?.items ?? [];
}

/** Every pod of the current template Ready, and no other pod left (terminating ones included). */
async function rolledOut(stand: LabStand, generation: number): Promise<boolean> {
  const d = await stand.get<Deployment>(deploymentPath);
  const s = d?.status;
  if (s === undefined || (s.observedGeneration ?? 0) < generation) return false;
  if (s.updatedReplicas !== replicas || s.readyReplicas !== replicas || s.replicas !== replicas) return false;
  return (await aggregatorPods(stand)).length === replicas;
}

async function createAggregator(stand: LabStand, acknowledgements: boolean): Promise<void> {
  await request(stand.kc, 'POST', `${group}/namespaces/${agentNs}/vectorpipelines`, {
    body: {
      apiVersion: 'observability.kaasops.io/v1alpha1',
      kind: 'VectorPipeline',
      metadata: { name: pipeline, namespace: agentNs },
      spec: {
        sources: {
          in: { type: 'vector', address: `0.0.0.0:${String(port)}`, ...(acknowledgements ? { acknowledgements } : {}) },
        },
        sinks: { out: { type: 'blackhole', inputs: ['in'] } },
      },
    },
  });
  await request(stand.kc, 'POST', `${group}/namespaces/${agentNs}/vectoraggregators`, {
    body: {
      apiVersion: 'observability.kaasops.io/v1alpha1',
      kind: 'VectorAggregator',
      metadata: { name: aggregatorName, namespace: agentNs },
      spec: { replicas },
    },
  });
}

/** Polls `check` until true, writing a round every `writeEveryMs` when `writing`; false after `limitMs`. */
async function waitWriting(
  stand: LabStand,
  check: () => Promise<boolean>,
  writing: boolean,
  limitMs = 300_000,
): Promise<{ ok: boolean; rounds: number }> {
  const deadline = Date.now() + limitMs;
  let rounds = 0;
  let last = 0;
  while (Date.now() < deadline) {
    if (await check()) return { ok: true, rounds };
    if (writing && Date.now() - last >= writeEveryMs) {
      write(stand, 1);
      rounds++;
      last = Date.now();
    }
    await sleep(50);
  }
  return { ok: false, rounds };
}

/** The scenario body: aggregator and agents up, logs shipped, then the roll while the workload writes on. */
export async function aggregatorRoll(
  stand: LabStand,
  phases: PhaseResult[],
  opts: RollOptions,
): Promise<AggregatorRoll> {
  await createAggregator(stand, opts.acknowledgements);
  phases.push(await switchOperator(stand, 'start', { optimize: false, migration: false }));
  await waitWriting(stand, () => rolledOut(stand, 1), false);
  write(stand, 3);
  await drain(stand);
  const sink = aggregatorStand.shipTo?.recordedAs ?? '';
  if (opts.stall) {
    stand.nodes.setStuckSinks([sink]);
    // Two cooldowns: every simulator has read the control file; then a round fills the aggregators' buffers.
    await sleep(2 * 60_000 * stand.nodes.timing.timeScale + 200);
    write(stand, 2);
    await sleep(500);
  }
  const before = new Set((await aggregatorPods(stand)).map((p) => p.metadata?.uid ?? ''));
  const generation = ((await stand.get<Deployment>(deploymentPath))?.metadata?.generation ?? 0) + 1;
  const started = Date.now();
  await request(stand.kc, 'PATCH', `${group}/namespaces/${agentNs}/vectoraggregators/${aggregatorName}`, {
    body: { spec: { env: [{ name: 'LAB_ROLL', value: '1' }] } },
    contentType: 'application/merge-patch+json',
  });
  const rolled = await waitWriting(stand, () => rolledOut(stand, generation), true);
  const rolloutMs = Date.now() - started;
  const after = new Set((await aggregatorPods(stand)).map((p) => p.metadata?.uid ?? ''));
  if (opts.stall) stand.nodes.setStuckSinks([]);
  write(stand, 1);
  return {
    ...opts,
    replicas,
    podsReplaced: [...before].filter((uid) => !after.has(uid)).length,
    rolloutMs,
    settled: rolled.ok,
    roundsDuringRoll: rolled.rounds,
  };
}
