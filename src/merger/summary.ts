/**
 * What a merge reports: the summary (one JSON line, and the termination message) and one line per target.
 *
 * Invariant: every source of the config is counted once, in exactly one of continuing, seeded, advanced, unchanged,
 * skipped or failed; `targets` is their sum.
 */
import { MERGER_VERSION } from './version.ts';
import type { LivenessBasis } from './liveness.ts';

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

export function emptySummary(): Summary {
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

/** One target's line in the log (a type, not an interface: it is passed as log fields). */
export type TargetLine = {
  source: string;
  action: string;
  applied: number;
  total?: number;
  reason?: string;
  beyondEnd?: number;
  droppedGone?: number;
  readFromStart?: number;
  unscoped?: string;
};
