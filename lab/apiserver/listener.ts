/**
 * The stand-in's listening socket: TLS on 127.0.0.1 that speaks HTTP/2 and HTTP/1.1, chosen by ALPN, as
 * kube-apiserver does.
 *
 * Invariants:
 * - A client that offers `h2` (undici, so client-node and `src/kube`; kubectl, Go's client) multiplexes its requests,
 *   watches included, over few TLS connections: one watch is one stream, not one connection. A client that offers
 *   nothing or `http/1.1` (Node's https, curl --http1.1) gets HTTP/1.1, where an open watch holds its connection.
 * - Each session advertises at most `MAX_STREAMS_PER_CONNECTION` concurrent streams; a client opens another
 *   connection beyond that.
 * - `connections()` counts TLS connections, both protocols: open now and accepted since start (one handshake each).
 * - `close()` stops accepting and destroys every connection, so open watches and idle sessions cannot keep a
 *   process alive.
 */
import { readFileSync } from 'node:fs';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Certificate } from './tls.ts';

/** A request either protocol delivers; Node's HTTP/2 compatibility API mirrors the HTTP/1.1 one. */
export type Req = IncomingMessage | Http2ServerRequest;

/**
 * What the server does with a response, which `ServerResponse` and `Http2ServerResponse` both do (the latter's
 * `flushHeaders` and `destroy` exist at run time but not in @types/node; test/apiserver/http2.test.ts covers them).
 */
export interface Res {
  readonly headersSent: boolean;
  writeHead(code: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: string | Buffer): boolean;
  end(chunk?: string | Buffer): unknown;
  /** Sends the status and headers now: a watch's client gets its response before the first event. */
  flushHeaders(): void;
  destroy(): void;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * kube-apiserver leaves `--http2-max-streams-per-connection` at 0, which is Go's default of 250. undici (client-node)
 * asks for at most 100 of its own, so a thousand-source agent holds about 40 connections instead of 3 750.
 */
export const MAX_STREAMS_PER_CONNECTION = 250;

/**
 * Node refuses new streams (NGHTTP2_ENHANCE_YOUR_CALM) while a session's queued output passes this many megabytes
 * (default 10). A reply is queued whole, so a hundred concurrent lists of a node's pods (about 1.3 MB each at 1 000
 * namespaces) pass the default; Go's server instead blocks the handler on flow control. The queue drains as fast
 * as the client reads.
 */
const MAX_SESSION_MEMORY_MB = 1024;

/**
 * The accept queue's length: the kernel's cap (`net.core.somaxconn`), as Go's listener (so kube-apiserver) asks for.
 * Node's default, 511, overflows when many clients connect at once: SYNs are dropped, clients retransmit for
 * seconds, and their connect times out (`fetch failed`, caused by `UND_ERR_CONNECT_TIMEOUT`).
 */
function listenBacklog(): number {
  try {
    const n = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 4096;
  } catch {
    return 4096;
  }
}

export interface Listener {
  readonly port: number;
  connections(): { open: number; accepted: number };
  close(): Promise<void>;
}

export async function listen(tls: Certificate, port: number, handler: (req: Req, res: Res) => void): Promise<Listener> {
  const server: Http2SecureServer = createSecureServer(
    {
      cert: tls.cert,
      key: tls.key,
      allowHTTP1: true,
      settings: { maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION },
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
    },
    (req: Req, res: Http2ServerResponse) => {
      handler(req, res as unknown as Res);
    },
  );
  const sockets = new Set<Socket>();
  let accepted = 0;
  let closing = false;
  server.on('secureConnection', (socket: Socket) => {
    accepted++;
    // A connection whose handshake ends after close() began would hold the close until its client gives up on it.
    if (closing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Watches are long-lived: no inactivity timeout on either protocol (the HTTP/2 server has none by default), and
  // HTTP/1.1's request timeout, which covers receiving the request, must not cut a watch's connection either.
  server.setTimeout(0);
  Object.assign(server, { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', backlog: listenBacklog() }, () => {
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => ({ open: sockets.size, accepted }),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => {
          resolve();
        });
        for (const s of sockets) s.destroy();
      }),
  };
}
