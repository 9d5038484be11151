/**
 * Golden files: compare output with a committed file; `UPDATE_GOLDEN=1` rewrites them instead (review the diff!).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { env } from 'node:process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../golden/', import.meta.url));

export function assertGolden(name: string, actual: string): void {
  const path = root + name;
  if (env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(path, 'utf8');
  } catch {
    assert.fail(`golden file test/golden/${name} is missing; run with UPDATE_GOLDEN=1 to create it`);
  }
  assert.equal(actual, expected, `output differs from test/golden/${name} (UPDATE_GOLDEN=1 to accept)`);
}
