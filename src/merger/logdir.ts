/**
 * The node's pod logs as Vector's kubernetes_logs source sees them (reference: vector-checkpoints.md §5):
 * `<log_dir>/<namespace>_<pod>_<uid>/<container>/<file>`, where the file name matches `*.log*` and does not end in
 * `.gz` or `.tmp` (Vector's default exclusions). Files whose first line is incomplete are not ready and not listed.
 *
 * Invariant: symlinks are not followed; unreadable entries are counted, never fatal.
 *
 * Paths are joined with a plain '/': readdir names never contain one, and a node holds thousands of files, so
 * path.join's normalisation would be pure cost.
 */
import { readdirSync } from 'node:fs';
import { fingerprintFile, type FingerprintOptions } from '../vector/fingerprint.ts';
import { fingerprintKey, type FingerprintKey } from '../vector/checkpoints.ts';
import type { LogFile, LogIndex } from './plan.ts';

export interface LogScan {
  readonly index: LogIndex;
  readonly files: number;
  readonly notReady: number;
  readonly errors: number;
}

interface Candidate {
  readonly namespace: string;
  /** `<ns>_<pod>_<uid>/<container>` */
  readonly container: string;
  readonly path: string;
}

function listCandidates(logDir: string): { candidates: Candidate[]; errors: number } {
  const candidates: Candidate[] = [];
  let errors = 0;
  for (const pod of readdirSync(logDir, { withFileTypes: true })) {
    if (!pod.isDirectory()) continue;
    const underscore = pod.name.indexOf('_');
    if (underscore <= 0) continue;
    const namespace = pod.name.slice(0, underscore);
    let containers;
    try {
      containers = readdirSync(`${logDir}/${pod.name}`, { withFileTypes: true });
    } catch {
      errors++;
      continue;
    }
    for (const container of containers) {
      if (!container.isDirectory()) continue;
      const rel = `${pod.name}/${container.name}`;
      const dir = `${logDir}/${rel}`;
      let files;
      try {
        files = readdirSync(dir, { withFileTypes: true });
      } catch {
        errors++;
        continue;
      }
      for (const f of files) {
        if (!f.isFile() || !f.name.includes('.log') || f.name.endsWith('.gz') || f.name.endsWith('.tmp')) continue;
        candidates.push({ namespace, container: rel, path: `${dir}/${f.name}` });
      }
    }
  }
  return { candidates, errors };
}

/** Fingerprints every pod log file under `logDir`, `concurrency` files at a time. */
export async function scanLogDir(logDir: string, options: FingerprintOptions, concurrency = 64): Promise<LogScan> {
  const { candidates, errors: listErrors } = listCandidates(logDir);
  const index = new Map<string, Map<FingerprintKey, LogFile>>();
  let files = 0;
  let notReady = 0;
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
        let byKey = index.get(c.namespace);
        if (byKey === undefined) index.set(c.namespace, (byKey = new Map<FingerprintKey, LogFile>()));
        const key = fingerprintKey({ kind: 'first_lines_checksum', checksum: fp.checksum });
        const seen = byKey.get(key);
        // Two files with one fingerprint (a rotated copy): Vector follows one of them; judge against the longer.
        if (seen === undefined || fp.size > seen.size)
          byKey.set(key, { size: fp.size, gzip: fp.gzip, container: c.container });
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, candidates.length) }, worker));
  return { index, files, notReady, errors };
}
