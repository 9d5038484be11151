/**
 * Request and response plumbing shared by the server: bounded body reads and JSON replies.
 *
 * Invariant: every reply is JSON with an exact Content-Length, and an error is always a Status object — unless the
 * response has already started (a watch), in which case the connection is cut, which is what a client can detect.
 */
import type { Req, Res } from './listener.ts';
import { ApiError, PageNotFound } from './errors.ts';

const MAX_BODY = 3 * 1024 * 1024;

export function readBody(req: Req): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new ApiError(413, 'RequestEntityTooLarge', 'request entity too large'));
      else chunks.push(c);
    });
    req.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** Marks a request as answered; lets handlers `return send(…)` without returning a void expression. */
export type Sent = 'sent';

export function send(res: Res, code: number, body: unknown, warnings: string[] = []): Sent {
  return sendBytes(res, code, Buffer.from(JSON.stringify(body)), warnings);
}

/** `send` for a body already serialised (a cached list reply): the same bytes can go to many clients. */
export function sendBytes(res: Res, code: number, body: Buffer, warnings: string[] = []): Sent {
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Content-Length': String(body.length),
    'Cache-Control': 'no-cache, private',
  };
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  if (body.length <= CHUNK_BYTES) res.end(body);
  else writeInChunks(res, body, 0);
  return 'sent';
}

/**
 * A large reply goes out a chunk at a time, the next one only when the connection has taken the last, as Go's server
 * blocks a handler on flow control. Node's HTTP/2 otherwise queues the whole body at once and, when the client resets
 * the stream before reading it, keeps counting those bytes against the session's memory until the session ends: a
 * few hundred abandoned lists make it refuse every new stream (NGHTTP2_ENHANCE_YOUR_CALM).
 */
const CHUNK_BYTES = 64 * 1024;

function writeInChunks(res: Res, body: Buffer, from: number): void {
  for (let at = from; at < body.length; at += CHUNK_BYTES) {
    const chunk = body.subarray(at, at + CHUNK_BYTES);
    if (at + CHUNK_BYTES >= body.length) {
      res.end(chunk);
      return;
    }
    if (!res.write(chunk)) {
      res.once('drain', () => {
        writeInChunks(res, body, at + CHUNK_BYTES);
      });
      return;
    }
  }
}

export function sendError(res: Res, e: unknown): void {
  const err =
    e instanceof ApiError
      ? e
      : new ApiError(500, 'InternalError', `Internal error occurred: ${e instanceof Error ? e.message : String(e)}`);
  if (res.headersSent) res.destroy();
  else if (err instanceof PageNotFound) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('404 page not found\n');
  } else send(res, err.code, err.toStatus());
}
