import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runBin } from '../helpers/bin.ts';
import { NodeFixture, OPT_ID, entry, legacyId } from '../helpers/node-fixture.ts';
import { oracle } from '../helpers/oracle.ts';

describe('checkpoint-merger CLI', () => {
  const node = new NodeFixture();
  let optimized: string;
  before(() => {
    optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b'] } });
    node.vectorFlush(legacyId('ns-a'), [entry(11n, 100)], 600);
    node.vectorFlush(legacyId('ns-b'), [entry(22n, 200)], 600);
  });
  after(() => {
    node.cleanup();
  });

  it('fingerprint prints "<decimal u64>\\t<path>" or "not-ready\\t<path>", as the oracle computes', () => {
    const ready = node.writeLog({
      ns: 'ns-a',
      pod: 'p',
      content: '2026-11-24T10:00:00.000000001Z stdout F hi\nmore\n',
    }).path;
    const gz = join(node.root, 'r.log.gz');
    writeFileSync(gz, gzipSync(readFileSync(ready)));
    const partial = join(node.root, 'partial.log');
    writeFileSync(partial, 'no newline');
    const r = runBin('checkpoint-merger', ['fingerprint', ready, gz, partial]);
    assert.equal(r.status, 0);
    const want = oracle(
      'for p in sys.argv[1:] if False else sys.stdin.read().split():\n    f = vf.fingerprint(p)\n    print(("not-ready" if f is None else str(f)) + "\\t" + p)',
      [ready, gz, partial].join('\n'),
    );
    assert.equal(r.stdout, want);
  });

  it('fingerprint of a missing file says so and exits 1', () => {
    const r = runBin('checkpoint-merger', ['fingerprint', join(node.root, 'missing.log')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /missing\.log: ENOENT/);
  });

  it('merges with Go-style flags as kaasops passes them, and writes the summary to the termination-message file', () => {
    const summaryFile = join(node.root, 'termination-log');
    const r = runBin('checkpoint-merger', [
      `-config=${optimized}`,
      `-data-dir=${node.data}`,
      '--summary-file',
      summaryFile,
    ]);
    assert.equal(r.status, 0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['build info', 'target', 'summary'],
    );
    assert.deepEqual(
      { source: lines[1]?.source, action: lines[1]?.action, applied: lines[1]?.applied, total: lines[1]?.total },
      { source: OPT_ID, action: 'seed', applied: 2, total: 2 },
    );
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Record<string, unknown>;
    assert.equal(summary.outcome, 'migrated');
    assert.equal(summary.checkpointsCarried, 2);
    assert.ok(readFileSync(summaryFile).length < 4096, 'the kubelet keeps at most 4 KiB of a termination message');
  });

  it('inspect shows each source dir with its state, entries and newest modified; --json is machine-readable', () => {
    node.writeRaw(
      'broken',
      'checkpoints.json',
      '{"version":"1","checkpoints":[{"fingerprint":{"checksum":1},"position":1,"modified":"2026-01-01T00:00:00Z"}]}',
    );
    const json = runBin('checkpoint-merger', ['inspect', '--data-dir', node.data, '--json']);
    assert.equal(json.status, 0);
    const report = JSON.parse(json.stdout) as {
      dirs: { source: string; state: string; entries: number; newestModified: string | null }[];
      journal: { state: string };
    };
    const bySource = new Map(report.dirs.map((d) => [d.source, d]));
    assert.deepEqual(
      { state: bySource.get(legacyId('ns-a'))?.state, entries: bySource.get(legacyId('ns-a'))?.entries },
      { state: 'ok', entries: 1 },
    );
    assert.equal(bySource.get('broken')?.state, 'vector-rejects');
    assert.equal(report.journal.state, 'complete');
    const text = runBin('checkpoint-merger', ['inspect', '--data-dir', node.data]);
    assert.match(text.stdout, /^SOURCE\s+STATE\s+ENTRIES\s+NEWEST MODIFIED/);
    assert.match(text.stdout, /broken: entry 0 dropped: fingerprint variant 'checksum'/);
  });

  it('always exits 0 from the merge: missing config, missing data dir, bad flags, bad policy', () => {
    for (const args of [
      ['--config', join(node.root, 'none.json'), '--data-dir', node.data, '--summary-file', ''],
      ['--config', optimized, '--data-dir', join(node.root, 'none'), '--summary-file', ''],
      ['--no-such-flag'],
      ['--config', optimized, '--data-dir', node.data, '--position-policy', 'median', '--summary-file', ''],
    ]) {
      const r = runBin('checkpoint-merger', args);
      assert.equal(r.status, 0, args.join(' '));
      assert.match(r.stdout, /"level":"(warn|error)"/, args.join(' '));
    }
  });

  it('reads a gzip config as compressConfigFile stores it, and loads zlib only then (it costs every start ~3 ms)', () => {
    const own = new NodeFixture();
    try {
      const legacy = own.writeConfig('legacy.json', { sources: { [legacyId('ns-a')]: ['ns-a'] } });
      const opt = own.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a'] } });
      const packed = join(own.root, 'legacy.json.gz');
      writeFileSync(packed, gzipSync(readFileSync(legacy)));
      own.vectorFlush(legacyId('ns-a'), [entry(11n, 100)], 600);
      // At exit, the preload reports whether zlib was ever loaded.
      const preload = join(own.root, 'report-zlib.cjs');
      writeFileSync(
        preload,
        "process.on('exit', () => process.stderr.write('zlib:' + process.moduleLoadList.includes('NativeModule zlib')));",
      );
      const run = (config: string, standby: string): { summary: Record<string, unknown>; zlib: string } => {
        const r = runBin(
          'checkpoint-merger',
          ['--config', config, '--standby-config', standby, '--data-dir', own.data, '--summary-file', ''],
          { env: { ...process.env, NODE_OPTIONS: `--require ${preload}` } },
        );
        assert.equal(r.status, 0);
        assert.doesNotMatch(r.stdout, /"level":"(warn|error)"/);
        const last = r.stdout.trim().split('\n').at(-1) ?? '';
        return { summary: JSON.parse(last) as Record<string, unknown>, zlib: r.stderr };
      };
      const plain = run(opt, legacy);
      assert.deepEqual(
        [plain.summary.outcome, plain.summary.basis, plain.zlib],
        ['migrated', 'standby-config', 'zlib:false'],
      );
      // The optimized source reads on; back to legacy, with the active config gzip this time.
      own.vectorFlush(OPT_ID, [entry(11n, 150)]);
      const gz = run(packed, opt);
      assert.deepEqual([gz.summary.outcome, gz.zlib], ['migrated', 'zlib:true']);
      assert.deepEqual(own.positions(legacyId('ns-a')), new Map([[11n, 150n]]));
    } finally {
      own.cleanup();
    }
  });

  it('prints its version and usage', () => {
    assert.match(runBin('checkpoint-merger', ['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
    assert.match(runBin('checkpoint-merger', ['--help']).stdout, /checkpoint-merger inspect --data-dir D/);
  });
});
