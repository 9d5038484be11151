/**
 * Aggregator config generation: kaasops' bytes where the reference gives them (with their CRC-32), its selection,
 * naming and error texts, and the places where a bad pipeline is rejected alone instead of failing every tenant.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { buildAggregatorConfig, listenPort } from '../../src/pipelines/aggregator-build.ts';
import type { Aggregator, AggregatorSpec } from '../../src/pipelines/aggregator-schemas.ts';
import { kebabCase } from '../../src/pipelines/kebab.ts';
import { parseManifests } from '../../src/pipelines/manifests.ts';
import { describeRejection } from '../../src/pipelines/pipeline.ts';
import type { Pipeline, PipelineSpec } from '../../src/pipelines/schemas.ts';
import { serializeConfig } from '../../src/pipelines/serialize.ts';
import { cvp, vp } from '../helpers/fixtures.ts';
import { assertGolden } from '../helpers/golden.ts';

const va = (spec: AggregatorSpec = {}, name = 'agg', namespace = 'logs'): Aggregator => ({
  kind: 'VectorAggregator',
  metadata: { name, namespace },
  spec,
});
const cva = (spec: AggregatorSpec = {}, name = 'cagg'): Aggregator => ({
  kind: 'ClusterVectorAggregator',
  metadata: { name },
  spec: { resourceNamespace: 'obs', ...spec },
});
const socketTo = (address: string, extra: Record<string, unknown> = {}): PipelineSpec => ({
  sources: { in: { type: 'socket', address, mode: 'tcp', ...extra } },
  sinks: { out: { type: 'blackhole', inputs: ['in'] } },
});
const aged = (p: Pipeline, minute: number): Pipeline => ({
  ...p,
  metadata: { ...p.metadata, creationTimestamp: `2026-12-07T10:${String(minute).padStart(2, '0')}:00Z` },
});
const json = (a: Aggregator, ps: Pipeline[] = []) => serializeConfig(buildAggregatorConfig(a, ps).config);

describe('aggregator config: kaasops bytes', () => {
  it('renders the default pipeline of an aggregator without pipelines, byte for byte (CRC-32 4034594651)', () => {
    const bytes = json(va());
    assert.equal(
      bytes,
      '{"api":{"address":"[::]:8686"},"data_dir":"/vector-data-dir","sinks":{"defaultSink":{"inputs":["defaultSource"],"print_interval_secs":60,"rate":100,"type":"blackhole"}},"sources":{"defaultSource":{"address":"[::]:8989","type":"vector"}},"transforms":{}}',
    );
    assert.equal(crc32(bytes), 4034594651);
    const built = buildAggregatorConfig(va(), []);
    assert.deepEqual(built.services, [
      {
        name: 'agg-aggregator-default-pipeline',
        ports: [{ name: 'internal-metrics-source', protocol: 'TCP', port: 8989 }],
      },
    ]);
  });

  it('adds the internal-metrics pair instead of the default pipeline (CRC-32 1747706427)', () => {
    const bytes = json(va({ internalMetrics: true }));
    assert.equal(
      bytes,
      '{"api":{"address":"[::]:8686"},"data_dir":"/vector-data-dir","sinks":{"internalMetricsSink":{"address":"[::]:9598","inputs":["internalMetricsSource"],"type":"prometheus_exporter"}},"sources":{"internalMetricsSource":{"type":"internal_metrics"}},"transforms":{}}',
    );
    assert.equal(crc32(bytes), 1747706427);
    assert.deepEqual(buildAggregatorConfig(va({ internalMetrics: true }), []).services, []);
  });

  it('leaves the internal pair out when a pipeline has a prometheus_exporter sink, and writes the globals', () => {
    const p = vp('logs', 'm', {
      sources: { in: { type: 'http_server', address: '0.0.0.0:8080' } },
      sinks: { prom: { type: 'prometheus_exporter', inputs: ['in'], address: '0.0.0.0:9100' } },
    });
    const c = buildAggregatorConfig(
      va({ internalMetrics: true, expireMetricsSecs: 60, api: { enabled: true, playground: true } }),
      [p],
    ).config;
    assert.deepEqual(Object.keys(c.sources), ['logs-m-in']);
    assert.deepEqual(c.api, { address: '[::]:8686', enabled: true, playground: true });
    assert.equal(c.expire_metrics_secs, 60);
  });

  it("gives kaasops' Service for the reference example: VA agg in logs, VP ingest with http_server on 8080", () => {
    const p = vp('logs', 'ingest', { sources: { in: { type: 'http_server', address: '0.0.0.0:8080' } } });
    const built = buildAggregatorConfig(va(), [p]);
    assert.deepEqual(Object.keys(built.config.sources), ['logs-ingest-in']);
    assert.deepEqual(built.services, [
      {
        name: 'agg-aggregator-ingest',
        pipeline: { kind: 'VectorPipeline', namespace: 'logs', name: 'ingest' },
        ports: [{ name: 'in', protocol: 'TCP', port: 8080 }],
      },
    ]);
  });

  it("matches the golden config of kaasops' documented aggregator and its pipelines", () => {
    const text = readFileSync(new URL('../fixtures/kaasops-aggregators.yaml', import.meta.url), 'utf8');
    const parsed = parseManifests(
      parseAllDocuments(text).map((d, i) => ({ origin: `#${i}`, value: d.toJS() as unknown })),
    );
    assert.deepEqual(parsed.errors, []);
    for (const agg of parsed.aggregators.filter((a) => a.metadata.name.endsWith('aggregator1'))) {
      const built = buildAggregatorConfig(agg, parsed.pipelines);
      assert.deepEqual(built.rejected, []);
      assertGolden(`config/${agg.metadata.name}.json`, serializeConfig(built.config) + '\n');
    }
  });
});

describe('aggregator config: which pipelines', () => {
  it('takes VectorPipelines of its own namespace into a VectorAggregator, ClusterVectorPipelines into a cluster one', () => {
    const own = vp('logs', 'own', socketTo('0.0.0.0:9000'));
    const other = vp('elsewhere', 'other', socketTo('0.0.0.0:9001'));
    const cluster = cvp('wide', socketTo('0.0.0.0:9002'));
    assert.deepEqual(
      buildAggregatorConfig(va(), [own, other, cluster]).accepted.map((r) => r.name),
      ['own'],
    );
    assert.deepEqual(
      buildAggregatorConfig(cva(), [own, other, cluster]).accepted.map((r) => r.name),
      ['wide'],
    );
  });

  it('filters by selector.matchLabels, and skips agent pipelines with a note', () => {
    const a = vp('logs', 'a', socketTo('0.0.0.0:9000'), { labels: { tier: 'main' } });
    const b = vp('logs', 'b', socketTo('0.0.0.0:9001'));
    const agent = vp('logs', 'pods', { sources: { p: { type: 'kubernetes_logs' } } });
    const built = buildAggregatorConfig(va({ selector: { matchLabels: { tier: 'main' } } }), [a, b, agent]);
    assert.deepEqual(
      built.accepted.map((r) => r.name),
      ['a'],
    );
    const all = buildAggregatorConfig(va(), [a, b, agent]);
    assert.deepEqual(
      all.skipped.map((s) => `${s.pipeline.name}: ${s.why}`),
      ['pods: its sources make it an agent pipeline'],
    );
  });

  it('rejects a pipeline that mixes agent-only and aggregator-only sources (kaasops ran it unrestricted)', () => {
    const mixed = vp('logs', 'mixed', {
      sources: { files: { type: 'file', include: ['/var/log/*'] }, in: { type: 'socket', address: '0.0.0.0:1' } },
    });
    const built = buildAggregatorConfig(va(), [mixed]);
    assert.match(describeRejection(built.rejected[0] as never), /aggregator-only type mixed with the agent-only/);
  });
});

describe('aggregator config: kubernetes_events and ports', () => {
  it('turns kubernetes_events into a vector source on 42000 and up, oldest pipeline first', () => {
    const ev = (): PipelineSpec => ({
      sources: { events: { type: 'kubernetes_events', ignored: 'option' } },
      sinks: { out: { type: 'console', inputs: ['events'], encoding: { codec: 'json' } } },
    });
    const built = buildAggregatorConfig(cva(), [aged(cvp('young', ev()), 5), aged(cvp('old', ev()), 1)]);
    assert.deepEqual(built.config.sources, {
      'old-events': { type: 'vector', address: '0.0.0.0:42000' },
      'young-events': { type: 'vector', address: '0.0.0.0:42001' },
    });
    assert.deepEqual(
      built.services.map((s) => [s.name, s.ports]),
      [
        ['cagg-aggregator-old', [{ name: 'events', protocol: 'TCP', port: 42000, kubernetesEvents: true }]],
        ['cagg-aggregator-young', [{ name: 'events', protocol: 'TCP', port: 42001, kubernetesEvents: true }]],
      ],
    );
  });

  it("rejects a second kubernetes_events source in one pipeline with kaasops' text", () => {
    const p = vp('logs', 'twice', {
      sources: { a: { type: 'kubernetes_events' }, b: { type: 'kubernetes_events' } },
    });
    const built = buildAggregatorConfig(va(), [p]);
    assert.equal(
      describeRejection(built.rejected[0] as never),
      'VectorPipeline logs/twice: spec.sources.b.type: pipeline can only contain one source with the type kubernetes_events',
    );
  });

  it('reads ports like Go: host:port only, UDP by mode, nested and port-less addresses ignored', () => {
    assert.equal(listenPort('0.0.0.0:9000'), 9000);
    assert.equal(listenPort('[::]:514'), 514);
    assert.equal(listenPort('9000'), undefined);
    assert.equal(listenPort({ address: '0.0.0.0:1' }), undefined);
    assert.equal(listenPort('a:b:1'), undefined);
    assert.equal(listenPort('0.0.0.0:http'), 'failed to parse port http: strconv.Atoi: parsing "http": invalid syntax');
    assert.equal(listenPort('0.0.0.0:70000'), 'failed to parse port 70000: port out of range');
    assert.equal(
      listenPort('0.0.0.0:99999999999999999999'),
      'failed to parse port 99999999999999999999: strconv.Atoi: parsing "99999999999999999999": value out of range',
    );
    const udp = buildAggregatorConfig(va(), [vp('logs', 'sys', socketTo('0.0.0.0:514', { mode: 'UDP' }))]);
    assert.deepEqual(udp.services[0]?.ports, [{ name: 'in', protocol: 'UDP', port: 514 }]);
  });

  it('rejects only the younger of two pipelines on one port, with kaasops text and the owner', () => {
    const old = aged(vp('logs', 'first', socketTo('0.0.0.0:9000')), 1);
    const young = aged(vp('logs', 'second', socketTo('0.0.0.0:9000')), 2);
    const built = buildAggregatorConfig(va(), [young, old]);
    assert.deepEqual(
      built.accepted.map((r) => r.name),
      ['first'],
    );
    assert.equal(
      describeRejection(built.rejected[0] as never),
      'VectorPipeline logs/second: spec.sources.in.address: duplicate port 9000/TCP in first and second (the older VectorPipeline logs/first keeps it); listen on another port',
    );
    const other = aged(vp('logs', 'udp', socketTo('0.0.0.0:9000', { mode: 'udp' })), 3);
    assert.equal(buildAggregatorConfig(va(), [old, other]).rejected.length, 0, 'TCP and UDP share a number');
  });

  it('rejects a bad port without touching the other pipelines', () => {
    const good = vp('logs', 'good', socketTo('0.0.0.0:9000'));
    const bad = vp('logs', 'bad', socketTo('0.0.0.0:port'));
    const built = buildAggregatorConfig(va(), [good, bad]);
    assert.deepEqual(
      built.accepted.map((r) => r.name),
      ['good'],
    );
    assert.match(
      describeRejection(built.rejected[0] as never),
      /^VectorPipeline logs\/bad: spec\.sources\.in\.address: failed to parse port port/,
    );
  });
});

describe('aggregator config: Service names', () => {
  it('kebab-cases like go-strcase, quirks included', () => {
    const cases: [string, string][] = [
      ['my_source', 'my-source'],
      ['internalMetricsSource', 'internal-metrics-source'],
      ['HTTPServer', 'http-server'],
      ['a__b', 'a-b'],
      ['va-aggregator-my.pipe', 'va-aggregator-my.pipe'],
      ['foo_', 'foo_'],
      ['_foo', '-foo'],
      ['  Spaced Out ', 'spaced-out'],
      ['', ''],
    ];
    for (const [input, want] of cases) assert.equal(kebabCase(input), want, input);
  });

  it('takes the service-name annotation verbatim, and kebab-cases <agg>-aggregator-<pipeline> otherwise', () => {
    const named = vp('logs', 'named', socketTo('0.0.0.0:9000'), {
      annotations: { 'observability.kaasops.io/service-name': 'intake' },
    });
    const snake = vp('logs', 'my_pipe', socketTo('0.0.0.0:9001'));
    assert.deepEqual(
      buildAggregatorConfig(va(), [named, snake]).services.map((s) => s.name),
      ['agg-aggregator-my-pipe', 'intake'],
    );
  });

  it('rejects a Service name the API server would refuse, or one already taken, naming the fix', () => {
    const long = vp('logs', 'p'.repeat(50), socketTo('0.0.0.0:9000'));
    const own = vp('logs', 'api', socketTo('0.0.0.0:9001'), {
      annotations: { 'observability.kaasops.io/service-name': 'agg-aggregator' },
    });
    const first = aged(
      vp('logs', 'first', socketTo('0.0.0.0:9002'), { annotations: { 'observability.kaasops.io/service-name': 'x' } }),
      1,
    );
    const second = aged(
      vp('logs', 'second', socketTo('0.0.0.0:9003'), { annotations: { 'observability.kaasops.io/service-name': 'x' } }),
      2,
    );
    const built = buildAggregatorConfig(va(), [long, own, first, second]);
    assert.deepEqual(
      built.accepted.map((r) => r.name),
      ['first'],
    );
    const reasons = built.rejected.map(describeRejection).sort();
    assert.match(
      reasons[0] ?? '',
      /logs\/api: metadata\.annotations\.observability\.kaasops\.io\/service-name: Service name 'agg-aggregator' is the aggregator's own/,
    );
    assert.match(
      reasons[1] ?? '',
      /logs\/p+: metadata\.name: Service name 'agg-aggregator-p+' is not a valid DNS-1035 label.*at most 63 characters\); set the observability\.kaasops\.io\/service-name annotation/,
    );
    assert.match(
      reasons[2] ?? '',
      /logs\/second: .*Service name 'x' is already used by the older VectorPipeline logs\/first/,
    );
  });

  it('rejects source keys whose port names collide once kebab-cased', () => {
    const p = vp('logs', 'p', {
      sources: { a_b: { type: 'socket', address: '0.0.0.0:1' }, 'a-b': { type: 'socket', address: '0.0.0.0:2' } },
    });
    assert.match(
      describeRejection(buildAggregatorConfig(va(), [p]).rejected[0] as never),
      /port name 'a-b' .* used twice/,
    );
  });
});
