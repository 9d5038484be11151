/**
 * Golden agent configs: the exact agent.json bytes for a small manifest set. A diff here means every agent would get
 * a different config (and maybe renamed sources): review it as such. `UPDATE_GOLDEN=1` rewrites the files.
 *
 * The files hold kaasops' output. Optimized configs add one thing to it, the deleted-pod fallback route per group:
 * everything else is compared byte for byte (`withoutFallback`), and the fallback is checked on its own.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildAgentConfig } from '../../src/pipelines/build.ts';
import type { Pipeline } from '../../src/pipelines/schemas.ts';
import { serializeConfig } from '../../src/pipelines/serialize.ts';
import { validateConfigGraph } from '../../src/vector/graph.ts';
import { assertGolden } from '../helpers/golden.ts';
import { fallbackIds, withoutFallback } from '../helpers/fallback.ts';
import { cvp, logsToSink, namespaces, optOutAnnotations, vector, vp } from '../helpers/fixtures.ts';

/** The rendered config without the fallback (see the top), after checking there is exactly one per group. */
function render(pipelines: Pipeline[], optimize: boolean, v = vector()): string {
  const r = buildAgentConfig(v, pipelines, { optimize });
  assert.deepEqual(r.rejected, []);
  assert.deepEqual(validateConfigGraph(r.config), []);
  const json = serializeConfig(r.config);
  const groups = r.optimization.groups;
  if (optimize) assert.ok(groups.length > 0 || fallbackIds(json).length === 0);
  assert.deepEqual(fallbackIds(json), groups.map((g) => g.fallback).sort());
  return withoutFallback(json);
}

const teamVp = vp('payments', 'app-logs', {
  sources: { pods: { type: 'kubernetes_logs', extra_label_selector: 'app.kubernetes.io/part-of=shop' } },
  transforms: {
    parse: {
      type: 'remap',
      inputs: ['pods'],
      source: '. = parse_json(.message) ?? .\nif .level == "debug" && .size > 0 { abort }\n',
    },
  },
  sinks: {
    loki: {
      type: 'loki',
      inputs: ['parse'],
      endpoint: 'http://loki:3100',
      encoding: { codec: 'json' },
      labels: { ns: '{{ kubernetes.pod_namespace }}' },
    },
  },
});

const platformCvp = cvp('platform', {
  sources: {
    journal: { type: 'journald', include_units: ['kubelet.service'] },
    everything: { type: 'kubernetes_logs', extra_label_selector: 'logging!=off' },
  },
  transforms: { sample: { type: 'sample', inputs: ['everything'], rate: 10 } },
  sinks: { es: { type: 'elasticsearch', inputs: ['journal', 'sample'], endpoints: ['https://es:9200'] } },
});

const sized = (n: number) => namespaces(n).map((ns) => logsToSink(ns));

describe('golden agent configs', () => {
  it('a VectorPipeline', () => {
    assertGolden('config/vp.json', render([teamVp], false) + '\n');
  });

  it('a ClusterVectorPipeline with internal metrics and the API on', () => {
    const v = vector({
      agent: { internalMetrics: true, api: { enabled: true, playground: true }, expireMetricsSecs: 60 },
    });
    assertGolden('config/cvp.json', render([platformCvp], true, v) + '\n');
  });

  it('opt-outs: a pipeline annotated disabled stays standalone, and a Vector annotated disabled is all legacy', () => {
    const optedOut = vp('c', 'logs', logsToSink('c').spec, { annotations: optOutAnnotations });
    const set = [logsToSink('a'), logsToSink('b'), optedOut];
    assertGolden('config/opt-out-pipeline.json', render(set, true) + '\n');
    const v = vector({}, { annotations: optOutAnnotations });
    assert.equal(render(set, true, v), render(set, false));
  });

  it('3 namespaces, optimized (flat routing)', () => {
    assertGolden('config/3ns-optimized.json', render(sized(3), true) + '\n');
  });

  it('40 namespaces, optimized (two-level routing, 8 buckets)', () => {
    assertGolden('config/40ns-optimized.json', render(sized(40), true) + '\n');
  });

  it('2200 namespaces, optimized (3 chunks): digest plus excerpts', () => {
    const json = render(sized(2200), true);
    const cfg = JSON.parse(json) as {
      sources: Record<string, { extra_namespace_label_selector: string }>;
      transforms: Record<string, Record<string, unknown>>;
      sinks: Record<string, unknown>;
    };
    const excerpt = {
      sha256: createHash('sha256').update(json).digest('hex'),
      bytes: Buffer.byteLength(json),
      counts: {
        sources: Object.keys(cfg.sources).length,
        transforms: Object.keys(cfg.transforms).length,
        sinks: Object.keys(cfg.sinks).length,
      },
      sources: Object.fromEntries(
        Object.entries(cfg.sources).map(([id, s]) => [
          id,
          `${s.extra_namespace_label_selector.slice(0, 60)}… (${s.extra_namespace_label_selector.length} chars)`,
        ]),
      ),
      'transforms.optimizedBucketer-b8c6f0ff-2': cfg.transforms['optimizedBucketer-b8c6f0ff-2'],
      'transforms.optimizedRouter-b8c6f0ff-2-l1': cfg.transforms['optimizedRouter-b8c6f0ff-2-l1'],
      'transforms.optimizedRouter-b8c6f0ff-0-0': cfg.transforms['optimizedRouter-b8c6f0ff-0-0'],
      'sinks.ns-0000-logs-out': cfg.sinks['ns-0000-logs-out'],
      'sinks.ns-2199-logs-out': cfg.sinks['ns-2199-logs-out'],
    };
    assertGolden('config/2200ns-optimized.excerpt.json', JSON.stringify(excerpt, null, 2) + '\n');
  });
});
