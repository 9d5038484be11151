/**
 * Which sources Vector ran with before this start: the authority on whose checkpoints are current (DESIGN.md,
 * "Know who was live"). Pure: decided from the journal, the configs and file mtimes, never from `modified`
 * (a quiet namespace's entries can be days old while its source is live).
 *
 * Evidence, strongest first:
 * 1. An incomplete journal: the previous merger run was killed before it finished, so Vector has not run since
 *    (init containers run to completion before it starts). The decision recorded then still holds.
 * 2. A complete journal: Vector then ran the sources the merger prepared, plus any source whose checkpoint file
 *    is newer than the journal (added by a live config reload, which never restarts the pod).
 * 3. The standby config (the other optimization mode): exactly two candidate sets. Vector rewrites every live
 *    source's file on its first flush of each run, so the set whose distinguishing dirs hold the newest file ran last.
 * 4. Nothing else: every dir outside the active config is assumed live (duplicates rather than loss), and an active
 *    dir is stale only when it is older than all of them by a clear margin.
 */
import type { Journal } from './journal.ts';

export type LivenessBasis = 'interrupted-run' | 'journal' | 'standby-config' | 'file-mtimes';

export interface SourceDirState {
  readonly id: string;
  /** When a checkpoint file was last written into the dir (the dir's mtime), in ns. */
  readonly mtimeNs: bigint;
}

export interface LivenessInput {
  /** `kubernetes_logs` source ids of the active config. */
  readonly active: ReadonlySet<string>;
  /** Every component id of the active config: their dirs are never retiring inputs. */
  readonly activeComponents: ReadonlySet<string>;
  /** `kubernetes_logs` source ids of the standby config, when it is mounted. */
  readonly standby: ReadonlySet<string> | null;
  readonly journal: (Journal & { readonly mtimeNs: bigint }) | null;
  readonly dirs: readonly SourceDirState[];
}

export interface Liveness {
  readonly basis: LivenessBasis;
  /** Source ids Vector ran with before this start. */
  readonly liveBefore: ReadonlySet<string>;
}

/** Without a journal or standby config, an active dir this much older than every other dir counts as stale. */
export const STALE_MARGIN_NS = 30n * 1_000_000_000n;

function newest(dirs: readonly SourceDirState[]): bigint | null {
  let best: bigint | null = null;
  for (const d of dirs) if (best === null || d.mtimeNs > best) best = d.mtimeNs;
  return best;
}

function oldest(dirs: readonly SourceDirState[]): bigint | null {
  let best: bigint | null = null;
  for (const d of dirs) if (best === null || d.mtimeNs < best) best = d.mtimeNs;
  return best;
}

export function decideLiveness(input: LivenessInput): Liveness {
  const { journal, standby, active, dirs } = input;
  if (journal !== null && !journal.complete) {
    return { basis: 'interrupted-run', liveBefore: new Set(journal.previous) };
  }
  if (journal !== null) {
    const live = new Set(journal.current);
    // Only the dirs the journal does not already count as live need their mtime (a system call each).
    for (const d of dirs) if (!live.has(d.id) && d.mtimeNs > journal.mtimeNs) live.add(d.id);
    return { basis: 'journal', liveBefore: live };
  }
  if (standby !== null) {
    const activeOnly = dirs.filter((d) => active.has(d.id) && !standby.has(d.id));
    const standbyOnly = dirs.filter((d) => standby.has(d.id) && !active.has(d.id));
    // Mtimes decide only when both sides have dirs. Reading them costs a system call per dir (datadir.ts), so a
    // first switch, where the new side has none yet, reads none.
    const standbyRanLast =
      standbyOnly.length > 0 && (activeOnly.length === 0 || (newest(standbyOnly) ?? 0n) > (newest(activeOnly) ?? 0n));
    const set = standbyRanLast ? standby : active;
    return { basis: 'standby-config', liveBefore: new Set(dirs.filter((d) => set.has(d.id)).map((d) => d.id)) };
  }
  const others = dirs.filter((d) => !input.activeComponents.has(d.id));
  const live = new Set(others.map((d) => d.id));
  const activeDirs = dirs.filter((d) => active.has(d.id));
  // Mtimes are read only when there is an active dir to judge: a first switch has none yet.
  const oldestOther = activeDirs.length === 0 ? null : oldest(others);
  for (const d of activeDirs) {
    const stale = oldestOther !== null && d.mtimeNs < oldestOther - STALE_MARGIN_NS;
    if (!stale) live.add(d.id);
  }
  return { basis: 'file-mtimes', liveBefore: live };
}
