/**
 * Agent configs as VRL sees them: every VRL program in a config, the events `kubernetes_logs` makes for a pod under
 * each metadata layout, and the sinks an event reaches when every condition and remap is decided by the real compiler.
 *
 * Invariants:
 * - The collector reads the config JSON, not the operator's builders: route conditions, `filter`/`sample`/`throttle`
 *   conditions (`condition`, `exclude`), `reduce`'s `starts_when`/`ends_when`, and `remap` sources. A condition is
 *   VRL when it is a string or `{type: vrl}`; other condition types and remap `file`s are not collected.
 * - Events follow Vector 0.48's `kubernetes_logs`: the namespace is at `.kubernetes.pod_namespace` by default, at
 *   the path named by `pod_annotation_fields.pod_namespace` when set, and at `%kubernetes_logs.pod_namespace` (the
 *   event being the bare message) with `log_namespace: true`.
 * - Routing follows Vector: a route sends to every matching route and to `<id>._unmatched` when none matches; a filter
 *   forwards on true only; a remap error forwards the original event (drop_on_error false) and an abort drops it
 *   (drop_on_abort true); other transforms pass events through. Sinks are returned sorted, with multiplicity.
 */
import type { SourceComponent, VectorConfig } from '../../src/vector/config.ts';
import type { VrlKind, VrlOracle, VrlSample } from './vrl.ts';

export interface VrlSite {
  component: string;
  /** Where in the component: `route.<name>`, `condition`, `exclude`, `source`, ... */
  field: string;
  kind: VrlKind;
  source: string;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function conditionSource(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && v.type === 'vrl' && typeof v.source === 'string') return v.source;
  return undefined;
}

const conditionFields = ['condition', 'exclude', 'starts_when', 'ends_when'];

export function collectVrlPrograms(config: VectorConfig): VrlSite[] {
  const out: VrlSite[] = [];
  for (const [component, t] of Object.entries(config.transforms)) {
    if (t.type === 'route' && isObj(t.route)) {
      for (const [name, cond] of Object.entries(t.route)) {
        const source = conditionSource(cond);
        if (source !== undefined) out.push({ component, field: `route.${name}`, kind: 'condition', source });
      }
    }
    if (t.type === 'remap' && typeof t.source === 'string')
      out.push({ component, field: 'source', kind: 'remap', source: t.source });
    for (const field of conditionFields) {
      const source = conditionSource(t[field]);
      if (source !== undefined) out.push({ component, field, kind: 'condition', source });
    }
  }
  return out;
}

export interface Pod {
  namespace: string;
  name: string;
  container: string;
  labels: Record<string, string>;
  /** Gone from Vector's pod metadata store (60 s after deletion): its lines carry the file path but no pod fields. */
  deleted?: boolean;
}

export type Layout = 'default' | 'annotation-field' | 'vector-namespace';

export function layoutOf(source: SourceComponent): Layout {
  if (source.log_namespace === true) return 'vector-namespace';
  const moved = isObj(source.pod_annotation_fields) ? source.pod_annotation_fields.pod_namespace : undefined;
  return typeof moved === 'string' && moved !== 'kubernetes.pod_namespace' ? 'annotation-field' : 'default';
}

function setPath(obj: Json, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (!isObj(cur[p])) cur[p] = {};
    cur = cur[p] as Json;
  }
  cur[parts[parts.length - 1] as string] = value;
}

/** The event `source` makes for one line of `pod`'s log. */
export function eventFor(source: SourceComponent, pod: Pod, message: string): VrlSample {
  const file = `/var/log/pods/${pod.namespace}_${pod.name}_uid/${pod.container}/0.log`;
  const meta =
    pod.deleted === true
      ? {}
      : {
          pod_namespace: pod.namespace,
          pod_name: pod.name,
          container_name: pod.container,
          pod_labels: pod.labels,
        };
  if (layoutOf(source) === 'vector-namespace')
    return {
      event: message,
      metadata: { kubernetes_logs: { ...meta, file, stream: 'stdout' }, vector: { source_type: 'kubernetes_logs' } },
    };
  const event: Json = { message, file, stream: 'stdout', source_type: 'kubernetes_logs' };
  if (pod.deleted === true) return { event, metadata: {} };
  event.kubernetes = { ...meta };
  const moved = isObj(source.pod_annotation_fields) ? source.pod_annotation_fields.pod_namespace : undefined;
  if (typeof moved === 'string') {
    delete (event.kubernetes as Json).pod_namespace;
    if (moved !== '') setPath(event, moved, pod.namespace);
  }
  return { event, metadata: {} };
}

type Requirement = (labels: Record<string, string>) => boolean;
const compiledSelectors = new Map<string, Requirement[]>();

function requirement(r: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(r);
  if (set !== null) {
    const [, key, op, list] = set as unknown as [string, string, string, string];
    const values = new Set(list.split(',').map((v) => v.trim()));
    return (labels) => (key in labels && values.has(labels[key] as string)) === (op === 'in');
  }
  const eq = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(r);
  if (eq !== null) {
    const [, key, op, value] = eq as unknown as [string, string, string, string];
    return (labels) => (labels[key] === value) === (op !== '!=');
  }
  return r.startsWith('!') ? (labels) => !(r.slice(1) in labels) : (labels) => r in labels;
}

/** Kubernetes label selector syntax (equality and set-based requirements), against a label map. */
export function selectorMatches(selector: string, labels: Record<string, string>): boolean {
  let reqs = compiledSelectors.get(selector);
  if (reqs === undefined) {
    const parts = (selector.match(/[^,(]+(?:\([^)]*\))?/g) ?? []).map((r) => r.trim()).filter((r) => r !== '');
    compiledSelectors.set(selector, (reqs = parts.map(requirement)));
  }
  return reqs.every((req) => req(labels));
}

export function readsPod(source: SourceComponent, pod: Pod): boolean {
  if (source.type !== 'kubernetes_logs') return false;
  const nsSel = typeof source.extra_namespace_label_selector === 'string' ? source.extra_namespace_label_selector : '';
  const podSel = typeof source.extra_label_selector === 'string' ? source.extra_label_selector : '';
  return (
    selectorMatches(nsSel, { 'kubernetes.io/metadata.name': pod.namespace }) && selectorMatches(podSel, pod.labels)
  );
}

const consumersOf = new WeakMap<VectorConfig, Map<string, string[]>>();

function consumers(config: VectorConfig): Map<string, string[]> {
  let map = consumersOf.get(config);
  if (map === undefined) {
    map = new Map();
    for (const kind of ['transforms', 'sinks'] as const)
      for (const [id, c] of Object.entries(config[kind]))
        for (const input of c.inputs) map.set(input, [...(map.get(input) ?? []), id]);
    consumersOf.set(config, map);
  }
  return map;
}

/** Which sinks one log line of `pod` reaches, or undefined while the oracle still has VRL to run (see `settle`). */
export function sinksReached(
  config: VectorConfig,
  oracle: VrlOracle,
  pod: Pod,
  message = 'hello',
): string[] | undefined {
  const next = consumers(config);
  const reached: string[] = [];
  const missing = { runs: 0 };

  const emit = (output: string, sample: VrlSample): void => {
    for (const id of next.get(output) ?? []) deliver(id, sample);
  };
  const deliver = (id: string, sample: VrlSample): void => {
    if (config.sinks[id] !== undefined) {
      reached.push(id);
      return;
    }
    const t = config.transforms[id] as Json;
    if (t.type === 'route') {
      let matched = 0;
      let decided = true;
      for (const [name, cond] of Object.entries(t.route as Json)) {
        const src = conditionSource(cond);
        if (src === undefined) throw new Error(`transform '${id}' route '${name}' is not a VRL condition`);
        const r = oracle.run('condition', src, sample);
        if (r === undefined) decided = false;
        else if (r.matched === true) {
          matched++;
          emit(`${id}.${name}`, sample);
        }
      }
      if (!decided) missing.runs++;
      else if (matched === 0 && t.reroute_unmatched !== false) emit(`${id}._unmatched`, sample);
    } else if (t.type === 'filter') {
      const src = conditionSource(t.condition);
      if (src === undefined) throw new Error(`filter '${id}' has no VRL condition`);
      const r = oracle.run('condition', src, sample);
      if (r === undefined) missing.runs++;
      else if (r.matched === true) emit(id, sample);
    } else if (t.type === 'remap' && typeof t.source === 'string') {
      const r = oracle.run('remap', t.source, sample);
      if (r === undefined) missing.runs++;
      else if (r.outcome === 'ok') emit(id, { event: r.event, metadata: r.metadata ?? {} });
      else if (r.outcome === 'error' && t.drop_on_error !== true) emit(id, sample);
      else if (r.outcome === 'abort' && t.drop_on_abort === false) emit(id, sample);
    } else emit(id, sample);
  };

  for (const [id, s] of Object.entries(config.sources)) if (readsPod(s, pod)) emit(id, eventFor(s, pod, message));
  return missing.runs === 0 ? reached.sort() : undefined;
}
