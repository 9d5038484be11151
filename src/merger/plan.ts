/**
 * The consolidation plan: what each target source dir must hold before Vector starts. Pure; I/O is in apply.ts.
 *
 * Invariants:
 * - Only targets that were NOT live before this start are planned, and continuing sources that take over namespaces
 *   they did not read (a rename onto a live source, handover.ts), scoped to those namespaces; their own entries stay.
 * - Seeds come only from retiring sources (live before, gone now) and from a target's own donors (live sources whose
 *   consumers it takes over), `first_lines_checksum` entries only: that is all `kubernetes_logs` ever writes, and
 *   `dev_inode` keys do not carry between sources.
 * - A target takes seeds only from retiring sources whose namespaces can overlap its own (when both are known, from
 *   the configs): a chunk of 1000 namespaces is not handed the other chunks' files.
 * - Per fingerprint across retiring inputs: position by policy (`min`, the default, never skips an unread line;
 *   `max` avoids re-delivery to the laggards), `modified` the newest (keeps the entry clear of `ignore_older_secs`).
 * - Under `min` with a log index, a file that a retiring source reads (per its `ReadScope`) but holds no entry for
 *   is one it had not started: it is not seeded, and a stale own entry for it goes, so the target reads it from its
 *   start, as that source would have. (A lagging pipeline's backlog often spans a rotation into a new file.)
 * - With a log index (`--log-dir`): a target gets only fingerprints of files present in the namespaces its selector
 *   reads; entries for files gone from the node are dropped; positions past a plain file's end are counted.
 * - A seed replaces a stale target's own entry for the same file: the retiring sources are the newer evidence.
 * - The output text is Vector's canonical form, so an unchanged target is recognised byte for byte.
 */
import { fingerprintKey, serializeCheckpoints, type Checkpoint, type FingerprintKey } from '../vector/checkpoints.ts';
import { compareRfc3339 } from '../vector/timestamp.ts';

export type PositionPolicy = 'min' | 'max';

export interface LogFile {
  readonly size: bigint;
  readonly gzip: boolean;
  /** `<ns>_<pod>_<uid>/<container>`: the files of one container, all read or none by a pod-selecting source. */
  readonly container: string;
}

/** namespace -> fingerprint key -> a file of that namespace with that fingerprint. */
export type LogIndex = ReadonlyMap<string, ReadonlyMap<FingerprintKey, LogFile>>;

export type ExistingTarget =
  | { readonly kind: 'absent' }
  | {
      readonly kind: 'ok';
      readonly checkpoints: readonly Checkpoint[];
      /** The current `checkpoints.json` text, or null if that file is missing. */
      readonly stableText: string | null;
      /** Whether a `checkpoints.new.json` is present (Vector would prefer it if it parses). */
      readonly hasTmp: boolean;
    }
  | { readonly kind: 'foreign'; readonly version: string }
  | { readonly kind: 'invalid'; readonly reason: string; readonly hasTmp: boolean }
  /** The dir could not be read at all (EACCES, a symlinked file): never written blind. */
  | { readonly kind: 'unreadable'; readonly reason: string };

export interface SeedTarget {
  readonly id: string;
  /** Namespaces its selector can read, `null` for all. */
  readonly namespaces: readonly string[] | null;
  readonly existing: ExistingTarget;
  /** Files on the node as this target fingerprints them, or `null` without `--log-dir`. */
  readonly logIndex: LogIndex | null;
  /** Live sources that hand this target their consumers (handover.ts): seeds beside the retiring ones. */
  readonly donors?: readonly string[];
}

/**
 * Which files on the node a retiring source is known to read, entry or not:
 * - `namespaces`: every file of its `namespaces` (all, for `null`), which are then exact: no pod or path filter;
 * - `containers`: every file of each container it holds an entry for (it selects pods, but no paths);
 * - `entries`: only the files it holds entries for (path filters, or its config is unknown).
 */
export type ReadScope = 'namespaces' | 'containers' | 'entries';

export interface RetiringSource {
  readonly checkpoints: readonly Checkpoint[];
  /** Namespaces it read, `null` when unknown or all. */
  readonly namespaces: readonly string[] | null;
  readonly scope: ReadScope;
}

export interface PlanInput {
  readonly targets: readonly SeedTarget[];
  /** Retiring source id -> what it holds. */
  readonly retiring: ReadonlyMap<string, RetiringSource>;
  /**
   * Continuing sources that hand consumers over (a pipeline opted out of a group that goes on): seeds only for the
   * targets naming them in `donors`, never for every target as the retiring sources are.
   */
  readonly donors?: ReadonlyMap<string, RetiringSource>;
  readonly policy: PositionPolicy;
}

export type TargetAction = 'seed' | 'advance' | 'unchanged' | 'skip';

export interface TargetPlan {
  readonly id: string;
  readonly action: TargetAction;
  readonly reason?: string;
  /** New `checkpoints.json` text, or null when the file already holds exactly this. */
  readonly write: string | null;
  /** Remove a `checkpoints.new.json` after the write, so Vector reads what was written. */
  readonly removeTmp: boolean;
  /** Entries added or changed. */
  readonly applied: number;
  /** Entries in the target afterwards. */
  readonly total: number;
  /** Seeded positions past the end of their (plain) file. */
  readonly beyondEnd: number;
  /** Own entries dropped because their files are gone from the node. */
  readonly dropped: number;
  /** Files left to be read from their start: a retiring source reading them had not started them (`min`). */
  readonly readFromStart: number;
}

export interface Plan {
  readonly targets: readonly TargetPlan[];
  /** Distinct fingerprints available from the retiring sources. */
  readonly unionSize: number;
  /** dev_inode entries in retiring sources, not carried. */
  readonly devInodeSkipped: number;
}

/** One entry per fingerprint over the given retiring sources, chosen by policy. */
function unionOf(sources: Iterable<RetiringSource>, policy: PositionPolicy) {
  const union = new Map<FingerprintKey, Checkpoint>();
  let devInodeSkipped = 0;
  for (const source of sources) {
    for (const e of source.checkpoints) {
      if (e.fingerprint.kind !== 'first_lines_checksum') {
        devInodeSkipped++;
        continue;
      }
      const key = fingerprintKey(e.fingerprint);
      const seen = union.get(key);
      if (seen === undefined) {
        union.set(key, e);
        continue;
      }
      const position =
        policy === 'min'
          ? e.position < seen.position
            ? e.position
            : seen.position
          : e.position > seen.position
            ? e.position
            : seen.position;
      const modified = compareRfc3339(e.modified, seen.modified) > 0 ? e.modified : seen.modified;
      union.set(key, { fingerprint: seen.fingerprint, position, modified });
    }
  }
  return { union, devInodeSkipped };
}

/**
 * Files on the node that some retiring source reads (by its `ReadScope`) but holds no entry for: it had not started
 * them, so under `min` they are read from their start.
 */
function unstartedFiles(sources: readonly RetiringSource[], index: LogIndex): Set<FingerprintKey> {
  const unstarted = new Set<FingerprintKey>();
  let filesOf: Map<string, FingerprintKey[]> | undefined;
  let containerOf: Map<FingerprintKey, string> | undefined;
  for (const source of sources) {
    if (source.scope === 'entries') continue;
    const has = new Set<FingerprintKey>();
    for (const e of source.checkpoints)
      if (e.fingerprint.kind === 'first_lines_checksum') has.add(fingerprintKey(e.fingerprint));
    if (source.scope === 'namespaces') {
      for (const ns of source.namespaces ?? index.keys())
        for (const key of index.get(ns)?.keys() ?? []) if (!has.has(key)) unstarted.add(key);
      continue;
    }
    if (filesOf === undefined || containerOf === undefined) {
      filesOf = new Map();
      containerOf = new Map();
      for (const files of index.values())
        for (const [key, file] of files) {
          containerOf.set(key, file.container);
          const list = filesOf.get(file.container);
          if (list === undefined) filesOf.set(file.container, [key]);
          else list.push(key);
        }
    }
    const containers = new Set<string>();
    for (const key of has) {
      const c = containerOf.get(key);
      if (c !== undefined) containers.add(c);
    }
    for (const c of containers) for (const key of filesOf.get(c) ?? []) if (!has.has(key)) unstarted.add(key);
  }
  return unstarted;
}

function allFileKeys(index: LogIndex): Set<FingerprintKey> {
  const keys = new Set<FingerprintKey>();
  for (const files of index.values()) for (const key of files.keys()) keys.add(key);
  return keys;
}

/**
 * Seeds: the union, scoped to the files this target's namespaces hold when the node's logs are visible. `fromStart`
 * holds the files of those namespaces to be read from their start: neither seeded nor kept from the own entries.
 */
function scopeSeeds(
  t: SeedTarget,
  union: ReadonlyMap<FingerprintKey, Checkpoint>,
  unstarted: ReadonlySet<FingerprintKey> | null,
): { seeds: ReadonlyMap<FingerprintKey, Checkpoint>; beyondEnd: number; fromStart: Set<FingerprintKey> } {
  const fromStart = new Set<FingerprintKey>();
  if (t.logIndex === null) return { seeds: union, beyondEnd: 0, fromStart };
  let beyondEnd = 0;
  const scoped = new Map<FingerprintKey, Checkpoint>();
  const namespaces = t.namespaces ?? [...t.logIndex.keys()];
  for (const ns of namespaces) {
    const files = t.logIndex.get(ns);
    if (files === undefined) continue;
    for (const [key, file] of files) {
      if (unstarted?.has(key) === true) {
        fromStart.add(key);
        continue;
      }
      const e = union.get(key);
      if (e === undefined) continue;
      scoped.set(key, e);
      if (!file.gzip && e.position > file.size) beyondEnd++;
    }
  }
  return { seeds: scoped, beyondEnd, fromStart };
}

interface Merged {
  merged: ReadonlyMap<FingerprintKey, Checkpoint>;
  applied: number;
  dropped: number;
  /** Positions withheld for files read from their start: one the retiring sources offered, or the target's own. */
  withheld: number;
}

/**
 * The target's own entries stay unless a seed supersedes them or (with a log index) their file is gone. A target
 * with no usable entries of its own holds exactly the seeds: no copy.
 */
function withOwnEntries(
  t: SeedTarget,
  scoped: ReturnType<typeof scopeSeeds>,
  union: ReadonlyMap<FingerprintKey, Checkpoint>,
  presentCache: Map<LogIndex, Set<FingerprintKey>>,
): Merged {
  const { seeds, fromStart } = scoped;
  let withheld = 0;
  for (const key of fromStart) if (union.has(key)) withheld++;
  if (t.existing.kind !== 'ok') return { merged: seeds, applied: seeds.size, dropped: 0, withheld };
  let present: Set<FingerprintKey> | undefined;
  if (t.logIndex !== null) {
    present = presentCache.get(t.logIndex);
    if (present === undefined) presentCache.set(t.logIndex, (present = allFileKeys(t.logIndex)));
  }
  let dropped = 0;
  const own = new Map<FingerprintKey, Checkpoint>();
  for (const e of t.existing.checkpoints) {
    const key = fingerprintKey(e.fingerprint);
    if (present !== undefined && e.fingerprint.kind === 'first_lines_checksum' && !present.has(key)) dropped++;
    else if (fromStart.has(key)) {
      if (!union.has(key)) withheld++;
    } else own.set(key, e);
  }
  let applied = 0;
  for (const [key, e] of seeds) {
    const mine = own.get(key);
    if (mine === undefined || mine.position !== e.position || mine.modified !== e.modified) applied++;
    own.set(key, e);
  }
  return { merged: own, applied, dropped, withheld };
}

function planTarget(
  t: SeedTarget,
  union: ReadonlyMap<FingerprintKey, Checkpoint>,
  unstarted: ReadonlySet<FingerprintKey> | null,
  presentCache: Map<LogIndex, Set<FingerprintKey>>,
): TargetPlan {
  const base = { id: t.id, applied: 0, beyondEnd: 0, dropped: 0, readFromStart: 0, removeTmp: false, write: null };
  if (t.existing.kind === 'foreign') {
    return { ...base, action: 'skip', reason: `checkpoints.json has foreign version ${t.existing.version}`, total: 0 };
  }
  if (t.existing.kind === 'unreadable') {
    return { ...base, action: 'skip', reason: `cannot read the target: ${t.existing.reason}`, total: 0 };
  }
  const scoped = scopeSeeds(t, union, unstarted);
  const { merged, applied, dropped, withheld } = withOwnEntries(t, scoped, union, presentCache);
  const text = serializeCheckpoints(merged.values());
  const existing = t.existing;
  const hasTmp = existing.kind !== 'absent' && existing.hasTmp;
  const stableText = existing.kind === 'ok' ? existing.stableText : null;
  const unchanged = text === stableText && !hasTmp;
  const action: TargetAction = unchanged ? 'unchanged' : existing.kind === 'absent' ? 'seed' : 'advance';
  const reason = existing.kind === 'invalid' ? `replacing unreadable checkpoints: ${existing.reason}` : undefined;
  return {
    ...base,
    action,
    ...(reason === undefined ? {} : { reason }),
    write: text === stableText ? null : text,
    removeTmp: hasTmp,
    applied: unchanged ? 0 : applied,
    total: merged.size,
    beyondEnd: scoped.beyondEnd,
    dropped,
    readFromStart: withheld,
  };
}

/** For each target, the ids of the retiring sources (and its own donors) that can hold its files. */
function relevantSources(input: PlanInput): (t: SeedTarget) => string[] {
  const unscoped: string[] = [];
  const byNamespace = new Map<string, string[]>();
  for (const [id, r] of input.retiring) {
    if (r.namespaces === null) unscoped.push(id);
    else for (const ns of r.namespaces) byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), id]);
  }
  const all = [...input.retiring.keys()];
  const donors = (t: SeedTarget): string[] => (t.donors ?? []).filter((id) => input.donors?.has(id) === true);
  return (t) => {
    const ids = new Set(t.namespaces === null ? all : unscoped);
    if (t.namespaces !== null) for (const ns of t.namespaces) for (const id of byNamespace.get(ns) ?? []) ids.add(id);
    for (const id of donors(t)) ids.add(id);
    return [...ids].sort();
  };
}

/** Plans every target. Deterministic: same input, same output, in target order. */
export function planConsolidation(input: PlanInput): Plan {
  const relevant = relevantSources(input);
  // Targets reading the same retiring sources share one union (a rollback: every legacy dir reads the one optimized).
  const unions = new Map<string, ReturnType<typeof unionOf>>();
  // Per retiring set, per log index: both are shared by many targets (a rollback: a thousand legacy dirs, one index).
  const unstartedCache = new Map<string, Map<LogIndex, Set<FingerprintKey>>>();
  const presentCache = new Map<LogIndex, Set<FingerprintKey>>();
  let unionSize = 0;
  let devInodeSkipped = 0;
  const targets = input.targets.map((t) => {
    const ids = relevant(t);
    const key = ids.join('\0');
    const sources = (): RetiringSource[] =>
      ids.map((id) => (input.retiring.get(id) ?? input.donors?.get(id)) as RetiringSource);
    let u = unions.get(key);
    if (u === undefined) {
      u = unionOf(sources(), input.policy);
      unions.set(key, u);
      unionSize += u.union.size;
      devInodeSkipped += u.devInodeSkipped;
    }
    // `max` never picks a laggard's position, so only `min` needs to know what the laggards had not started.
    let unstarted: Set<FingerprintKey> | null = null;
    if (input.policy === 'min' && t.logIndex !== null) {
      let byIndex = unstartedCache.get(key);
      if (byIndex === undefined) unstartedCache.set(key, (byIndex = new Map<LogIndex, Set<FingerprintKey>>()));
      unstarted = byIndex.get(t.logIndex) ?? null;
      if (unstarted === null) byIndex.set(t.logIndex, (unstarted = unstartedFiles(sources(), t.logIndex)));
    }
    return planTarget(t, u.union, unstarted, presentCache);
  });
  return { targets, unionSize, devInodeSkipped };
}
