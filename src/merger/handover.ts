/**
 * Source handovers between two agent configs: which consumers (a pipeline's first transform or sink) stop reading a
 * `kubernetes_logs` source and read another one instead, and over which namespaces. Vector keys checkpoints by
 * source id, so a consumer that moves onto a source that did not read those namespaces before re-reads every
 * retained file of them: that handover is a rename. The operator uses it to decide what must not reach running
 * agents by live reload; the merger to find who hands positions to whom.
 *
 * Invariants:
 * - Pure; reads only `type`, `inputs` and `extra_namespace_label_selector`.
 * - A consumer is a transform or sink that is not optimizer routing. Routing ids begin `optimized` and a capital
 *   letter (`optimizedRouter-`, `optimizedBucketer-`, `optimizedFallback-`), which no pipeline component can: those
 *   are named after DNS names. Its feeds are the `kubernetes_logs` sources it reads directly or through routing.
 * - A handover X -> Y of consumer c: c read X before and not after, reads Y after and not before, and the namespaces
 *   X read meet those Y reads (`null`: every namespace). It is a rename when Y did not read some of them before (a
 *   source new in the config read none); those namespaces are the rename's.
 * - Adding or removing a consumer, a source or a namespace is never a rename: nobody's reading position moves.
 */
import { selectorNamespaces } from './selector.ts';

/** Sorted namespace names, or `null` for every namespace. */
export type Namespaces = readonly string[] | null;

export interface SourceGraph {
  /** `kubernetes_logs` source id -> the namespaces its selector reads. */
  readonly sources: ReadonlyMap<string, Namespaces>;
  /** Consumer id -> the `kubernetes_logs` source ids it reads, sorted. */
  readonly feeds: ReadonlyMap<string, readonly string[]>;
}

export interface Handover {
  readonly consumer: string;
  readonly from: string;
  readonly to: string;
  /** For a rename: the namespaces `to` did not read before (`null`: cannot tell, all of them). */
  readonly namespaces: Namespaces;
}

const ROUTING = /^optimized[A-Z]/;

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function inputsOf(c: Record<string, unknown>): string[] {
  return Array.isArray(c.inputs) ? c.inputs.filter((i): i is string => typeof i === 'string') : [];
}

/** The source graph of a parsed agent config (`agent.json`, or the operator's config model). */
export function sourceGraph(doc: unknown): SourceGraph {
  const d = record(doc);
  const sources = new Map<string, Namespaces>();
  for (const [id, raw] of Object.entries(record(d.sources))) {
    const src = record(raw);
    if (src.type !== 'kubernetes_logs') continue;
    const sel = src.extra_namespace_label_selector;
    sources.set(id, selectorNamespaces(typeof sel === 'string' ? sel : undefined).namespaces);
  }
  const transforms = record(d.transforms);
  const memo = new Map<string, readonly string[]>();
  const resolve = (id: string, seen: Set<string>): readonly string[] => {
    if (sources.has(id)) return [id];
    const known = memo.get(id);
    if (known !== undefined) return known;
    if (!ROUTING.test(id) || transforms[id] === undefined || seen.has(id)) return [];
    seen.add(id);
    const out = new Set<string>();
    for (const input of inputsOf(record(transforms[id])))
      for (const s of resolve(input.split('.')[0] ?? input, seen)) out.add(s);
    const list = [...out].sort();
    memo.set(id, list);
    return list;
  };
  const feeds = new Map<string, readonly string[]>();
  for (const section of [transforms, record(d.sinks)]) {
    for (const [id, raw] of Object.entries(section)) {
      if (ROUTING.test(id)) continue;
      const out = new Set<string>();
      for (const input of inputsOf(record(raw)))
        for (const s of resolve(input.split('.')[0] ?? input, new Set())) out.add(s);
      if (out.size > 0) feeds.set(id, [...out].sort());
    }
  }
  return { sources, feeds };
}

/** A namespace list as a set, made once per list: a 1000-namespace chunk meets thousands of consumers. */
const sets = new WeakMap<readonly string[], ReadonlySet<string>>();
function setOf(list: readonly string[]): ReadonlySet<string> {
  let s = sets.get(list);
  if (s === undefined) {
    s = new Set(list);
    sets.set(list, s);
  }
  return s;
}

function intersect(a: Namespaces, b: Namespaces): Namespaces {
  if (a === null) return b;
  if (b === null) return a;
  // Both sorted: filtering the shorter keeps the order.
  const [short, long] = a.length <= b.length ? [a, setOf(b)] : [b, setOf(a)];
  return short.filter((ns) => long.has(ns));
}

/** The part of `handed` that `before` (what the receiving source read) does not cover. */
function uncovered(handed: Namespaces, before: Namespaces | undefined): Namespaces {
  if (before === undefined) return handed;
  if (before === null) return [];
  if (handed === null) return null;
  const had = setOf(before);
  return handed.filter((ns) => !had.has(ns));
}

/** Every handover from `before` to `after`, with the namespaces handed over (never empty). Sorted. */
function handoversWith(
  before: SourceGraph,
  after: SourceGraph,
  keep: (handed: Namespaces, to: string) => Namespaces,
): Handover[] {
  const out: Handover[] = [];
  for (const [consumer, now] of after.feeds) {
    const was = before.feeds.get(consumer);
    if (was === undefined) continue;
    const gone = was.filter((s) => !now.includes(s));
    const added = now.filter((s) => !was.includes(s));
    for (const to of added) {
      for (const from of gone) {
        const handed = intersect(before.sources.get(from) ?? null, after.sources.get(to) ?? null);
        const namespaces = handed === null ? keep(null, to) : handed.length === 0 ? [] : keep(handed, to);
        if (namespaces === null || namespaces.length > 0) out.push({ consumer, from, to, namespaces });
      }
    }
  }
  return out.sort((a, b) =>
    a.consumer !== b.consumer ? (a.consumer < b.consumer ? -1 : 1) : a.to !== b.to ? (a.to < b.to ? -1 : 1) : 0,
  );
}

/** Consumers moving from one source to another over shared namespaces: who may hand read positions to whom. */
export function handovers(before: SourceGraph, after: SourceGraph): Handover[] {
  return handoversWith(before, after, (handed) => handed);
}

/** The handovers onto a source that did not read those namespaces before: each re-reads retained files. */
export function renames(before: SourceGraph, after: SourceGraph): Handover[] {
  return handoversWith(before, after, (handed, to) => uncovered(handed, before.sources.get(to)));
}

export interface RenameSummary {
  /** Distinct `from -> to` source pairs. */
  readonly pairs: readonly (readonly [string, string])[];
  /** Namespaces whose files would be re-read; `null` when a rename covers every namespace. */
  readonly namespaces: Namespaces;
}

/** What a list of renames amounts to, for messages: the source pairs and the namespaces concerned. */
export function summarizeRenames(list: readonly Handover[]): RenameSummary {
  const pairs = new Map<string, readonly [string, string]>();
  let all = false;
  const nss = new Set<string>();
  for (const h of list) {
    pairs.set(`${h.from}\0${h.to}`, [h.from, h.to]);
    if (h.namespaces === null) all = true;
    else for (const ns of h.namespaces) nss.add(ns);
  }
  return { pairs: [...pairs.values()], namespaces: all ? null : [...nss].sort() };
}
