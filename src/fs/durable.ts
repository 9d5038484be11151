/**
 * Durable file replacement on POSIX filesystems.
 *
 * Crash story of `replaceFileDurably(dir, name, data)`, read in order:
 *   1. open `<dir>/.<name>.<pid>.<n>.tmp` with O_CREAT|O_EXCL (never another writer's file, never a symlink; a
 *      leftover of the same name from a dead process is skipped to the next n);
 *   2. write all bytes, fsync the tmp file, close it;
 *   3. rename it over `<dir>/<name>` (atomic within one filesystem: readers see the old or the new file, whole);
 *   4. fsync `<dir>`, so the rename itself survives a power loss.
 * A crash before 3 leaves the old file intact (and at worst a stray tmp file, which no reader looks at); after 3,
 * the new one. On any error the tmp file is removed.
 *
 * Only the fsyncs wait for the disk, so only they go to the thread pool; open, write, close, rename and unlink of a
 * small file are page-cache operations of a few microseconds, done synchronously. A round trip through the pool per
 * step cost a rollback into 1000 dirs ~40 % of its apply time (docs/benchmarks.md).
 *
 * Invariant: the target path never holds a partial file, at any instant.
 */
import { closeSync, constants, fsync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface ReplaceOptions {
  /** Permission bits of a newly created file (subject to the umask). Default 0o644, what Vector's own files get. */
  mode?: number;
}

/** fsync on the thread pool, so that many targets can wait for the disk at once. */
function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fsync(fd, (err) => {
      if (err === null) resolve();
      else reject(err);
    });
  });
}

/** fsync a directory, making entries created, renamed or removed in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}

let tmpCounter = 0;

/**
 * Creates a fresh tmp file beside `name`. O_EXCL makes the name unique; a clash (a leftover from a killed process
 * with the same pid) just moves on to the next number. No randomness needed, so no node:crypto at start-up.
 */
function createExclusive(dir: string, name: string, mode: number): { tmp: string; fd: number } {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  for (;;) {
    const tmp = join(dir, `.${name}.${process.pid}.${Date.now().toString(36)}${(tmpCounter++).toString(36)}.tmp`);
    try {
      return { tmp, fd: openSync(tmp, flags, mode) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Atomically and durably replaces `<dir>/<name>` with `data` (see the module comment for the order). */
export async function replaceFileDurably(
  dir: string,
  name: string,
  data: string | Uint8Array,
  options: ReplaceOptions = {},
): Promise<void> {
  const { tmp, fd } = createExclusive(dir, name, options.mode ?? 0o644);
  try {
    try {
      writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
      await fsyncAsync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, name));
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone, or the dir is unwritable: the stray tmp file is harmless, the original error matters.
    }
    throw err;
  }
  await syncDirectory(dir);
}

/**
 * Removes `<dir>/<name>` if present and makes the removal durable. Returns whether a file was removed.
 * Used after a replacement, so that the removal can never be observed without the replacement.
 */
export async function removeFileDurably(dir: string, name: string): Promise<boolean> {
  try {
    unlinkSync(join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  await syncDirectory(dir);
  return true;
}
