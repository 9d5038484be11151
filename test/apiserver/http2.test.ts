/**
 * The stand-in speaks HTTP/2 and HTTP/1.1 on one port, chosen by ALPN, as kube-apiserver does: client-node (undici)
 * multiplexes its watches as streams over a few connections, and a client that offers only HTTP/1.1 still gets it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect, constants } from 'node:http2';
import * as k8s from '@kubernetes/client-node';
import { sharePool } from '../../lab/common/kube-http.ts';
import { standReflector } from '../../lab/common/reflector.ts';
import type { Reflector } from '../../src/kube/reflector.ts';
import { startLab, type Lab } from './helpers.ts';
import { eventually } from '../helpers/eventually.ts';

describe('HTTP/2 and HTTP/1.1 on the API server stand-in', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ bookmarkIntervalMs: 60_000 });
  });
  after(async () => {
    await lab.server.close();
  });

  it('carries three hundred watches of one client over a few HTTP/2 connections, and each sees every event', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(lab.server.kubeconfig);
    sharePool(kc);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const before = lab.server.connections().accepted;
    const watches = lab.server.openWatches();
    const opened = lab.server.watchesOpened();
    const reflectors: Reflector<k8s.V1Namespace>[] = [];
    for (let i = 0; i < 300; i++) reflectors.push(standReflector({ kc, path: '/api/v1/namespaces' }));
    try {
      await Promise.all(reflectors.map((r) => r.start()));
      await eventually('all 300 watches open', () => lab.server.openWatches() - watches === 300);
      assert.equal(lab.server.watchesOpened() - opened, 300, 'each reflector opened its watch once');
      // undici opens at most 100 streams per connection: 3 connections, a few more if lists overlapped the watches.
      const handshakes = lab.server.connections().accepted - before;
      assert.ok(handshakes <= 6, `${String(handshakes)} connections for 300 watches`);
      await core.createNamespace({ body: { metadata: { name: 'h2-fanout' } } });
      await eventually('every watch saw the new namespace', () =>
        reflectors.every((r) => r.get('h2-fanout') !== undefined),
      );
    } finally {
      await Promise.all(reflectors.map((r) => r.stop()));
    }
    await eventually('stopped watches close their streams on the server', () => lab.server.openWatches() === watches);
    assert.equal(lab.server.watchesOpened() - opened, 300, 'a closed watch stays counted as opened');
  });

  it('sends a watch stream its headers at once, then events on the same stream', async () => {
    const session = connect(lab.server.url, { ca: lab.server.caPem });
    try {
      const stream = session.request({
        ':path': '/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true',
        authorization: `Bearer ${lab.server.token}`,
      });
      stream.setEncoding('utf8');
      const status = await new Promise<number>((r) => {
        stream.once('response', (h) => {
          r(Number(h[':status']));
        });
      });
      assert.equal(status, 200);
      let text = '';
      stream.on('data', (c: string) => (text += c));
      await lab.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'over-h2' } } });
      await eventually('the event arrives on the stream', () => text.includes('"name":"over-h2"'));
      assert.match(text, /^\{"type":"ADDED"/);
      stream.close(constants.NGHTTP2_CANCEL);
    } finally {
      session.close();
    }
  });

  it('answers a client that offers only HTTP/1.1 over HTTP/1.1', async () => {
    const { version, body } = await new Promise<{ version: string; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        `${lab.server.url}/api/v1/namespaces/default`,
        { ca: lab.server.caPem, headers: { authorization: `Bearer ${lab.server.token}` } },
        (res) => {
          let b = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (b += c));
          res.on('end', () => {
            resolve({ version: res.httpVersion, body: b });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(version, '1.1');
    assert.equal((JSON.parse(body) as { metadata: { name: string } }).metadata.name, 'default');
  });

  it('serves fifty concurrent lists of 2 MB on one connection without refusing a stream', async () => {
    const body = (i: number): k8s.V1ConfigMap => ({
      metadata: { name: `big-${String(i)}` },
      data: { v: 'x'.repeat(20_000) },
    });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        lab.core.createNamespacedConfigMap({ namespace: 'default', body: body(i) }),
      ),
    );
    const kc = new k8s.KubeConfig();
    kc.loadFromString(lab.server.kubeconfig);
    const core = sharePool(kc).makeApiClient(k8s.CoreV1Api);
    // 50 replies of 2 MB queued at once pass Node's default session memory (10 MB), which refuses new streams with
    // NGHTTP2_ENHANCE_YOUR_CALM; the stand-in raises it.
    const lists = await Promise.all(
      Array.from({ length: 50 }, () => core.listNamespacedConfigMap({ namespace: 'default' })),
    );
    for (const l of lists) assert.ok(l.items.length >= 100);
  });

  it('keeps taking new streams after a client abandons six hundred 2 MB lists mid-reply', async () => {
    // The configmaps of the test above make each list about 2 MB: 600 abandoned replies queued whole would be 1.2 GB
    // of session memory that Node never gives back, past the stand-in's limit.
    const session = connect(lab.server.url, { ca: lab.server.caPem });
    const get = (cancel: boolean): Promise<number> =>
      new Promise((resolve, reject) => {
        const stream = session.request({
          ':path': '/api/v1/namespaces/default/configmaps',
          authorization: `Bearer ${lab.server.token}`,
        });
        stream.on('error', reject);
        stream.once('response', (h) => {
          if (cancel) stream.close(constants.NGHTTP2_CANCEL);
          else stream.resume();
          stream.once('close', () => {
            resolve(stream.rstCode === constants.NGHTTP2_CANCEL ? 200 : Number(h[':status']));
          });
        });
        stream.once('close', () => {
          if (stream.rstCode !== constants.NGHTTP2_NO_ERROR && stream.rstCode !== constants.NGHTTP2_CANCEL)
            reject(new Error(`stream reset by the server: code ${String(stream.rstCode)}`));
        });
      });
    try {
      for (let i = 0; i < 600; i++) assert.equal(await get(true), 200);
      assert.equal(await get(false), 200);
    } finally {
      session.close();
    }
  });
});
