/**
 * The operator's HTTP endpoints: `/healthz` and `/readyz` (plain HTTP, as controller-runtime serves probes), and
 * `/metrics`, plain or secure (kaasops' `--metrics-secure`, default true).
 *
 * Invariants:
 * - Secure metrics: HTTPS with a self-signed certificate made at start, and every request authenticated and
 *   authorized (metrics-auth.ts) before anything is served: 401 without a valid token, 403 without `get` on the path.
 * - HTTP/2 only with `--enable-http2`: otherwise ALPN offers `http/1.1` alone (kaasops' Rapid Reset mitigation), so
 *   an h2-only client fails the handshake.
 * - Probes and plain metrics share one server when given the same address; secure metrics never share it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { OperatorMetrics } from '../operator/metrics.ts';
import { MetricsAuthorizer } from '../kube/metrics-auth.ts';
import { selfSignedCertificate } from '../kube/self-signed.ts';

export interface BindAddress {
  host: string;
  port: number;
}

export interface ServeOptions {
  healthAt: BindAddress | undefined;
  metricsAt: BindAddress | undefined;
  secure: boolean;
  http2: boolean;
  kc: KubeConfig;
  ready: () => boolean;
  metrics: OperatorMetrics;
  log: { info: (o: object, msg: string) => void };
}

export interface Closable {
  close(): Promise<void>;
}

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

function text(res: Res, status: number, body: string, type = 'text/plain'): void {
  (res as ServerResponse).writeHead(status, { 'content-type': type });
  (res as ServerResponse).end(body);
}

async function listen(server: NetServer, at: BindAddress): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host === '' ? undefined : at.host, () => {
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}

/** close() ends every open connection too (keep-alive, HTTP/2 sessions), so shutdown never waits on a scraper. */
function closer(server: NetServer): Closable {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    close: async () => {
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

export async function startServers(o: ServeOptions): Promise<Closable[]> {
  const { healthAt, metricsAt, metrics } = o;
  const authorizer = o.secure ? new MetricsAuthorizer(o.kc) : undefined;
  const serveMetrics = (req: Req, res: Res): void => {
    const authorized = authorizer?.authorize(req.method ?? 'GET', '/metrics', req.headers.authorization);
    void (authorized ?? Promise.resolve({ status: 200, message: '' }))
      .then(async (v) => {
        if (v.status !== 200) {
          text(res, v.status, v.message);
          return;
        }
        text(res, 200, await metrics.registry.metrics(), metrics.registry.contentType);
      })
      .catch((err: unknown) => {
        text(res, 500, String(err));
      });
  };
  const handler = (withHealth: boolean, withMetrics: boolean) => (req: Req, res: Res) => {
    const url = req.url ?? '/';
    if (withHealth && url === '/healthz') text(res, 200, 'ok');
    else if (withHealth && url === '/readyz') {
      const ready = o.ready();
      text(res, ready ? 200 : 503, ready ? 'ok' : 'caches not synced');
    } else if (withMetrics && url.split('?')[0] === '/metrics') serveMetrics(req, res);
    else text(res, 404, 'not found');
  };
  const same =
    !o.secure &&
    metricsAt !== undefined &&
    healthAt !== undefined &&
    metricsAt.host === healthAt.host &&
    metricsAt.port === healthAt.port &&
    metricsAt.port !== 0;
  const out: Closable[] = [];
  if (healthAt !== undefined) {
    const s = createServer(handler(true, same));
    out.push(closer(s));
    o.log.info({ address: await listen(s, healthAt) }, 'serving /healthz and /readyz');
  }
  if (metricsAt !== undefined && !same) {
    let s: NetServer;
    if (!o.secure) s = createServer(handler(false, true));
    else {
      const tls = selfSignedCertificate({
        commonName: 'vector-operator',
        dnsNames: [...new Set([hostname(), 'localhost'])],
        ipAddresses: ['127.0.0.1'],
        validDays: 365,
      });
      if (o.http2) s = createSecureServer({ ...tls, allowHTTP1: true }, handler(false, true));
      else s = createHttpsServer({ ...tls, ALPNProtocols: ['http/1.1'] }, handler(false, true));
    }
    out.push(closer(s));
    const protocols = !o.secure ? 'http' : o.http2 ? 'https (h2, http/1.1)' : 'https (http/1.1)';
    o.log.info({ address: await listen(s, metricsAt), protocols, authorization: o.secure }, 'serving /metrics');
  }
  return out;
}
