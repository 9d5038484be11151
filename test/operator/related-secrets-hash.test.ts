/**
 * `relatedSecretsHash` is an int64 that kaasops writes exactly; most tokens are beyond 2^53, where a JS number
 * rounds. The token stays a bigint from the hash to the request body, so the status holds kaasops' digits and a
 * rollback to kaasops sees the value it would have written (no re-check of every pipeline with secrets).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bodyText } from '../../src/kube/client.ts';
import { checkPipelineSecrets } from '../../src/operator/pipeline-secrets.ts';
import type { SecretReader } from '../../src/operator/secret-reader.ts';
import { secretSourceOf } from '../../src/pipelines/secrets.ts';
import { vp } from '../helpers/fixtures.ts';

/** JSON.parse keeping `relatedSecretsHash` exact, from its source text (Node's reviver context). */
function parseExact(text: string): unknown {
  const reviver = (key: string, value: unknown, ctx?: { source?: string }): unknown =>
    key === 'relatedSecretsHash' && ctx?.source !== undefined ? BigInt(ctx.source) : value;
  return JSON.parse(text, reviver);
}

describe('relatedSecretsHash, exact', () => {
  it('is written digit for digit in a request body, negative values included', () => {
    for (const token of [6443189432882900029n, -5837009077335127969n, 9223372036854775807n, -9223372036854775808n]) {
      const text = bodyText({ status: { relatedSecretsHash: token, LastAppliedPipelineHash: 826174884 } });
      assert.equal(text, `{"status":{"relatedSecretsHash":${String(token)},"LastAppliedPipelineHash":826174884}}`);
      assert.deepEqual(parseExact(text), { status: { relatedSecretsHash: token, LastAppliedPipelineHash: 826174884 } });
      assert.notEqual(JSON.stringify({ h: Number(token) }), `{"h":${String(token)}}`, 'a number would round it');
    }
    assert.equal(bodyText({ a: [1n, { b: 2 }], c: 'x' }), '{"a":[1,{"b":2}],"c":"x"}');
  });

  it("is kaasops' token of the Secret as the reader sees it, above 2^53 (the reference's vector)", async () => {
    const p = vp('team-a', 'app', {
      sources: { pods: { type: 'kubernetes_logs' } },
      sinks: { out: { type: 'http', inputs: ['pods'], uri: 'SECRET[es.url]', encoding: { codec: 'json' } } },
      secret: { es: { type: 'kubernetes_secret', name: 'creds' } },
    });
    const values = secretSourceOf([
      { metadata: { namespace: 'team-a', name: 'creds' }, data: { url: Buffer.from('https://es').toString('base64') } },
    ]);
    // The reader's two calls, as a cluster would answer them (the reference's Secret identity).
    const reader = {
      identity: (namespace: string, name: string) =>
        Promise.resolve({ namespace, name, uid: '11111111-2222-3333-4444-555555555555', resourceVersion: '12345' }),
      source: () => Promise.resolve(values),
    } as unknown as SecretReader;
    const v = await checkPipelineSecrets(p, { valid: true, role: 'agent', reason: '' }, reader);
    assert.equal(v.relatedSecretsHash, 6443189432882900029n);
    assert.ok(v.relatedSecretsHash > 2n ** 53n);
    assert.match(bodyText({ status: { relatedSecretsHash: v.relatedSecretsHash } }), /:6443189432882900029}}$/);
  });
});
