/**
 * The test runner behind `npm test` (every test file) and `npm run test:fast` (`--fast`: the inner loop).
 *
 * `npm test` gives each test file its own process. `--fast` leaves out the slow lanes, runs on the stand-in only
 * (KUBE_TARGET=stand-in) and splits the rest into one shard per core (two at most), each a single process
 * (`--test-isolation=none`): the files of a shard share one module graph, so the Kubernetes client (a thousand
 * modules) and the product load once per shard instead of once per file, which was half of the CPU. `npm test`
 * keeps full isolation, so a test that leans on another file's state still fails there. Left out of `--fast`:
 * - the stand end to end and its scenarios (test/stand/stand.test.ts, test/stand/scenarios/),
 * - the real Kubernetes lane's harness (test/kube-real/) and the VRL lane (test/pipelines/vrl-*real.test.ts),
 * - the merger's crash tests (test/merger/crash.test.ts).
 * Both turn on V8's compile cache (NODE_COMPILE_CACHE, under the OS temp directory, unless already set) for the
 * processes the tests spawn (CLIs, operators). Extra arguments go to `node --test` (e.g. `--test-name-pattern`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { argv, env, execPath, exit, stdout } from 'node:process';

const slow = [
  'test/stand/stand.test.ts',
  'test/stand/scenarios/*.test.ts',
  'test/kube-real/*.test.ts',
  'test/pipelines/vrl-*real.test.ts',
  'test/merger/crash.test.ts',
];

const args = argv.slice(2);
const fast = args[0] === '--fast';
const extra = args.slice(fast ? 1 : 0);
const testEnv = {
  ...env,
  NODE_COMPILE_CACHE: env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'vector-operator-compile-cache'),
};

if (!fast) {
  const files = globSync('test/**/*.test.ts').sort();
  const r = spawnSync(execPath, ['--test', '--test-reporter=spec', ...extra, ...files], {
    stdio: 'inherit',
    env: testEnv,
  });
  exit(r.status ?? 1);
}

const excluded = new Set(slow.flatMap((g) => globSync(g)));
const files = globSync('test/**/*.test.ts')
  .filter((f) => !excluded.has(f))
  .sort();
const count = Math.max(1, Math.min(2, availableParallelism()));
const shards = Array.from({ length: count }, (_, i) => files.filter((_, j) => j % count === i));

// Each shard's output streams while it is the first unfinished shard, and is held (as bytes: a chunk may end inside
// a character) until then.
const held: Buffer[][] = shards.map(() => []);
let showing = 0;
const results = shards.map(
  (shard, i) =>
    new Promise<number>((resolve) => {
      const p = spawn(
        execPath,
        ['--test', '--test-isolation=none', '--test-force-exit', '--test-reporter=spec', ...extra, ...shard],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...testEnv, KUBE_TARGET: 'stand-in' } },
      );
      const take = (chunk: Buffer): void => {
        if (showing === i) stdout.write(chunk);
        else held[i]?.push(chunk);
      };
      p.stdout.on('data', take);
      p.stderr.on('data', take);
      p.on('close', (code) => {
        resolve(code ?? 1);
      });
    }),
);
const codes: number[] = [];
for (const [i, result] of results.entries()) {
  codes.push(await result);
  showing = i + 1;
  if (showing < shards.length) stdout.write(Buffer.concat(held[showing] ?? []));
}
exit(codes.some((c) => c !== 0) ? 1 : 0);
