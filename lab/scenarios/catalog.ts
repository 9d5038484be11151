/**
 * The stand's scenarios. Each runs on a fresh stand: the operator brings up the agents in a start mode, the workload
 * writes (files rotate), the agents drain, then the operator is restarted with new flags (the switch), the DaemonSet
 * rolls through the nodes, the workload runs on, and the agents drain again. Figures cover every line written.
 *
 * Invariants:
 * - A scenario only drives the operator's flags, the workload and (lagging) the stuck-sink control; the agents'
 *   DaemonSet and Secrets are the operator's alone.
 * - `retainedAtSwitch` is the ledger's count of lines still in plain files just before the switch, summed over
 *   pipelines: what a source without checkpoints re-reads, the reference for duplicates without migration.
 * - A scenario never throws for a wrong figure; it reports it. It throws only when the stand cannot run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { LabStand, type Flags, type PipelineRef, type StandSize } from './stand.ts';
import { drain, retained, switchOperator, tally, write, type PhaseResult, type PipelineFigures } from './steps.ts';
import { readShutdownRecords, type Deliveries } from '../vector-sim/deliveries.ts';
import type { ShutdownRecord } from '../vector-sim/sim.ts';
import { scenarioNames, type ScenarioName } from './names.ts';
import * as renames from './renames.ts';
import type { KubeKind } from './kube.ts';
import { aggregatorRoll, aggregatorStand, type AggregatorRoll, type RollOptions } from './aggregator-roll.ts';

export interface ScenarioResult {
  name: string;
  title: string;
  phases: PhaseResult[];
  pipelines: PipelineFigures[];
  totals: { written: number; delivered: number; duplicated: number; lost: number };
  retainedAtSwitch: number;
  /** Pipelines whose sink was stuck at the switch. */
  lagging: string[];
  /**
   * The lines written while a sink was stuck (none elsewhere), and per pipeline of their namespace how many of them
   * it never got (`lost`) and how many it got more than once (`redelivered`). This is what the position policy
   * decides, so it is exact; duplicates elsewhere are not the policy's doing (docs/stand.md).
   */
  backlog: { lines: number; pipelines: { pipeline: string; lost: number; redelivered: number }[] };
  /** What the agents' shutdown windows did (sim.ts), summed over every agent stopped during the scenario. */
  shutdowns: ShutdownSummary;
  drained: boolean;
  durationMs: number;
  /** The API server the scenario ran on, and the `gitVersion` its `/version` reported. */
  server: { kube: KubeKind; gitVersion: string };
  /** The aggregator scenario's roll. */
  aggregator?: AggregatorRoll;
}

export interface ShutdownSummary {
  /** Agent pods stopped (the aggregators are counted apart, below; the outcomes and graces cover both). */
  agents: number;
  /** The termination graces (seconds) the stopped agents' pods had, distinct, ascending. */
  graceSecs: number[];
  drained: number;
  drainLimit: number;
  killed: number;
  /** Mapped (checkpointed) events left undelivered, counted per sink: lost. */
  lostEvents: number;
  /** Lines mapped after their source's final checkpoint write: delivered, then read again. */
  mappedAfterFinalWrite: number;
  /** Sources killed or stopped by force before their final checkpoint write. */
  missingFinalWrites: number;
  /** Of the stopped pods, aggregators (`vector` sources), and what their batches became (vector-source.ts). */
  aggregators: number;
  /** Batches refused while stopping (the sender went to another pod), and batches left unanswered. */
  refusedBatches: number;
  unansweredBatches: number;
  /** Deliveries of unanswered batches: sent again by the agents, so delivered twice. */
  resentDelivered: number;
}

function summarize(records: ShutdownRecord[]): ShutdownSummary {
  const s: ShutdownSummary = {
    agents: records.filter((r) => r.received === undefined).length,
    graceSecs: [...new Set(records.map((r) => r.graceSecs))].sort((a, b) => a - b),
    drained: 0,
    drainLimit: 0,
    killed: 0,
    lostEvents: 0,
    mappedAfterFinalWrite: 0,
    missingFinalWrites: 0,
    aggregators: 0,
    refusedBatches: 0,
    unansweredBatches: 0,
    resentDelivered: 0,
  };
  for (const r of records) {
    if (r.received !== undefined) {
      s.aggregators++;
      s.refusedBatches += r.received.refused;
      s.unansweredBatches += r.received.unansweredBatches;
      s.resentDelivered += r.received.unansweredDelivered;
    }
    if (r.outcome === 'drained') s.drained++;
    else if (r.outcome === 'drain-limit') s.drainLimit++;
    else s.killed++;
    s.lostEvents += r.lostEvents;
    s.mappedAfterFinalWrite += r.mappedAfterFinalWrite;
    s.missingFinalWrites += r.missingFinalWrites;
  }
  return s;
}

interface Ctx {
  stand: LabStand;
  phases: PhaseResult[];
  retainedAtSwitch: number;
  lagging: string[];
  /** Ids written while a sink was stuck. */
  backlog: string[];
  aggregator?: AggregatorRoll;
}

type Body = (c: Ctx) => Promise<void>;

const off: Flags = { optimize: false, migration: false };
const optOnly: Flags = { optimize: true, migration: false };
const migLegacy: Flags = { optimize: false, migration: true };
const migOpt: Flags = { optimize: true, migration: true };

async function phase(c: Ctx, label: string, flags: Flags, how: 'in-process' | 'process' = 'in-process'): Promise<void> {
  c.phases.push(await switchOperator(c.stand, label, flags, how));
}

/** Start mode, logs written and drained, then the switch, with the retained volume noted just before it. */
function switchScenario(from: Flags, to: Flags): Body {
  return async (c) => {
    await phase(c, 'start', from);
    write(c.stand, 4);
    await drain(c.stand);
    c.retainedAtSwitch = retained(c.stand);
    await phase(c, 'switch', to);
    write(c.stand, 2);
  };
}

/** Same flags throughout: an in-process restart, then the compiled operator (a new build) taking over. */
function restartScenario(flags: Flags): Body {
  return async (c) => {
    await phase(c, 'start', flags);
    write(c.stand, 3);
    await drain(c.stand);
    c.retainedAtSwitch = retained(c.stand);
    await phase(c, 'restart', flags);
    write(c.stand, 1);
    await phase(c, 'upgrade (vector-operator run process)', flags, 'process');
    write(c.stand, 1);
  };
}

/**
 * Holds `stuck`'s sink (until each agent's SIGTERM + `recoverAfterShutdownSecs`, when given), then writes three rounds:
 * its backlog. Three rounds run past a rotation, and are more than a sink buffer, a held event and a channel per node,
 * so the buffer is full at a SIGTERM. Records the lagging pipeline, its backlog and what is retained at the switch.
 */
async function stuckWithBacklog(c: Ctx, stuck: PipelineRef, recoverAfterShutdownSecs?: number): Promise<void> {
  c.lagging = [`${stuck.ns}/${stuck.name}`];
  c.stand.nodes.setStuckSinks([stuck.sink], recoverAfterShutdownSecs);
  // Two cooldowns: every simulator has read the control file before the backlog is written.
  await sleep(2 * 60_000 * c.stand.nodes.timing.timeScale + 200);
  const before = new Set(c.stand.workload.written(stuck.ns));
  write(c.stand, 3);
  c.backlog = c.stand.workload.written(stuck.ns).filter((id) => !before.has(id));
  // Everything but the stuck pipeline catches up, so the backlog is its alone; two checkpoint flushes while blocked
  // make the periodic write cover every mapped line.
  await drain(c.stand, 1_500);
  c.retainedAtSwitch = retained(c.stand);
}

/**
 * The `audit` pipeline of the first namespace is stuck at the switch, with a backlog in retained files. Three rounds
 * of backlog run past a rotation, into files the stuck source has not started (it holds no entry for them).
 */
function laggingScenario(policy: 'min' | 'max'): Body {
  return async (c) => {
    await phase(c, 'start', { ...migLegacy, policy });
    write(c.stand, 3);
    await drain(c.stand);
    const stuck = c.stand.pipelines.find((p) => p.name === 'audit');
    if (stuck === undefined) throw new Error('no audit pipeline to lag');
    await stuckWithBacklog(c, stuck);
    await phase(c, 'switch', { ...migOpt, policy });
    c.stand.nodes.setStuckSinks([]);
    write(c.stand, 1);
  };
}

/**
 * Optimized throughout. A sink of the first namespace is stuck, so the shared source stops; a backlog is written;
 * then one of that namespace's pods is deleted and kept out of every source's store past `delay_deletion_ms`. When
 * the sink resumes, Vector drains the pod's open files without pod metadata: only the file-path fallback route can
 * deliver those lines, as a legacy source would.
 */
function deletedPodScenario(): Body {
  return async (c) => {
    await phase(c, 'start', migOpt);
    write(c.stand, 2);
    await drain(c.stand);
    const pod = c.stand.workload.pods[0];
    const stuck = c.stand.pipelines.find((p) => p.ns === pod?.ns && p.name === 'logs');
    if (pod === undefined || stuck === undefined) throw new Error('no pod to delete');
    const cooldownMs = 60_000 * c.stand.nodes.timing.timeScale;
    c.lagging = [`${stuck.ns}/${stuck.name}`];
    c.stand.nodes.setStuckSinks([stuck.sink]);
    await sleep(2 * cooldownMs + 200);
    const before = new Set(c.stand.workload.written(pod.ns));
    write(c.stand, 1);
    c.backlog = c.stand.workload
      .written(pod.ns)
      .filter((id) => !before.has(id) && id.startsWith(`${pod.ns}/${pod.name}/`));
    // Two cooldowns: a file rotated by the backlog is found while the pod is still listed.
    await sleep(2 * cooldownMs + 200);
    await c.stand.workload.deletePod(c.stand.kc.makeApiClient(k8s.CoreV1Api), pod);
    // delay_deletion_ms (one cooldown, scaled alike) and two discovery cycles: the pod leaves every store.
    await sleep(3 * cooldownMs + 200);
    c.stand.nodes.setStuckSinks([]);
  };
}

/**
 * A sink of the second namespace (one pipeline, so no neighbour shares its files) is stuck before the switch to
 * optimized with migration, and stays stuck while the pods roll: each agent's sink accepts again 45 s (Vector
 * time) after that agent's SIGTERM, between Kubernetes' 30 s grace and Vector's 60 s drain limit. `grace` is the
 * agent pod's termination grace (`--agent-termination-grace-period-seconds`; undefined = migration's default).
 */
function stuckSinkScenario(grace?: number): Body {
  return async (c) => {
    const flags = (f: Flags): Flags => (grace === undefined ? f : { ...f, grace });
    await phase(c, 'start', flags(migLegacy));
    write(c.stand, 2);
    await drain(c.stand);
    const stuck = c.stand.pipelines.find((p) => p.name === 'logs' && p !== c.stand.pipelines[0]);
    if (stuck === undefined) throw new Error('no second namespace to hold up');
    await stuckWithBacklog(c, stuck, stallAfterSigtermSecs);
    await phase(c, 'switch', flags(migOpt));
    c.stand.nodes.setStuckSinks([]);
    write(c.stand, 1);
  };
}

function rollBody(opts: RollOptions): Body {
  return async (c) => {
    c.aggregator = await aggregatorRoll(c.stand, c.phases, opts);
  };
}

/** When the stuck sink accepts again, after each agent's SIGTERM (Vector seconds). */
const stallAfterSigtermSecs = 45;

function backlogFigures(stand: LabStand, c: Ctx, deliveries: Deliveries): ScenarioResult['backlog'] {
  const ns = c.lagging[0]?.split('/')[0];
  const pipelines = stand.pipelines
    .filter((p) => p.ns === ns)
    .map((p) => {
      const got = deliveries.get(p.sink);
      let lost = 0;
      let redelivered = 0;
      for (const id of c.backlog) {
        const n = got?.get(id) ?? 0;
        if (n === 0) lost++;
        else if (n > 1) redelivered++;
      }
      return { pipeline: `${p.ns}/${p.name}`, lost, redelivered };
    });
  return { lines: c.backlog.length, pipelines };
}

interface Scenario {
  title: string;
  body: Body;
  /** Stand options of the scenario; a function of the run's size when they depend on it. */
  size?: Partial<StandSize> | ((size: StandSize) => Partial<StandSize>);
}

export const scenarios: Record<string, Scenario> = {
  'switch-no-migration': {
    title: 'legacy -> optimized, migration off',
    body: switchScenario(off, optOnly),
  },
  'switch-migration': {
    title: 'legacy -> optimized, migration on',
    body: switchScenario(migLegacy, migOpt),
  },
  'switch-migration-log-namespace': {
    title: 'legacy -> optimized, migration on, sources with log_namespace: true',
    body: switchScenario(migLegacy, migOpt),
    // The namespace is metadata (%kubernetes_logs.pod_namespace): a route on .kubernetes.pod_namespace loses it all.
    size: { sourceOptions: { log_namespace: true } },
  },
  'switch-migration-docker': {
    title: 'legacy -> optimized, migration on, Docker nodes (pod logs are symlinks)',
    body: switchScenario(migLegacy, migOpt),
    // No rotation: a rotated Docker log leaves the pod dir (the link follows the live file), and the stand's writer
    // rotates within a burst, before any reader could have opened the file: that loss would be the stand's own.
    size: { dockerLinks: true, maxFileBytes: 1 << 30 },
  },
  'rollback-migration': {
    title: 'optimized -> legacy (rollback), migration on',
    body: switchScenario(migOpt, migLegacy),
  },
  'restart-flags-off': { title: 'operator restart and upgrade, flags off', body: restartScenario(off) },
  'restart-flags-on': { title: 'operator restart and upgrade, flags on', body: restartScenario(migOpt) },
  'enable-migration-optimized': {
    title: 'enable migration while optimized',
    body: switchScenario(optOnly, migOpt),
  },
  'deleted-pod-backlog': {
    title: 'optimized, a pod deleted with a backlog (drained without pod metadata)',
    body: deletedPodScenario(),
  },
  'lagging-min': { title: 'lagging pipeline at the switch, --position-policy min', body: laggingScenario('min') },
  'lagging-max': { title: 'lagging pipeline at the switch, --position-policy max', body: laggingScenario('max') },
  'rename-group-1-to-2': {
    title: 'optimized, a signature group goes from 1 to 2 members, migration on',
    body: renames.groupOneToTwo(migOpt),
    size: renames.groupOneToTwoSize,
  },
  'rename-group-1-to-2-no-migration': {
    title: 'optimized, a signature group goes from 1 to 2 members, migration off (live reload)',
    body: renames.groupOneToTwo(optOnly),
    size: renames.groupOneToTwoSize,
  },
  'rename-group-2-to-1': {
    title: 'optimized, a signature group goes from 2 members to 1, migration on',
    body: renames.groupTwoToOne(migOpt),
    size: renames.groupTwoToOneSize,
  },
  'rename-opt-out': {
    title: 'optimized, a pipeline opts out of a group that goes on, then back in, migration on',
    body: renames.optOutToggled(migOpt),
  },
  'rename-chunk-boundary': {
    title: 'optimized, a group crosses its chunk size (test-only chunk size: namespaces - 1), migration on',
    body: renames.chunkBoundary(migOpt),
    size: renames.chunkBoundarySize,
  },
  'stuck-sink-switch': {
    title: `sink stuck at the switch, back ${stallAfterSigtermSecs} s after SIGTERM; grace 70 s (migration's)`,
    body: stuckSinkScenario(),
  },
  'stuck-sink-switch-short-grace': {
    title: `sink stuck at the switch, back ${stallAfterSigtermSecs} s after SIGTERM; grace 30 s (Kubernetes' default)`,
    body: stuckSinkScenario(30),
  },
  'aggregator-roll': {
    title: 'agents ship to an aggregator (vector sink -> vector source) while it rolls (2 replicas, surge 1)',
    body: rollBody({ stall: false, acknowledgements: false }),
    size: aggregatorStand,
  },
  'aggregator-roll-stuck-sink': {
    title: "the same, the aggregators' sink stuck through the roll (past the 30 s grace), no acknowledgements",
    body: rollBody({ stall: true, acknowledgements: false }),
    size: aggregatorStand,
  },
  'aggregator-roll-stuck-sink-acks': {
    title: "the same, with acknowledgements on the aggregator's vector source",
    body: rollBody({ stall: true, acknowledgements: true }),
    size: aggregatorStand,
  },
} satisfies Record<ScenarioName, Scenario>;

export async function runScenario(name: string, size: StandSize): Promise<ScenarioResult> {
  const def = scenarios[name];
  if (def === undefined) throw new Error(`unknown scenario '${name}' (known: ${scenarioNames.join(', ')})`);
  const started = Date.now();
  const stand = await LabStand.start({ ...size, ...(typeof def.size === 'function' ? def.size(size) : def.size) });
  try {
    const c: Ctx = { stand, phases: [], retainedAtSwitch: 0, lagging: [], backlog: [] };
    await def.body(c);
    // Quiet means done only if no source is still busy: one simulator runs every source of its node, and with a
    // thousand sources it can go seconds between deliveries while it discovers and reads.
    const drained = await drain(stand, 3_000 + 10 * stand.pipelines.length);
    const deliveries = stand.nodes.deliveries();
    const pipelines = tally(stand, deliveries);
    const totals = { written: 0, delivered: 0, duplicated: 0, lost: 0 };
    for (const p of pipelines) {
      totals.written += p.written;
      totals.delivered += p.delivered;
      totals.duplicated += p.duplicated;
      totals.lost += p.lost;
    }
    return {
      name,
      title: def.title,
      phases: c.phases,
      pipelines,
      totals,
      retainedAtSwitch: c.retainedAtSwitch,
      lagging: c.lagging,
      backlog: backlogFigures(stand, c, deliveries),
      shutdowns: summarize(readShutdownRecords<ShutdownRecord>(stand.nodes.deliveriesDir)),
      drained,
      durationMs: Date.now() - started,
      server: { kube: stand.kube.kind, gitVersion: stand.kube.gitVersion },
      ...(c.aggregator === undefined ? {} : { aggregator: c.aggregator }),
    };
  } finally {
    await stand.stop();
  }
}
