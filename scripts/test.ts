/**
 * The test runner behind `npm test` (every test file) and `npm run test:fast` (`--fast`: the inner loop).
 *
 * `--fast` leaves out the slow lanes and runs on the stand-in only (KUBE_TARGET=stand-in), four files at a time:
 * - the stand end to end and its scenarios (test/stand/stand.test.ts, test/stand/scenarios/),
 * - the real Kubernetes lane's harness (test/kube-real/) and the VRL lane (test/pipelines/vrl-*real.test.ts),
 * - the merger's crash tests (test/merger/crash.test.ts).
 * Both turn on V8's compile cache (NODE_COMPILE_CACHE, under the OS temp directory, unless already set): every test
 * file is its own process, and so is every CLI run it spawns, and each would otherwise compile the same modules
 * again. Extra arguments go to `node --test` (e.g. `--test-name-pattern`).
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argv, env, execPath, exit } from 'node:process';

const slow = [
  'test/stand/stand.test.ts',
  'test/stand/scenarios/*.test.ts',
  'test/kube-real/*.test.ts',
  'test/pipelines/vrl-*real.test.ts',
  'test/merger/crash.test.ts',
];

const args = argv.slice(2);
const fast = args[0] === '--fast';
const excluded = new Set(fast ? slow.flatMap((g) => globSync(g)) : []);
const files = globSync('test/**/*.test.ts')
  .filter((f) => !excluded.has(f))
  .sort();
const options = fast ? ['--test-concurrency=4'] : [];
const r = spawnSync(execPath, ['--test', '--test-reporter=spec', ...options, ...args.slice(fast ? 1 : 0), ...files], {
  stdio: 'inherit',
  env: {
    ...env,
    NODE_COMPILE_CACHE: env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'vector-operator-compile-cache'),
    ...(fast ? { KUBE_TARGET: 'stand-in' } : {}),
  },
});
exit(r.status ?? 1);
