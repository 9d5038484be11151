/**
 * How the CLIs end: once everything written to stdout and stderr has reached its reader. On a pipe, Node queues
 * what the pipe cannot take at once (64 KiB); `exit()` right after a large write would drop the rest and still
 * report success, so `render -f big/ | kubectl apply -f -` would apply half a config.
 */
import { exit, stderr, stdout } from 'node:process';

export async function flushAndExit(code: number): Promise<never> {
  await Promise.all(
    [stdout, stderr].map(
      (stream) =>
        new Promise<void>((done) => {
          stream.write('', () => {
            done();
          });
        }),
    ),
  );
  exit(code);
}

/** A reader that goes away early (`render … | head`) is not an error of ours: stop quietly, as other CLIs do. */
export function exitQuietlyOnClosedStdout(): void {
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    exit(err.code === 'EPIPE' ? 0 : 1);
  });
}
