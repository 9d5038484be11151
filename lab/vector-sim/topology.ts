/**
 * The generated agent config as a runnable topology: which sinks an event from a source reaches.
 *
 * Invariants:
 * - Loading either yields a complete topology or an error naming the component: a config the simulator cannot run
 *   faithfully is refused as a whole, as Vector refuses a config it cannot build.
 * - Routing follows Vector: a `route` sends an event to every route whose condition holds, and to `<id>._unmatched`
 *   when none does; a `filter` forwards or drops; the bucketer `remap` sets `%bucket`. An input names a component or
 *   `<component>.<output>`. A sink fed twice with the same event (two inputs carrying it) receives it twice.
 * - `vector` sources and sinks are listed for the simulator to run (vector-source.ts, vector-sink.ts); other sources
 *   are accepted and produce nothing; every other sink type is a counting sink.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FieldPath } from '../../src/vector/field-path.ts';
import {
  fingerprintLines,
  namespaceFieldOf,
  resolvedMaxLineBytes,
  usesLogNamespace,
} from '../../src/vector/kubernetes-logs.ts';
import { compileCondition, compileRemap, type Condition, type Remap, type SimEvent } from './vrl.ts';
import type { VectorSinkConfig } from './vector-sink.ts';
import type { VectorSourceConfig } from './vector-source.ts';

export interface KubernetesLogsConfig {
  id: string;
  /** The raw source config, for change detection on reload. */
  raw: string;
  extraLabelSelector: string;
  extraNamespaceLabelSelector: string;
  extraFieldSelector: string;
  dataDir: string | undefined;
  globCooldownMs: number;
  delayDeletionMs: number;
  ignoreOlderSecs: number | undefined;
  excludeContainersAnnotation: string;
  includeGlobs: string[];
  excludeGlobs: string[];
  insertNamespaceFields: boolean;
  /** `log_namespace: true`: the source's fields go to `%kubernetes_logs.*`, the event is the message. */
  logNamespace: boolean;
  /** Where the pod namespace goes (see `namespaceFieldOf`); null = turned off, undefined = not modelled. */
  namespaceField: FieldPath | null | undefined;
  /** Fingerprint settings, Vector's rule per source. */
  fingerprint: { lines: number; maxLineBytes: number };
}

type Node =
  | { kind: 'sink' }
  | { kind: 'route'; routes: [string, Condition][] }
  | { kind: 'filter'; condition: Condition }
  | { kind: 'remap'; program: Remap };

export interface Topology {
  dataDir: string;
  sources: KubernetesLogsConfig[];
  vectorSources: VectorSourceConfig[];
  otherSources: string[];
  sinks: string[];
  vectorSinks: VectorSinkConfig[];
  /** The sinks this event reaches (with multiplicity), in a stable order. Mutates the event's metadata. */
  route(sourceId: string, event: SimEvent): string[];
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}

function strList(v: unknown, fallback: string[]): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : fallback;
}

/** Reads every `*.json` in the config dir (Vector's --config-dir) and merges the component maps. */
export function readConfigDir(dir: string): Json {
  const merged: Json = { sources: {}, transforms: {}, sinks: {} };
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .sort();
  if (files.length === 0) throw new Error(`no *.json config in ${dir}`);
  for (const f of files) {
    const doc: unknown = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    if (!isObj(doc)) throw new Error(`${f}: top level is not an object`);
    for (const [k, v] of Object.entries(doc)) {
      if (k === 'sources' || k === 'transforms' || k === 'sinks') {
        if (!isObj(v)) throw new Error(`${f}: ${k} is not an object`);
        const into = merged[k] as Json;
        for (const [id, c] of Object.entries(v)) {
          if (id in into) throw new Error(`${f}: component '${id}' is defined twice`);
          into[id] = c;
        }
      } else merged[k] = v;
    }
  }
  return merged;
}

function sourceConfig(id: string, c: Json): KubernetesLogsConfig {
  const num = (k: string, d: number): number => (typeof c[k] === 'number' ? c[k] : d);
  return {
    id,
    raw: JSON.stringify(c),
    extraLabelSelector: str(c.extra_label_selector),
    extraNamespaceLabelSelector: str(c.extra_namespace_label_selector),
    extraFieldSelector: str(c.extra_field_selector),
    dataDir: typeof c.data_dir === 'string' ? c.data_dir : undefined,
    globCooldownMs: num('glob_minimum_cooldown_ms', 60_000),
    delayDeletionMs: num('delay_deletion_ms', 60_000),
    ignoreOlderSecs: typeof c.ignore_older_secs === 'number' ? c.ignore_older_secs : undefined,
    excludeContainersAnnotation: 'vector.dev/exclude-containers',
    includeGlobs: strList(c.include_paths_glob_patterns, ['**/*']),
    excludeGlobs: strList(c.exclude_paths_glob_patterns, ['**/*.gz', '**/*.tmp']),
    insertNamespaceFields: c.insert_namespace_fields !== false,
    logNamespace: usesLogNamespace(c),
    namespaceField: namespaceFieldOf(c),
    fingerprint: { lines: fingerprintLines(c), maxLineBytes: resolvedMaxLineBytes(c) },
  };
}

function vectorSource(id: string, c: Json): VectorSourceConfig {
  const m = /:(\d+)$/.exec(str(c.address));
  if (m === null) throw new Error(`source '${id}' (vector): address '${str(c.address)}' has no port`);
  const acks = c.acknowledgements;
  return { id, port: Number(m[1]), acknowledgements: acks === true || (isObj(acks) && acks.enabled === true) };
}

/** Builds the topology, or throws an Error whose message names the offending component. */
export function buildTopology(config: Json): Topology {
  const sources = isObj(config.sources) ? config.sources : {};
  const transforms = isObj(config.transforms) ? config.transforms : {};
  const sinks = isObj(config.sinks) ? config.sinks : {};
  const k8s: KubernetesLogsConfig[] = [];
  const vectors: VectorSourceConfig[] = [];
  const other: string[] = [];
  for (const [id, c] of Object.entries(sources)) {
    if (!isObj(c)) throw new Error(`source '${id}' is not an object`);
    if (c.type === 'kubernetes_logs') k8s.push(sourceConfig(id, c));
    else if (c.type === 'vector') vectors.push(vectorSource(id, c));
    else other.push(id);
  }
  const vectorSinks: VectorSinkConfig[] = [];
  const nodes = new Map<string, Node>();
  const consumers = new Map<string, string[]>();
  const addInputs = (id: string, c: Json, kind: string): void => {
    if (!Array.isArray(c.inputs)) throw new Error(`${kind} '${id}' has no inputs list`);
    for (const input of c.inputs) {
      if (typeof input !== 'string') throw new Error(`${kind} '${id}' has a non-string input`);
      const list = consumers.get(input);
      if (list === undefined) consumers.set(input, [id]);
      else list.push(id);
    }
  };
  for (const [id, c] of Object.entries(transforms)) {
    if (!isObj(c)) throw new Error(`transform '${id}' is not an object`);
    addInputs(id, c, 'transform');
    if (c.type === 'route') {
      if (!isObj(c.route)) throw new Error(`transform '${id}': route has no 'route' map`);
      const routes: [string, Condition][] = [];
      for (const [name, cond] of Object.entries(c.route)) {
        const compiled = compileCondition(str(cond));
        if (typeof compiled === 'string') throw new Error(`transform '${id}' route '${name}': ${compiled}`);
        routes.push([name, compiled]);
      }
      nodes.set(id, { kind: 'route', routes });
    } else if (c.type === 'filter') {
      const compiled = compileCondition(str(c.condition));
      if (typeof compiled === 'string') throw new Error(`transform '${id}' (filter): ${compiled}`);
      nodes.set(id, { kind: 'filter', condition: compiled });
    } else if (c.type === 'remap') {
      const program = compileRemap(str(c.source));
      if (typeof program === 'string') throw new Error(`transform '${id}': ${program}`);
      nodes.set(id, { kind: 'remap', program });
    } else {
      throw new Error(
        `transform '${id}': type '${str(c.type, '?')}' is not simulated (only route, filter and the md5 bucketer remap are)`,
      );
    }
  }
  for (const [id, c] of Object.entries(sinks)) {
    if (!isObj(c)) throw new Error(`sink '${id}' is not an object`);
    addInputs(id, c, 'sink');
    nodes.set(id, { kind: 'sink' });
    if (c.type === 'vector') vectorSinks.push({ id, address: str(c.address) });
  }
  const emit = (output: string, e: SimEvent, out: string[], depth: number): void => {
    if (depth > 64) throw new Error(`the topology loops at '${output}'`);
    for (const id of consumers.get(output) ?? []) {
      const n = nodes.get(id);
      if (n === undefined) continue;
      if (n.kind === 'sink') out.push(id);
      else if (n.kind === 'filter') {
        if (n.condition(e)) emit(id, e, out, depth + 1);
      } else if (n.kind === 'remap') {
        n.program(e);
        emit(id, e, out, depth + 1);
      } else {
        let matched = false;
        for (const [name, cond] of n.routes) {
          if (cond(e)) {
            matched = true;
            emit(`${id}.${name}`, e, out, depth + 1);
          }
        }
        if (!matched) emit(`${id}._unmatched`, e, out, depth + 1);
      }
    }
  };
  return {
    dataDir: str(config.data_dir, '/var/lib/vector/'),
    sources: k8s.sort((a, b) => a.id.localeCompare(b.id)),
    vectorSources: vectors.sort((a, b) => a.id.localeCompare(b.id)),
    otherSources: other.sort(),
    sinks: Object.keys(sinks).sort(),
    vectorSinks: vectorSinks.sort((a, b) => a.id.localeCompare(b.id)),
    route(sourceId, event) {
      const out: string[] = [];
      emit(sourceId, event, out, 0);
      return out;
    },
  };
}
