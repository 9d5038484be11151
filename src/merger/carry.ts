/**
 * Carrying positions: read the retiring and donor sources, plan each target's checkpoints (plan.ts), apply the plan
 * durably (apply.ts), journal the decision, and record one line per target.
 *
 * Invariants:
 * - The journal is written incomplete before the first target write and complete after the last, so a crash in
 *   between is seen by the next run (journal.ts); with no write to make, the journal text is reused as is.
 * - A file the log scan could not see is never dropped as gone: its target is planned unscoped (`unseenFor`).
 * - A target that fails to apply is reported `failed` and counted; the others are still applied.
 */
import { applyPlan } from './apply.ts';
import type { KubernetesLogsSource } from './config.ts';
import { readSourceDir, type SourceDir } from './datadir.ts';
import { writeJournal, type Journal } from './journal.ts';
import type { Logger } from './log.ts';
import type { LogScan } from './logdir.ts';
import type { Moves } from './moves.ts';
import {
  planConsolidation,
  type ExistingTarget,
  type LogIndex,
  type PositionPolicy,
  type RetiringSource,
  type SeedTarget,
} from './plan.ts';
import type { Summary, TargetLine } from './summary.ts';

/** What `carry` needs from the merge: the sources sorted into roles, and where to read and write. */
export interface CarryInput {
  readonly dataDir: string;
  readonly logDir: string | null;
  readonly policy: PositionPolicy;
  readonly toPlan: readonly KubernetesLogsSource[];
  readonly retiringDirs: readonly SourceDir[];
  readonly donorDirs: readonly SourceDir[];
  readonly dirById: ReadonlyMap<string, SourceDir>;
  /** The standby config's sources by id (empty without one): which namespaces each retiring source read. */
  readonly standbySources: ReadonlyMap<string, KubernetesLogsSource>;
  readonly moves: Moves;
  /** The journal as read (reused verbatim when nothing is written), and the decision to record. */
  readonly journalText: string | null;
  readonly previous: string[];
  readonly current: string[];
}

/** Plans and writes every target; returns whether any was written. Counts go to `summary`, lines to `lines`. */
export async function carry(input: CarryInput, summary: Summary, lines: TargetLine[], log: Logger): Promise<boolean> {
  // Without the standby config, assume a retiring source read every namespace, and trust only its entries.
  const unknown = { namespaces: null, scope: 'entries' } as const;
  const configOf = (id: string) => input.standbySources.get(id) ?? unknown;
  const retiring = readRetiring(input.dataDir, input.retiringDirs, configOf, log);
  const donors = readRetiring(input.dataDir, input.donorDirs, configOf, log);
  const { seedTargets, unscoped } = await seedTargetsOf(input.toPlan, input, input.dirById, log, input.moves);
  summary.unscoped = unscoped.size;
  const plan = planConsolidation({ targets: seedTargets, retiring, donors, policy: input.policy });
  const writes = plan.targets.some((t) => t.write !== null || t.removeTmp);
  const { previous, current } = input;
  if (writes) await tryWriteJournal(input.dataDir, { complete: false, previous, current }, input.journalText, log);
  const { failed } = await applyPlan(input.dataDir, plan.targets);
  await tryWriteJournal(input.dataDir, { complete: true, previous, current }, writes ? null : input.journalText, log);
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
    lines.push({
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
  return writes;
}

/** The journal is an aid, not a precondition: failing to write it is logged and the merge goes on. */
export async function tryWriteJournal(dataDir: string, journal: Journal, previousText: string | null, log: Logger) {
  try {
    await writeJournal(dataDir, journal, previousText);
  } catch (err) {
    log.log('warn', 'cannot write journal', { reason: (err as Error).message, complete: journal.complete });
  }
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
  where: { dataDir: string; logDir: string | null },
  dirById: ReadonlyMap<string, SourceDir>,
  log: Logger,
  moves: Moves,
): Promise<{ seedTargets: SeedTarget[]; unscoped: Map<string, string> }> {
  const indexFor =
    where.logDir === null ? (): TargetIndex => ({ index: null }) : await logIndexes(where.logDir, toPlan, log);
  const unscoped = new Map<string, string>();
  const seedTargets = toPlan.map((s): SeedTarget => {
    const { index, unscoped: why } = indexFor(s);
    if (why !== undefined) unscoped.set(s.id, why);
    const donors = moves.donors.get(s.id);
    return {
      id: s.id,
      // A continuing source is seeded only for the namespaces it takes over.
      namespaces: moves.gained.get(s.id) ?? s.namespaces,
      existing: existingFrom(where.dataDir, dirById.get(s.id), log),
      logIndex: index,
      ...(donors === undefined ? {} : { donors }),
    };
  });
  return { seedTargets, unscoped };
}
