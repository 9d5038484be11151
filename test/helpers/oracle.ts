/**
 * The independent oracle: shared/bench/vectorfmt.py (Python CRC-64 and Vector's strict parser), called through
 * python3. Tests compare our TypeScript against it, so a shared misunderstanding would have to be made twice.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('../../../shared/bench/', import.meta.url));

/** Runs a Python snippet with `vf` (vectorfmt) imported; stdin in, stdout out. */
export function oracle(script: string, input = ''): string {
  const r = spawnSync(
    'python3',
    ['-c', `import sys, json\nsys.path.insert(0, ${JSON.stringify(benchDir)})\nimport vectorfmt as vf\n${script}`],
    {
      input,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`oracle failed: ${r.stderr}`);
  return r.stdout;
}
