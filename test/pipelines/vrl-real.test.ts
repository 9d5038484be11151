/**
 * The VRL lane: every VRL program in the agent configs we render, legacy and optimized, compiled and run by the real
 * `vrl` crate of Vector 0.48 (tools/vrl-check). Events from each namespace are routed through the rendered topology
 * with the real results, and the Vector simulator's VRL must agree with the real compiler on every program and event.
 * Skipped, saying so, when the helper is not built (`npm run build:vrl`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadManifests } from '../../src/cli/manifest-input.ts';
import { buildAgentConfig, type BuildResult } from '../../src/pipelines/build.ts';
import type { Pipeline, Vector } from '../../src/pipelines/schemas.ts';
import type { SourceComponent } from '../../src/vector/config.ts';
import { bucketerSource } from '../../src/pipelines/routing.ts';
import { compileCondition, compileRemap, type SimEvent } from '../../lab/vector-sim/vrl.ts';
import { cvp, logsToSink, namespaces, vector, vp } from '../helpers/fixtures.ts';
import { checkVrl, VrlOracle, vrlSkip, type VrlDecided } from '../helpers/vrl.ts';
import { collectVrlPrograms, eventFor, sinksReached, type Pod } from '../helpers/vrl-topology.ts';

if (vrlSkip !== false) console.log(`# ${vrlSkip}`);

interface Scenario {
  name: string;
  vector: Vector;
  pipelines: Pipeline[];
  pods: Pod[];
  /** Sinks each pod's line must reach (sorted), when the scenario states them; else legacy is the reference. */
  expect?: (pod: Pod) => string[];
}

const pod = (namespace: string, container = 'app', labels: Record<string, string> = {}): Pod => ({
  namespace,
  name: `${namespace}-0`,
  container,
  labels,
});

/**
 * One logsToSink pipeline per namespace; each namespace's line reaches exactly its own sink. Pods run in every
 * `step`-th namespace, the last one and one without pipelines.
 */
function perNamespace(
  name: string,
  n: number,
  prefix = 'ns',
  source: Record<string, unknown> = {},
  step = 1,
): Scenario {
  const nss = namespaces(n, prefix);
  const podNamespaces = nss.filter((_, i) => i % step === 0 || i === n - 1);
  return {
    name,
    vector: vector(),
    pipelines: nss.map((ns) => logsToSink(ns, 'logs', source)),
    pods: [...podNamespaces, 'elsewhere'].map((ns) => pod(ns)),
    expect: (p) => (nss.includes(p.namespace) ? [`${p.namespace}-logs-out`] : []),
  };
}

const examples = loadManifests([fileURLToPath(new URL('../../examples', import.meta.url))]);

const scenarios: Scenario[] = [
  {
    name: '3 namespaces with filters, a remap and a cluster pipeline: flat router',
    vector: vector(),
    pipelines: [
      ...namespaces(3, 'team').map((ns) => logsToSink(ns)),
      vp('team-1', 'audit', {
        sources: { pods: { type: 'kubernetes_logs' } },
        transforms: {
          audit: { type: 'filter', inputs: ['pods'], condition: '.kubernetes.container_name == "audit"' },
          tag: { type: 'remap', inputs: ['audit'], source: '.audited = true\n.team = "team-1"' },
        },
        sinks: { s3: { type: 'blackhole', inputs: ['tag'] } },
      }),
      cvp('platform', {
        sources: { all: { type: 'kubernetes_logs', extra_namespace_label_selector: 'kubernetes.io/metadata.name!=x' } },
        sinks: { es: { type: 'blackhole', inputs: ['all'] } },
      }),
    ],
    pods: [pod('team-0'), pod('team-1'), pod('team-1', 'audit'), pod('team-2'), pod('x'), pod('other')],
    expect: (p) => {
      const own = ['team-0', 'team-1', 'team-2'].includes(p.namespace) ? [`${p.namespace}-logs-out`] : [];
      const audit = p.namespace === 'team-1' && p.container === 'audit' ? ['team-1-audit-s3'] : [];
      const platform = p.namespace === 'x' ? [] : ['platform-es'];
      return [...own, ...audit, ...platform].sort();
    },
  },
  perNamespace('17 namespaces: bucketer, L1 and L2 routers (4 buckets)', 17),
  perNamespace('40 namespaces: 8 buckets', 40, 'team'),
  {
    ...perNamespace('two settings groups, 20 and 5 namespaces: one two-level, one flat', 20, 'a'),
    pipelines: [
      ...namespaces(20, 'a').map((ns) => logsToSink(ns)),
      ...namespaces(5, 'b').map((ns) => logsToSink(ns, 'logs', { extra_label_selector: 'tier=web' })),
    ],
    pods: [...namespaces(20, 'a'), ...namespaces(5, 'b')].map((ns) => pod(ns, 'app', { tier: 'web' })),
    expect: (p) => [`${p.namespace}-logs-out`],
  },
  perNamespace('1 001 namespaces: two chunks of 1 000, pods in every 7th', 1001, 'n', {}, 7),
  {
    name: 'examples/',
    vector: examples.vectors[0] as Vector,
    pipelines: examples.pipelines,
    pods: [
      pod('checkout'),
      pod('checkout', 'audit'),
      pod('payments'),
      pod('search'),
      pod('ingress-nginx'),
      pod('billing', 'exporter', { app: 'billing-exporter' }),
      pod('billing'),
      pod('elsewhere'),
    ],
  },
];

/** Groups whose source puts the namespace elsewhere: the optimized routes do not find it yet (all lines lost). */
const layoutScenarios: Scenario[] = [
  perNamespace('pod_annotation_fields.pod_namespace moved, flat', 3, 'moved', {
    pod_annotation_fields: { pod_namespace: 'k8s.namespace' },
  }),
  perNamespace('log_namespace: true (%kubernetes_logs.pod_namespace), two-level', 20, 'vns', { log_namespace: true }),
];

const oracle = new VrlOracle();
const built = (s: Scenario, optimize: boolean): BuildResult => {
  const r = buildAgentConfig(s.vector, s.pipelines, { optimize });
  assert.deepEqual(r.rejected, [], s.name);
  return r;
};

/** Routes every pod's line of `s` through both configs with the real VRL; returns [legacy, optimized] per pod. */
function routeAll(s: Scenario): [string[], string[]][] {
  const legacy = built(s, false).config;
  const optimized = built(s, true).config;
  return oracle.settle(() => {
    const out = s.pods.map((p) => [sinksReached(legacy, oracle, p), sinksReached(optimized, oracle, p)]);
    return out.every(([l, o]) => l !== undefined && o !== undefined) ? (out as [string[], string[]][]) : undefined;
  });
}

/** Namespace -> [bucket the real bucketer computes, bucket of the L2 router that routes it], per two-level group. */
function bucketsOf(
  s: Scenario,
  source = (gid: string, r: BuildResult) => r.config.transforms[`optimizedBucketer-${gid}`]?.source,
  o = oracle,
): [string, number | undefined, number][] {
  const r = built(s, true);
  return o.settle(() => {
    const rows: [string, number | undefined, number][] = [];
    let complete = true;
    for (const g of r.optimization.groups.filter((x) => x.routing === 'two-level')) {
      const program = source(g.gid, r);
      assert.equal(typeof program, 'string', `${g.source}: no bucketer`);
      for (const [id, t] of Object.entries(r.config.transforms)) {
        const m = new RegExp(`^optimizedRouter-${g.gid}-(\\d+)$`).exec(id);
        if (m === null) continue;
        for (const ns of Object.keys(t.route as object)) {
          const run = o.run(
            'remap',
            program as string,
            eventFor(r.config.sources[g.source] as SourceComponent, pod(ns), 'x'),
          );
          if (run === undefined) complete = false;
          else rows.push([ns, run.metadata?.bucket as number | undefined, Number(m[1])]);
        }
      }
    }
    return complete ? rows : undefined;
  });
}

describe('VRL lane: generated programs under the real compiler (vrl 0.25.0, Vector 0.48)', { skip: vrlSkip }, () => {
  it('compiles every route condition, filter condition and remap source of every rendered config', () => {
    const sites = scenarios.flatMap((s) =>
      [false, true].flatMap((optimize) => collectVrlPrograms(built(s, optimize).config).map((v) => ({ s, v }))),
    );
    for (const { v } of sites) oracle.want(v.kind, v.source);
    oracle.flush();
    const generated = sites.filter(({ v }) => v.component.startsWith('optimized'));
    assert.ok(
      generated.some(({ v }) => v.component.startsWith('optimizedBucketer-')),
      'a bucketer was checked',
    );
    assert.ok(
      generated.some(({ v }) => v.component.endsWith('-l1')),
      'an L1 router was checked',
    );
    for (const { s, v } of sites) {
      const c = oracle.compiledResult(v.kind, v.source);
      assert.equal(c?.compiled, true, `${s.name}: ${v.component} ${v.field}: ${v.source}\n${c?.diagnostics}`);
    }
  });

  for (const s of scenarios) {
    it(`${s.name}: each namespace's line reaches exactly its pipelines' sinks, optimized as legacy`, () => {
      const routed = routeAll(s);
      s.pods.forEach((p, i) => {
        const [legacy, optimized] = routed[i] as [string[], string[]];
        const what = `${p.namespace}/${p.container}`;
        if (s.expect !== undefined) assert.deepEqual(legacy, s.expect(p), `legacy: ${what}`);
        assert.deepEqual(optimized, legacy, `optimized: ${what}`);
      });
    });
  }

  it('reports the functions a program calls from the parsed AST, and why a program does not compile', () => {
    const [bucketer, nested, untyped, percent, unparsable] = checkVrl([
      { id: 'bucketer', kind: 'remap', source: bucketerSource(8) },
      {
        id: 'nested',
        kind: 'remap',
        source: '.x = map_values(.) -> |v| { downcase(to_string(v) ?? "") }\nif !exists(.a) { .b = [length(.c) ?? 0] }',
      },
      { id: 'untyped', kind: 'condition', source: 'upcase(.a) == "A"' },
      // kaasops before bc76f8e: `%` after an expression starts a metadata path.
      { id: 'percent', kind: 'remap', source: bucketerSource(8).replace(/^(.*) mod\((.*), 8\)$/, '$1 $2 % 8') },
      { id: 'unparsable', kind: 'condition', source: 'md5(.a' },
    ]);
    assert.deepEqual(bucketer?.functions, ['md5', 'mod', 'parse_int', 'slice', 'string']);
    assert.equal(bucketer.compiled, true);
    assert.deepEqual(nested?.functions, ['downcase', 'exists', 'length', 'map_values', 'to_string']);
    assert.deepEqual([untyped?.compiled, untyped?.codes, untyped?.functions], [false, [110], ['upcase']]);
    assert.deepEqual([percent?.compiled, percent?.codes], [false, [203]]);
    assert.deepEqual([unparsable?.compiled, unparsable?.functions], [false, []]);
  });

  it('examples/: the payments remap drops a debug line (abort) and keeps others, run by the real compiler', () => {
    const s = scenarios.find((x) => x.name === 'examples/') as Scenario;
    const config = built(s, true).config;
    const reach = (message: string) => oracle.settle(() => sinksReached(config, oracle, pod('payments'), message));
    assert.deepEqual(reach('{"level":"debug","msg":"cache miss"}'), []);
    assert.deepEqual(reach('{"level":"debug","msg":"<redacted>"}'), ['payments-app-logs-loki']);
    assert.deepEqual(reach('{"level":"info"}'), ['payments-app-logs-loki']);
    assert.deepEqual(reach('not json'), ['payments-app-logs-loki']);
  });

  it('the bucketer sets %bucket to the bucket whose L2 router routes the namespace', () => {
    const rows = scenarios.flatMap((s) => bucketsOf(s));
    assert.ok(rows.length > 1000);
    for (const [ns, real, router] of rows) assert.equal(real, router, ns);
  });

  it('notices a bucketer that computes another bucket (the check above can fail)', () => {
    const s = scenarios[2] as Scenario;
    const mutated = (gid: string, r: BuildResult) =>
      (r.config.transforms[`optimizedBucketer-${gid}`]?.source as string).replace(', 0, 2)', ', 2, 4)');
    const rows = bucketsOf(s, mutated, new VrlOracle());
    assert.ok(rows.some(([, real, router]) => real !== router));
  });

  for (const s of layoutScenarios) {
    it(`${s.name}: the legacy config delivers each namespace's line to its sink`, () => {
      routeAll(s).forEach(([legacy], i) => {
        assert.deepEqual(legacy, s.expect?.(s.pods[i] as Pod));
      });
    });
    it(`${s.name}: the optimized config routes as the legacy one`, () => {
      for (const [legacy, optimized] of routeAll(s)) assert.deepEqual(optimized, legacy);
    });
    it(`${s.name}: a deleted pod's line, without pod metadata, reaches the same sinks in both configs`, () => {
      const gone = { ...s, pods: s.pods.map((p) => ({ ...p, deleted: true })) };
      routeAll(gone).forEach(([legacy, optimized], i) => {
        assert.deepEqual(legacy, s.expect?.(s.pods[i] as Pod));
        assert.deepEqual(optimized, legacy);
      });
    });
  }

  it('the Vector simulator agrees with the real compiler on every generated program and event', () => {
    for (const s of [...scenarios, ...layoutScenarios]) routeAll(s);
    let compared = 0;
    for (const d of oracle.decided()) {
      const sim = d.kind === 'condition' ? compileCondition(d.source) : compileRemap(d.source);
      if (typeof sim === 'string') {
        assert.ok(!isGenerated(d), `the simulator refuses a generated program: ${sim}`);
        continue;
      }
      compared++;
      assert.deepEqual(simulate(d, sim), realOutcome(d), `${d.kind} ${d.source} on ${JSON.stringify(d.sample)}`);
    }
    assert.ok(compared > 2000, `compared ${compared}`);
  });
});

/**
 * The forms routing.ts writes: namespace routes on any namespace field (`.kubernetes.pod_namespace`, a moved field,
 * `%kubernetes_logs.pod_namespace`), bucket routes, the bucketer, and the file-path fallback routes.
 */
function isGenerated(d: VrlDecided): boolean {
  return /^([.%]\S* == "|%bucket == \d+$|%bucket = mod\(|starts_with\(string!\()/.test(d.source);
}

function toSim(d: VrlDecided): SimEvent {
  const event = d.sample.event;
  const fields = typeof event === 'object' && event !== null ? structuredClone(event as Record<string, unknown>) : {};
  const message = typeof event === 'string' ? event : typeof fields.message === 'string' ? fields.message : '';
  return { message, fields, meta: structuredClone(d.sample.metadata ?? {}) };
}

/** What the simulator decides: a condition's match, or a remap's resulting metadata. */
function simulate(d: VrlDecided, sim: ((e: SimEvent) => boolean) | ((e: SimEvent) => void)): unknown {
  const e = toSim(d);
  if (d.kind === 'condition') return (sim as (e: SimEvent) => boolean)(e);
  sim(e);
  return e.meta;
}

function realOutcome(d: VrlDecided): unknown {
  if (d.kind === 'condition') return d.run.matched === true;
  return d.run.outcome === 'ok' ? d.run.metadata : (d.sample.metadata ?? {});
}
