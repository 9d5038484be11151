/**
 * The simulator's reading of the generated config: the route and md5-bucketer VRL the operator writes route each
 * namespace's events to its own pipeline's sink, and anything the simulator cannot evaluate is refused by name.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { annotateEvent } from '../../lab/vector-sim/annotate.ts';
import { buildTopology } from '../../lab/vector-sim/topology.ts';
import type { SimEvent } from '../../lab/vector-sim/vrl.ts';
import { rewriteArg } from '../../lab/common/mounts.ts';
import { rotationSuffix, criTimestamp } from '../../lab/workload/cri-log.ts';
import { buildModes } from '../../src/pipelines/modes.ts';
import type { Pipeline, Vector } from '../../src/pipelines/schemas.ts';
import { formatRfc3339AutoSi, parseRfc3339 } from '../../src/vector/timestamp.ts';

const vector: Vector = { kind: 'Vector', metadata: { name: 'agent', namespace: 'vector' }, spec: {} };

function pipelines(nss: string[], source: Record<string, unknown> = {}): Pipeline[] {
  return nss.map((ns) => ({
    kind: 'VectorPipeline',
    metadata: { name: 'logs', namespace: ns },
    spec: {
      sources: { pods: { type: 'kubernetes_logs', ...source } },
      sinks: { out: { type: 'blackhole', inputs: ['pods'] } },
    },
  }));
}

function event(ns?: string): SimEvent {
  const fields: Record<string, unknown> = { message: 'm' };
  if (ns !== undefined) fields.kubernetes = { pod_namespace: ns };
  return { message: 'm', fields, meta: {} };
}

describe('Vector simulator: the generated topology', () => {
  it('routes every namespace to its own sink through the two-level md5 bucketer of a 40-namespace optimized config', () => {
    const nss = Array.from({ length: 40 }, (_, i) => `team-${i}`);
    const json = buildModes(vector, pipelines(nss), { optimize: true }).optimized.json;
    assert.match(json, /optimizedBucketer-/, 'more than 16 namespaces use the bucketer');
    const topo = buildTopology(JSON.parse(json) as Record<string, unknown>);
    assert.equal(topo.sources.length, 1);
    const source = topo.sources[0]?.id ?? '';
    for (const ns of nss) assert.deepEqual(topo.route(source, event(ns)), [`${ns}-logs-out`], ns);
    assert.deepEqual(topo.route(source, event('elsewhere')), [], 'an unrouted namespace reaches no sink');
    assert.deepEqual(topo.route(source, event()), [], 'an event without pod metadata passes the remap unbucketed');
  });

  it('routes a legacy config by source', () => {
    const json = buildModes(vector, pipelines(['a', 'b']), { optimize: false }).legacy.json;
    const topo = buildTopology(JSON.parse(json) as Record<string, unknown>);
    assert.deepEqual(
      topo.sources.map((s) => s.id),
      ['a-logs-pods', 'b-logs-pods'],
    );
    assert.deepEqual(topo.route('a-logs-pods', event('a')), ['a-logs-out']);
  });

  it('sends unmatched events to _unmatched and refuses VRL it cannot evaluate, naming the component', () => {
    const topo = buildTopology({
      sources: { s: { type: 'kubernetes_logs' } },
      transforms: { r: { type: 'route', inputs: ['s'], route: { x: '.kubernetes.pod_namespace == "x"' } } },
      sinks: { hit: { type: 'console', inputs: ['r.x'] }, rest: { type: 'console', inputs: ['r._unmatched'] } },
    });
    assert.deepEqual(topo.route('s', event('x')), ['hit']);
    assert.deepEqual(topo.route('s', event('y')), ['rest']);
    assert.throws(
      () =>
        buildTopology({
          sources: { s: { type: 'kubernetes_logs' } },
          transforms: { parse: { type: 'remap', inputs: ['s'], source: '. = parse_json!(.message)' } },
          sinks: {},
        }),
      /transform 'parse': remap source .* is not the md5 bucketer/,
    );
    assert.throws(
      () =>
        buildTopology({
          sources: {},
          transforms: { f: { type: 'filter', inputs: [], condition: 'contains(.message, "x")' } },
          sinks: {},
        }),
      /transform 'f' \(filter\)/,
    );
    assert.throws(
      () => buildTopology({ sources: {}, transforms: { t: { type: 'lua', inputs: [] } }, sinks: {} }),
      /type 'lua' is not simulated/,
    );
  });
});

describe('Vector simulator: events carry the namespace where the source writes it', () => {
  const line = { message: 'm', stream: 'stdout', timestamp: '2026-12-07T00:00:00Z' };
  const pod = (ns: string) => ({ ns, name: 'p', uid: 'u', labels: {}, node: 'n' });
  const path = (ns: string) => `/var/log/pods/${ns}_p_u/c/0.log`;

  for (const [what, source] of [
    ['log_namespace: true', { log_namespace: true }],
    ['a moved pod_annotation_fields.pod_namespace', { pod_annotation_fields: { pod_namespace: 'k8s-meta.ns' } }],
  ] as const) {
    for (const n of [3, 40]) {
      it(`delivers every namespace of an optimized ${n}-namespace group with ${what}`, () => {
        const nss = Array.from({ length: n }, (_, i) => `team-${i}`);
        const json = buildModes(vector, pipelines(nss, source), { optimize: true }).optimized.json;
        const topo = buildTopology(JSON.parse(json) as Record<string, unknown>);
        const src = topo.sources[0];
        assert.ok(src !== undefined && topo.sources.length === 1, 'collapsed into one source');
        for (const ns of nss) {
          const e = annotateEvent(src, line, path(ns), pod(ns));
          assert.deepEqual(topo.route(src.id, e), [`${ns}-logs-out`], ns);
        }
      });
    }
  }

  it('places the namespace in metadata under log_namespace, and nowhere once the field is turned off', () => {
    const meta = annotateEvent({ logNamespace: true, namespaceField: undefined }, line, path('a'), pod('a'));
    assert.deepEqual(meta.fields, { message: 'm' });
    assert.equal((meta.meta.kubernetes_logs as Record<string, unknown>).pod_namespace, 'a');
    const off = annotateEvent({ logNamespace: false, namespaceField: null }, line, path('a'), pod('a'));
    assert.equal((off.fields.kubernetes as Record<string, unknown>).pod_namespace, undefined);
    assert.equal(off.fields.file, path('a'));
  });
});

describe('Vector simulator: a deleted pod backlog reaches the same sinks in both modes', () => {
  const line = { message: 'm', stream: 'stdout', timestamp: '2026-12-07T00:00:00Z' };
  const path = (ns: string) => `/var/log/pods/${ns}_p_u/c/0.log`;

  for (const [what, source] of [
    ['default fields', {}],
    ['log_namespace: true', { log_namespace: true }],
  ] as const) {
    for (const n of [3, 40]) {
      it(`${n} namespaces, ${what}: an event without pod metadata reaches its namespace's sink by file path`, () => {
        const nss = Array.from({ length: n }, (_, i) => `team-${i}`);
        const modes = buildModes(vector, pipelines(nss, source), { optimize: true });
        const opt = buildTopology(JSON.parse(modes.optimized.json) as Record<string, unknown>);
        const legacy = buildTopology(JSON.parse(modes.legacy.json) as Record<string, unknown>);
        const src = opt.sources[0];
        assert.ok(src !== undefined && opt.sources.length === 1);
        for (const ns of nss) {
          const legacySrc = legacy.sources.find((s) => s.id === `${ns}-logs-pods`);
          assert.ok(legacySrc !== undefined);
          const gone = annotateEvent(src, line, path(ns), undefined);
          assert.deepEqual(opt.route(src.id, gone), [`${ns}-logs-out`], ns);
          assert.deepEqual(legacy.route(legacySrc.id, annotateEvent(legacySrc, line, path(ns), undefined)), [
            `${ns}-logs-out`,
          ]);
        }
        const stranger = annotateEvent(src, line, path('team-x'), undefined);
        assert.deepEqual(opt.route(src.id, stranger), [], 'a file of another namespace reaches no sink');
      });
    }
  }
});

describe('stand formats', () => {
  it('writes checkpoint timestamps in chrono AutoSi form, which parse back to the same instant', () => {
    for (const [ns, text] of [
      [1_800_000_000_000_000_000n, '2027-01-15T08:00:00Z'],
      [1_800_000_000_120_000_000n, '2027-01-15T08:00:00.120Z'],
      [1_800_000_000_000_123_000n, '2027-01-15T08:00:00.000123Z'],
      [1_800_000_000_000_000_007n, '2027-01-15T08:00:00.000000007Z'],
    ] as const) {
      assert.equal(formatRfc3339AutoSi(ns), text);
      assert.equal(parseRfc3339(text), ns);
    }
  });

  it('names rotated files with the kubelet layout and writes 9-digit CRI timestamps', () => {
    assert.equal(rotationSuffix(1_800_000_000_000_000_000n), '20270115-080000');
    assert.equal(criTimestamp(1_800_000_000_000_000_042n), '2027-01-15T08:00:00.000000042Z');
  });

  it('rewrites container paths in arguments to the node tree, and leaves other arguments alone', () => {
    const mounts = [
      { containerPath: '/var/log/', hostPath: '/n/var/log' },
      { containerPath: '/var/log/journal', hostPath: '/n/journal' },
      { containerPath: '/etc/vector', hostPath: '/n/secret' },
    ];
    assert.equal(rewriteArg(mounts, '--log-dir=/var/log/pods'), '--log-dir=/n/var/log/pods');
    assert.equal(rewriteArg(mounts, '-config=/etc/vector/agent.json'), '-config=/n/secret/agent.json');
    assert.equal(rewriteArg(mounts, '/var/log/journal/x'), '/n/journal/x');
    assert.equal(rewriteArg(mounts, '/etc/vectorx'), '/etc/vectorx');
    assert.equal(rewriteArg(mounts, '--position-policy=min'), '--position-policy=min');
  });
});
