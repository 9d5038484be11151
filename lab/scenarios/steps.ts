/**
 * The steps scenarios are made of, and what each measures: switching the operator's flags (a restart) and waiting for
 * the cluster to settle, writing logs, draining, and the per-pipeline tally.
 *
 * Invariants:
 * - Every figure is measured: lines written come from the workload's ledger, deliveries from the simulators' records,
 *   watches from the server's counter, merger outcomes from the agent pods' statuses and the Vector status the
 *   operator wrote. Nothing is derived from what a scenario expects.
 * - A settle wait ends unsettled only after `limitMs` without progress (the agent watches no nearer to their
 *   expected count, and the config's sources, updated and Ready pods unchanged), so a thousand sources' start is
 *   waited for however long it takes, and a count that only wavers does not hold it forever. It then records what
 *   it saw (`settled: false`) instead of throwing, so a run still reports the figures of a scenario that went wrong.
 * - Watches above the expected count, with everything else settled, settle the phase after `surplusGraceMs`: the
 *   reported `agentWatches` then shows the surplus, and `watchesOpened` (stand-in) the reopens behind it.
 * - An agent is Ready once its simulator has started every source: each has listed its pods, namespaces and node
 *   and is watching them, which is when Vector's kubernetes_logs starts reading files (main.ts). A settle requires
 *   every agent Ready, and a drain counts quiet time only while they are, so it cannot end while sources start.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Deliveries } from '../vector-sim/deliveries.ts';
import { agentNs, dsName, type Flags, type LabStand } from './stand.ts';

export interface MergerNode {
  node: string;
  /** The merger's one-line summary, from the init container's termination message. */
  summary: Record<string, unknown> | string | undefined;
}

export interface PhaseResult {
  label: string;
  flags: Flags;
  operator: 'in-process' | 'process';
  /** From the operator's start to mounted config, DaemonSet rollout and agent watches all current. */
  rolloutMs: number;
  settled: boolean;
  /** kubernetes_logs sources in the mounted config. */
  sources: number;
  agentWatches: number;
  expectedWatches: number;
  /** Stand-in only: watches opened during the phase; beyond the agents' expected count, they are reopens. */
  watchesOpened?: number;
  /** Agent pods replaced plus container restarts during the phase. */
  agentRestarts: number;
  /** `status.migration` of the Vector as the operator wrote it. */
  migrationStatus: Record<string, unknown> | undefined;
  mergers: MergerNode[];
}

export interface PipelineFigures {
  ns: string;
  pipeline: string;
  written: number;
  delivered: number;
  duplicated: number;
  lost: number;
}

interface Pod {
  metadata?: { uid?: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: {
    conditions?: { type: string; status: string }[];
    containerStatuses?: { restartCount?: number }[];
    initContainerStatuses?: { name: string; state?: { terminated?: { message?: string } } }[];
  };
}

interface Secret {
  data?: Record<string, string>;
}

interface DaemonSet {
  metadata?: { generation?: number };
  spec?: {
    template?: {
      spec?: { volumes?: { name: string; secret?: { secretName?: string } }[]; initContainers?: { name: string }[] };
    };
  };
  status?: { observedGeneration?: number; updatedNumberScheduled?: number; numberReady?: number };
}

/** The agent pods (not the operator's configcheck pods, which share the namespace). */
async function agentPods(stand: LabStand): Promise<Pod[]> {
  const list = await stand.get<{ items: Pod[] }>(
    `/api/v1/namespaces/${agentNs}/pods?labelSelector=app.kubernetes.io%2Fcomponent%3DAgent`,
  );
  return (list?.items ?? []).filter((p) => p.metadata?.deletionTimestamp === undefined);
}

/** One Ready agent pod per node, none of them terminating. */
async function agentsReady(stand: LabStand): Promise<boolean> {
  const pods = await agentPods(stand);
  const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  return ready.length === stand.nodes.nodes.length;
}

/** Polls often while a rollout is young (its time is a figure), then every second: the polls read the config. */
/**
 * How long every agent may hold more watches than 3 per source, with everything else settled, before the phase
 * counts as settled anyway. An agent under load reopens a watch its client gave up on before the server has seen
 * the old stream close, so a thousand-source stand can hold a few dozen extra watches for minutes, and never the
 * exact count. A stopped agent's watches close within a second or two of its exit, well inside this.
 */
const surplusGraceMs = 30_000;

function pollMs(elapsedMs: number): number {
  return Math.min(1_000, Math.max(100, elapsedMs / 20));
}

function restartState(pods: Pod[]): Map<string, number> {
  return new Map(
    pods.map((p) => [
      p.metadata?.uid ?? '',
      (p.status?.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0),
    ]),
  );
}

/** Pods that were replaced, plus container restarts of those that stayed. */
function restartsBetween(before: Map<string, number>, after: Map<string, number>): number {
  let n = 0;
  for (const [uid, count] of before) {
    const now = after.get(uid);
    n += now === undefined ? 1 : now - count;
  }
  return n;
}

interface AgentConfig {
  sources?: Record<string, { type?: string }>;
}

function configOf(s: Secret | undefined): AgentConfig | undefined {
  const b64 = s?.data?.['agent.json'];
  return b64 === undefined ? undefined : (JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as AgentConfig);
}

function isOptimized(cfg: ReturnType<typeof configOf>): boolean {
  return Object.keys(cfg?.sources ?? {}).some((k) => k.startsWith('optimizedSource-'));
}

/**
 * Restarts the operator with `flags` and waits (bounded by `limitMs`) until the cluster settles (`settle`).
 */
export async function switchOperator(
  stand: LabStand,
  label: string,
  flags: Flags,
  how: 'in-process' | 'process' = 'in-process',
  limitMs = 600_000,
): Promise<PhaseResult> {
  const before = restartState(await agentPods(stand));
  const started = Date.now();
  await stand.operator(flags, how);
  return settle(stand, { label, flags, how, before, started, limitMs });
}

/**
 * A pipeline change (no operator restart): runs `change`, then waits until the mounted config satisfies `ready`
 * (the operator has published the change) and the cluster settles (`settle`).
 */
export async function reconfigure(
  stand: LabStand,
  label: string,
  flags: Flags,
  change: () => Promise<void>,
  ready: (sourceIds: string[]) => boolean,
  limitMs = 600_000,
): Promise<PhaseResult> {
  const before = restartState(await agentPods(stand));
  const started = Date.now();
  await change();
  return settle(stand, { label, flags, how: 'in-process', before, started, limitMs, ready });
}

interface SettleWait {
  label: string;
  flags: Flags;
  how: 'in-process' | 'process';
  before: Map<string, number>;
  started: number;
  limitMs: number;
  ready?: (sourceIds: string[]) => boolean;
}

/**
 * Waits until the mounted Secret holds the target mode (and satisfies `ready`), the DaemonSet is rolled out, the
 * standby Secret holds the other mode (migration), the migration phase is Steady, and the agents hold 3 watches per
 * kubernetes_logs source of the mounted config; then measures the phase.
 */
async function settle(stand: LabStand, w: SettleWait): Promise<PhaseResult> {
  const { label, flags, how, before, started } = w;
  const nodes = stand.nodes.nodes.length;
  const openedBefore = stand.kube.watchesOpened?.();
  const secret = (n: string): Promise<Secret | undefined> =>
    stand.get<Secret>(`/api/v1/namespaces/${agentNs}/secrets/${n}`);
  let sources = 0;
  let settled = false;
  let state = '';
  let gap = Infinity;
  let progressAt = started;
  let surplusSince: number | undefined;
  while (Date.now() - progressAt < w.limitMs) {
    const ds = await stand.get<DaemonSet>(`/apis/apps/v1/namespaces/${agentNs}/daemonsets/${dsName}`);
    const mounted = ds?.spec?.template?.spec?.volumes?.find((v) => v.name === 'config')?.secret?.secretName;
    const cfg = mounted === undefined ? undefined : configOf(await secret(mounted));
    const vector = await stand.get<{ status?: { migration?: { phase?: string } } }>(stand.vectorPath());
    const s = ds?.status;
    const rolled =
      s !== undefined &&
      s.observedGeneration === ds?.metadata?.generation &&
      s.updatedNumberScheduled === nodes &&
      s.numberReady === nodes;
    // With migration the Secrets are A/B slots: the one not mounted ends holding the other mode, and the template
    // has the merger (enabling migration need not switch Secrets, but it changes the template).
    const standby = flags.migration ? configOf(await secret(mounted === dsName ? `${dsName}-opt` : dsName)) : undefined;
    const merger = ds?.spec?.template?.spec?.initContainers?.some((c) => c.name === 'checkpoint-merger') === true;
    const pinned =
      merger === flags.migration &&
      (!flags.migration || (standby !== undefined && isOptimized(standby) !== flags.optimize));
    const phase = vector?.status?.migration?.phase;
    const ids = Object.entries(cfg?.sources ?? {})
      .filter(([, x]) => x.type === 'kubernetes_logs')
      .map(([id]) => id);
    sources = ids.length;
    const watches = await stand.agentWatches();
    const now = `${String(sources)} ${String(s?.updatedNumberScheduled)} ${String(s?.numberReady)}`;
    const off = Math.abs(3 * sources * nodes - watches);
    if (now !== state || off < gap) [state, gap, progressAt] = [now, off, Date.now()];
    const current =
      cfg !== undefined &&
      isOptimized(cfg) === flags.optimize &&
      (w.ready === undefined || w.ready(ids)) &&
      rolled &&
      pinned &&
      (phase === undefined || phase === 'Steady');
    const expected = 3 * sources * nodes;
    if (current && watches === expected) {
      settled = true;
      break;
    }
    surplusSince = current && watches > expected ? (surplusSince ?? Date.now()) : undefined;
    if (surplusSince !== undefined && Date.now() - surplusSince >= surplusGraceMs) {
      settled = true;
      break;
    }
    await sleep(pollMs(Date.now() - started));
  }
  const rolloutMs = Date.now() - started;
  const pods = await agentPods(stand);
  const openedAfter = stand.kube.watchesOpened?.();
  const vector = await stand.get<{ status?: { migration?: Record<string, unknown> } }>(stand.vectorPath());
  return {
    label,
    flags,
    operator: how,
    rolloutMs,
    settled,
    sources,
    agentWatches: await stand.agentWatches(),
    expectedWatches: 3 * sources * nodes,
    ...(openedAfter === undefined || openedBefore === undefined ? {} : { watchesOpened: openedAfter - openedBefore }),
    agentRestarts: restartsBetween(before, restartState(pods)),
    migrationStatus: vector?.status?.migration,
    mergers: pods
      .map((p) => {
        const msg = p.status?.initContainerStatuses?.find((c) => c.name === 'checkpoint-merger')?.state?.terminated
          ?.message;
        let summary: MergerNode['summary'];
        try {
          summary = msg === undefined ? undefined : (JSON.parse(msg) as Record<string, unknown>);
        } catch {
          summary = msg;
        }
        return { node: p.spec?.nodeName ?? '', summary };
      })
      .sort((a, b) => a.node.localeCompare(b.node)),
  };
}

/** One round: every workload pod writes a few lines (files rotate, gzip and get deleted as they grow). */
export function write(stand: LabStand, rounds: number): void {
  for (let i = 0; i < rounds; i++) stand.workload.write((p) => 10 + (p.name.length % 3) * 5);
}

function total(d: Deliveries): number {
  let n = 0;
  for (const m of d.values()) for (const v of m.values()) n += v;
  return n;
}

/**
 * Waits until every pipeline has every written line and deliveries stopped growing, or, when lines stay missing
 * (a skipped backlog), until deliveries have been quiet for `quietMs` with every agent Ready. Returns whether
 * everything arrived.
 */
export async function drain(stand: LabStand, quietMs = 3_000, limitMs = 600_000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  let last = -1;
  let quietSince = Date.now();
  for (;;) {
    const d = stand.nodes.deliveries();
    const n = total(d);
    // Time while an agent is not Ready (sources still listing) is not quiet: nothing could be delivered yet.
    if (n !== last || !(await agentsReady(stand))) {
      last = n;
      quietSince = Date.now();
    }
    const complete = tally(stand, d).every((p) => p.lost === 0);
    const quiet = Date.now() - quietSince;
    if ((complete && quiet >= 500) || quiet >= quietMs || Date.now() > deadline) return complete;
    await sleep(100);
  }
}

export function tally(stand: LabStand, d: Deliveries = stand.nodes.deliveries()): PipelineFigures[] {
  const written = new Map<string, string[]>();
  return stand.pipelines.map((p) => {
    let ids = written.get(p.ns);
    if (ids === undefined) written.set(p.ns, (ids = stand.workload.written(p.ns)));
    const got = d.get(p.sink) ?? new Map<string, number>();
    let duplicated = 0;
    let lost = 0;
    for (const id of ids) {
      const n = got.get(id) ?? 0;
      if (n === 0) lost++;
      else duplicated += n - 1;
    }
    return { ns: p.ns, pipeline: p.name, written: ids.length, delivered: ids.length - lost, duplicated, lost };
  });
}

/** Lines still in plain files per pipeline: what a source without checkpoints would read again. */
export function retained(stand: LabStand): number {
  const byNs = new Map<string, number>();
  let n = 0;
  for (const p of stand.pipelines) {
    let r = byNs.get(p.ns);
    if (r === undefined) byNs.set(p.ns, (r = stand.workload.retained(p.ns).length));
    n += r;
  }
  return n;
}
