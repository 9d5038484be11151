/**
 * Config optimization: collapse `kubernetes_logs` sources that differ only in their single namespace into one shared
 * source per settings group, and restore each namespace's stream with route transforms (see routing.ts).
 *
 * Invariants (kaasops #222, names byte-compatible):
 * - Candidates: type `kubernetes_logs`, not opted out, selector exactly `kubernetes.io/metadata.name=<ns>` with a
 *   non-empty `ns` free of `,=!() `, and a namespace field the routes can read (`namespaceFieldOf`: a source that turns
 *   it off, or moves it somewhere we cannot address, is left alone). Groups are keyed by signature; a group of one is
 *   left alone. The signature holds every option, so members share one namespace-field placement.
 * - Signatures are processed in sorted order and sources by name, so the output does not depend on input order.
 * - More than 1000 namespaces split into chunks of 1000 (`<gid>-<c>`) to keep the selector URL short.
 * - Collision guard: while `optimizedSource-<gid>` or `optimizedSource-<gid>-0` exists, append `x` to the gid.
 *   We also append `x` when any other id the group would generate is taken; kaasops silently overwrote the existing
 *   component there, so this only differs where kaasops produced a broken config.
 * - Rewired inputs are deduplicated in order, so twin sources of one pipeline deliver once (kaasops fix a5ab772). Lists
 *   that contain no collapsed source are left exactly as they were.
 * - Components are never mutated: a rewired consumer is a copy in the config's map (a build cache shares components
 *   between modes and builds).
 */
import { kubernetesLogs, type SourceComponent, type VectorConfig } from '../vector/config.ts';
import { vrlPath } from '../vector/field-path.ts';
import { fileFieldOf, namespaceFieldOf } from '../vector/kubernetes-logs.ts';
import { sortCodePoints } from './gojson.ts';
import { namespaceLabel } from './pipeline.ts';
import type { BuildCache } from './build-cache.ts';
import { layoutRoutes, maxNamespacesPerSource, type RouteFields, type RouteLayout } from './routing.ts';
import { groupId, sourceSignature } from './signature.ts';

export interface CollapsedGroup {
  /** The collapsed source id, e.g. `optimizedSource-b8c6f0ff` or `optimizedSource-b8c6f0ff-1`. */
  source: string;
  gid: string;
  signature: string;
  /** The VRL path its routes read the namespace from. */
  namespaceField: string;
  namespaces: string[];
  /** Legacy source ids this source replaces, sorted. */
  members: string[];
  routing: RouteLayout['routing'];
  buckets: number;
  /** Largest number of namespaces behind one L2 router (flat: all of them). */
  largestBucket: number;
  /** Legacy source id -> the route output that now feeds its consumers. */
  outputs: Record<string, string>;
  /** The route that delivers events without pod metadata by file path; its consumers also read its outputs. */
  fallback: string;
}

export interface OptimizationSummary {
  collapsedSources: number;
  groups: CollapsedGroup[];
}

const namespacePrefix = `${namespaceLabel}=`;

/** The namespace of a single-namespace selector, or undefined. */
function singleNamespaceOf(src: SourceComponent): string | undefined {
  const sel = src.extra_namespace_label_selector;
  if (typeof sel !== 'string' || !sel.startsWith(namespacePrefix)) return undefined;
  const ns = sel.slice(namespacePrefix.length);
  if (ns === '' || /[,=!() ]/.test(ns)) return undefined;
  return ns;
}

function hasComponent(config: VectorConfig, id: string): boolean {
  return config.sources[id] !== undefined || config.transforms[id] !== undefined || config.sinks[id] !== undefined;
}

interface Chunk {
  gid: string;
  namespaces: string[];
  members: string[];
}

function chunksOf(gid: string, group: GroupInput): Chunk[] {
  const { namespaces, members, nsOf, chunkSize } = group;
  if (namespaces.length <= chunkSize) return [{ gid, namespaces, members }];
  const chunkOf = new Map<string, number>();
  const chunks: Chunk[] = [];
  for (let c = 0; c * chunkSize < namespaces.length; c++) {
    const nss = namespaces.slice(c * chunkSize, (c + 1) * chunkSize);
    for (const ns of nss) chunkOf.set(ns, c);
    chunks.push({ gid: `${gid}-${c}`, namespaces: nss, members: [] });
  }
  for (const id of members) chunks[chunkOf.get(nsOf.get(id) ?? '') ?? 0]?.members.push(id);
  return chunks;
}

/** Candidate sources by signature (ids in code-point order): single-namespace, routable, not opted out. */
function groupsBySignature(config: VectorConfig, optOut: ReadonlySet<string>, cache: BuildCache | undefined) {
  const groups = new Map<string, string[]>();
  const nsOf = new Map<string, string>();
  for (const id of sortCodePoints(Object.keys(config.sources))) {
    const src = config.sources[id] as SourceComponent;
    if (src.type !== kubernetesLogs || optOut.has(id)) continue;
    const ns = singleNamespaceOf(src);
    if (ns === undefined || namespaceFieldText(src) === undefined) continue;
    nsOf.set(id, ns);
    const sig = cache === undefined ? sourceSignature(src) : cache.signature(src);
    const list = groups.get(sig);
    if (list === undefined) groups.set(sig, [id]);
    else list.push(id);
  }
  return { groups, nsOf };
}

/** Replaces a chunk's members by its collapsed source and routes; records each member's outputs in `rewire`. */
function collapseChunk(
  config: VectorConfig,
  { chunk, layout, sourceId }: PlannedChunk,
  nsOf: ReadonlyMap<string, string>,
  rewire: Map<string, readonly string[]>,
): { outputs: Record<string, string>; largestBucket: number } {
  const first = config.sources[chunk.members[0] as string] as SourceComponent;
  const collapsed: SourceComponent = {
    ...first,
    extra_namespace_label_selector: `${namespaceLabel} in (${chunk.namespaces.join(',')})`,
  };
  const outputs: Record<string, string> = {};
  for (const id of chunk.members) {
    const ns = nsOf.get(id) as string;
    const out = layout.output.get(ns) as string;
    outputs[id] = out;
    rewire.set(id, [out, layout.fallback.get(ns) as string]);
  }
  for (const id of chunk.members) Reflect.deleteProperty(config.sources, id);
  config.sources[sourceId] = collapsed;
  Object.assign(config.transforms, layout.transforms);
  let largestBucket = 0;
  for (const [tid, t] of Object.entries(layout.transforms)) {
    if (t.type === 'route' && !tid.endsWith('-l1') && !tid.startsWith('optimizedFallback-')) {
      largestBucket = Math.max(largestBucket, Object.keys(t.route as object).length);
    }
  }
  return { outputs, largestBucket };
}

/** Points every transform and sink that read a collapsed member at that member's outputs instead. */
function rewireConsumers(
  config: VectorConfig,
  rewire: ReadonlyMap<string, readonly string[]>,
  cache: BuildCache | undefined,
): void {
  if (rewire.size === 0) return;
  for (const kind of ['transforms', 'sinks'] as const) {
    const section = config[kind];
    for (const [id, c] of Object.entries(section)) {
      const inputs = rewiredInputs(c.inputs, rewire);
      if (inputs !== undefined) section[id] = cache === undefined ? { ...c, inputs } : cache.rewire(c, inputs);
    }
  }
}

/**
 * Mutates `config`'s component maps. `optOut` holds source ids whose pipeline is annotated
 * `config-optimization: disabled`. `chunkSize` is injectable for tests and the stand only (to cross a chunk boundary
 * with a few namespaces). `cache` keeps layouts and rewired consumers for the next build (build-cache.ts).
 */
export function optimizeSources(
  config: VectorConfig,
  optOut: ReadonlySet<string>,
  chunkSize: number = maxNamespacesPerSource,
  cache?: BuildCache,
): OptimizationSummary {
  const { groups, nsOf } = groupsBySignature(config, optOut, cache);
  const summary: OptimizationSummary = { collapsedSources: 0, groups: [] };
  const rewire = new Map<string, readonly string[]>();
  for (const sig of sortCodePoints([...groups.keys()])) {
    const members = groups.get(sig) as string[];
    if (members.length < 2) continue;
    const namespaces = sortCodePoints([...new Set(members.map((id) => nsOf.get(id) as string))]);

    // Equal signatures mean equal options, so every member writes its fields where the first does.
    const field = routeFieldsOf(config.sources[members[0] as string] as SourceComponent);
    let gid = groupId(sig);
    const group = { namespaces, members, nsOf, field, chunkSize, cache };
    let plan = planGroup(config, gid, group);
    while (plan === undefined) {
      gid += 'x';
      plan = planGroup(config, gid, group);
    }
    for (const chunkPlan of plan) {
      const { chunk, layout, sourceId } = chunkPlan;
      const { outputs, largestBucket } = collapseChunk(config, chunkPlan, nsOf, rewire);
      summary.groups.push({
        source: sourceId,
        gid: chunk.gid,
        signature: sig,
        namespaceField: field.namespace,
        namespaces: chunk.namespaces,
        members: chunk.members,
        routing: layout.routing,
        buckets: layout.buckets,
        largestBucket,
        outputs,
        fallback: `optimizedFallback-${chunk.gid}`,
      });
    }
    summary.collapsedSources += members.length;
  }
  rewireConsumers(config, rewire, cache);
  return summary;
}

/** The inputs with each collapsed member replaced by its outputs, or undefined when none is a member. */
function rewiredInputs(
  inputs: readonly string[],
  rewire: ReadonlyMap<string, readonly string[]>,
): string[] | undefined {
  if (!inputs.some((i) => rewire.has(i))) return undefined;
  const seen = new Set<string>();
  const next: string[] = [];
  for (const input of inputs) {
    for (const out of rewire.get(input) ?? [input]) {
      if (seen.has(out)) continue;
      seen.add(out);
      next.push(out);
    }
  }
  return next;
}

interface PlannedChunk {
  chunk: Chunk;
  sourceId: string;
  layout: RouteLayout;
}

interface GroupInput {
  namespaces: string[];
  members: string[];
  nsOf: Map<string, string>;
  /** VRL paths of the namespace and file fields. */
  field: RouteFields;
  /** Namespaces per collapsed source: more split into chunks. */
  chunkSize: number;
  cache: BuildCache | undefined;
}

/** The VRL path where the source writes the pod namespace, or undefined when its routes could not read it. */
function namespaceFieldText(src: SourceComponent): string | undefined {
  const field = namespaceFieldOf(src);
  return field === null || field === undefined ? undefined : vrlPath(field);
}

/** The VRL paths of a candidate's namespace and file fields. */
function routeFieldsOf(src: SourceComponent): RouteFields {
  return { namespace: namespaceFieldText(src) as string, file: vrlPath(fileFieldOf(src)) };
}

/** The group's chunks and route layouts under `gid`, or undefined when an id they need is already taken. */
function planGroup(config: VectorConfig, gid: string, group: GroupInput): PlannedChunk[] | undefined {
  const { members, field, cache } = group;
  // kaasops' guard, first: it decides the name whenever kaasops' own output was valid.
  if (hasComponent(config, `optimizedSource-${gid}`) || hasComponent(config, `optimizedSource-${gid}-0`)) {
    return undefined;
  }
  const planned: PlannedChunk[] = [];
  const memberSet = new Set(members);
  for (const chunk of chunksOf(gid, group)) {
    const sourceId = `optimizedSource-${chunk.gid}`;
    const make = (): RouteLayout => layoutRoutes(chunk.gid, sourceId, chunk.namespaces, field);
    const layout =
      cache === undefined
        ? make()
        : cache.layout(
            `${chunk.gid}\n${sourceId}\n${field.namespace}\n${field.file}\n${chunk.namespaces.join(',')}`,
            make,
          );
    for (const id of [sourceId, ...Object.keys(layout.transforms)]) {
      if (hasComponent(config, id) && !memberSet.has(id)) return undefined;
    }
    planned.push({ chunk, sourceId, layout });
  }
  return planned;
}
