/**
 * Where a command writes: `out` is its result (stdout), `err` its notes, warnings and errors (stderr). The binary
 * passes the process's streams; tests run a command in process and read what it wrote.
 */
import { stderr, stdout } from 'node:process';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void stdout.write(text),
  err: (text) => void stderr.write(text),
};
