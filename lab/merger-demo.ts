/**
 * `npm start` until the stand exists: checkpoint migration on one simulated node, with the real merger.
 *
 * It renders both optimization modes from generated VectorPipelines with the real config builder, writes pod log
 * files and the checkpoints a legacy Vector would have left, then runs the compiled `checkpoint-merger` CLI through
 * legacy -> optimized, a plain restart, and a rollback. Re-delivery and loss are measured from the checkpoint files
 * the merger wrote, per log file, never assumed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execPath } from 'node:process';
import { fileURLToPath } from 'node:url';
import { buildModes } from '../src/pipelines/modes.ts';
import type { Pipeline, Vector } from '../src/pipelines/schemas.ts';
import { crc64 } from '../src/vector/crc64.ts';
import { fingerprintKey, parseCheckpoints, serializeCheckpoints, type Checkpoint } from '../src/vector/checkpoints.ts';

const NAMESPACES = 40;
const PODS = 3;
const merger = fileURLToPath(new URL('../src/cli/checkpoint-merger.js', import.meta.url));

interface LogFile {
  ns: string;
  path: string;
  checksum: bigint;
  /** Byte offset of the end of each line. */
  lineEnds: number[];
}

function line(ns: string, pod: number, n: number): string {
  const ts = new Date(Date.UTC(2026, 10, 24, 10, 0, 0) + n * 1000).toISOString().replace('Z', '000000Z');
  return `${ts} stdout F ${ns} pod-${pod} line ${n} ${'x'.repeat(40)}\n`;
}

function writeLog(pods: string, ns: string, pod: number, lines: number): LogFile {
  const dir = join(pods, `${ns}_pod-${pod}_00000000-0000-4000-8000-${String(pod).padStart(12, '0')}`, 'app');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, '0.log');
  const text = Array.from({ length: lines }, (_, n) => line(ns, pod, n)).join('');
  writeFileSync(path, text);
  const first = Buffer.from(line(ns, pod, 0));
  const lineEnds: number[] = [];
  let at = 0;
  for (let n = 0; n < lines; n++) lineEnds.push((at += Buffer.byteLength(line(ns, pod, n))));
  return { ns, path, checksum: crc64(first), lineEnds };
}

function appendLines(f: LogFile, pod: number, count: number): void {
  const start = f.lineEnds.length;
  let at = f.lineEnds.at(-1) ?? 0;
  let text = '';
  for (let n = start; n < start + count; n++) {
    text += line(f.ns, pod, n);
    f.lineEnds.push((at += Buffer.byteLength(line(f.ns, pod, n))));
  }
  appendFileSync(f.path, text);
}

function linesBefore(f: LogFile, position: bigint): number {
  return f.lineEnds.filter((end) => BigInt(end) <= position).length;
}

function entry(checksum: bigint, position: number): Checkpoint {
  const modified = new Date().toISOString();
  return {
    fingerprint: { kind: 'first_lines_checksum', checksum },
    position: BigInt(position),
    modified,
    modifiedNs: 0n,
  };
}

function flush(data: string, source: string, entries: Checkpoint[]): void {
  mkdirSync(join(data, source), { recursive: true });
  writeFileSync(join(data, source, 'checkpoints.new.json'), serializeCheckpoints(entries));
  spawnSync('mv', [join(data, source, 'checkpoints.new.json'), join(data, source, 'checkpoints.json')]);
}

function positions(data: string, source: string): Map<string, bigint> {
  const parsed = parseCheckpoints(readFileSync(join(data, source, 'checkpoints.json'), 'utf8'));
  if (parsed.kind !== 'ok') throw new Error(`${source}: unreadable checkpoints`);
  return new Map(parsed.checkpoints.map((c) => [fingerprintKey(c.fingerprint), c.position]));
}

function runMerger(args: string[]): Record<string, unknown> {
  const r = spawnSync(execPath, [merger, ...args, '--summary-file', ''], { encoding: 'utf8' });
  const summary = r.stdout.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(summary) as Record<string, unknown>;
}

/** Re-read and lost lines when `source` resumes every file in `files` where the merger put it, vs `truth`. */
function measure(files: LogFile[], data: string, sourceFor: (f: LogFile) => string, truth: (f: LogFile) => number) {
  let reread = 0;
  let lost = 0;
  let withoutMerger = 0;
  for (const f of files) {
    const read = truth(f);
    const resumed = linesBefore(f, positions(data, sourceFor(f)).get(`c${f.checksum}`) ?? 0n);
    reread += Math.max(0, read - resumed);
    lost += Math.max(0, resumed - read);
    withoutMerger += read;
  }
  return { reread, lost, withoutMerger };
}

const root = mkdtempSync(join(tmpdir(), 'vector-operator-demo-'));
try {
  const data = join(root, 'data');
  const pods = join(root, 'pods');
  mkdirSync(data);
  const nss = Array.from({ length: NAMESPACES }, (_, i) => `team-${String(i).padStart(2, '0')}`);
  const vector: Vector = { kind: 'Vector', metadata: { name: 'agent', namespace: 'vector' }, spec: {} };
  const pipelines: Pipeline[] = nss.map((ns) => ({
    kind: 'VectorPipeline',
    metadata: { name: 'logs', namespace: ns },
    spec: { sources: { pods: { type: 'kubernetes_logs' } }, sinks: { out: { type: 'blackhole', inputs: ['pods'] } } },
  }));
  const modes = buildModes(vector, pipelines, { optimize: true });
  writeFileSync(join(root, 'optimized.json'), modes.active.json);
  writeFileSync(join(root, 'legacy.json'), modes.standby.json);
  const k8sSources = (json: string) =>
    Object.entries((JSON.parse(json) as { sources: Record<string, { type: string }> }).sources).filter(
      ([, s]) => s.type === 'kubernetes_logs',
    );
  const legacySources = k8sSources(modes.standby.json).length;
  const optimizedSources = k8sSources(modes.active.json);

  const files: { f: LogFile; pod: number }[] = [];
  for (const ns of nss) for (let p = 0; p < PODS; p++) files.push({ f: writeLog(pods, ns, p, 200 + 37 * p), pod: p });
  // Legacy Vector ran: each namespace's source read its files, up to 90 % (the rest is still to come).
  const legacyRead = new Map<LogFile, number>();
  for (const ns of nss) {
    const mine = files.filter((x) => x.f.ns === ns);
    const entries = mine.map(({ f }) => {
      const n = Math.floor(f.lineEnds.length * 0.9);
      legacyRead.set(f, n);
      return entry(f.checksum, f.lineEnds[n - 1] ?? 0);
    });
    flush(data, `${ns}-logs-pods`, entries);
  }
  const all = files.map((x) => x.f);
  const optId = optimizedSources[0]?.[0] ?? '';
  const common = ['--data-dir', data, '--log-dir', pods];
  const rows: string[][] = [];

  const s1 = runMerger([
    '--config',
    join(root, 'optimized.json'),
    '--standby-config',
    join(root, 'legacy.json'),
    ...common,
  ]);
  const m1 = measure(
    all,
    data,
    () => optId,
    (f) => legacyRead.get(f) ?? 0,
  );
  rows.push([
    'legacy -> optimized',
    String(s1.outcome),
    String(s1.checkpointsCarried),
    String(m1.withoutMerger),
    String(m1.reread),
    String(m1.lost),
  ]);

  const s2 = runMerger([
    '--config',
    join(root, 'optimized.json'),
    '--standby-config',
    join(root, 'legacy.json'),
    ...common,
  ]);
  rows.push(['restart (no change)', String(s2.outcome), String(s2.checkpointsCarried), '0', '0', '0']);

  // Optimized ran: 50 new lines per file, all read.
  const optRead = new Map<LogFile, number>();
  for (const { f, pod } of files) {
    appendLines(f, pod, 50);
    optRead.set(f, f.lineEnds.length);
  }
  flush(
    data,
    optId,
    all.map((f) => entry(f.checksum, f.lineEnds.at(-1) ?? 0)),
  );
  const s3 = runMerger([
    '--config',
    join(root, 'legacy.json'),
    '--standby-config',
    join(root, 'optimized.json'),
    ...common,
  ]);
  const m3 = measure(
    all,
    data,
    (f) => `${f.ns}-logs-pods`,
    (f) => optRead.get(f) ?? 0,
  );
  rows.push([
    'rollback -> legacy',
    String(s3.outcome),
    String(s3.checkpointsCarried),
    String(m3.withoutMerger),
    String(m3.reread),
    String(m3.lost),
  ]);

  const head = [
    'switch',
    'merger outcome',
    'checkpoints carried',
    'lines re-read without merger',
    're-read with merger',
    'lost',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  process.stdout.write(
    [
      'vector-operator demo: checkpoint migration on one simulated node',
      '(the full stand, with the API server stand-in, the operator and a Vector simulator, replaces this demo)',
      '',
      `${pipelines.length} VectorPipelines rendered in both modes: legacy ${legacySources} kubernetes_logs sources (${3 * legacySources} watches),`,
      `optimized ${optimizedSources.length} (${3 * optimizedSources.length} watches); ${all.length} pod log files on the node.`,
      '',
      fmt(head),
      ...rows.map(fmt),
      '',
      `Each switch ran the real checkpoint-merger CLI (${String(s1.basis)}, then ${String(s3.basis)} basis); files are in`,
      'a temp dir that is removed afterwards. See docs/checkpoint-merger.md.',
      '',
    ].join('\n'),
  );
  if (m1.reread + m1.lost + m3.reread + m3.lost !== 0) process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
