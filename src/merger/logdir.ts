/**
 * The node's pod logs as Vector's kubernetes_logs source sees them (reference: vector-checkpoints.md §5):
 * `<log_dir>/<namespace>_<pod>_<uid>/<container>/<file>`, where the file name matches `*.log*` and does not end in
 * `.gz` or `.tmp` (Vector's default exclusions). Files whose first line is incomplete are not ready and not listed.
 *
 * Invariants:
 * - Symlinks are followed, as Vector's glob and `File::open` follow them: on Docker nodes (cri-dockerd) every pod log
 *   is a link into the Docker data dir. This is read-only and only reads file heads; the data dir's own rule (never
 *   follow a link out of it) is about where the merger writes, and does not apply here.
 * - What cannot be seen is never taken for absent. A file or directory that cannot be listed, opened or fingerprinted
 *   (a dangling link whose target is not mounted here, EACCES) counts as unseen for its namespace, and the caller
 *   must then not scope that namespace by the index (it cannot tell a gone file from an invisible one). A dangling
 *   link counts as absent only when its target's own directory is visible and lacks it.
 * - Unreadable entries are counted, never fatal.
 *
 * Paths are joined with a plain '/': readdir names never contain one, and a node holds thousands of files, so
 * path.join's normalisation would be pure cost.
 */
import { readdirSync, readlinkSync, statSync, type Dirent } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fingerprintFile, type FingerprintOptions } from '../vector/fingerprint.ts';
import { fingerprintKey, type FingerprintKey } from '../vector/checkpoints.ts';
import type { LogFile, LogIndex } from './plan.ts';

export interface LogScan {
  readonly index: LogIndex;
  readonly files: number;
  readonly notReady: number;
  readonly errors: number;
  /** Namespace -> files or directories of it that could not be seen (see the module invariants). */
  readonly unseen: ReadonlyMap<string, number>;
  /** Files reached through a symlink. */
  readonly linked: number;
}

interface Candidate {
  readonly namespace: string;
  /** `<ns>_<pod>_<uid>/<container>` */
  readonly container: string;
  readonly path: string;
  readonly link: boolean;
}

interface Listing {
  candidates: Candidate[];
  errors: number;
  unseen: Map<string, number>;
}

function markUnseen(unseen: Map<string, number>, namespace: string): void {
  unseen.set(namespace, (unseen.get(namespace) ?? 0) + 1);
}

/** Whether an entry is a directory, following a symlink; null when a link cannot be resolved. */
function isDir(dir: string, e: Dirent): boolean | null {
  if (!e.isSymbolicLink()) return e.isDirectory();
  try {
    return statSync(`${dir}/${e.name}`).isDirectory();
  } catch {
    return null;
  }
}

/** A dangling link is known to point nowhere only when the directory it points into is itself visible. */
export function danglingLinkAbsent(link: string): boolean {
  try {
    const target = resolve(dirname(link), readlinkSync(link));
    statSync(dirname(target));
  } catch {
    return false;
  }
  try {
    statSync(link);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function readDir(dir: string, namespace: string, out: Listing): Dirent[] | null {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    out.errors++;
    markUnseen(out.unseen, namespace);
    return null;
  }
}

function listCandidates(logDir: string): Listing {
  const out: Listing = { candidates: [], errors: 0, unseen: new Map() };
  for (const pod of readdirSync(logDir, { withFileTypes: true })) {
    const underscore = pod.name.indexOf('_');
    if (underscore <= 0) continue;
    const namespace = pod.name.slice(0, underscore);
    const podIsDir = isDir(logDir, pod);
    if (podIsDir === null) markUnseen(out.unseen, namespace);
    if (podIsDir !== true) continue;
    const containers = readDir(`${logDir}/${pod.name}`, namespace, out);
    for (const container of containers ?? []) {
      const rel = `${pod.name}/${container.name}`;
      const containerIsDir = isDir(`${logDir}/${pod.name}`, container);
      if (containerIsDir === null) markUnseen(out.unseen, namespace);
      if (containerIsDir !== true) continue;
      const dir = `${logDir}/${rel}`;
      for (const f of readDir(dir, namespace, out) ?? []) {
        if (!f.name.includes('.log') || f.name.endsWith('.gz') || f.name.endsWith('.tmp')) continue;
        // A link is resolved when it is fingerprinted; what it points at is judged there.
        const link = f.isSymbolicLink();
        if (link || f.isFile()) out.candidates.push({ namespace, container: rel, path: `${dir}/${f.name}`, link });
      }
    }
  }
  return out;
}

/** Fingerprints every pod log file under `logDir`, `concurrency` files at a time. */
export async function scanLogDir(logDir: string, options: FingerprintOptions, concurrency = 64): Promise<LogScan> {
  const { candidates, errors: listErrors, unseen } = listCandidates(logDir);
  const index = new Map<string, Map<FingerprintKey, LogFile>>();
  let files = 0;
  let notReady = 0;
  let linked = 0;
  let errors = listErrors;
  let next = 0;
  async function worker(): Promise<void> {
    while (next < candidates.length) {
      const c = candidates[next++] as Candidate;
      try {
        const fp = await fingerprintFile(c.path, options);
        if (fp.status === 'not-ready') {
          notReady++;
          continue;
        }
        files++;
        if (c.link) linked++;
        let byKey = index.get(c.namespace);
        if (byKey === undefined) index.set(c.namespace, (byKey = new Map<FingerprintKey, LogFile>()));
        const key = fingerprintKey({ kind: 'first_lines_checksum', checksum: fp.checksum });
        const seen = byKey.get(key);
        // Two files with one fingerprint (a rotated copy): Vector follows one of them; judge against the longer.
        if (seen === undefined || fp.size > seen.size)
          byKey.set(key, { size: fp.size, gzip: fp.gzip, container: c.container });
      } catch {
        // Even a regular file that vanished since the listing may just have been renamed by a rotation: unseen.
        if (!c.link || !danglingLinkAbsent(c.path)) {
          errors++;
          markUnseen(unseen, c.namespace);
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, candidates.length) }, worker));
  return { index, files, notReady, errors, unseen, linked };
}
