/**
 * Vector's `first_lines_checksum` fingerprint of a log file (reference: vector-checkpoints.md §3).
 *
 * Invariants:
 * - The checksum is CRC-64/ECMA-182 over the bytes up to and including the `lines`-th `\n` (always `\n`, whatever
 *   the source's line delimiter), after skipping `ignoredHeaderBytes`, over the *decompressed* bytes of a gzip file.
 * - If `maxLineBytes` bytes fill up before that newline, exactly the first `maxLineBytes` bytes are hashed.
 * - A file shorter than 2 bytes, or one that ends before both the newline and the cap, is "not ready": Vector does not
 *   watch it yet, and finds it as a new file once its first line completes.
 */
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { crc64 } from './crc64.ts';

export interface FingerprintOptions {
  /** Vector's `max_line_bytes`: 32 KiB for kubernetes_logs (the default here), 100 KiB for the file source. */
  maxLineBytes?: number;
  /** Vector's `fingerprint_lines` / `fingerprint.lines`. */
  lines?: number;
  ignoredHeaderBytes?: number;
}

export const KUBERNETES_LOGS_MAX_LINE_BYTES = 32 * 1024;

export type FileFingerprint =
  | { status: 'ready'; checksum: bigint; size: bigint; gzip: boolean }
  | { status: 'not-ready'; size: bigint; gzip: boolean };

interface Resolved {
  maxLineBytes: number;
  lines: number;
  ignoredHeaderBytes: number;
}

function resolve(o: FingerprintOptions): Resolved {
  return {
    maxLineBytes: o.maxLineBytes ?? KUBERNETES_LOGS_MAX_LINE_BYTES,
    lines: o.lines ?? 1,
    ignoredHeaderBytes: o.ignoredHeaderBytes ?? 0,
  };
}

/**
 * The checksum over a file's leading (decompressed) bytes, or `null` when not ready.
 * `head` is either the whole file or a prefix long enough to decide: up to the `lines`-th newline, or at least
 * `ignoredHeaderBytes + maxLineBytes` bytes.
 */
export function firstLinesChecksum(head: Uint8Array, options: FingerprintOptions = {}): bigint | null {
  const o = resolve(options);
  if (head.length < 2) return null;
  const start = o.ignoredHeaderBytes;
  const capEnd = start + o.maxLineBytes;
  const end = Math.min(head.length, capEnd);
  let seen = 0;
  for (let i = head.indexOf(0x0a, start); i !== -1 && i < end; i = head.indexOf(0x0a, i + 1)) {
    if (++seen === o.lines) return crc64(head, start, i + 1);
  }
  if (head.length >= capEnd) return crc64(head, start, capEnd);
  return null;
}

/** Whether `head` already decides the fingerprint, so reading can stop. */
function decided(head: Uint8Array, o: Resolved): boolean {
  const capEnd = o.ignoredHeaderBytes + o.maxLineBytes;
  if (head.length >= capEnd) return true;
  let seen = 0;
  for (let i = head.indexOf(0x0a, o.ignoredHeaderBytes); i !== -1; i = head.indexOf(0x0a, i + 1)) {
    if (++seen === o.lines) return true;
  }
  return false;
}

const CHUNK = 4096;

/** Fingerprints one file as Vector would. Throws on I/O errors (ENOENT, EACCES, ...); the caller decides. */
export async function fingerprintFile(path: string, options: FingerprintOptions = {}): Promise<FileFingerprint> {
  const o = resolve(options);
  const fh = await open(path, 'r');
  try {
    const size = BigInt((await fh.stat()).size);
    const first = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await fh.read(first, 0, CHUNK, 0);
    const gzip = bytesRead >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    if (bytesRead < 2) return { status: 'not-ready', size, gzip: false };
    let head: Buffer;
    if (gzip) {
      head = await gunzipHead(fh, o);
    } else {
      head = first.subarray(0, bytesRead);
      let complete = BigInt(bytesRead) >= size;
      const want = o.ignoredHeaderBytes + o.maxLineBytes;
      while (!complete && !decided(head, o) && head.length < want) {
        const more = Buffer.allocUnsafe(Math.min(want - head.length, 8 * CHUNK));
        const r = await fh.read(more, 0, more.length, head.length);
        if (r.bytesRead === 0) complete = true;
        head = Buffer.concat([head, more.subarray(0, r.bytesRead)]);
      }
    }
    const checksum = firstLinesChecksum(head, o);
    return checksum === null ? { status: 'not-ready', size, gzip } : { status: 'ready', checksum, size, gzip };
  } finally {
    await fh.close();
  }
}

/** Decompresses just enough of a gzip file to decide its fingerprint. */
async function gunzipHead(fh: Awaited<ReturnType<typeof open>>, o: Resolved): Promise<Buffer> {
  const gunzip = createGunzip();
  const parts: Buffer[] = [];
  // An object, not a `let`: the flag is set in event handlers, which control-flow analysis cannot see.
  const state = { done: false };
  const finished = new Promise<void>((resolvePromise) => {
    gunzip.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      if (!state.done && decided(Buffer.concat(parts), o)) {
        state.done = true;
        resolvePromise();
      }
    });
    gunzip.on('end', resolvePromise);
    // A truncated or corrupt stream ends the head where the decodable bytes end, as Vector's reader would.
    gunzip.on('error', () => {
      resolvePromise();
    });
  });
  let position = 0;
  const buf = Buffer.allocUnsafe(16 * CHUNK);
  while (!state.done) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const ok = gunzip.write(Buffer.from(buf.subarray(0, bytesRead)));
    if (!ok) await new Promise((r) => gunzip.once('drain', r));
  }
  if (!state.done) gunzip.end();
  await finished;
  gunzip.destroy();
  return Buffer.concat(parts);
}
