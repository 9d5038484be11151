/**
 * A pipeline's own config check with pipeline secrets: the check pod is given the values its references need, as
 * the Vector's check and the agents are, so a pipeline with secrets is not refused for a missing file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkOnWorkloads, type Checker } from '../../src/operator/pipeline-checks.ts';
import { secretSourceOf } from '../../src/pipelines/secrets.ts';
import type { Pipeline, Vector } from '../../src/pipelines/schemas.ts';

const vector: Vector = { kind: 'Vector', metadata: { name: 'agent', namespace: 'obs' }, spec: { agent: {} } };

const pipeline = {
  kind: 'VectorPipeline',
  metadata: { name: 'es', namespace: 'team-a' },
  spec: {
    secret: { creds: { type: 'kubernetes_secret', name: 'es-creds' } },
    sources: { pods: { type: 'kubernetes_logs' } },
    sinks: {
      out: {
        type: 'elasticsearch',
        inputs: ['pods'],
        endpoints: ['https://es:9200'],
        auth: { strategy: 'basic', user: 'SECRET[creds.user]', password: 'SECRET[creds.password]' },
      },
    },
  },
} as unknown as Pipeline;

function recordingChecker(): { checker: Checker; seen: { json: string; assets: Record<string, string> }[] } {
  const seen: { json: string; assets: Record<string, string> }[] = [];
  return {
    seen,
    checker: {
      check(_v, json, assets = {}) {
        seen.push({ json, assets: { ...assets } });
        return Promise.resolve({ result: 'valid' });
      },
    },
  };
}

describe('per-pipeline config check with pipeline secrets', () => {
  it('mounts the values the pipeline references, under their flat keys, and the config reads them', async () => {
    const { checker, seen } = recordingChecker();
    const secrets = secretSourceOf([
      { metadata: { namespace: 'team-a', name: 'es-creds' }, data: null, stringData: { user: 'u', password: 'p' } },
    ]);
    const check = await checkOnWorkloads([{ kind: 'agent', vector }], pipeline, { checker, optimize: false, secrets });
    assert.deepEqual(check, { result: 'valid' });
    assert.equal(seen.length, 1);
    const { json, assets } = seen[0] as (typeof seen)[number];
    assert.deepEqual(assets, {
      team_a_es_creds_password: Buffer.from('p').toString('base64'),
      team_a_es_creds_user: Buffer.from('u').toString('base64'),
    });
    assert.match(json, /SECRET\[k8s\.team_a_es_creds_user\]/);
    assert.match(json, /"secret":\{"k8s":\{"path":"\/etc\/vector\/secrets","type":"directory"\}\}/);
  });

  it("without the Secret, refuses the pipeline with kaasops' text and starts no pod", async () => {
    const { checker, seen } = recordingChecker();
    const check = await checkOnWorkloads([{ kind: 'agent', vector }], pipeline, {
      checker,
      optimize: false,
      secrets: secretSourceOf([]),
    });
    assert.ok(check.result === 'invalid', `refused, not ${check.result}`);
    assert.match(check.reason, /failed to get secret team-a\/es-creds/);
    assert.equal(seen.length, 0);
  });
});
