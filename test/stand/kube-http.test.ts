/**
 * The stand's clients at scale: a failed request names its cause, a read survives transient connection failures,
 * and many sources' watches share one connection pool per agent, multiplexed over HTTP/2, instead of a TLS connection
 * per request.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { startApiServer, type ApiServer } from '../../lab/apiserver/server.ts';
import { describeError, httpCode, isRetriable, listJson, retrying, sharePool } from '../../lab/common/kube-http.ts';
import { standReflector } from '../../lab/common/reflector.ts';
import type { Reflector } from '../../src/kube/reflector.ts';

function kubeConfig(yaml: string, server?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(yaml);
  if (server !== undefined) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('no cluster');
    kc.clusters = [{ ...cluster, server }];
  }
  return kc;
}

/** A TCP proxy in front of the stand-in that resets the first `resets` connections it accepts, then forwards. */
async function flakyProxy(
  target: number,
  resets: number,
): Promise<{ url: string; reset: () => number; close: () => Promise<void> }> {
  let left = resets;
  let done = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    if (left > 0) {
      left--;
      done++;
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    open.add(upstream);
    upstream.once('close', () => open.delete(upstream));
    upstream.connect(target, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.once('error', end);
    upstream.once('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    reset: () => done,
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => {
          r();
        });
      }),
  };
}

describe('the stand talking to the stand-in at scale', () => {
  let api: ApiServer;
  before(async () => {
    api = await startApiServer({ bookmarkIntervalMs: 60_000 });
  });
  after(async () => {
    await api.close();
  });

  it('names the cause of a failed request: the socket error under fetch failed, with its address', async () => {
    // A port nobody listens on: the connection is refused.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) =>
      closed.close(() => {
        r();
      }),
    );
    const core = kubeConfig(api.kubeconfig, `https://127.0.0.1:${port}`).makeApiClient(k8s.CoreV1Api);
    const err = await retrying('list namespaces', () => core.listNamespace(), { attempts: 2, firstDelayMs: 1 }).then(
      () => assert.fail('the request should fail'),
      (e: unknown) => e,
    );
    const text = describeError(err);
    assert.match(text, /^list namespaces: /);
    assert.match(text, /fetch failed/);
    assert.match(text, /ECONNREFUSED/);
    assert.match(text, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it('retries a read through reset connections and answers; a 404 is not retried', async () => {
    const proxy = await flakyProxy(api.port, 3);
    try {
      const kc = sharePool(kubeConfig(api.kubeconfig, proxy.url));
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const retried: string[] = [];
      const list = await retrying('list namespaces', () => core.listNamespace(), {
        firstDelayMs: 1,
        onRetry: (e) => retried.push(describeError(e)),
      });
      assert.ok(list.items.some((n) => n.metadata?.name === 'default'));
      assert.equal(proxy.reset(), 3);
      assert.equal(retried.length, 3);
      for (const r of retried) assert.match(r, /ECONNRESET|UND_ERR_SOCKET|other side closed/);

      api.inject({ verb: 'get', resource: 'namespaces', name: 'default', code: 500, times: 2 });
      const ns = await retrying('get namespace default', () => core.readNamespace({ name: 'default' }), {
        firstDelayMs: 1,
      });
      assert.equal(ns.metadata?.name, 'default');

      let calls = 0;
      await assert.rejects(
        retrying('get namespace nope', () => {
          calls++;
          return core.readNamespace({ name: 'nope' });
        }),
        (e: unknown) => e instanceof k8s.ApiException && e.code === 404,
      );
      assert.equal(calls, 1);
    } finally {
      await proxy.close();
    }
  });

  it('lists as plain JSON through the pool, with the selectors; an error status comes back with its code', async () => {
    const kc = sharePool(kubeConfig(api.kubeconfig));
    const list = await listJson<k8s.V1Namespace>(kc, '/api/v1/namespaces', {
      labelSelector: 'kubernetes.io/metadata.name=default',
    });
    assert.deepEqual(
      list.items.map((n) => n.metadata?.name),
      ['default'],
    );
    assert.ok(Number(list.metadata?.resourceVersion) > 0);
    // As the server sent it: client-node's typed list would have made this a Date.
    assert.equal(typeof list.items[0]?.metadata?.creationTimestamp, 'string');
    const err = await listJson(kc, '/api/v1/nothings').then(
      () => assert.fail('the list should fail'),
      (e: unknown) => e,
    );
    assert.equal(httpCode(err), 404);
    assert.equal(isRetriable(err), false);
    assert.match(describeError(err), /^GET \/api\/v1\/nothings: HTTP 404/);
  });

  it('decodes a list reply identical to the last one for its URL once; a changed reply is decoded anew', async () => {
    const kc = sharePool(kubeConfig(api.kubeconfig));
    const path = '/api/v1/namespaces';
    const selectors = { labelSelector: 'kubernetes.io/metadata.name in (default,decoded-once)' };
    const first = await listJson<k8s.V1Namespace>(kc, path, selectors);
    const again = await listJson<k8s.V1Namespace>(kc, path, selectors);
    assert.equal(again, first, 'the same reply: the same objects');
    await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'decoded-once' } } });
    const after = await listJson<k8s.V1Namespace>(kc, path, selectors);
    assert.notEqual(after, first);
    assert.deepEqual(
      after.items.map((n) => n.metadata?.name),
      ['decoded-once', 'default'],
    );
    assert.ok(Number(after.metadata?.resourceVersion) > Number(first.metadata?.resourceVersion));
  });

  it('a hundred sources watch over one pool: their 300 watches share a few HTTP/2 connections', async () => {
    const sources = 100;
    const before = api.connections();
    const kc = sharePool(kubeConfig(api.kubeconfig));
    const reflectors: Reflector<k8s.KubernetesObject>[] = [];
    for (let i = 0; i < sources; i++) {
      reflectors.push(
        standReflector<k8s.V1Namespace>({ kc, path: '/api/v1/namespaces' }),
        standReflector<k8s.V1Node>({ kc, path: '/api/v1/nodes' }),
        standReflector<k8s.V1Pod>({ kc, path: '/api/v1/pods' }),
      );
    }
    try {
      await Promise.all(reflectors.map((r) => r.start()));
      for (let i = 0; i < 400 && api.openWatches() < reflectors.length; i++)
        await new Promise((r) => setTimeout(r, 25));
      // The watch count is what Vector's three watches per source cost the API server; unchanged by the pool.
      assert.equal(api.openWatches(), 3 * sources);
      const after = api.connections();
      // The pool speaks HTTP/2 (ALPN), at most 100 streams per connection: 3 connections for 300 watches, a few more
      // when lists overlap them. Over HTTP/1.1 each open watch would hold a connection of its own (300), and
      // client-node alone, a fresh pool per request, would make 600 handshakes.
      const slack = 3;
      assert.ok(after.accepted - before.accepted <= 3 + slack, `${after.accepted - before.accepted} handshakes`);
      assert.ok(after.open - before.open <= 3 + slack, `${after.open - before.open} open connections`);
    } finally {
      await Promise.all(reflectors.map((r) => r.stop()));
    }
  });
});
