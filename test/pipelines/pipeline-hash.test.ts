/**
 * LastAppliedPipelineHash as kaasops computes it: a pipeline that kaasops recorded as checked must hash to the same
 * number here, or every pipeline is checked again at a cutover.
 */
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { describe, it } from 'node:test';
import { pipelineHash, pipelineHashText } from '../../src/pipelines/pipeline-hash.ts';
import type { Pipeline } from '../../src/pipelines/schemas.ts';

const vp = (spec: Pipeline['spec'], meta: Partial<Pipeline['metadata']> = {}): Pipeline => ({
  kind: 'VectorPipeline',
  metadata: { name: 'p', namespace: 'team-a', ...meta },
  spec,
});

describe('the pipeline hash matches kaasops', () => {
  it('gives the reference vectors (kaasops TestGetPipelineHashStableWithoutAnnotation and three more)', () => {
    const logs = { sources: { logs: { type: 'kubernetes_logs' } } };
    assert.equal(pipelineHash(vp(logs)), 826174884);
    assert.equal(pipelineHash(vp({})), 1749800799);
    assert.equal(
      pipelineHash(
        vp(logs, { labels: { app: 'x' }, annotations: { 'vector-operator.kaasops.io/force-configcheck': 'v2' } }),
      ),
      833353040,
    );
    assert.equal(
      pipelineHash(vp({ ...logs, secret: { es: { type: 'kubernetes_secret', name: 'creds' } } })),
      4164916178,
    );
  });

  it('orders the struct fields as Go declares them and the map keys as the API server sorts them', () => {
    const p = vp(
      {
        sinks: { out: { type: 'console', inputs: ['in'], encoding: { codec: 'json' } } },
        transforms: null,
        sources: { in: { type: 'kubernetes_logs', extra_label_selector: 'a=b' } },
        secret: {
          z: { type: 'kubernetes_secret', name: 's', namespace: 'ns' },
          a: { type: 'kubernetes_secret', name: 't' },
        },
      },
      {
        labels: { z: '1', a: '2' },
        annotations: {
          'observability.kaasops.io/service-name': 'svc',
          'vector-operator.kaasops.io/config-optimization': 'disabled',
          'vector-operator.kaasops.io/force-configcheck': '1',
          unrelated: 'x',
        },
      },
    );
    assert.equal(
      pipelineHashText(p),
      '{"Spec":{"sources":{"in":{"extra_label_selector":"a=b","type":"kubernetes_logs"}},' +
        '"sinks":{"out":{"encoding":{"codec":"json"},"inputs":["in"],"type":"console"}},' +
        '"secret":{"a":{"type":"kubernetes_secret","name":"t"},"z":{"type":"kubernetes_secret","name":"s","namespace":"ns"}}},' +
        '"Labels":{"a":"2","z":"1"},"ServiceName":"svc","ConfigOptimization":"disabled","ForceConfigCheck":"1"}',
    );
  });

  it('escapes like Go and prints numbers as the API server re-serializes them', () => {
    // What the API server stores for `{"a":1.0,"b":1e21,"c":1.5e-7,"d":0.000001,"e":-0,"f":9007199254740991,"g":2.5,
    // "h":"<&>\u2028"}`: integers as int64, the rest as float64, Go's float format.
    const p = vp({
      sources: {
        s: {
          type: 'x',
          a: 1.0,
          b: 1e21,
          c: 1.5e-7,
          d: 0.000001,
          f: 9007199254740991,
          g: 2.5,
          h: '<&>\u2028',
        },
      },
    });
    assert.equal(
      pipelineHashText(p),
      '{"Spec":{"sources":{"s":{"a":1,"b":1e+21,"c":1.5e-7,"d":0.000001,"f":9007199254740991,"g":2.5,' +
        '"h":"\\u003c\\u0026\\u003e\\u2028","type":"x"}}},"Labels":null,"ServiceName":""}',
    );
    assert.equal(pipelineHash(p), crc32(pipelineHashText(p)));
  });

  it('leaves the hash unchanged without force-configcheck, and changes it when the annotation is set or changed', () => {
    const spec = { sources: { logs: { type: 'kubernetes_logs' } } };
    const base = pipelineHash(vp(spec, { annotations: { other: 'x' } }));
    assert.equal(base, 826174884);
    const forced = pipelineHash(vp(spec, { annotations: { 'vector-operator.kaasops.io/force-configcheck': 'a' } }));
    const again = pipelineHash(vp(spec, { annotations: { 'vector-operator.kaasops.io/force-configcheck': 'b' } }));
    assert.notEqual(forced, base);
    assert.notEqual(again, forced);
  });
});
