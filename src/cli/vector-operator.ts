#!/usr/bin/env node
/** `vector-operator` binary: the commands (commands.ts) on the process's streams, exiting once they are flushed. */
import { argv, stderr } from 'node:process';
import { dispatch } from './commands.ts';
import { exitQuietlyOnClosedStdout, flushAndExit } from './exit.ts';
import { processIo } from './io.ts';

exitQuietlyOnClosedStdout();
dispatch(argv.slice(2), processIo).then(
  (code) => flushAndExit(code),
  (err: unknown) => {
    stderr.write(`vector-operator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return flushAndExit(1);
  },
);
