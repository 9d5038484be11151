/** The wire helpers: kubeconfig loading, keys, plain-JSON requests and their errors. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLab, type Lab } from '../apiserver/helpers.ts';
import { KubeError, loadKubeConfig, objectKey, request, splitKey } from '../../src/kube/client.ts';

describe('kube client', () => {
  let lab: Lab;
  let dir: string;
  before(async () => {
    lab = await startLab();
    dir = mkdtempSync(join(tmpdir(), 'kube-client-'));
  });
  after(async () => {
    await lab.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads a kubeconfig file and talks to its cluster over verified TLS', async () => {
    const path = join(dir, 'config');
    lab.server.writeKubeconfig(path);
    const kc = loadKubeConfig(path);
    const ns = await request<{ metadata: { name: string } }>(kc, 'GET', '/api/v1/namespaces/default');
    assert.equal(ns.metadata.name, 'default');
    assert.throws(() => loadKubeConfig(join(dir, 'missing')), /kubeconfig .*missing does not exist/);
  });

  it('keeps objects as plain JSON: timestamps stay strings', async () => {
    const ns = await request<{ metadata: { creationTimestamp: unknown } }>(lab.kc, 'GET', '/api/v1/namespaces/default');
    assert.equal(typeof ns.metadata.creationTimestamp, 'string');
  });

  it('throws a KubeError with the HTTP code and the Status reason', async () => {
    await assert.rejects(request(lab.kc, 'GET', '/api/v1/namespaces/default/configmaps/absent'), (e: unknown) => {
      assert.ok(e instanceof KubeError);
      assert.equal(e.code, 404);
      assert.equal(e.reason, 'NotFound');
      assert.match(e.message, /^GET \/api\/v1\/namespaces\/default\/configmaps\/absent: /);
      return true;
    });
  });

  it('keys namespaced objects as ns/name and cluster-scoped ones as name', () => {
    assert.equal(objectKey({ metadata: { name: 'a', namespace: 'ns' } }), 'ns/a');
    assert.equal(objectKey({ metadata: { name: 'node-1' } }), 'node-1');
    assert.deepEqual(splitKey('ns/a'), { namespace: 'ns', name: 'a' });
    assert.deepEqual(splitKey('node-1'), { namespace: undefined, name: 'node-1' });
  });
});
