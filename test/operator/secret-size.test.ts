/**
 * A Secret holds at most 1 MiB. A config past that (about 3 000 plain pipelines) is refused by the API server; the
 * operator must say so on the Vector, naming the Secret and `compressConfigFile`, rather than retry a 422 forever.
 * Both targets: the real API server's refusal is what the stand-in imitates.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Operator } from '../../src/operator/operator.ts';
import { errorCode, KubeError } from '../../src/kube/client.ts';
import { eventually, operator, secretPath, vectorObj, vectorPath, vpObj, vpPath } from './stand.ts';
import { standSuite } from './stand-suite.ts';

const teams = Array.from({ length: 12 }, (_, i) => `team-${i}`);

standSuite('config Secrets over 1 MiB', { namespaces: ['vector', ...teams] }, (stand) => {
  let op: Operator | undefined;
  after(async () => {
    await op?.stop();
  });

  it('the API server refuses a Secret whose data is over 1 MiB', async () => {
    const body = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'big', namespace: 'vector' },
      data: { x: Buffer.alloc(1024 * 1024 + 1).toString('base64') },
    };
    const err = await stand()
      .create('/api/v1/namespaces/vector/secrets', body)
      .catch((e: unknown) => e);
    assert.equal(errorCode(err), 422);
    assert.match(
      (err as KubeError).message,
      /Secret "big" is invalid: data: Too long: may not be more than 1048576 bytes/,
    );
  });

  it('reports an oversized config on the Vector, writes no config Secret, and publishes once it is gzipped', async () => {
    // 12 pipelines × 100 KiB of VRL comment: 1.2 MiB of config text, a few hundred KiB gzipped.
    for (const ns of teams)
      await stand().create(
        vpPath(ns),
        vpObj(ns, 'app', {
          sources: { pods: { type: 'kubernetes_logs' } },
          transforms: {
            t: { type: 'remap', inputs: ['pods'], source: `# ${randomBytes(51_200).toString('hex')}\n.` },
          },
          sinks: { out: { type: 'blackhole', inputs: ['t'] } },
        }),
      );
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector'));
    op = operator(stand());
    await op.start();
    const status = await eventually('the Vector status names the problem', async () => {
      const v = await stand().get<{ status?: { reason?: string; configCheckResult?: boolean } }>(
        vectorPath('vector', 'logs'),
      );
      return v?.status?.configCheckResult === false ? v.status : undefined;
    });
    assert.match(status.reason ?? '', /Secret vector\/logs-agent would hold 1\.2 MiB of config/);
    assert.match(status.reason ?? '', /spec\.agent\.compressConfigFile: true/);
    assert.equal(await stand().get(secretPath('vector', 'logs-agent')), undefined);

    await stand().patch(vectorPath('vector', 'logs'), { spec: { agent: { compressConfigFile: true } } });
    await eventually('the gzipped config Secret', () => stand().get(secretPath('vector', 'logs-agent')));
  });
});
