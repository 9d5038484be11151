/**
 * `npm run test:fast`: the inner loop. Every test file but the slow lanes, on the stand-in only (KUBE_TARGET=stand-in):
 * - the stand end to end and its scenarios (test/stand/stand.test.ts, test/stand/scenarios/),
 * - the real Kubernetes lane's harness (test/kube-real/) and the VRL lane (test/pipelines/vrl-*real.test.ts),
 * - the merger's crash tests (test/merger/crash.test.ts).
 * `npm test` runs them all. Extra arguments go to `node --test` (e.g. `--test-name-pattern`).
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { argv, env, execPath, exit } from 'node:process';

const slow = [
  'test/stand/stand.test.ts',
  'test/stand/scenarios/*.test.ts',
  'test/kube-real/*.test.ts',
  'test/pipelines/vrl-*real.test.ts',
  'test/merger/crash.test.ts',
];

const excluded = new Set(slow.flatMap((g) => globSync(g)));
const files = globSync('test/**/*.test.ts')
  .filter((f) => !excluded.has(f))
  .sort();
const r = spawnSync(execPath, ['--test', '--test-reporter=spec', '--test-concurrency=4', ...argv.slice(2), ...files], {
  stdio: 'inherit',
  env: { ...env, KUBE_TARGET: 'stand-in' },
});
exit(r.status ?? 1);
