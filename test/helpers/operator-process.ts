/** `vector-operator run` as a child process (the compiled bin, `npm run build` first), with its JSON log lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { execPath } from 'node:process';
import { createInterface } from 'node:readline';
import { binPaths } from './bin.ts';

export interface OperatorProcess {
  child: ChildProcess;
  /** Every log line so far, parsed. */
  logs: Record<string, unknown>[];
  /** The `address` of the first log line with this message (the servers log where they listen). */
  address: (msg: string) => string | undefined;
}

/** Starts `run --kubeconfig F --health-probe-bind-address=127.0.0.1:0 ...args`. */
export function spawnOperator(kubeconfig: string, args: string[]): OperatorProcess {
  const child = spawn(
    execPath,
    [
      binPaths['vector-operator'],
      'run',
      '--kubeconfig',
      kubeconfig,
      '--health-probe-bind-address=127.0.0.1:0',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { child, logs, address: (msg) => logs.find((l) => l.msg === msg)?.address as string | undefined };
}

/** SIGTERM, then the exit code: null when a signal ended it; at once when it has exited already. */
export async function stopOperator(p: OperatorProcess): Promise<number | null> {
  // A process a signal ended has no exit code but a signal code; waiting for its 'exit' again would never end.
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.child.exitCode;
  const exited = once(p.child, 'exit');
  p.child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}
