/**
 * Config optimization, as users of kaasops know it (#222, #227): each kaasops `TestOptimizeSources*` case and each
 * trap from reference §7 has a scenario here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildAgentConfig } from '../../src/pipelines/build.ts';
import { serializeConfig } from '../../src/pipelines/serialize.ts';
import type { Pipeline } from '../../src/pipelines/schemas.ts';
import { validateConfigGraph } from '../../src/vector/graph.ts';
import { cvp, logsToSink, namespaces, optOutAnnotations, vector, vp } from '../helpers/fixtures.ts';

const optimize = (pipelines: Pipeline[], v = vector()) => buildAgentConfig(v, pipelines, { optimize: true });
const kubeSources = (cfg: ReturnType<typeof optimize>['config']) =>
  Object.keys(cfg.sources)
    .filter((id) => cfg.sources[id]?.type === 'kubernetes_logs')
    .sort();

describe('config optimization', () => {
  it('collapses three namespaces into one source with an `in (...)` selector, one router, sinks rewired', () => {
    const { config, optimization } = optimize(['ns-c', 'ns-a', 'ns-b'].map((ns) => logsToSink(ns)));
    assert.deepEqual(Object.keys(config.sources), ['optimizedSource-b8c6f0ff']);
    assert.equal(
      config.sources['optimizedSource-b8c6f0ff']?.extra_namespace_label_selector,
      'kubernetes.io/metadata.name in (ns-a,ns-b,ns-c)',
    );
    assert.deepEqual(Object.keys(config.transforms), ['optimizedRouter-b8c6f0ff', 'optimizedFallback-b8c6f0ff']);
    assert.deepEqual(config.transforms['optimizedRouter-b8c6f0ff']?.route, {
      'ns-a': '.kubernetes.pod_namespace == "ns-a"',
      'ns-b': '.kubernetes.pod_namespace == "ns-b"',
      'ns-c': '.kubernetes.pod_namespace == "ns-c"',
    });
    assert.deepEqual(config.sinks['ns-b-logs-out']?.inputs, [
      'optimizedRouter-b8c6f0ff.ns-b',
      'optimizedFallback-b8c6f0ff.ns-b',
    ]);
    assert.equal(optimization.collapsedSources, 3);
    assert.deepEqual(validateConfigGraph(config), []);
  });

  it('leaves every source alone when the flag is off', () => {
    const r = buildAgentConfig(
      vector(),
      ['a', 'b'].map((ns) => logsToSink(ns)),
      { optimize: false },
    );
    assert.deepEqual(Object.keys(r.config.sources).sort(), ['a-logs-pods', 'b-logs-pods']);
    assert.equal(r.optimized, false);
  });

  it('leaves every source alone when the Vector is annotated config-optimization: disabled', () => {
    const r = optimize(
      ['a', 'b'].map((ns) => logsToSink(ns)),
      vector({}, { annotations: optOutAnnotations }),
    );
    assert.deepEqual(Object.keys(r.config.sources).sort(), ['a-logs-pods', 'b-logs-pods']);
    assert.equal(r.optimized, false);
  });

  it('keeps an opted-out pipeline standalone while the others collapse', () => {
    const optedOut = vp('b', 'logs', logsToSink('b').spec, { annotations: optOutAnnotations });
    const { config } = optimize([logsToSink('a'), optedOut, logsToSink('c')]);
    assert.deepEqual(kubeSources(config), ['b-logs-pods', 'optimizedSource-b8c6f0ff']);
    assert.deepEqual(config.sinks['b-logs-out']?.inputs, ['b-logs-pods']);
    assert.equal(
      config.sources['optimizedSource-b8c6f0ff']?.extra_namespace_label_selector,
      'kubernetes.io/metadata.name in (a,c)',
    );
  });

  it('opts out only on the exact value "disabled"', () => {
    const enabled = vp('b', 'logs', logsToSink('b').spec, {
      annotations: { 'vector-operator.kaasops.io/config-optimization': 'enabled' },
    });
    assert.deepEqual(kubeSources(optimize([logsToSink('a'), enabled]).config), ['optimizedSource-b8c6f0ff']);
  });

  it('keeps every source of an opted-out pipeline standalone', () => {
    const multi = vp(
      'b',
      'multi',
      {
        sources: { one: { type: 'kubernetes_logs' }, two: { type: 'kubernetes_logs' } },
        sinks: { out: { type: 'blackhole', inputs: ['one', 'two'] } },
      },
      { annotations: optOutAnnotations },
    );
    const { config } = optimize([logsToSink('a'), logsToSink('c'), multi]);
    assert.deepEqual(kubeSources(config), ['b-multi-one', 'b-multi-two', 'optimizedSource-b8c6f0ff']);
  });

  it('reads a namespace twice when one of its pipelines opts out (documented double read)', () => {
    const optedOut = vp('a', 'audit', logsToSink('a').spec, { annotations: optOutAnnotations });
    const { config } = optimize([logsToSink('a'), logsToSink('b'), optedOut]);
    const selectors = kubeSources(config).map((id) => config.sources[id]?.extra_namespace_label_selector);
    assert.deepEqual(selectors, ['kubernetes.io/metadata.name=a', 'kubernetes.io/metadata.name in (a,b)']);
  });

  it('collapses again, under the same name, once the opt-out annotation is removed', () => {
    const optedOut = vp('b', 'logs', logsToSink('b').spec, { annotations: optOutAnnotations });
    const before = optimize([logsToSink('a'), optedOut, logsToSink('c')]).config;
    const after = optimize([logsToSink('a'), logsToSink('b'), logsToSink('c')]).config;
    assert.ok(before.sources['optimizedSource-b8c6f0ff']);
    assert.deepEqual(kubeSources(after), ['optimizedSource-b8c6f0ff']);
  });

  it('collapses a ClusterVectorPipeline source of the exact single-namespace form, unless the CVP opts out', () => {
    const single = cvp('platform', {
      sources: {
        ingress: { type: 'kubernetes_logs', extra_namespace_label_selector: 'kubernetes.io/metadata.name=ingress' },
      },
      sinks: { out: { type: 'blackhole', inputs: ['ingress'] } },
    });
    assert.deepEqual(kubeSources(optimize([logsToSink('a'), single]).config), ['optimizedSource-b8c6f0ff']);
    const optedOut = { ...single, metadata: { ...single.metadata, annotations: optOutAnnotations } };
    assert.deepEqual(kubeSources(optimize([logsToSink('a'), logsToSink('b'), optedOut]).config), [
      'optimizedSource-b8c6f0ff',
      'platform-ingress',
    ]);
  });

  it('leaves multi-namespace and cluster-wide CVP sources alone', () => {
    const wide = cvp('all', {
      sources: {
        every: { type: 'kubernetes_logs' },
        two: { type: 'kubernetes_logs', extra_namespace_label_selector: 'kubernetes.io/metadata.name in (a,b)' },
      },
      sinks: { out: { type: 'blackhole', inputs: ['every', 'two'] } },
    });
    assert.deepEqual(kubeSources(optimize([logsToSink('a'), logsToSink('b'), wide]).config), [
      'all-every',
      'all-two',
      'optimizedSource-b8c6f0ff',
    ]);
  });

  it('groups by signature: a source with its own label selector stays standalone', () => {
    const own = logsToSink('c', 'logs', { extra_label_selector: 'app=web' });
    assert.deepEqual(kubeSources(optimize([logsToSink('a'), logsToSink('b'), own]).config), [
      'c-logs-pods',
      'optimizedSource-b8c6f0ff',
    ]);
  });

  it('names the group after its settings: the apiserver-cache group is optimizedSource-4fea3cff', () => {
    const v = vector({ useApiServerCache: true });
    const { config } = optimize([logsToSink('a'), logsToSink('b')], v);
    assert.deepEqual(config.sources['optimizedSource-4fea3cff'], {
      type: 'kubernetes_logs',
      use_apiserver_cache: true,
      extra_namespace_label_selector: 'kubernetes.io/metadata.name in (a,b)',
    });
  });

  it('keeps the collapsed source name when pipelines come and go, so its checkpoints survive', () => {
    const two = optimize([logsToSink('a'), logsToSink('b')]).config;
    const five = optimize(['a', 'b', 'c', 'd', 'e'].map((ns) => logsToSink(ns))).config;
    assert.deepEqual(kubeSources(two), kubeSources(five));
  });

  it('routes 40 namespaces in two levels with mod() and 8 buckets, and every input has a producer', () => {
    const { config } = optimize(namespaces(40).map((ns) => logsToSink(ns)));
    const bucketer = config.transforms['optimizedBucketer-b8c6f0ff'];
    assert.match(String(bucketer?.source), /mod\(/);
    assert.match(String(bucketer?.source), /, 8\)$/);
    assert.deepEqual(bucketer?.inputs, ['optimizedSource-b8c6f0ff']);
    assert.deepEqual(validateConfigGraph(config), []);
  });

  it('builds byte-identical configs whatever the order of the pipelines (10 shuffled builds)', () => {
    const pipelines = [...namespaces(40).map((ns) => logsToSink(ns)), logsToSink('x', 'other', { max_line_bytes: 1 })];
    const expected = serializeConfig(optimize(pipelines).config);
    let seed = 7;
    for (let i = 0; i < 10; i++) {
      const shuffled = [...pipelines].sort(() => ((seed = (seed * 48271) % 2147483647) % 3) - 1);
      assert.equal(serializeConfig(optimize(shuffled).config), expected);
    }
  });

  it('routes per namespace: three sources on two namespaces give two routes', () => {
    const { config } = optimize([logsToSink('a', 'one'), logsToSink('a', 'two'), logsToSink('b')]);
    assert.deepEqual(Object.keys(config.transforms['optimizedRouter-b8c6f0ff']?.route as object), ['a', 'b']);
    const a = ['optimizedRouter-b8c6f0ff.a', 'optimizedFallback-b8c6f0ff.a'];
    assert.deepEqual(config.sinks['a-one-out']?.inputs, a);
    assert.deepEqual(config.sinks['a-two-out']?.inputs, a);
  });

  it('splits 2200 namespaces into 3 chunks of at most 1000 (kaasops fix 461fae8)', () => {
    const { config, optimization } = optimize(namespaces(2200).map((ns) => logsToSink(ns)));
    assert.deepEqual(kubeSources(config), [
      'optimizedSource-b8c6f0ff-0',
      'optimizedSource-b8c6f0ff-1',
      'optimizedSource-b8c6f0ff-2',
    ]);
    assert.deepEqual(
      optimization.groups.map((g) => g.namespaces.length),
      [1000, 1000, 200],
    );
    assert.ok(config.transforms['optimizedBucketer-b8c6f0ff-2']);
    assert.deepEqual(validateConfigGraph(config), []);
  });

  it('delivers twin sources of one pipeline once: rewired inputs are deduplicated (kaasops fix a5ab772)', () => {
    const twins = vp('a', 'twins', {
      sources: { one: { type: 'kubernetes_logs' }, two: { type: 'kubernetes_logs' } },
      sinks: { out: { type: 'blackhole', inputs: ['one', 'two'] } },
    });
    const { config } = optimize([twins, logsToSink('b')]);
    assert.deepEqual(config.sinks['a-twins-out']?.inputs, [
      'optimizedRouter-b8c6f0ff.a',
      'optimizedFallback-b8c6f0ff.a',
    ]);
  });

  it('appends x to the gid when optimizedSource-<gid> is already taken (collision guard)', () => {
    const squatter = cvp('optimizedSource', {
      sources: { b8c6f0ff: { type: 'file', include: ['/var/log/x.log'] } },
      sinks: { out: { type: 'blackhole', inputs: ['b8c6f0ff'] } },
    });
    const { config } = optimize([squatter, logsToSink('a'), logsToSink('b')]);
    assert.ok(config.sources['optimizedSource-b8c6f0ff']?.type === 'file');
    assert.ok(config.sources['optimizedSource-b8c6f0ffx']);
    assert.deepEqual(validateConfigGraph(config), []);
  });

  it('appends x when a router name is taken too, where kaasops would have overwritten a user component', () => {
    const squatter = cvp('optimizedRouter', {
      sources: { s: { type: 'file', include: ['/x'] } },
      transforms: { b8c6f0ff: { type: 'remap', inputs: ['s'], source: '.' } },
      sinks: { out: { type: 'blackhole', inputs: ['b8c6f0ff'] } },
    });
    const { config } = optimize([squatter, logsToSink('a'), logsToSink('b')]);
    assert.equal(config.transforms['optimizedRouter-b8c6f0ff']?.type, 'remap');
    assert.ok(config.transforms['optimizedRouter-b8c6f0ffx']);
    assert.deepEqual(validateConfigGraph(config), []);
  });

  it('leaves a group of one alone', () => {
    assert.deepEqual(kubeSources(optimize([logsToSink('a')]).config), ['a-logs-pods']);
  });
});

describe('config optimization: where the source writes the namespace', () => {
  const routeOf = (cfg: ReturnType<typeof optimize>['config'], id: string) =>
    cfg.transforms[id]?.route as Record<string, string> | undefined;

  it('routes a log_namespace group on %kubernetes_logs.pod_namespace', () => {
    const { config, optimization } = optimize(['a', 'b'].map((ns) => logsToSink(ns, 'logs', { log_namespace: true })));
    const g = optimization.groups[0];
    assert.ok(g !== undefined);
    assert.equal(g.namespaceField, '%kubernetes_logs.pod_namespace');
    assert.deepEqual(routeOf(config, `optimizedRouter-${g.gid}`), {
      a: '%kubernetes_logs.pod_namespace == "a"',
      b: '%kubernetes_logs.pod_namespace == "b"',
    });
    assert.deepEqual(validateConfigGraph(config), []);
  });

  it('routes and buckets a moved pod_annotation_fields.pod_namespace on its VRL path, quoting where VRL needs it', () => {
    const source = { pod_annotation_fields: { pod_namespace: 'k8s-meta.ns' } };
    const { config, optimization } = optimize(namespaces(20).map((ns) => logsToSink(ns, 'logs', source)));
    const g = optimization.groups[0];
    assert.ok(g !== undefined && g.routing === 'two-level');
    assert.match(String(config.transforms[`optimizedBucketer-${g.gid}`]?.source), /md5\(string!\(\."k8s-meta"\.ns\)\)/);
    const l2 = Object.entries(config.transforms).filter(
      ([id, t]) => t.type === 'route' && !id.endsWith('-l1') && !id.startsWith('optimizedFallback-'),
    );
    for (const [, t] of l2) {
      for (const cond of Object.values(t.route as Record<string, string>)) assert.match(cond, /^\."k8s-meta"\.ns == "/);
    }
  });

  it('never collapses sources whose namespace field is turned off or unaddressable', () => {
    for (const pod_namespace of ['', 'a[0]']) {
      const { config, optimization } = optimize(
        ['a', 'b'].map((ns) => logsToSink(ns, 'logs', { pod_annotation_fields: { pod_namespace } })),
      );
      assert.deepEqual(kubeSources(config), ['a-logs-pods', 'b-logs-pods'], pod_namespace);
      assert.equal(optimization.collapsedSources, 0);
    }
  });

  it('keeps sources with different namespace placements in different groups', () => {
    const { optimization } = optimize([
      logsToSink('a'),
      logsToSink('b'),
      logsToSink('c', 'logs', { log_namespace: true }),
      logsToSink('d', 'logs', { log_namespace: true }),
      logsToSink('e', 'logs', { pod_annotation_fields: { pod_namespace: 'ns' } }),
      logsToSink('f', 'logs', { pod_annotation_fields: { pod_namespace: 'ns' } }),
    ]);
    const byField = Object.fromEntries(optimization.groups.map((g) => [g.namespaceField, g.namespaces]));
    assert.deepEqual(byField, {
      '.kubernetes.pod_namespace': ['a', 'b'],
      '%kubernetes_logs.pod_namespace': ['c', 'd'],
      '.ns': ['e', 'f'],
    });
  });
});

describe('config optimization: a deleted pod backlog (events without pod metadata)', () => {
  it('adds a file-path fallback after the router, and every consumer reads both outputs of its namespace', () => {
    const { config, optimization } = optimize(['ns-a', 'ns-b'].map((ns) => logsToSink(ns)));
    const g = optimization.groups[0];
    assert.ok(g !== undefined);
    assert.equal(g.fallback, 'optimizedFallback-b8c6f0ff');
    assert.deepEqual(config.transforms['optimizedFallback-b8c6f0ff'], {
      type: 'route',
      inputs: ['optimizedRouter-b8c6f0ff._unmatched'],
      route: {
        'ns-a': 'starts_with(string!(.file), "/var/log/pods/ns-a_")',
        'ns-b': 'starts_with(string!(.file), "/var/log/pods/ns-b_")',
      },
    });
    assert.deepEqual(config.sinks['ns-a-logs-out']?.inputs, [
      'optimizedRouter-b8c6f0ff.ns-a',
      'optimizedFallback-b8c6f0ff.ns-a',
    ]);
    assert.deepEqual(validateConfigGraph(config), []);
  });

  it('two-level: the fallback reads the L1 router unmatched (no namespace, no bucket), with every namespace', () => {
    const nss = namespaces(40);
    const { config, optimization } = optimize(nss.map((ns) => logsToSink(ns, 'logs', { log_namespace: true })));
    const g = optimization.groups[0];
    assert.ok(g !== undefined && g.routing === 'two-level');
    const fb = config.transforms[g.fallback];
    assert.ok(fb !== undefined);
    assert.deepEqual(fb.inputs, [`optimizedRouter-${g.gid}-l1._unmatched`]);
    const route = fb.route as Record<string, string>;
    assert.deepEqual(Object.keys(route), nss);
    assert.equal(route['ns-07'], 'starts_with(string!(%kubernetes_logs.file), "/var/log/pods/ns-07_")');
    assert.ok(g.largestBucket < nss.length, 'the fallback is not counted as a bucket');
    assert.deepEqual(validateConfigGraph(config), []);
  });
});
