/**
 * The merger's journal: `<data_dir>/.checkpoint-merger/journal.json`. A dot-leading name cannot be a Vector
 * component id the operator generates (namespace and pipeline names are DNS names), so Vector never writes there.
 *
 * Content: `{"version":1,"complete":bool,"previous":[ids],"current":[ids]}`, ids sorted.
 * - `previous`: the sources Vector ran with before the run that wrote the journal (the liveness decision).
 * - `current`: the `kubernetes_logs` sources of the config that run prepared, which Vector then starts with.
 * - `complete: false` is written before any checkpoint file is touched and `true` after the last one, so a merger
 *   killed half-way is recognised at the next start and repeats the same decision (see liveness.ts).
 *
 * Invariant: the journal is replaced durably and only when its content changes, so a plain restart writes nothing.
 */
import { lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFileDurably, syncDirectory } from '../fs/durable.ts';

export const JOURNAL_DIR = '.checkpoint-merger';
const JOURNAL_FILE = 'journal.json';

export interface Journal {
  readonly complete: boolean;
  readonly previous: readonly string[];
  readonly current: readonly string[];
}

function serializeJournal(j: Journal): string {
  const ids = (xs: readonly string[]): string[] => [...new Set(xs)].sort();
  return `${JSON.stringify({ version: 1, complete: j.complete, previous: ids(j.previous), current: ids(j.current) })}\n`;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

export type JournalRead =
  | { kind: 'none' }
  | { kind: 'ok'; journal: Journal; text: string; mtimeNs: bigint }
  | { kind: 'invalid'; reason: string };

/** Reads the journal. A missing one is `none`; an unreadable or malformed one is `invalid` (treated as none). */
export function readJournal(dataDir: string): JournalRead {
  const path = join(dataDir, JOURNAL_DIR, JOURNAL_FILE);
  let text: string;
  let mtimeNs: bigint;
  try {
    const st = lstatSync(path, { bigint: true });
    if (!st.isFile()) return { kind: 'invalid', reason: 'journal is not a regular file' };
    mtimeNs = st.mtimeNs;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { kind: 'none' } : { kind: 'invalid', reason: (err as Error).message };
  }
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    if (
      doc.version === 1 &&
      typeof doc.complete === 'boolean' &&
      isStringArray(doc.previous) &&
      isStringArray(doc.current)
    ) {
      return {
        kind: 'ok',
        journal: { complete: doc.complete, previous: doc.previous, current: doc.current },
        text,
        mtimeNs,
      };
    }
    return { kind: 'invalid', reason: 'unexpected journal content' };
  } catch (err) {
    return { kind: 'invalid', reason: `journal is not JSON: ${(err as Error).message}` };
  }
}

/** Durably writes the journal if its text differs from `previousText`. Returns whether it wrote. */
export async function writeJournal(dataDir: string, journal: Journal, previousText: string | null): Promise<boolean> {
  const text = serializeJournal(journal);
  if (text === previousText) return false;
  const dir = join(dataDir, JOURNAL_DIR);
  try {
    mkdirSync(dir, { mode: 0o755 });
    await syncDirectory(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  await replaceFileDurably(dir, JOURNAL_FILE, text);
  return true;
}
