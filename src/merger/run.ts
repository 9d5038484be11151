/**
 * The merge, end to end: config -> data dir -> who was live -> plan -> durable apply -> journal -> summary.
 *
 * Invariants:
 * - Fail open: `runMerge` never throws and never rejects. Whatever goes wrong (missing or invalid config, an
 *   unreadable data dir, EACCES, ENOSPC, a corrupt or foreign file) is logged, and the agent starts anyway.
 * - A live, continuing source is never read for writing, never written.
 * - Work is proportional to the change: a plain restart stats the data dir and reads the journal, nothing more.
 * - Output: one JSON line per target (source, action, applied, total) and one summary line; the summary also goes
 *   to the termination-message file when it is writable.
 */
import { writeFileSync } from 'node:fs';
import { carry, tryWriteJournal } from './carry.ts';
import { readAgentConfig, type AgentConfig, type KubernetesLogsSource } from './config.ts';
import { listSourceDirs, sourceIdProblem } from './datadir.ts';
import { readJournal } from './journal.ts';
import { decideLiveness } from './liveness.ts';
import type { Logger } from './log.ts';
import type { PositionPolicy } from './plan.ts';
import { movesOf, noMoves, type Moves } from './moves.ts';
import { emptySummary, type Summary, type TargetLine } from './summary.ts';
import { MERGER_VERSION } from './version.ts';

export interface MergeOptions {
  readonly config: string;
  readonly standbyConfig: string | null;
  readonly dataDir: string;
  readonly logDir: string | null;
  readonly policy: PositionPolicy;
  readonly summaryFile: string | null;
}

function readStandby(path: string | null, log: Logger): AgentConfig | null {
  if (path === null) return null;
  try {
    return readAgentConfig(path);
  } catch (err) {
    log.log('warn', 'standby config unusable, judging liveness without it', { reason: (err as Error).message });
    return null;
  }
}

/** The config's `kubernetes_logs` sources whose ids are safe as directory names; null when the config is unusable. */
function readSources(path: string, log: Logger, summary: Summary): AgentConfig | null {
  try {
    return readAgentConfig(path);
  } catch (err) {
    summary.outcome = 'skipped';
    summary.error = (err as Error).message;
    log.log('warn', 'cannot read config, skipping consolidation', { reason: summary.error });
    return null;
  }
}

/** Sorts the sources: live before (continuing), refused or with their own data dir (skipped), or to plan. */
function sortSources(
  sources: readonly KubernetesLogsSource[],
  liveBefore: ReadonlySet<string>,
  refused: ReadonlyMap<string, string>,
  summary: Summary,
  lines: TargetLine[],
): KubernetesLogsSource[] {
  const toPlan: KubernetesLogsSource[] = [];
  for (const s of sources) {
    if (liveBefore.has(s.id)) {
      summary.continuing++;
      lines.push({ source: s.id, action: 'continuing', applied: 0 });
    } else if (refused.has(s.id)) {
      summary.skipped++;
      lines.push({ source: s.id, action: 'skip', applied: 0, reason: refused.get(s.id) ?? 'refused' });
    } else if (s.ownDataDir !== null) {
      summary.skipped++;
      lines.push({ source: s.id, action: 'skip', applied: 0, reason: `own data_dir ${s.ownDataDir} is not migrated` });
    } else {
      toPlan.push(s);
    }
  }
  return toPlan;
}

/** A continuing source that takes over namespaces in a handover becomes a target for those namespaces. */
function planGainers(
  moves: Moves,
  sources: readonly KubernetesLogsSource[],
  toPlan: KubernetesLogsSource[],
  summary: Summary,
  lines: TargetLine[],
): void {
  for (const [id] of moves.gained) {
    const s = sources.find((x) => x.id === id);
    if (s === undefined || s.ownDataDir !== null) continue;
    const line = lines.findIndex((l) => l.source === id);
    if (line < 0) continue;
    summary.continuing--;
    lines.splice(line, 1);
    toPlan.push(s);
  }
}

async function merge(opts: MergeOptions, log: Logger, summary: Summary): Promise<void> {
  const config = readSources(opts.config, log, summary);
  if (config === null) return;
  const sources = config.sources.filter((s) => {
    const problem = sourceIdProblem(s.id);
    if (problem !== null) log.log('warn', 'refusing source id', { source: s.id, reason: problem });
    return problem === null;
  });
  summary.targets = sources.length;
  if (sources.length === 0) {
    log.log('info', 'no kubernetes_logs sources in config, nothing to do');
    return;
  }
  const listing = listSourceDirs(opts.dataDir);
  for (const r of listing.refused) log.log('warn', 'refusing data dir entry', { entry: r.name, reason: r.reason });
  const journalRead = readJournal(opts.dataDir);
  if (journalRead.kind === 'invalid') log.log('warn', 'ignoring unreadable journal', { reason: journalRead.reason });
  const journal = journalRead.kind === 'ok' ? { ...journalRead.journal, mtimeNs: journalRead.mtimeNs } : null;
  const journalText = journalRead.kind === 'ok' ? journalRead.text : null;
  // The standby config is read only when needed: for liveness without a journal, or to scope seeds. A plain
  // restart, the most frequent run by far, needs neither.
  let standbyRead: { config: AgentConfig | null } | undefined;
  const standby = (): AgentConfig | null => (standbyRead ??= { config: readStandby(opts.standbyConfig, log) }).config;
  const active = new Set(sources.map((s) => s.id));
  const standbyForLiveness = journal === null ? standby() : null;
  const liveness = decideLiveness({
    active,
    activeComponents: config.components,
    standby: standbyForLiveness === null ? null : new Set(standbyForLiveness.sources.map((s) => s.id)),
    journal,
    dirs: listing.dirs,
  });
  summary.basis = liveness.basis;
  const refused = new Map(listing.refused.map((r) => [r.name, r.reason]));
  const lines: TargetLine[] = [];
  const toPlan = sortSources(sources, liveness.liveBefore, refused, summary, lines);
  const retiringDirs = listing.dirs.filter((d) => liveness.liveBefore.has(d.id) && !config.components.has(d.id));
  summary.retiring = retiringDirs.length;
  // Handovers need the config the pods ran before, which the standby is at a rollout. Only a live source in this
  // config can hand over more than the retiring ones do, and only to a target: a mode switch has none to compare.
  const handOver = toPlan.length > 0 && summary.continuing > 0;
  const moves = handOver ? movesOf(config, standby(), liveness.liveBefore) : noMoves;
  planGainers(moves, sources, toPlan, summary, lines);
  const donorDirs = listing.dirs.filter((d) => moves.donorIds.has(d.id) && config.components.has(d.id));
  summary.handingOver = donorDirs.length;

  let wroteTargets = false;
  if (toPlan.length > 0 && (retiringDirs.length > 0 || donorDirs.length > 0)) {
    const { dataDir, logDir, policy } = opts;
    const standbySources = new Map(standby()?.sources.map((s) => [s.id, s]) ?? []);
    const dirById = new Map(listing.dirs.map((d) => [d.id, d]));
    const previous = [...liveness.liveBefore];
    const current = [...active];
    const input = { dataDir, logDir, policy, toPlan, retiringDirs, donorDirs, dirById, standbySources, moves };
    wroteTargets = await carry({ ...input, journalText, previous, current }, summary, lines, log);
  } else {
    for (const s of toPlan) {
      summary.unchanged++;
      lines.push({ source: s.id, action: 'nothing-to-carry', applied: 0 });
    }
    // Nothing was written, so the last decision still stands: keep its `previous`, and a plain restart writes nothing.
    const previous = journalRead.kind === 'ok' ? journalRead.journal.previous : [...liveness.liveBefore];
    const journalNow = { complete: true, previous, current: [...active] };
    await tryWriteJournal(opts.dataDir, journalNow, journalText, log);
  }
  lines.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  log.logAll(
    lines.map((line) => ({ level: line.action === 'failed' ? 'error' : 'info', msg: 'target', fields: line })),
  );
  summary.outcome = summary.failed > 0 ? 'partial' : wroteTargets ? 'migrated' : 'unchanged';
}

/** Runs the merge. Never throws; the summary says what happened. */
export async function runMerge(opts: MergeOptions, log: Logger): Promise<Summary> {
  const started = process.hrtime.bigint();
  const summary = emptySummary();
  log.log('info', 'build info', {
    version: MERGER_VERSION,
    config: opts.config,
    dataDir: opts.dataDir,
    logDir: opts.logDir,
    policy: opts.policy,
  });
  try {
    await merge(opts, log, summary);
  } catch (err) {
    summary.outcome = 'failed';
    summary.error = (err as Error).message;
  }
  summary.durationMs = Number((process.hrtime.bigint() - started) / 1000n) / 1000;
  log.log(summary.outcome === 'failed' ? 'error' : 'info', 'summary', { ...summary });
  if (opts.summaryFile !== null) {
    try {
      writeFileSync(opts.summaryFile, JSON.stringify(summary));
    } catch {
      // Not in a pod, or the file is not writable: the log line above carries the same summary.
    }
  }
  return summary;
}
