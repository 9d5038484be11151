/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or those named on the command line) one after another, each in
 * its own process so they do not share a heap. Each prints a markdown section for docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { argv, execPath, exit } from 'node:process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
let failed = 0;
for (const bench of benches) {
  process.stdout.write(`\n<!-- ${bench} -->\n`);
  const r = spawnSync(execPath, [`${dir}${bench}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
exit(failed === 0 ? 0 : 1);
