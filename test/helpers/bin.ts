/** Runs the project's bins as a user would after `npm ci`: the built `dist/` entry points, with this Node. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { execPath } from 'node:process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const binPaths = {
  'vector-operator': `${root}dist/src/cli/vector-operator.js`,
  'checkpoint-merger': `${root}dist/checkpoint-merger.cjs`,
} as const;

export interface BinResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runBin(name: keyof typeof binPaths, args: string[], options: SpawnSyncOptions = {}): BinResult {
  const r = spawnSync(execPath, [binPaths[name], ...args], { encoding: 'utf8', ...options });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A module hook that fails any import of client-node: for commands that must start without loading it. */
const noClientNode =
  'data:text/javascript,import{registerHooks}from"node:module";registerHooks({resolve(s,c,n){if(s.includes("@kubernetes/client-node"))throw new Error("client-node was loaded");return n(s,c)}})';

/** `vector-operator args` with client-node made unloadable: it exits non-zero if the command loads it. */
export function runWithoutClientNode(args: string[]): BinResult {
  const r = spawnSync(execPath, ['--import', noClientNode, binPaths['vector-operator'], ...args], { encoding: 'utf8' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
