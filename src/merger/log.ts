/**
 * JSON-lines logging for the merger: one object per line on stdout, written synchronously so that nothing is lost
 * when the process exits right after. Kept dependency-free: the merger's start-up time is on every agent restart.
 *
 * Invariant: a line is written whole or, after a bounded wait, not at all. stdout may be a non-blocking pipe (the
 * container runtime's, or a parent process's): a full pipe answers EAGAIN, which means "wait", not "drop".
 */
import { writeSync } from 'node:fs';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface LogLine {
  readonly level: Level;
  readonly msg: string;
  readonly fields?: Fields;
}

export interface Logger {
  log(level: Level, msg: string, fields?: Fields): void;
  /** Several lines in order, as few writes as the output allows (one line per target: a rollback has 1000). */
  logAll(lines: readonly LogLine[]): void;
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function formatLine(level: Level, msg: string, fields: Fields = {}): string {
  return JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, replacer);
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));
/** How long one line may wait for a full pipe to drain before it is given up. */
const MAX_WAIT_MS = 10_000;

function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  let waited = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || waited >= MAX_WAIT_MS) throw err;
      Atomics.wait(SLEEPER, 0, 0, 1);
      waited++;
    }
  }
}

/** Lines are written in chunks of about this many bytes: one write(2) per line cost ~6 µs each on a pipe. */
const CHUNK_BYTES = 64 * 1024;

/** A logger writing to a file descriptor (stdout by default). A closed pipe is ignored: logging never fails the merge. */
export function jsonLogger(fd = 1): Logger {
  const write = (text: string): void => {
    try {
      writeAll(fd, Buffer.from(text));
    } catch {
      // Logging must never make the merger fail.
    }
  };
  return {
    log(level, msg, fields) {
      write(`${formatLine(level, msg, fields)}\n`);
    },
    logAll(lines) {
      let chunk = '';
      for (const l of lines) {
        chunk += `${formatLine(l.level, l.msg, l.fields)}\n`;
        if (chunk.length >= CHUNK_BYTES) {
          write(chunk);
          chunk = '';
        }
      }
      if (chunk !== '') write(chunk);
    },
  };
}

/** A logger that keeps lines in memory: for tests and for composing output. */
export function memoryLogger(): Logger & { lines: { level: Level; msg: string; fields: Fields }[] } {
  const lines: { level: Level; msg: string; fields: Fields }[] = [];
  return {
    lines,
    log(level, msg, fields = {}) {
      lines.push({ level, msg, fields });
    },
    logAll(more) {
      for (const l of more) lines.push({ level: l.level, msg: l.msg, fields: l.fields ?? {} });
    },
  };
}
