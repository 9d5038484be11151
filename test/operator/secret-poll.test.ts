/**
 * kaasops' scoped mode (`-watch-namespace`, `-watch-name`): the operator's Secret watch covers its own namespace
 * only, so a ClusterVectorPipeline reading a Secret in another namespace is served by kaasops' rotation poll. A
 * rotation there reaches the agents' assets Secret (and `relatedSecretsHash`) with no watch on that Secret. The poll
 * interval (kaasops' 4 min and some seconds) is shortened here; its value is pinned in test/pipelines/secrets.test.ts.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { operatorOptionsFor } from '../../src/cli/run.ts';
import type { KubeObject } from '../../src/kube/client.ts';
import type { Operator } from '../../src/operator/operator.ts';
import { createSecret, cvpPath, eventually, operator, secretPath, vectorObj, vectorPath } from './stand.ts';
import { standSuite } from './stand-suite.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
type Secret = KubeObject & { data?: Record<string, string> };

standSuite('scoped mode: the Secret rotation poll', { namespaces: ['vector', 'team-a'] }, (stand) => {
  let op: Operator | undefined;
  after(async () => {
    await op?.stop();
  });

  it('a rotation of a Secret outside -watch-namespace reaches the assets Secret through the poll', async () => {
    await createSecret(stand(), 'team-a', 'creds', { data: { url: b64('https://one') } });
    await stand().create(cvpPath(), {
      apiVersion: 'observability.kaasops.io/v1alpha1',
      kind: 'ClusterVectorPipeline',
      metadata: { name: 'shipping' },
      spec: {
        secret: { es: { type: 'kubernetes_secret', name: 'creds', namespace: 'team-a' } },
        sources: { pods: { type: 'kubernetes_logs' } },
        sinks: { out: { type: 'http', inputs: ['pods'], uri: 'SECRET[es.url]', encoding: { codec: 'json' } } },
      },
    });
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector'));
    const options = operatorOptionsFor([
      '-watch-namespace=vector',
      '-watch-name=vector',
      '-enable-configcheck-pods=false',
    ]);
    if (typeof options === 'string') assert.fail(options);
    op = operator(stand(), { ...options, resyncMs: 0, secretPollMs: 200 });
    await op.start();
    const assets = async () =>
      (await stand().get<Secret>(secretPath('vector', 'logs-agent-secret-assets')))?.data?.shipping_es_url;
    assert.equal(await eventually('the first value', assets), b64('https://one'));
    const hash = async () =>
      (await stand().get<{ status?: { relatedSecretsHash?: number } }>(cvpPath('shipping')))?.status
        ?.relatedSecretsHash;
    const before = await eventually('relatedSecretsHash', hash);

    await stand().patch(secretPath('team-a', 'creds'), { data: { url: b64('https://two') } });
    await eventually('the rotated value, polled', async () =>
      (await assets()) === b64('https://two') ? true : undefined,
    );
    await eventually('relatedSecretsHash moved', async () => {
      const h = await hash();
      return h !== undefined && h !== before ? true : undefined;
    });
  });
});
