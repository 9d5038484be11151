/**
 * Vector's file server for one source: discovery by fingerprint, tailing, and the checkpoint rules that decide
 * re-delivery (vector-checkpoints.md §3-§5).
 *
 * Invariants:
 * - A file is identified by its `first_lines_checksum` (src/vector/fingerprint.ts), never by its path: the same
 *   fingerprint at another path is a rename and keeps its position and open descriptor (kubelet rotation).
 * - A new fingerprint starts at its checkpoint if one exists, else at the beginning: kubernetes_logs finds files in
 *   the discovery loop (startup=false), so `read_from` never applies. A checkpoint is used as is, beyond EOF too.
 * - A file whose mtime is before `ignoreBeforeMs` starts at its end, even with a checkpoint.
 * - Reading is not checkpointing: each complete line goes to `onLine` with the offset just past it (Vector's
 *   `Line.end_offset`), and the source moves the checkpoint when it maps the line (buffers.ts). A line `onLine`
 *   refuses (the source's channel is full: backpressure) stops the pass unconsumed, and is read again.
 * - Not-ready files (first line incomplete) are not watched and are retried each discovery cycle.
 * - A watcher not found by a discovery cycle dies at its next empty read: its descriptor is closed and its checkpoint
 *   is marked dead (expired by the checkpointer later). Until then it drains through the open descriptor, even if the
 *   file was deleted.
 * - When two paths carry one fingerprint in a cycle, the newer mtime wins and the other path is ignored.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { fingerprintFile, type FingerprintOptions } from '../../src/vector/fingerprint.ts';
import { fingerprintKey, type Fingerprint, type FingerprintKey } from '../../src/vector/checkpoints.ts';
import type { Checkpointer } from './checkpointer.ts';

export interface WatchedFile {
  path: string;
  readonly fpKey: FingerprintKey;
  readonly fingerprint: Fingerprint;
}

interface Watcher extends WatchedFile {
  fd: number;
  ino: number;
  /** Byte offset just past the last consumed line. */
  position: number;
  findable: boolean;
  foundThisCycle: boolean;
}

export interface FileServerOptions {
  checkpointer: Checkpointer;
  /** The candidate paths right now (Vector's paths provider, include/exclude already applied). */
  paths: () => string[];
  /**
   * One complete line, without its `\n`, and the offset just past it; `false` refuses it (backpressure) and ends
   * the pass. The buffer is reused after the call returns.
   */
  onLine: (line: Buffer, file: WatchedFile, endOffset: bigint) => boolean;
  /** Bytes read per file per pass; larger than Vector's 2048 so that a scaled-down clock still keeps up. */
  maxReadBytes?: number;
  ignoreBeforeMs?: number;
  /** The source's fingerprint settings (`fingerprint_lines`, the resolved `max_line_bytes`). */
  fingerprint?: FingerprintOptions;
}

/**
 * Fingerprints are cached per (dev, ino, mtime, size): a renamed file keeps all four and is not re-read, a grown or
 * new file misses. Vector re-reads the head every cycle; the result is the same, since a ready first line never changes.
 */
const fingerprintCache = new Map<string, bigint>();

/**
 * The checksum and the inode it was read from. The path can be rotated between this read and the open that follows
 * (the writer is another process), so whoever opens the path checks the inode: a fingerprint belongs to a file, not
 * to a path (Vector reads it from the open handle).
 */
async function fingerprintOf(
  path: string,
  options: FingerprintOptions = {},
): Promise<{ checksum: bigint; ino: number } | null> {
  let key: string;
  let ino: number;
  try {
    const st = statSync(path, { bigint: true });
    if (!st.isFile()) return null;
    key = `${st.dev}:${st.ino}:${st.mtimeNs}:${st.size}:${options.lines ?? 1}:${options.maxLineBytes ?? 0}`;
    ino = Number(st.ino);
  } catch {
    return null;
  }
  const hit = fingerprintCache.get(key);
  if (hit !== undefined) return { checksum: hit, ino };
  try {
    const fp = await fingerprintFile(path, options);
    if (fp.status !== 'ready') return null;
    // Read by path: if the path now names another file, the checksum may be that file's. Drop it this cycle.
    if (statSync(path).ino !== ino) return null;
    if (fingerprintCache.size > 200_000) fingerprintCache.clear();
    fingerprintCache.set(key, fp.checksum);
    return { checksum: fp.checksum, ino };
  } catch {
    return null;
  }
}

export class FileServer {
  private readonly opts: FileServerOptions;
  private readonly watchers = new Map<FingerprintKey, Watcher>();
  private readonly buf: Buffer;

  constructor(opts: FileServerOptions) {
    this.opts = opts;
    this.buf = Buffer.allocUnsafe(opts.maxReadBytes ?? 64 * 1024);
  }

  watched(): WatchedFile[] {
    return [...this.watchers.values()];
  }

  /** One glob cycle. */
  async discover(): Promise<void> {
    const found: { path: string; fp: Fingerprint; mtimeMs: number; ino: number }[] = [];
    for (const path of [...this.opts.paths()].sort()) {
      const got = await fingerprintOf(path, this.opts.fingerprint);
      if (got === null) continue;
      let mtimeMs: number;
      try {
        const st = statSync(path);
        // Rotated since it was fingerprinted: the next cycle sees both files as they are.
        if (st.ino !== got.ino) continue;
        mtimeMs = st.mtimeMs;
      } catch {
        continue;
      }
      found.push({ path, fp: { kind: 'first_lines_checksum', checksum: got.checksum }, mtimeMs, ino: got.ino });
    }
    // Applied synchronously, so no read pass sees half a cycle.
    for (const w of this.watchers.values()) {
      w.findable = false;
      w.foundThisCycle = false;
    }
    const cycleMtime = new Map<FingerprintKey, number>();
    for (const f of found) {
      const key = fingerprintKey(f.fp);
      const w = this.watchers.get(key);
      if (w === undefined) {
        this.watchNew(f.path, f.fp, key, f.ino);
        cycleMtime.set(key, f.mtimeMs);
      } else if (w.foundThisCycle) {
        // "More than one file has the same fingerprint": keep the newer one.
        if (f.mtimeMs > (cycleMtime.get(key) ?? 0)) {
          this.updatePath(w, f.path, f.ino);
          cycleMtime.set(key, f.mtimeMs);
        }
      } else {
        w.findable = true;
        w.foundThisCycle = true;
        cycleMtime.set(key, f.mtimeMs);
        if (w.path !== f.path) this.updatePath(w, f.path, f.ino);
      }
    }
  }

  private watchNew(path: string, fp: Fingerprint, key: FingerprintKey, ino: number): void {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return;
    }
    const st = fstatSync(fd);
    if (st.ino !== ino) {
      // The path was rotated after it was fingerprinted: this is another file. The next cycle finds both.
      closeSync(fd);
      return;
    }
    const checkpoint = this.opts.checkpointer.get(fp);
    let position = checkpoint === undefined ? 0 : Number(checkpoint);
    if (this.opts.ignoreBeforeMs !== undefined && st.mtimeMs < this.opts.ignoreBeforeMs) position = st.size;
    this.watchers.set(key, {
      path,
      fpKey: key,
      fingerprint: fp,
      fd,
      ino: st.ino,
      position,
      findable: true,
      foundThisCycle: true,
    });
  }

  /** `update_path`: keep the position; reopen only when the inode differs. */
  private updatePath(w: Watcher, path: string, ino: number): void {
    w.path = path;
    w.findable = true;
    w.foundThisCycle = true;
    try {
      if (ino !== w.ino) {
        const fd = openSync(path, 'r');
        // Only the file that was fingerprinted: a path rotated since then names another file.
        if (fstatSync(fd).ino !== ino) {
          closeSync(fd);
          return;
        }
        closeSync(w.fd);
        w.fd = fd;
        w.ino = ino;
      }
    } catch {
      // Gone between glob and reopen: keep draining the old descriptor.
    }
  }

  /** One read pass over every watcher; returns the bytes consumed. Stops at the first refused line. */
  readPass(): number {
    let consumed = 0;
    for (const w of [...this.watchers.values()]) {
      const n = readSync(w.fd, this.buf, 0, this.buf.length, w.position);
      if (n === 0) {
        if (!w.findable) this.kill(w);
        continue;
      }
      let start = 0;
      let blocked = false;
      for (let nl = this.buf.indexOf(0x0a, 0); nl !== -1 && nl < n; nl = this.buf.indexOf(0x0a, start)) {
        if (!this.opts.onLine(this.buf.subarray(start, nl), w, BigInt(w.position + nl + 1))) {
          blocked = true;
          break;
        }
        start = nl + 1;
      }
      if (start > 0) {
        w.position += start;
        consumed += start;
      }
      if (blocked) break;
    }
    return consumed;
  }

  private kill(w: Watcher): void {
    closeSync(w.fd);
    this.watchers.delete(w.fpKey);
    this.opts.checkpointer.setDead(w.fingerprint);
  }

  close(): void {
    for (const w of this.watchers.values()) closeSync(w.fd);
    this.watchers.clear();
  }
}
