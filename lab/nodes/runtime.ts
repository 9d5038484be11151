/**
 * The container runtime of a simulated node: which program stands for which image, and how it runs.
 *
 * Invariants:
 * - `checkpoint-merger` (by container name or image) runs as the real bundled CLI, `dist/checkpoint-merger.cjs`,
 *   in its own process on Node with the image's flags (MERGER_NODE_FLAGS), with every absolute path argument
 *   rewritten through the container's mounts; when no `--summary-file` is given, its default (the
 *   termination-message path) is passed explicitly, mapped to the node.
 * - A Vector image (repository basename `vector`) runs the Vector simulator (lab/vector-sim/main) as a child process
 *   with an IPC channel for readiness; stop is SIGTERM, then SIGKILL after the grace period. With the argument
 *   `validate` (a configcheck pod) it runs the simulator's `vector validate` (lab/vector-sim/validate-main) instead.
 * - Any other image is a no-op: an init container succeeds at once, a main container idles until stopped.
 * - Container stdout and stderr go to the pod's log dir in CRI format, as the real runtime writes them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { execPath } from 'node:process';
import { fileURLToPath } from 'node:url';
import type * as k8s from '@kubernetes/client-node';
import { rewriteArg, type Mount } from '../common/mounts.ts';
import { ContainerLog } from '../workload/cri-log.ts';
import { nowNs } from '../common/clock.ts';

const here = dirname(fileURLToPath(import.meta.url));
const inDist = here.includes(`${sep}dist${sep}lab${sep}`);
export const repoRoot = resolve(here, inDist ? '../../..' : '../..');
export const mergerCli = join(repoRoot, 'dist/checkpoint-merger.cjs');
export const simEntry = inDist
  ? join(repoRoot, 'dist/lab/vector-sim/main.js')
  : join(repoRoot, 'lab/vector-sim/main.ts');
export const validateEntry = inDist
  ? join(repoRoot, 'dist/lab/vector-sim/validate-main.js')
  : join(repoRoot, 'lab/vector-sim/validate-main.ts');

export type ContainerKind = 'merger' | 'vector' | 'validate' | 'noop';

function repoBasename(image: string): string {
  const noDigest = image.split('@')[0] ?? '';
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  const repo = colon === -1 ? noDigest : noDigest.slice(0, colon);
  return repo.slice(repo.lastIndexOf('/') + 1);
}

export function containerKind(c: k8s.V1Container): ContainerKind {
  const image = c.image ?? '';
  if (c.name === 'checkpoint-merger' || repoBasename(image) === 'checkpoint-merger') return 'merger';
  if (repoBasename(image) === 'vector') return (c.args ?? []).includes('validate') ? 'validate' : 'vector';
  return 'noop';
}

/** Merger arguments on the node: paths rewritten, and the summary file made explicit. */
export function mergerArgs(c: k8s.V1Container, mounts: readonly Mount[], terminationLog: string): string[] {
  const args = (c.args ?? []).map((a) => rewriteArg(mounts, a));
  if (!(c.args ?? []).some((a) => /^--?summary-file(=|$)/.test(a))) args.push(`--summary-file=${terminationLog}`);
  return args;
}

export interface Running {
  child: ChildProcess;
  /** Resolves with the exit code (signal -> 128 + n) once the process is gone and its output written. */
  exited: Promise<number>;
  /** The last lines of output, for a FallbackToLogsOnError message. */
  tail: () => string;
}

const SIGNALS: Record<string, number> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 };

/** Runs a program as a container, on Node with `nodeFlags`: output to its CRI log, IPC when `ipc`. */
export function runProcess(
  file: string,
  args: string[],
  env: Record<string, string>,
  log: ContainerLog,
  ipc: boolean,
  nodeFlags: readonly string[] = [],
): Running {
  if (!existsSync(file)) throw new Error(`${file} does not exist (run npm run build)`);
  const child = spawn(execPath, [...nodeFlags, file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])],
  });
  const tail: string[] = [];
  const pipe = (stream: 'stdout' | 'stderr') => {
    let rest = '';
    child[stream]?.on('data', (chunk: Buffer) => {
      const text = rest + chunk.toString('utf8');
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      log.append(
        parts.map((message) => ({ stream, message })),
        nowNs,
      );
      tail.push(...parts);
      if (tail.length > 80) tail.splice(0, tail.length - 80);
    });
    return () => {
      if (rest !== '') log.append([{ stream, message: rest }], nowNs);
    };
  };
  const endOut = pipe('stdout');
  const endErr = pipe('stderr');
  const exited = new Promise<number>((res) => {
    child.on('close', (code, signal) => {
      endOut();
      endErr();
      res(code ?? 128 + (SIGNALS[signal ?? ''] ?? 1));
    });
    child.on('error', () => {
      res(127);
    });
  });
  return { child, exited, tail: () => tail.join('\n') };
}

/** SIGTERM, then SIGKILL once `graceMs` has passed; resolves with the exit code. */
export async function stopProcess(r: Running, graceMs: number): Promise<number> {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
  const timer = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
  try {
    return await r.exited;
  } finally {
    clearTimeout(timer);
  }
}
