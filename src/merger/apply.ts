/**
 * Applying a plan: every target write is durable (fs/durable.ts), and targets are written in parallel because
 * fsync latency, not CPU, bounds a rollback into a thousand dirs.
 *
 * Order per target: create the dir if new (the data dir is fsynced once for all new dirs, before any file is
 * written in them), replace `checkpoints.json`, then remove a stale `checkpoints.new.json` and fsync the dir again.
 * The removal comes second: a crash in between leaves the tmp file, which Vector would prefer, but it then holds
 * the older state, never a lost one (and the next merger run removes it).
 *
 * Invariant: a failure on one target never stops the others; it is reported per target.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeFileDurably, replaceFileDurably, syncDirectory } from '../fs/durable.ts';
import { CHECKPOINTS_FILE, CHECKPOINTS_TMP_FILE } from '../vector/checkpoints.ts';
import type { TargetPlan } from './plan.ts';

export interface ApplyOutcome {
  /** Target id -> error message, for targets whose write failed. */
  readonly failed: ReadonlyMap<string, string>;
}

export async function applyPlan(
  dataDir: string,
  plans: readonly TargetPlan[],
  concurrency = 32,
): Promise<ApplyOutcome> {
  const failed = new Map<string, string>();
  const work = plans.filter((p) => p.write !== null || p.removeTmp);
  let created = false;
  for (const p of work) {
    if (p.action !== 'seed') continue;
    try {
      mkdirSync(join(dataDir, p.id), { mode: 0o755 });
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') failed.set(p.id, (err as Error).message);
    }
  }
  if (created) await syncDirectory(dataDir);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < work.length) {
      const p = work[next++] as TargetPlan;
      if (failed.has(p.id)) continue;
      const dir = join(dataDir, p.id);
      try {
        // Never write through a symlink, even one that appeared since the data dir was listed.
        if (!lstatSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
        if (p.write !== null) await replaceFileDurably(dir, CHECKPOINTS_FILE, p.write);
        if (p.removeTmp) await removeFileDurably(dir, CHECKPOINTS_TMP_FILE);
      } catch (err) {
        failed.set(p.id, (err as Error).message);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
  return { failed };
}
