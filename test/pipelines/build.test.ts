/** Pipelines -> agent config: naming, VectorPipeline rules, globals, default pipelines, and rejections. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildAgentConfig } from '../../src/pipelines/build.ts';
import { describeRejection } from '../../src/pipelines/pipeline.ts';
import type { Pipeline } from '../../src/pipelines/schemas.ts';
import { serializeConfig } from '../../src/pipelines/serialize.ts';
import { cvp, logsToSink, vector, vp } from '../helpers/fixtures.ts';

const build = (pipelines: Pipeline[], v = vector()) => buildAgentConfig(v, pipelines, { optimize: false });
const rejection = (p: Pipeline) => {
  const r = build([p]);
  assert.equal(r.rejected.length, 1, 'expected a rejection');
  return describeRejection(r.rejected[0] as (typeof r.rejected)[0]);
};

describe('agent config from pipelines', () => {
  it('names components <ns>-<pipeline>-<key> and prefixes every input the same way', () => {
    const p = vp('shop', 'web', {
      sources: { pods: { type: 'kubernetes_logs' } },
      transforms: { parse: { type: 'remap', inputs: ['pods'], source: '.' } },
      sinks: { out: { type: 'console', inputs: ['parse'], encoding: { codec: 'json' } } },
    });
    const { config } = build([p]);
    assert.deepEqual(Object.keys(config.sources), ['shop-web-pods']);
    assert.deepEqual(config.transforms['shop-web-parse']?.inputs, ['shop-web-pods']);
    assert.deepEqual(config.sinks['shop-web-out']?.inputs, ['shop-web-parse']);
  });

  it('names ClusterVectorPipeline components <pipeline>-<key>', () => {
    const { config } = build([
      cvp('node', { sources: { j: { type: 'journald' } }, sinks: { o: { type: 'blackhole', inputs: ['j'] } } }),
    ]);
    assert.deepEqual(Object.keys(config.sources), ['node-j']);
    assert.deepEqual(config.sinks['node-o']?.inputs, ['node-j']);
  });

  it('forces an empty VectorPipeline namespace selector to its own namespace', () => {
    const { config } = build([logsToSink('shop')]);
    assert.equal(config.sources['shop-logs-pods']?.extra_namespace_label_selector, 'kubernetes.io/metadata.name=shop');
  });

  it('accepts the exact own-namespace selector and rejects any other, even one equal up to spaces', () => {
    assert.equal(
      build([logsToSink('shop', 'l', { extra_namespace_label_selector: 'kubernetes.io/metadata.name=shop' })]).rejected
        .length,
      0,
    );
    assert.match(
      rejection(logsToSink('shop', 'l', { extra_namespace_label_selector: 'kubernetes.io/metadata.name = shop' })),
      /VectorPipeline shop\/l: spec\.sources\.pods\.extra_namespace_label_selector: logs from external namespace not allowed/,
    );
    assert.match(
      rejection(logsToSink('shop', 'l', { extra_namespace_label_selector: 'kubernetes.io/metadata.name=other' })),
      /external namespace/,
    );
  });

  it('allows only kubernetes_logs sources in a VectorPipeline', () => {
    const p = vp('shop', 'files', {
      sources: { f: { type: 'file', include: ['/var/log/*.log'] } },
      sinks: { o: { type: 'blackhole', inputs: ['f'] } },
    });
    assert.match(rejection(p), /VectorPipeline shop\/files: spec\.sources\.f\.type: type kubernetes_logs only allowed/);
  });

  it('rejects label selectors that do not parse, naming the field', () => {
    assert.match(
      rejection(logsToSink('shop', 'l', { extra_label_selector: 'app in (web' })),
      /spec\.sources\.pods\.extra_label_selector: not a label selector/,
    );
    assert.equal(
      build([logsToSink('shop', 'l', { extra_label_selector: 'app in (web,api),tier!=db,!canary' })]).rejected.length,
      0,
    );
  });

  it('does not validate ClusterVectorPipeline selectors or source types (kaasops rule)', () => {
    const p = cvp('wide', {
      sources: {
        all: { type: 'kubernetes_logs', extra_namespace_label_selector: 'team=a' },
        f: { type: 'file', include: ['/x'] },
      },
      sinks: { o: { type: 'blackhole', inputs: ['all', 'f'] } },
    });
    assert.deepEqual(build([p]).rejected, []);
  });

  it('sets use_apiserver_cache on every kubernetes_logs source, CVPs included, when the Vector asks', () => {
    const v = vector({ useApiServerCache: true });
    const c = cvp('c', {
      sources: { k: { type: 'kubernetes_logs' }, j: { type: 'journald' } },
      sinks: { o: { type: 'blackhole', inputs: ['k', 'j'] } },
    });
    const { config } = build([logsToSink('a'), c], v);
    assert.equal(config.sources['a-logs-pods']?.use_apiserver_cache, true);
    assert.equal(config.sources['c-k']?.use_apiserver_cache, true);
    assert.equal(config.sources['c-j']?.use_apiserver_cache, undefined);
  });

  it('omits empty selectors and a false use_apiserver_cache, as kaasops omitempty does', () => {
    const { config } = build([
      logsToSink('a', 'l', { extra_label_selector: '', extra_field_selector: '', use_apiserver_cache: false }),
    ]);
    assert.deepEqual(config.sources['a-l-pods'], {
      type: 'kubernetes_logs',
      extra_namespace_label_selector: 'kubernetes.io/metadata.name=a',
    });
  });

  it('writes the global options: data_dir, api block, expire_metrics_secs', () => {
    const v = vector({ agent: { api: { enabled: true, playground: false }, expireMetricsSecs: 300 } });
    const json = serializeConfig(build([logsToSink('a')], v).config);
    assert.match(
      json,
      /^\{"api":\{"address":"\[::\]:8686","enabled":true\},"data_dir":"\/vector-data-dir","expire_metrics_secs":300,/,
    );
    assert.match(serializeConfig(build([logsToSink('a')]).config), /^\{"api":\{"address":"\[::\]:8686"\},"data_dir"/);
  });

  it('adds the internal-metrics pipeline, unless a pipeline already has a prometheus_exporter sink', () => {
    const v = vector({ agent: { internalMetrics: true } });
    const { config } = build([logsToSink('a')], v);
    assert.deepEqual(config.sources.internalMetricsSource, { type: 'internal_metrics' });
    assert.deepEqual(config.sinks.internalMetricsSink, {
      type: 'prometheus_exporter',
      address: '[::]:9598',
      inputs: ['internalMetricsSource'],
    });
    const own = cvp('m', {
      sources: { h: { type: 'host_metrics' } },
      sinks: { p: { type: 'prometheus_exporter', inputs: ['h'] } },
    });
    assert.equal(build([own], v).config.sources.internalMetricsSource, undefined);
  });

  it('falls back to the default pipeline when nothing is selected, with an explicit empty transforms map', () => {
    const json = serializeConfig(build([]).config);
    assert.equal(
      json,
      '{"api":{"address":"[::]:8686"},"data_dir":"/vector-data-dir","sinks":{"defaultSink":{"inputs":["defaultSource"],"print_interval_secs":60,"rate":100,"type":"blackhole"}},"sources":{"defaultSource":{"type":"kubernetes_logs"}},"transforms":{}}',
    );
  });

  it('uses only the pipelines whose labels match spec.selector.matchLabels', () => {
    const v = vector({ selector: { matchLabels: { agent: 'main' } } });
    const picked = vp('a', 'l', logsToSink('a').spec, { labels: { agent: 'main', extra: 'x' } });
    const { config } = build([picked, logsToSink('b')], v);
    assert.deepEqual(Object.keys(config.sources), ['a-l-pods']);
  });

  it('accepts an empty spec and null component maps (kaasops crashed, #52 #74)', () => {
    const r = build([
      vp('a', 'empty', {}),
      vp('b', 'nulls', {
        sources: { s: { type: 'kubernetes_logs' } },
        transforms: null,
        sinks: { o: { type: 'blackhole', inputs: ['s'] } },
      }),
    ]);
    assert.deepEqual(r.rejected, []);
    assert.equal(r.accepted.length, 2);
  });

  it('rejects the younger of two pipelines whose names collide (a-b/c vs a/b-c), keeping the older', () => {
    const older = vp('a-b', 'c', logsToSink('x').spec, { creationTimestamp: '2024-01-01T00:00:00Z' });
    const younger = vp('a', 'b-c', logsToSink('x').spec, { creationTimestamp: '2024-06-01T00:00:00Z' });
    for (const order of [
      [older, younger],
      [younger, older],
    ]) {
      const r = build(order);
      assert.equal(r.rejected.length, 1);
      const msg = describeRejection(r.rejected[0] as (typeof r.rejected)[0]);
      assert.match(
        msg,
        /^VectorPipeline a\/b-c: spec\.sources\.pods: component id 'a-b-c-pods' is already produced by the older VectorPipeline a-b\/c/,
      );
      assert.deepEqual(r.config.sinks['a-b-c-out']?.inputs, ['a-b-c-pods']);
    }
  });

  it('breaks a creationTimestamp tie by name, so the choice is stable', () => {
    const t = '2024-01-01T00:00:00Z';
    const r = build([
      vp('a', 'b-c', logsToSink('x').spec, { creationTimestamp: t }),
      vp('a-b', 'c', logsToSink('x').spec, { creationTimestamp: t }),
    ]);
    assert.equal(r.rejected[0]?.pipeline.namespace, 'a-b');
  });

  for (const [key, why] of [
    ['.', /directory outside/],
    ['..', /directory outside/],
    ['a/b', /contains '\/'/],
    ['a.b', /period/],
    ['a\u0000b', /U\+0000/],
    ['a b', /U\+0020/],
    ['', /is empty/],
  ] as const) {
    it(`rejects the component key ${JSON.stringify(key)} (${String(why)})`, () => {
      const p = cvp('c', {
        sources: { [key]: { type: 'journald' } },
        sinks: { o: { type: 'blackhole', inputs: [key] } },
      });
      assert.match(rejection(p), why);
    });
  }

  it('rejects a pipeline name that makes a component id Vector would misread', () => {
    assert.match(rejection(vp('a', 'web.v2', logsToSink('a').spec)), /component id 'a-web\.v2-pods' contains '\.'/);
  });

  it('rejects a key used twice across sources, transforms and sinks of one pipeline', () => {
    const p = cvp('c', { sources: { x: { type: 'journald' } }, sinks: { x: { type: 'blackhole', inputs: ['x'] } } });
    assert.match(rejection(p), /spec\.sinks\.x: key is also used in spec\.sources/);
  });

  it('rejects a component without a type, and inputs that are not a list of strings', () => {
    assert.match(
      rejection(cvp('c', { sources: { s: { include: ['/x'] } } })),
      /spec\.sources\.s\.type: must be a non-empty string/,
    );
    assert.match(
      rejection(cvp('c', { sources: { s: { type: 'journald' } }, sinks: { o: { type: 'blackhole', inputs: 's' } } })),
      /spec\.sinks\.o\.inputs: must be a list/,
    );
  });

  it('rejects a SECRET reference to an undeclared alias instead of publishing it literally', () => {
    const spec = logsToSink('a').spec;
    const sinks = { out: { type: 'http', inputs: ['pods'], uri: 'SECRET[creds.url]' } };
    assert.match(
      rejection(vp('a', 's', { ...spec, sinks })),
      /spec\.sinks\.out\.uri: secret reference "SECRET\[creds\.url\]": backend "creds" is not declared in spec\.secret/,
    );
  });

  it('skips aggregator pipelines and rejects a mix of agent-only and aggregator-only sources', () => {
    const agg = cvp('agg', {
      sources: { in: { type: 'http_server', address: '0.0.0.0:80' } },
      sinks: { o: { type: 'blackhole', inputs: ['in'] } },
    });
    const r = build([agg]);
    assert.equal(r.skipped.length, 1);
    assert.equal(r.config.sources['agg-in'], undefined);
    const mixed = cvp('mix', { sources: { f: { type: 'file', include: ['/x'] }, k: { type: 'kafka' } } });
    assert.match(
      rejection(mixed),
      /spec\.sources\.k\.type: 'kafka' is an aggregator-only type mixed with the agent-only type 'file'/,
    );
  });
});
