/**
 * Request and response plumbing shared by the server: bounded body reads and JSON replies.
 *
 * Invariant: every reply is JSON with an exact Content-Length, and an error is always a Status object — unless the
 * response has already started (a watch), in which case the connection is cut, which is what a client can detect.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, PageNotFound } from './errors.ts';

const MAX_BODY = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
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

export function send(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): Sent {
  const text = JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-cache, private',
  };
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
  return 'sent';
}

export function sendError(res: ServerResponse, e: unknown): void {
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
