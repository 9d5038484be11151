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
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { crc64 } from './crc64.ts';
import { KUBERNETES_LOGS_MAX_LINE_BYTES } from './kubernetes-logs.ts';

export interface FingerprintOptions {
  /** Vector's `max_line_bytes`: 32 KiB for kubernetes_logs (the default here), 100 KiB for the file source. */
  maxLineBytes?: number;
  /** Vector's `fingerprint_lines` / `fingerprint.lines`. */
  lines?: number;
  ignoredHeaderBytes?: number;
}

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

/**
 * Fingerprints one file as Vector would. Throws on I/O errors (ENOENT, EACCES, ...); the caller decides.
 *
 * Plain files (nearly all of them) are read with synchronous calls: a few syscalls of a few microseconds, where a
 * round trip through the thread pool per call costs far more when a node holds thousands of files. Only gzip
 * content takes the streaming path.
 */
export async function fingerprintFile(path: string, options: FingerprintOptions = {}): Promise<FileFingerprint> {
  const o = resolve(options);
  const { size, gzip, head } = readHeadSync(path, o);
  const checksum = firstLinesChecksum(gzip ? await gunzipHead(path, o) : head, o);
  return checksum === null ? { status: 'not-ready', size, gzip } : { status: 'ready', checksum, size, gzip };
}

/** Reused by every read (they are synchronous): one buffer per process instead of one per file of the node. */
let scratch = Buffer.allocUnsafe(CHUNK);

/**
 * The file's size, whether it is gzip, and (plain files only) enough leading bytes to decide the fingerprint.
 * `head` is a view of the shared buffer: valid until the next call.
 */
function readHeadSync(path: string, o: Resolved): { size: bigint; gzip: boolean; head: Buffer } {
  const fd = openSync(path, 'r');
  try {
    const size = BigInt(fstatSync(fd).size);
    let length = readSync(fd, scratch, 0, CHUNK, 0);
    const gzip = length >= 2 && scratch[0] === 0x1f && scratch[1] === 0x8b;
    const want = o.ignoredHeaderBytes + o.maxLineBytes;
    let complete = BigInt(length) >= size;
    while (!gzip && !complete && !decided(scratch.subarray(0, length), o) && length < want) {
      if (length === scratch.length) {
        scratch = Buffer.concat([scratch.subarray(0, length), Buffer.allocUnsafe(Math.min(length, want))]);
      }
      const n = readSync(fd, scratch, length, Math.min(scratch.length, want) - length, length);
      if (n === 0) complete = true;
      length += n;
    }
    return { size, gzip, head: scratch.subarray(0, length) };
  } finally {
    closeSync(fd);
  }
}

/** Decompresses just enough of a gzip file to decide its fingerprint. */
async function gunzipHead(path: string, o: Resolved): Promise<Buffer> {
  // Loaded on first use, like zlib: the merger's start-up never needs either for plain files.
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    return await inflateHead(fh, o);
  } finally {
    await fh.close();
  }
}

async function inflateHead(fh: FileHandle, o: Resolved): Promise<Buffer> {
  // Loaded on first use: zlib pulls in the streams machinery, and gzip content is rare (Vector skips *.gz).
  const { createGunzip } = await import('node:zlib');
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
