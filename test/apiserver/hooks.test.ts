import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cm, failure, recordWatch, startLab, type Lab } from './helpers.ts';

describe('test hooks of the API server stand-in', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.server.close();
  });

  it('counts requests per verb and resource, failed ones included', async () => {
    lab.server.hooks.resetCounts();
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('counted') });
    await lab.core.readNamespacedConfigMap({ name: 'counted', namespace: 'default' });
    await failure(() => lab.core.readNamespacedConfigMap({ name: 'absent', namespace: 'default' }));
    await lab.apps.listDaemonSetForAllNamespaces();
    assert.deepEqual(lab.server.hooks.requestCounts(), {
      'create configmaps': 1,
      'get configmaps': 2,
      'list daemonsets.apps': 1,
    });
  });

  it('injects a 409 and then a 500 on the next matching requests only', async () => {
    await lab.core.createNamespacedConfigMap({ namespace: 'default', body: cm('victim') });
    lab.server.inject({ verb: 'update', resource: 'configmaps', name: 'victim', code: 409 });
    lab.server.inject({ verb: 'get', resource: 'configmaps', code: 500 });
    const current = await failure(() => lab.core.readNamespacedConfigMap({ name: 'victim', namespace: 'default' }));
    assert.equal(current.code, 500);
    assert.equal(current.status.reason, 'InternalError');
    const live = await lab.core.readNamespacedConfigMap({ name: 'victim', namespace: 'default' });
    const conflict = await failure(() =>
      lab.core.replaceNamespacedConfigMap({ name: 'victim', namespace: 'default', body: live }),
    );
    assert.equal(conflict.code, 409);
    assert.equal(conflict.status.reason, 'Conflict');
    const ok = await lab.core.replaceNamespacedConfigMap({
      name: 'victim',
      namespace: 'default',
      body: { metadata: live.metadata, data: { retried: 'yes' } },
    });
    assert.equal(ok.data?.retried, 'yes');
  });

  it('serves the hooks over HTTP under /_lab/, behind the bearer token', async () => {
    const w = await recordWatch(lab.kc, '/api/v1/namespaces/default/configmaps', { timeoutSeconds: 30 });
    for (let i = 0; i < 200 && lab.server.openWatches() === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const call = async (method: string, action: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
      // The lab's own CA, as a client that read the kubeconfig would use it.
      const { request } = await import('node:https');
      return new Promise((resolve, reject) => {
        const req = request(
          `${lab.server.url}/_lab/${action}`,
          {
            method,
            ca: lab.server.caPem,
            headers: { authorization: `Bearer ${lab.server.token}`, 'content-type': 'application/json' },
          },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => {
              resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown });
            });
          },
        );
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    };
    assert.deepEqual((await call('GET', 'watches')).json, { open: 1, byResource: { configmaps: 1 } });
    assert.deepEqual((await call('POST', 'drop-watches')).json, { dropped: 1 });
    assert.equal(await w.done, null);
    const compacted = await call('POST', 'compact');
    assert.deepEqual(compacted.json, { compactedRv: lab.server.store.currentRv });
    assert.equal((await call('POST', 'inject', { verb: 'list', resource: 'secrets', code: 500 })).status, 200);
    const injected = await failure(() => lab.core.listNamespacedSecret({ namespace: 'default' }));
    assert.equal(injected.code, 500);
    const counts = (await call('GET', 'counts')).json as Record<string, number>;
    assert.equal(counts['list secrets'], 1);
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      request(`${lab.server.url}/_lab/counts`, { ca: lab.server.caPem }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 401);
  });
});
