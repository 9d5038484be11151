/**
 * Structural validation of a Vector config: the checks Vector itself would fail on at load time, done before a config
 * is published, for both the active and the standby config (kaasops never checked its standby config).
 *
 * Invariants checked:
 * - component ids are unique across sources, transforms and sinks, and are usable ids (see component-id.ts);
 * - every transform and sink has at least one input (a sink without inputs is an orphan);
 * - every input resolves to a source, a transform, or a named output of a transform: `<route>.<name>` and
 *   `<route>._unmatched` for `route`, `<remap>.dropped` for a remap with `reroute_dropped`; a `*` glob must match at
 *   least one such output;
 * - nothing reads from a sink, and the transform graph has no cycle.
 * Problems are returned sorted, so the report is stable.
 */
import { componentIdProblem } from './component-id.ts';
import { componentKinds, type ComponentKind, type JsonObject, type VectorConfig } from './config.ts';

export interface GraphProblem {
  component: string;
  kind: ComponentKind;
  message: string;
}

function namedOutputs(transform: JsonObject): string[] {
  const type = transform.type;
  if (type === 'route') {
    const route = transform.route;
    const names = route !== null && typeof route === 'object' ? Object.keys(route) : [];
    return [...names, '_unmatched'];
  }
  if (type === 'exclusive_route') {
    const routes = Array.isArray(transform.routes) ? (transform.routes as unknown[]) : [];
    const names = routes.flatMap((r) =>
      r !== null && typeof r === 'object' && typeof (r as JsonObject).name === 'string'
        ? [(r as JsonObject).name as string]
        : [],
    );
    return [...names, '_unmatched'];
  }
  if (type === 'remap' && transform.reroute_dropped === true) return ['dropped'];
  return [];
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${body}$`);
}

export function validateConfigGraph(config: VectorConfig): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const kindOf = new Map<string, ComponentKind>();
  for (const kind of componentKinds) {
    for (const id of Object.keys(config[kind])) {
      const idProblem = componentIdProblem(id);
      if (idProblem !== undefined) problems.push({ component: id, kind, message: `component id ${idProblem}` });
      const seen = kindOf.get(id);
      if (seen !== undefined) {
        problems.push({ component: id, kind, message: `component id is also used by one of the ${seen}` });
      } else kindOf.set(id, kind);
    }
  }

  // Every addressable output: sources and transforms by id, transforms' named outputs as `<id>.<name>`.
  const outputs = new Set<string>();
  for (const id of Object.keys(config.sources)) outputs.add(id);
  for (const [id, t] of Object.entries(config.transforms)) {
    outputs.add(id);
    for (const name of namedOutputs(t)) outputs.add(`${id}.${name}`);
  }

  // Edges between transforms only: a cycle needs a transform on every hop.
  const transformEdges = new Map<string, string[]>();
  const resolve = (kind: 'transforms' | 'sinks', id: string, input: string): string[] => {
    if (input.includes('*')) {
      const re = globToRegExp(input);
      const hits = [...outputs].filter((o) => re.test(o) && o !== id);
      if (hits.length === 0) problems.push({ component: id, kind, message: `input '${input}' matches no component` });
      return hits;
    }
    if (outputs.has(input)) return [input];
    const target = kindOf.get(input);
    if (target === 'sinks') problems.push({ component: id, kind, message: `input '${input}' is a sink` });
    else {
      const dot = input.lastIndexOf('.');
      const owner = dot > 0 ? input.slice(0, dot) : undefined;
      const hint =
        owner !== undefined && config.transforms[owner] !== undefined
          ? ` (transform '${owner}' has no output '${input.slice(dot + 1)}')`
          : '';
      problems.push({ component: id, kind, message: `input '${input}' does not resolve to a component${hint}` });
    }
    return [];
  };

  for (const kind of ['transforms', 'sinks'] as const) {
    for (const [id, c] of Object.entries(config[kind])) {
      const inputs: unknown = c.inputs;
      if (!Array.isArray(inputs) || inputs.length === 0) {
        const what = kind === 'sinks' ? 'orphan sink' : 'orphan transform';
        problems.push({ component: id, kind, message: `${what}: it has no inputs` });
        continue;
      }
      const upstream: string[] = [];
      for (const input of inputs as unknown[]) {
        if (typeof input !== 'string') {
          problems.push({ component: id, kind, message: `inputs must be strings, got ${JSON.stringify(input)}` });
          continue;
        }
        for (const out of resolve(kind, id, input)) {
          const dot = out.indexOf('.');
          const producer = dot > 0 && !config.transforms[out] && !config.sources[out] ? out.slice(0, dot) : out;
          if (kind === 'transforms' && config.transforms[producer] !== undefined) upstream.push(producer);
        }
      }
      if (kind === 'transforms') transformEdges.set(id, upstream);
    }
  }

  problems.push(...findCycles(transformEdges));
  return problems.sort(
    (a, b) => a.component.localeCompare(b.component, 'en') || a.message.localeCompare(b.message, 'en'),
  );
}

/** Iterative DFS (deep chains must not overflow the stack); reports one problem per transform on a cycle. */
function findCycles(edges: Map<string, string[]>): GraphProblem[] {
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  const onCycle = new Set<string>();
  for (const start of [...edges.keys()].sort()) {
    if (state.has(start)) continue;
    const stack: { id: string; next: number }[] = [{ id: start, next: 0 }];
    const path: string[] = [start];
    state.set(start, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top === undefined) break;
      const ups = edges.get(top.id) ?? [];
      if (top.next < ups.length) {
        const up = ups[top.next++] as string;
        const s = state.get(up);
        if (s === 1) {
          for (let i = path.indexOf(up); i < path.length; i++) onCycle.add(path[i] as string);
        } else if (s === undefined) {
          state.set(up, 1);
          stack.push({ id: up, next: 0 });
          path.push(up);
        }
      } else {
        state.set(top.id, 2);
        stack.pop();
        path.pop();
      }
    }
  }
  return [...onCycle].map((id) => ({ component: id, kind: 'transforms' as const, message: 'is part of a cycle' }));
}

/** Thrown by `assertValidConfigGraph`; carries every problem, not just the first. */
export class ConfigGraphError extends Error {
  readonly problems: GraphProblem[];
  constructor(problems: GraphProblem[]) {
    super(`invalid Vector config:\n${problems.map((p) => `  ${p.kind}.${p.component}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigGraphError';
    this.problems = problems;
  }
}

export function assertValidConfigGraph(config: VectorConfig): void {
  const problems = validateConfigGraph(config);
  if (problems.length > 0) throw new ConfigGraphError(problems);
}
