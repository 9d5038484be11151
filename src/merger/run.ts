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
import { applyPlan } from './apply.ts';
import { readAgentConfig, type AgentConfig, type KubernetesLogsSource } from './config.ts';
import { listSourceDirs, readSourceDir, sourceIdProblem, type SourceDir } from './datadir.ts';
import { readJournal, writeJournal, type Journal } from './journal.ts';
import { decideLiveness, type LivenessBasis } from './liveness.ts';
import type { Logger } from './log.ts';
import type { LogScan } from './logdir.ts';
import {
  planConsolidation,
  type ExistingTarget,
  type LogIndex,
  type PositionPolicy,
  type RetiringSource,
  type SeedTarget,
} from './plan.ts';
import { movesOf, noMoves, type Moves } from './moves.ts';
import { MERGER_VERSION } from './version.ts';

export interface MergeOptions {
  readonly config: string;
  readonly standbyConfig: string | null;
  readonly dataDir: string;
  readonly logDir: string | null;
  readonly policy: PositionPolicy;
  readonly summaryFile: string | null;
}

export type Outcome = 'migrated' | 'unchanged' | 'partial' | 'skipped' | 'failed';

export interface Summary {
  outcome: Outcome;
  version: string;
  basis: LivenessBasis | null;
  targets: number;
  continuing: number;
  seeded: number;
  advanced: number;
  unchanged: number;
  skipped: number;
  failed: number;
  retiring: number;
  /** Live sources handing consumers to a target (a pipeline leaving a group that goes on): donors, not retiring. */
  handingOver: number;
  checkpointsCarried: number;
  beyondEnd: number;
  droppedGone: number;
  /** Files left to be read from their start because a retiring source had not started them (`min`). */
  readFromStart: number;
  /** Targets planned without the log index: some of their namespaces' files could not be seen (never "gone"). */
  unscoped: number;
  durationMs: number;
  error?: string;
}

function emptySummary(): Summary {
  return {
    outcome: 'unchanged',
    version: MERGER_VERSION,
    basis: null,
    targets: 0,
    continuing: 0,
    seeded: 0,
    advanced: 0,
    unchanged: 0,
    skipped: 0,
    failed: 0,
    retiring: 0,
    handingOver: 0,
    checkpointsCarried: 0,
    beyondEnd: 0,
    droppedGone: 0,
    readFromStart: 0,
    unscoped: 0,
    durationMs: 0,
  };
}

function existingFrom(dataDir: string, dir: SourceDir | undefined, log: Logger): ExistingTarget {
  if (dir === undefined) return { kind: 'absent' };
  let read;
  try {
    read = readSourceDir(dataDir, dir);
  } catch (err) {
    return { kind: 'unreadable', reason: (err as Error).message };
  }
  if (read.kind === 'absent') return { kind: 'absent' };
  const o = read.outcome;
  if (o.kind === 'foreign-version') return { kind: 'foreign', version: o.version };
  if (o.kind === 'invalid') return { kind: 'invalid', reason: o.reason, hasTmp: read.hasTmp };
  for (const p of o.problems) log.log('warn', 'target checkpoint entry not kept', { source: dir.id, problem: p });
  return { kind: 'ok', checkpoints: o.checkpoints, stableText: read.stableText, hasTmp: read.hasTmp };
}

function readRetiring(
  dataDir: string,
  dirs: readonly SourceDir[],
  configOf: (id: string) => Pick<RetiringSource, 'namespaces' | 'scope'>,
  log: Logger,
): Map<string, RetiringSource> {
  const out = new Map<string, RetiringSource>();
  for (const dir of dirs) {
    try {
      const read = readSourceDir(dataDir, dir);
      if (read.kind === 'absent') continue;
      const o = read.outcome;
      if (o.kind !== 'ok') {
        const why = o.kind === 'foreign-version' ? `foreign version ${o.version}` : o.reason;
        log.log('warn', 'skipping source dir', { source: dir.id, file: read.from, reason: why });
        continue;
      }
      for (const p of o.problems)
        log.log('warn', 'checkpoint entry dropped', { source: dir.id, file: read.from, problem: p });
      const { namespaces, scope } = configOf(dir.id);
      out.set(dir.id, { checkpoints: o.checkpoints, namespaces, scope });
    } catch (err) {
      log.log('warn', 'skipping source dir', { source: dir.id, reason: (err as Error).message });
    }
  }
  return out;
}

interface TargetIndex {
  readonly index: LogIndex | null;
  /** Why the index is not used although there is one: files of the target's namespaces that could not be seen. */
  readonly unscoped?: string;
}

function unseenFor(unseen: ReadonlyMap<string, number>, namespaces: readonly string[] | null): string | undefined {
  const hit = (namespaces ?? [...unseen.keys()]).filter((ns) => unseen.has(ns)).sort();
  if (hit.length === 0) return undefined;
  const n = hit.reduce((sum, ns) => sum + (unseen.get(ns) ?? 0), 0);
  const shown = hit.length > 5 ? `${hit.slice(0, 5).join(',')},…` : hit.join(',');
  return `${n} log file(s) or dir(s) not visible in namespace(s) ${shown}: seeding the unscoped union, dropping none`;
}

/** One scan per distinct fingerprint setting among the targets (normally exactly one). */
async function logIndexes(logDir: string, sources: readonly KubernetesLogsSource[], log: Logger) {
  const bySetting = new Map<string, LogScan>();
  const keyOf = (s: KubernetesLogsSource): string => `${s.fingerprint.lines}/${s.fingerprint.maxLineBytes}`;
  for (const s of sources) {
    const key = keyOf(s);
    if (bySetting.has(key)) continue;
    // Loaded only when a target needs the node's files: a plain restart never pays for it.
    const { scanLogDir } = await import('./logdir.ts');
    const scan = await scanLogDir(logDir, s.fingerprint);
    const { files, notReady, errors, linked } = scan;
    log.log('info', 'scanned log dir', { logDir, files, notReady, errors, linked, unseen: scan.unseen.size });
    bySetting.set(key, scan);
  }
  return (s: KubernetesLogsSource): TargetIndex => {
    const scan = bySetting.get(keyOf(s));
    if (scan === undefined) return { index: null };
    const unscoped = unseenFor(scan.unseen, s.namespaces);
    // A file we cannot see may still be there: scoping would drop its entry as gone, and Vector would re-read it.
    return unscoped === undefined ? { index: scan.index } : { index: null, unscoped };
  };
}

/** The targets to plan, with the log index each may be scoped by, and why a target is not (`unscoped`). */
async function seedTargetsOf(
  toPlan: readonly KubernetesLogsSource[],
  opts: MergeOptions,
  dirById: ReadonlyMap<string, SourceDir>,
  log: Logger,
  moves: Moves,
): Promise<{ seedTargets: SeedTarget[]; unscoped: Map<string, string> }> {
  const indexFor =
    opts.logDir === null ? (): TargetIndex => ({ index: null }) : await logIndexes(opts.logDir, toPlan, log);
  const unscoped = new Map<string, string>();
  const seedTargets = toPlan.map((s): SeedTarget => {
    const { index, unscoped: why } = indexFor(s);
    if (why !== undefined) unscoped.set(s.id, why);
    const donors = moves.donors.get(s.id);
    return {
      id: s.id,
      // A continuing source is seeded only for the namespaces it takes over.
      namespaces: moves.gained.get(s.id) ?? s.namespaces,
      existing: existingFrom(opts.dataDir, dirById.get(s.id), log),
      logIndex: index,
      ...(donors === undefined ? {} : { donors }),
    };
  });
  return { seedTargets, unscoped };
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

/** The journal is an aid, not a precondition: failing to write it is logged and the merge goes on. */
async function tryWriteJournal(dataDir: string, journal: Journal, previousText: string | null, log: Logger) {
  try {
    await writeJournal(dataDir, journal, previousText);
  } catch (err) {
    log.log('warn', 'cannot write journal', { reason: (err as Error).message, complete: journal.complete });
  }
}

async function merge(opts: MergeOptions, log: Logger, summary: Summary): Promise<void> {
  let config: AgentConfig;
  try {
    config = readAgentConfig(opts.config);
  } catch (err) {
    summary.outcome = 'skipped';
    summary.error = (err as Error).message;
    log.log('warn', 'cannot read config, skipping consolidation', { reason: summary.error });
    return;
  }
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
  const dirById = new Map(listing.dirs.map((d) => [d.id, d]));
  const refused = new Map(listing.refused.map((r) => [r.name, r.reason]));

  const toPlan: KubernetesLogsSource[] = [];
  const targetLines: { source: string; action: string; applied: number; total?: number; reason?: string }[] = [];
  for (const s of sources) {
    if (liveness.liveBefore.has(s.id)) {
      summary.continuing++;
      targetLines.push({ source: s.id, action: 'continuing', applied: 0 });
    } else if (refused.has(s.id)) {
      summary.skipped++;
      targetLines.push({ source: s.id, action: 'skip', applied: 0, reason: refused.get(s.id) ?? 'refused' });
    } else if (s.ownDataDir !== null) {
      summary.skipped++;
      targetLines.push({
        source: s.id,
        action: 'skip',
        applied: 0,
        reason: `own data_dir ${s.ownDataDir} is not migrated`,
      });
    } else {
      toPlan.push(s);
    }
  }
  const retiringDirs = listing.dirs.filter((d) => liveness.liveBefore.has(d.id) && !config.components.has(d.id));
  summary.retiring = retiringDirs.length;
  // Handovers need the config the pods ran before, which the standby is at a rollout. Only a live source in this
  // config can hand over more than the retiring ones do, and only to a target: a mode switch has none to compare.
  const handOver = toPlan.length > 0 && summary.continuing > 0;
  const moves = handOver ? movesOf(config, standby(), liveness.liveBefore) : noMoves;
  for (const [id] of moves.gained) {
    const s = sources.find((x) => x.id === id);
    if (s === undefined || s.ownDataDir !== null) continue;
    const line = targetLines.findIndex((l) => l.source === id);
    if (line < 0) continue;
    summary.continuing--;
    targetLines.splice(line, 1);
    toPlan.push(s);
  }
  const donorDirs = listing.dirs.filter((d) => moves.donorIds.has(d.id) && config.components.has(d.id));
  summary.handingOver = donorDirs.length;

  let wroteTargets = false;
  if (toPlan.length > 0 && (retiringDirs.length > 0 || donorDirs.length > 0)) {
    // The standby config says which namespaces each retiring source read; without it, assume all, and trust only
    // its entries for what it had read.
    const standbySources = new Map(standby()?.sources.map((s) => [s.id, s]) ?? []);
    const unknown = { namespaces: null, scope: 'entries' } as const;
    const configOf = (id: string) => standbySources.get(id) ?? unknown;
    const retiring = readRetiring(opts.dataDir, retiringDirs, configOf, log);
    const donors = readRetiring(opts.dataDir, donorDirs, configOf, log);
    const { seedTargets, unscoped } = await seedTargetsOf(toPlan, opts, dirById, log, moves);
    summary.unscoped = unscoped.size;
    const plan = planConsolidation({ targets: seedTargets, retiring, donors, policy: opts.policy });
    const writes = plan.targets.some((t) => t.write !== null || t.removeTmp);
    const journalText = journalRead.kind === 'ok' ? journalRead.text : null;
    const previous = [...liveness.liveBefore];
    if (writes)
      await tryWriteJournal(opts.dataDir, { complete: false, previous, current: [...active] }, journalText, log);
    const { failed } = await applyPlan(opts.dataDir, plan.targets);
    wroteTargets = writes;
    await tryWriteJournal(
      opts.dataDir,
      { complete: true, previous, current: [...active] },
      writes ? null : journalText,
      log,
    );
    for (const t of plan.targets) {
      const error = failed.get(t.id);
      const action = error !== undefined ? 'failed' : t.action;
      if (error !== undefined) summary.failed++;
      else if (t.action === 'seed') summary.seeded++;
      else if (t.action === 'advance') summary.advanced++;
      else if (t.action === 'unchanged') summary.unchanged++;
      else summary.skipped++;
      if (error === undefined) summary.checkpointsCarried += t.applied;
      summary.beyondEnd += t.beyondEnd;
      summary.droppedGone += t.dropped;
      summary.readFromStart += t.readFromStart;
      const reason = error ?? t.reason;
      targetLines.push({
        source: t.id,
        action,
        applied: t.applied,
        total: t.total,
        ...(t.beyondEnd > 0 ? { beyondEnd: t.beyondEnd } : {}),
        ...(t.dropped > 0 ? { droppedGone: t.dropped } : {}),
        ...(t.readFromStart > 0 ? { readFromStart: t.readFromStart } : {}),
        ...(unscoped.has(t.id) ? { unscoped: unscoped.get(t.id) } : {}),
        ...(reason === undefined ? {} : { reason }),
      });
    }
  } else {
    for (const s of toPlan) {
      summary.unchanged++;
      targetLines.push({ source: s.id, action: 'nothing-to-carry', applied: 0 });
    }
    // Nothing was written, so the last decision still stands: keep its `previous`, and a plain restart writes nothing.
    const journalText = journalRead.kind === 'ok' ? journalRead.text : null;
    const previous = journalRead.kind === 'ok' ? journalRead.journal.previous : [...liveness.liveBefore];
    const journalNow = { complete: true, previous, current: [...active] };
    await tryWriteJournal(opts.dataDir, journalNow, journalText, log);
  }
  targetLines.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  log.logAll(
    targetLines.map((line) => ({ level: line.action === 'failed' ? 'error' : 'info', msg: 'target', fields: line })),
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
