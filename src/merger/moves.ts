/**
 * Who hands consumers to whom between the config the pods ran (the standby config, at a rollout) and this one, as far
 * as the merger acts on it: only live sources give, and only to targets or to continuing sources that take over
 * namespaces they did not read (a rename within a mode).
 *
 * Invariants:
 * - Pure: reads the two configs' source graphs (handover.ts) and the set of sources live before this start.
 * - A donor is live before this start; a target it seeds was not; a continuing source that gains namespaces was.
 * - Without a standby config nothing moves.
 */
import type { AgentConfig } from './config.ts';
import { handovers, renames, sourceGraph, type Namespaces } from './handover.ts';

/** Who hands consumers to whom between the config the pods ran (the standby, at a rollout) and this one. */
export interface Moves {
  /** Target id -> live sources whose consumers it takes over. */
  readonly donors: ReadonlyMap<string, string[]>;
  readonly donorIds: ReadonlySet<string>;
  /** Continuing source id -> the namespaces it takes over and did not read before. */
  readonly gained: ReadonlyMap<string, Namespaces>;
}

export const noMoves: Moves = { donors: new Map(), donorIds: new Set(), gained: new Map() };

function union(a: Namespaces | undefined, b: Namespaces): Namespaces {
  if (a === undefined) return b;
  if (a === null || b === null) return null;
  return [...new Set([...a, ...b])].sort();
}

export function movesOf(config: AgentConfig, standby: AgentConfig | null, liveBefore: ReadonlySet<string>): Moves {
  if (standby === null) return noMoves;
  const before = sourceGraph(standby.doc);
  const after = sourceGraph(config.doc);
  const donors = new Map<string, string[]>();
  const donorIds = new Set<string>();
  for (const h of handovers(before, after)) {
    if (!liveBefore.has(h.from) || liveBefore.has(h.to)) continue;
    donors.set(h.to, [...new Set([...(donors.get(h.to) ?? []), h.from])].sort());
    donorIds.add(h.from);
  }
  const gained = new Map<string, Namespaces>();
  for (const r of renames(before, after)) {
    if (!liveBefore.has(r.from) || !liveBefore.has(r.to) || !after.sources.has(r.to)) continue;
    gained.set(r.to, union(gained.get(r.to), r.namespaces));
    donors.set(r.to, [...new Set([...(donors.get(r.to) ?? []), r.from])].sort());
    donorIds.add(r.from);
  }
  return { donors, donorIds, gained };
}
