/**
 * Reading a Vector data dir the way Vector does (reference: vector-checkpoints.md §1, "Read").
 *
 * When a source dir was last written is its own mtime: every Vector flush (and every merger write) ends with a
 * rename into the dir, which updates it. One lstat per dir, where statting both checkpoint files would take two, and
 * only for the dirs whose mtime a liveness decision reads: the first run of a switch reads none, which saves a system
 * call per dir on the run that has the most to do.
 *
 * Invariants:
 * - A source dir is `<data_dir>/<id>/` for a safe id (see `sourceIdProblem`); symlinks are never followed, neither
 *   for a source dir nor for a checkpoint file, so nothing outside the data dir is read.
 * - Reading rule: a `checkpoints.new.json` that Vector would load wins; otherwise `checkpoints.json`.
 *
 * Paths are joined with a plain '/': entry names and safe ids hold none, and path.join's normalisation cost ~3 ms
 * per 1000 dirs at every agent start.
 */
import { closeSync, constants, existsSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { CHECKPOINTS_FILE, CHECKPOINTS_TMP_FILE, parseCheckpoints, type ParseOutcome } from '../vector/checkpoints.ts';
import { JOURNAL_DIR } from './journal.ts';

/** Why a source id must not become a path under the data dir, or `null` if it is safe. */
export function sourceIdProblem(id: string): string | null {
  if (id === '' || id === '.' || id === '..') return `source id '${id}' is not a directory name`;
  if (id.includes('/')) return `source id '${id}' contains '/'`;
  if (id.includes('\0')) return 'source id contains NUL';
  return null;
}

export interface SourceDir {
  readonly id: string;
  /** The dir's mtime (ns): when a checkpoint file was last renamed into it. */
  readonly mtimeNs: bigint;
}

/**
 * A listed source dir whose mtime is read on first use, then kept. A dir that vanished or turned into something
 * else since the listing reads as 0 (written never, the oldest possible): it holds nothing to carry, and reading it
 * later finds it absent.
 */
class ListedDir implements SourceDir {
  readonly id: string;
  readonly #path: string;
  #mtimeNs: bigint | undefined;

  constructor(id: string, path: string) {
    this.id = id;
    this.#path = path;
  }

  get mtimeNs(): bigint {
    if (this.#mtimeNs === undefined) {
      let st;
      try {
        st = lstatSync(this.#path, { bigint: true, throwIfNoEntry: false });
      } catch {
        st = undefined;
      }
      this.#mtimeNs = st?.isDirectory() === true ? st.mtimeNs : 0n;
    }
    return this.#mtimeNs;
  }
}

export interface DataDirListing {
  readonly dirs: readonly SourceDir[];
  /** Entries passed over, with why (symlinks, unsafe names, symlinked checkpoint files). */
  readonly refused: readonly { readonly name: string; readonly reason: string }[];
}

/** Lists the source dirs under `dataDir`. Throws only if `dataDir` itself cannot be read. */
export function listSourceDirs(dataDir: string): DataDirListing {
  const dirs: SourceDir[] = [];
  const refused: { name: string; reason: string }[] = [];
  for (const entry of readdirSync(dataDir, { withFileTypes: true })) {
    const name = entry.name;
    if (name === JOURNAL_DIR) continue;
    if (entry.isSymbolicLink()) {
      refused.push({ name, reason: 'symlink: not followed out of the data dir' });
      continue;
    }
    // The entry's type comes from readdir without following links (Node lstats the entries whose type the file
    // system does not report), so this is a real directory, not a symlink to one.
    if (!entry.isDirectory()) continue;
    const problem = sourceIdProblem(name);
    if (problem !== null) {
      refused.push({ name, reason: problem });
      continue;
    }
    dirs.push(new ListedDir(name, `${dataDir}/${name}`));
  }
  dirs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { dirs, refused };
}

export type DirRead =
  | { readonly kind: 'absent' }
  | {
      readonly kind: 'read';
      /** Which file Vector would load (or the stable one, when neither loads). */
      readonly from: typeof CHECKPOINTS_FILE | typeof CHECKPOINTS_TMP_FILE;
      readonly outcome: ParseOutcome;
      readonly stableText: string | null;
      readonly hasTmp: boolean;
    };

let buffer = Buffer.allocUnsafe(64 * 1024);

/**
 * A file's text, `null` if absent. O_NOFOLLOW: a symlink is refused (ELOOP), never followed.
 *
 * Unless `toEnd`, a read(2) that returns less than it was asked for is taken as the end of the file, which it is
 * on the local file systems a data dir lives on. That saves the second read(2) that would only confirm the end:
 * one system call per source dir, ~3 ms per 1000 dirs. `readCheckpointFile` makes it exact.
 */
function readText(path: string, toEnd: boolean): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    let length = 0;
    for (;;) {
      if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
      const wanted = buffer.length - length;
      const n = readSync(fd, buffer, length, wanted, null);
      length += n;
      if (n === 0 || (n < wanted && !toEnd)) break;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

interface CheckpointFile {
  readonly text: string;
  readonly outcome: ParseOutcome;
}

/**
 * A checkpoint file, read and parsed; `null` if absent. Exact although `readText` may stop at a short read: a text
 * that parses holds a whole JSON object, and no proper prefix of a JSON object is JSON (its closing brace is last).
 * A text that does not parse is read again, to the confirmed end, and that text is judged.
 */
function readCheckpointFile(path: string): CheckpointFile | null {
  const first = readText(path, false);
  if (first === null) return null;
  const outcome = parseCheckpoints(first);
  if (outcome.kind !== 'invalid') return { text: first, outcome };
  const whole = readText(path, true);
  if (whole === null) return null;
  return { text: whole, outcome: whole === first ? outcome : parseCheckpoints(whole) };
}

/** Reads one source dir by Vector's rule. I/O errors other than ENOENT propagate to the caller. */
export function readSourceDir(dataDir: string, dir: SourceDir): DirRead {
  const base = `${dataDir}/${dir.id}`;
  // Vector's tmp file is rare; a presence check first (access(2): no stat object, no ENOENT exception) is the
  // cheapest way past it. A dangling symlink counts as absent, as it does for Vector, which cannot open it either;
  // any other symlink is refused by readText.
  const tmpPath = `${base}/${CHECKPOINTS_TMP_FILE}`;
  const tmp = existsSync(tmpPath) ? readCheckpointFile(tmpPath) : null;
  const stable = readCheckpointFile(`${base}/${CHECKPOINTS_FILE}`);
  const stableText = stable?.text ?? null;
  if (tmp !== null && tmp.outcome.kind === 'ok' && tmp.outcome.vectorAccepts) {
    return { kind: 'read', from: CHECKPOINTS_TMP_FILE, outcome: tmp.outcome, stableText, hasTmp: true };
  }
  if (stable === null) {
    if (tmp === null) return { kind: 'absent' };
    return {
      kind: 'read',
      from: CHECKPOINTS_FILE,
      outcome: { kind: 'invalid', reason: `${CHECKPOINTS_TMP_FILE} does not load and ${CHECKPOINTS_FILE} is missing` },
      stableText,
      hasTmp: true,
    };
  }
  return { kind: 'read', from: CHECKPOINTS_FILE, outcome: stable.outcome, stableText, hasTmp: tmp !== null };
}
