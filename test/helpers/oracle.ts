/**
 * The independent oracle: test/oracle/vectorfmt.py (a Python model of Vector's CRC-64 fingerprint and its strict
 * checkpoints parser), called through python3. Tests compare our TypeScript against it, so a shared
 * misunderstanding would have to be made twice.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireTool } from './tools.ts';

const oracleDir = fileURLToPath(new URL('../oracle/', import.meta.url));

let pythonFound = false;
function requirePython(): void {
  if (!pythonFound) requireTool('python3', ['--version'], 'python3');
  pythonFound = true;
}

/** Runs a Python snippet with `vf` (vectorfmt) imported; stdin in, stdout out. */
export function oracle(script: string, input = ''): string {
  requirePython();
  const r = spawnSync(
    'python3',
    ['-c', `import sys, json\nsys.path.insert(0, ${JSON.stringify(oracleDir)})\nimport vectorfmt as vf\n${script}`],
    { input, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`oracle failed: ${r.stderr}`);
  return r.stdout;
}
