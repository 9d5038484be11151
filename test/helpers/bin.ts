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
