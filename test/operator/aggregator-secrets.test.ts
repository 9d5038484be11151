/**
 * Pipeline secrets in aggregator pipelines (docs/secrets.md, reference §2.5): the references are rewritten to
 * kaasops' flat keys, the config gets the `secret` block, and the aggregator gets `<n>-aggregator-secret-assets`,
 * written before its config and mounted at /etc/vector/secrets in the vector container only, as the agents' code
 * does it; without secrets nothing changes; a collision leaves the younger pipeline out, naming the aggregator.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import { aggregatorObjects } from '../../src/operator/aggregator-objects.ts';
import { buildAggregatorConfig } from '../../src/pipelines/aggregator-build.ts';
import type { Aggregator } from '../../src/pipelines/aggregator-schemas.ts';
import type { PipelineSpec } from '../../src/pipelines/schemas.ts';
import { secretSourceOf } from '../../src/pipelines/secrets.ts';
import { serializeConfig } from '../../src/pipelines/serialize.ts';
import { cvp, vp } from '../helpers/fixtures.ts';

const va: Aggregator = { kind: 'VectorAggregator', metadata: { name: 'agg', namespace: 'logs', uid: 'u1' }, spec: {} };
const spec = (password: string): PipelineSpec => ({
  secret: { creds: { type: 'kubernetes_secret', name: 'es-creds' } },
  sources: { in: { type: 'http_server', address: '0.0.0.0:8080' } },
  sinks: {
    out: {
      type: 'elasticsearch',
      inputs: ['in'],
      endpoints: ['https://es:9200'],
      auth: { strategy: 'basic', user: 'elastic', password },
    },
  },
});
const secrets = secretSourceOf([
  { metadata: { namespace: 'logs', name: 'es-creds' }, stringData: { password: 's3cret' } },
  { metadata: { namespace: 'obs', name: 'other' }, stringData: { password: 'other' } },
]);

describe('pipeline secrets in aggregator pipelines', () => {
  it("rewrites the reference, adds kaasops' secret block, and carries the value for the assets", () => {
    const built = buildAggregatorConfig(va, [vp('logs', 'ingest', spec('SECRET[creds.password]'))], { secrets });
    assert.deepEqual(built.rejected, []);
    const json = serializeConfig(built.config);
    assert.match(json, /"password":"SECRET\[k8s\.logs_ingest_creds_password\]"/);
    assert.match(json, /"secret":\{"k8s":\{"path":"\/etc\/vector\/secrets","type":"directory"\}\}/);
    assert.deepEqual([...built.secretAssets.keys()], ['logs_ingest_creds_password']);
    assert.equal(Buffer.from(built.secretAssets.get('logs_ingest_creds_password') ?? []).toString(), 's3cret');
  });

  it('the assets Secret comes before the config Secret, and the template mounts it in the vector container only', () => {
    const built = buildAggregatorConfig(va, [vp('logs', 'ingest', spec('SECRET[creds.password]'))], { secrets });
    const r = aggregatorObjects(va, built, { podMonitor: false });
    assert.ok(r.ok);
    const [assets, config] = r.objects as V1Secret[];
    assert.equal(assets?.metadata?.name, 'agg-aggregator-secret-assets');
    assert.deepEqual(assets.data, { logs_ingest_creds_password: Buffer.from('s3cret').toString('base64') });
    assert.deepEqual(assets.metadata.labels, config?.metadata?.labels, "the config Secret's labels");
    assert.deepEqual(assets.metadata.ownerReferences, config?.metadata?.ownerReferences);
    assert.equal(config?.metadata?.name, 'agg-aggregator');
    const d = r.objects.find((o) => o.kind === 'Deployment') as V1Deployment;
    const pod = d.spec?.template.spec;
    assert.deepEqual(pod?.volumes?.at(-1), {
      name: 'secret-assets',
      secret: { secretName: 'agg-aggregator-secret-assets' },
    });
    assert.deepEqual(pod.containers[0]?.volumeMounts?.at(-1), {
      name: 'secret-assets',
      mountPath: '/etc/vector/secrets',
    });
    const plain = aggregatorObjects(va, buildAggregatorConfig(va, []), { podMonitor: false });
    assert.ok(plain.ok);
    const without = plain.objects.find((o) => o.kind === 'Deployment') as V1Deployment;
    assert.ok(!JSON.stringify(without).includes('secret-assets'), 'no secrets: the template is as before');
    assert.ok(!plain.objects.some((o) => o.metadata?.name === 'agg-aggregator-secret-assets'));
  });

  it('a missing Secret leaves that pipeline out alone; a flat-key collision leaves the younger one out, naming the aggregator', () => {
    const missing = vp('logs', 'gone', {
      ...spec('SECRET[creds.password]'),
      secret: { creds: { type: 'kubernetes_secret', name: 'absent' } },
      sources: { in: { type: 'http_server', address: '0.0.0.0:8081' } },
    });
    const built = buildAggregatorConfig(va, [vp('logs', 'ingest', spec('SECRET[creds.password]')), missing], {
      secrets,
    });
    assert.deepEqual(
      built.accepted.map((a) => a.name),
      ['ingest'],
    );
    assert.match(built.rejected[0]?.reason ?? '', /absent/);

    const cva: Aggregator = {
      kind: 'ClusterVectorAggregator',
      metadata: { name: 'wide' },
      spec: { resourceNamespace: 'obs' },
    };
    const a = cvp(
      'a',
      {
        ...spec('SECRET[x_y.password]'),
        secret: { x_y: { type: 'kubernetes_secret', name: 'other', namespace: 'obs' } },
      },
      { creationTimestamp: '2026-01-01T00:00:00Z' },
    );
    const collide = cvp(
      'a-x',
      {
        ...spec('SECRET[y.password]'),
        secret: { y: { type: 'kubernetes_secret', name: 'es-creds', namespace: 'logs' } },
        sources: { in: { type: 'http_server', address: '0.0.0.0:8082' } },
      },
      { creationTimestamp: '2026-02-01T00:00:00Z' },
    );
    const clash = buildAggregatorConfig(cva, [a, collide], { secrets });
    assert.match(
      clash.rejected[0]?.reason ?? '',
      /^secret flat key collision: flat key "a_x_y_password" collides with pipeline a on ClusterVectorAggregator wide;/,
    );
  });
});
