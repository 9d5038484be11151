/**
 * Checkpoint merger and fingerprint benchmarks, on the standard node inputs of ./node-input.ts (the layout
 * kaasops' Go merger was measured on). Each run starts from a fresh copy of the input (cp -a, which keeps the
 * mtimes the merger judges liveness by); figures are medians. The merger runs as its image starts it: the bundled
 * file, on Node with MERGER_NODE_FLAGS.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execPath } from 'node:process';
import { fileURLToPath } from 'node:url';
import { MERGER_NODE_FLAGS } from '../src/merger/node-flags.ts';
import { crc64 } from '../src/vector/crc64.ts';
import { clock, machine, median, timed } from './common.ts';
import { generateNodeInput } from './node-input.ts';

const RUNS = 11;
/** What a merge reads; the rollback also reads the node's pod logs. */
const MERGE_INPUT = ['data', 'legacy.json', 'optimized.json'];
const WITH_LOGS = [...MERGE_INPUT, 'pods'];
const root = fileURLToPath(new URL('../', import.meta.url));
const merger = join(root, 'dist/checkpoint-merger.cjs');
if (!existsSync(merger)) throw new Error('run `npm run build` first (npm run bench does)');

const work = mkdtempSync(join(tmpdir(), 'merger-bench-'));

function generate(name: string, namespaces: number, mode: 'legacy' | 'optimized'): string {
  const out = join(work, name);
  generateNodeInput(out, { namespaces, filesPerNamespace: 3, mode });
  return out;
}

/**
 * `runs` fresh copies of what a scenario reads (`cp -a` keeps the mtimes the merger judges liveness by), all made
 * before the first run, and removed only when the bench ends. Removing one copy right before the next is made
 * measures ext4 instead of the merger: for a minute or more after thousands of inodes are freed, creating new ones
 * scans past them (`recently_deleted` in ext4's inode allocator was the top kernel symbol in a profile), which
 * doubled the rollback's 1000 mkdirs. A node's data dir sees no such mass deletion before its merger runs.
 *
 * The copies are then synced to disk. Otherwise the merger's first fsync pays for writing them: ext4 (data=ordered)
 * writes every file's new data before it commits the journal transaction that the fsync waits for. On a node, the
 * data dir and the logs are on disk long before an agent restarts.
 */
let copies = 0;
function freshCopies(input: string, parts: readonly string[], runs: number): string[] {
  const made = Array.from({ length: runs }, () => {
    const copy = `${input}-run${copies++}`;
    mkdirSync(copy);
    for (const part of parts)
      if (spawnSync('cp', ['-a', join(input, part), copy]).status !== 0) throw new Error('cp -a failed');
    return copy;
  });
  if (spawnSync('sync').status !== 0) throw new Error('sync failed');
  return made;
}

interface Row {
  scenario: string;
  goal: string;
  wall: number;
  cpu: number;
  rss: number;
  note: string;
}

function measure(
  scenario: string,
  goal: string,
  input: string,
  parts: readonly string[],
  args: (dir: string) => string[],
  check: (out: string) => string,
  prepare?: (dir: string) => void,
): Row {
  const walls: number[] = [];
  const cpus: number[] = [];
  const rsss: number[] = [];
  let note = '';
  // One copy more than is measured: the first run only warms up. Otherwise a scenario run right after its inputs
  // were generated came out up to 15 ms slower than the same merge measured later.
  for (const [i, dir] of freshCopies(input, parts, RUNS + 1).entries()) {
    prepare?.(dir);
    const t = timed(execPath, [...MERGER_NODE_FLAGS, merger, ...args(dir), '--summary-file', '']);
    note = check(t.stdout);
    if (i === 0) continue;
    walls.push(t.wallMs);
    cpus.push(t.cpuMs);
    rsss.push(t.maxRssKiB);
  }
  return { scenario, goal, wall: median(walls), cpu: median(cpus), rss: median(rsss) / 1024, note };
}

function summaryOf(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(line) as Record<string, unknown>;
}

function expectOutcome(outcome: string, carried: number) {
  return (stdout: string): string => {
    const s = summaryOf(stdout);
    if (s.outcome !== outcome || s.checkpointsCarried !== carried)
      throw new Error(`unexpected summary: ${JSON.stringify(s)}`);
    return `${outcome}, ${carried} checkpoints carried`;
  };
}

const rows: Row[] = [];
try {
  const bare = Array.from({ length: RUNS }, () => timed(execPath, ['-e', '0']));
  rows.push({
    scenario: 'bare `node -e 0` (for reference)',
    goal: '',
    wall: median(bare.map((t) => t.wallMs)),
    cpu: median(bare.map((t) => t.cpuMs)),
    rss: median(bare.map((t) => t.maxRssKiB)) / 1024,
    note: '',
  });

  const l1k = generate('l1k', 1000, 'legacy');
  const mergeArgs =
    (config: string, standby: string | null, logDir = false) =>
    (d: string): string[] => [
      '--config',
      join(d, config),
      ...(standby === null ? [] : ['--standby-config', join(d, standby)]),
      '--data-dir',
      join(d, 'data'),
      ...(logDir ? ['--log-dir', join(d, 'pods')] : []),
    ];
  rows.push(
    measure(
      '1000 ns x 3 files, legacy -> optimized, as kaasops invokes it (config, data dir)',
      'Go 23 ms / 8 MiB; goal <= 80 ms / <= 80 MiB',
      l1k,
      MERGE_INPUT,
      mergeArgs('optimized.json', null),
      expectOutcome('migrated', 3000),
    ),
  );
  rows.push(
    measure(
      '1000 ns x 3 files, legacy -> optimized, as our operator invokes it (+ standby config)',
      'goal <= 80 ms / <= 80 MiB',
      l1k,
      MERGE_INPUT,
      mergeArgs('optimized.json', 'legacy.json'),
      expectOutcome('migrated', 3000),
    ),
  );
  /** A plain restart: the same merge once before the measured one, which then finds its journal. */
  const plainRestart = (scenario: string, args: (d: string) => string[]): Row =>
    measure(scenario, '', l1k, MERGE_INPUT, args, expectOutcome('unchanged', 0), (d) => {
      spawnSync(execPath, [...MERGER_NODE_FLAGS, merger, ...args(d), '--summary-file', '']);
    });
  rows.push(
    plainRestart(
      '1000 ns, plain restart after the switch (every agent restart)',
      mergeArgs('optimized.json', 'legacy.json'),
    ),
  );
  rows.push(
    plainRestart(
      '1000 ns, plain restart in legacy mode (1000 live sources)',
      mergeArgs('legacy.json', 'optimized.json'),
    ),
  );
  const o1k = generate('o1k', 1000, 'optimized');
  rows.push(
    measure(
      'rollback into 1000 legacy dirs, --log-dir, fsync (+ standby config)',
      'Go 4.05 s (no fsync, 364 MB written); goal <= 0.5 s',
      o1k,
      WITH_LOGS,
      mergeArgs('legacy.json', 'optimized.json', true),
      expectOutcome('migrated', 3000),
    ),
  );
  const l10k = generate('l10k', 10_000, 'legacy');
  rows.push(
    measure(
      '10 000 ns x 3 files, legacy -> optimized, 10 chunks (+ standby config)',
      'Go 0.66 s / 61 MiB; goal <= 1 s / <= 150 MiB',
      l10k,
      MERGE_INPUT,
      mergeArgs('optimized.json', 'legacy.json'),
      expectOutcome('migrated', 30_000),
    ),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

// CRC-64 throughput: 1 MiB buffers stay in cache, like the <= 32 KiB first lines it really hashes; 64 MiB streams.
const throughput: string[] = [];
for (const size of [1 << 20, 64 << 20]) {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) buf.writeUInt32LE((i * 2654435761) >>> 0, i);
  const reps = Math.max(3, Math.floor((512 << 20) / size));
  for (let i = 0; i < 3; i++) crc64(buf); // warm up the JIT
  const samples = Array.from(
    { length: RUNS },
    () =>
      clock(() => {
        for (let r = 0; r < reps; r++) crc64(buf);
      }) / reps,
  );
  throughput.push(`| CRC-64/ECMA-182, ${size >> 20} MiB buffer | ${(size / median(samples) / 1e6).toFixed(2)} GB/s |`);
}

const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
console.log(
  `## Checkpoint merger\n\nMachine: ${machine()}. Median of ${RUNS} runs after one warm-up run, each on its own fresh copy of the generated input, all made before the first run; the merger on Node with ${MERGER_NODE_FLAGS.join(' ')}; wall time, CPU time and peak RSS of the whole process (wait4).\n`,
);
console.log(
  `Load average when the run ended: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}.\n`,
);
console.log('| scenario | wall | CPU (user+sys) | peak RSS | goal / Go merger | result |');
console.log('|---|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.scenario} | ${fmt(r.wall)} | ${fmt(r.cpu)} | ${Math.round(r.rss)} MiB | ${r.goal} | ${r.note} |`);
console.log('\n| fingerprint | throughput |\n|---|---|');
for (const t of throughput) console.log(t);
