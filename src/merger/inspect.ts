/**
 * `checkpoint-merger inspect`: what each source dir holds, read exactly as Vector and the merger read it.
 * Read-only: it never writes to the data dir.
 */
import { listSourceDirs, readSourceDir } from './datadir.ts';
import { readJournal } from './journal.ts';
import { compareRfc3339 } from '../vector/timestamp.ts';

export type DirState = 'ok' | 'recovering' | 'vector-rejects' | 'foreign-version' | 'invalid' | 'no-checkpoints';

export interface DirReport {
  source: string;
  state: DirState;
  /** The file Vector would load. */
  file: string | null;
  entries: number;
  newestModified: string | null;
  /** When a checkpoint file was last renamed into the dir (the dir's mtime), ISO 8601 with ms. */
  lastWritten: string | null;
  /** In the journal's last prepared config. */
  inJournal: boolean | null;
  problems: string[];
}

export interface InspectReport {
  dataDir: string;
  journal: { state: 'none' | 'complete' | 'interrupted' | 'invalid'; current?: number; reason?: string };
  dirs: DirReport[];
  refused: { name: string; reason: string }[];
}

function isoFromNs(ns: bigint | null): string | null {
  return ns === null ? null : new Date(Number(ns / 1_000_000n)).toISOString();
}

export function inspectDataDir(dataDir: string): InspectReport {
  const listing = listSourceDirs(dataDir);
  const jr = readJournal(dataDir);
  const current = jr.kind === 'ok' ? new Set(jr.journal.current) : null;
  const dirs: DirReport[] = listing.dirs.map((d) => {
    const base = {
      source: d.id,
      lastWritten: isoFromNs(d.mtimeNs),
      inJournal: current === null ? null : current.has(d.id),
    };
    let read;
    try {
      read = readSourceDir(dataDir, d);
    } catch (err) {
      return {
        ...base,
        state: 'invalid',
        file: null,
        entries: 0,
        newestModified: null,
        problems: [(err as Error).message],
      };
    }
    if (read.kind === 'absent') {
      return { ...base, state: 'no-checkpoints', file: null, entries: 0, newestModified: null, problems: [] };
    }
    const o = read.outcome;
    if (o.kind === 'foreign-version') {
      return {
        ...base,
        state: 'foreign-version',
        file: read.from,
        entries: 0,
        newestModified: null,
        problems: [`version ${o.version}`],
      };
    }
    if (o.kind === 'invalid') {
      return { ...base, state: 'invalid', file: read.from, entries: 0, newestModified: null, problems: [o.reason] };
    }
    let newest = o.checkpoints[0];
    for (const e of o.checkpoints)
      if (newest === undefined || compareRfc3339(e.modified, newest.modified) > 0) newest = e;
    const state: DirState = !o.vectorAccepts
      ? 'vector-rejects'
      : read.from === 'checkpoints.new.json'
        ? 'recovering'
        : 'ok';
    return {
      ...base,
      state,
      file: read.from,
      entries: o.checkpoints.length,
      newestModified: newest?.modified ?? null,
      problems: [...o.problems],
    };
  });
  const journal: InspectReport['journal'] =
    jr.kind === 'none'
      ? { state: 'none' }
      : jr.kind === 'invalid'
        ? { state: 'invalid', reason: jr.reason }
        : { state: jr.journal.complete ? 'complete' : 'interrupted', current: jr.journal.current.length };
  return { dataDir, journal, dirs, refused: [...listing.refused] };
}

export function formatInspect(r: InspectReport): string {
  const rows = [['SOURCE', 'STATE', 'ENTRIES', 'NEWEST MODIFIED', 'LAST WRITTEN', 'JOURNAL']];
  for (const d of r.dirs) {
    rows.push([
      d.source,
      d.state,
      String(d.entries),
      d.newestModified ?? '-',
      d.lastWritten ?? '-',
      d.inJournal === null ? '-' : d.inJournal ? 'current' : 'retired',
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  const lines = rows.map((row) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const j = r.journal;
  lines.push(
    '',
    `journal: ${j.state}${j.current === undefined ? '' : ` (${j.current} sources prepared)`}${j.reason === undefined ? '' : `: ${j.reason}`}`,
  );
  for (const d of r.dirs) for (const p of d.problems) lines.push(`${d.source}: ${p}`);
  for (const x of r.refused) lines.push(`refused ${x.name}: ${x.reason}`);
  return `${lines.join('\n')}\n`;
}
