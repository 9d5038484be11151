/**
 * Mode switches as a node lives them: legacy -> optimized, plain restarts, rollback with log-dir scoping,
 * re-enabling over a stale optimized dir. Real files in temp dirs; Vector's flushes are simulated.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NodeFixture, OPT_ID, entry, legacyId, targetLine } from '../helpers/node-fixture.ts';

const NSS = ['ns-a', 'ns-b', 'ns-c'];

function cri(ns: string, n: number): string {
  return `2026-11-24T10:00:00.${String(n).padStart(9, '0')}Z stdout F ${ns} pod started\n`;
}

describe('switching optimization on and off', () => {
  let node: NodeFixture;
  let legacy: string;
  let optimized: string;
  /** checksum of each namespace's log file */
  const fp: Record<string, bigint> = {};
  const size: Record<string, bigint> = {};

  beforeEach(() => {
    node = new NodeFixture();
    legacy = node.writeConfig('legacy.json', { sources: Object.fromEntries(NSS.map((ns) => [legacyId(ns), [ns]])) });
    optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: NSS } });
    NSS.forEach((ns, i) => {
      const f = node.writeLog({ ns, pod: 'web', content: cri(ns, i) + 'line\n'.repeat(100) });
      fp[ns] = f.checksum;
      size[ns] = f.size;
    });
    // Legacy has been running: each source has read its namespace's file to byte 300.
    for (const ns of NSS) node.vectorFlush(legacyId(ns), [entry(fp[ns] as bigint, 300)], 3600);
  });

  afterEach(() => {
    node.cleanup();
  });

  it('legacy -> optimized: the shared source resumes every file exactly where each legacy source stopped', async () => {
    const before = node.snapshot();
    const s = await node.merge(optimized, { standbyConfig: legacy });
    assert.equal(s.outcome, 'migrated');
    assert.equal(s.basis, 'standby-config');
    assert.equal(s.seeded, 1);
    assert.equal(s.checkpointsCarried, 3);
    assert.deepEqual(node.positions(OPT_ID), new Map(NSS.map((ns) => [fp[ns], 300n])));
    assert.deepEqual(targetLine(s.lines, OPT_ID), { source: OPT_ID, action: 'seed', applied: 3, total: 3 });
    // The retiring legacy dirs are inputs only: byte for byte untouched.
    const after = node.snapshot();
    for (const ns of NSS)
      assert.deepEqual(after.get(`${legacyId(ns)}/checkpoints.json`), before.get(`${legacyId(ns)}/checkpoints.json`));
    const journal = JSON.parse(readFileSync(join(node.data, '.checkpoint-merger', 'journal.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(journal, {
      version: 1,
      complete: true,
      previous: NSS.map((ns) => legacyId(ns)),
      current: [OPT_ID],
    });
  });

  it('a plain restart changes nothing: no byte and no mtime in the data dir moves', async () => {
    await node.merge(optimized, { standbyConfig: legacy });
    node.vectorFlush(
      OPT_ID,
      NSS.map((ns) => entry(fp[ns] as bigint, 500)),
    );
    const before = node.snapshot();
    const s = await node.merge(optimized, { standbyConfig: legacy });
    assert.equal(s.outcome, 'unchanged');
    assert.equal(s.basis, 'journal');
    assert.equal(s.continuing, 1);
    assert.deepEqual(node.snapshot(), before);
  });

  it('running the same migration twice is idempotent: the second run writes nothing', async () => {
    await node.merge(optimized, { standbyConfig: legacy });
    const before = node.snapshot();
    const again = await node.merge(optimized, { standbyConfig: legacy });
    assert.equal(again.outcome, 'unchanged');
    assert.deepEqual(node.snapshot(), before);
  });

  it('rollback to legacy with --log-dir: each legacy source gets only its own namespace, at the optimized positions', async () => {
    await node.merge(optimized, { standbyConfig: legacy });
    // Optimized ran; ns-c's file was truncated and rewritten with the same first line (position now past its end),
    // and ns-b's legacy dir still remembers a file that has since been deleted from the node.
    node.vectorFlush(OPT_ID, [
      entry(fp['ns-a'] as bigint, 450),
      entry(fp['ns-b'] as bigint, 460),
      entry(fp['ns-c'] as bigint, 9999),
      entry(77n, 10),
    ]);
    node.vectorFlush(legacyId('ns-b'), [entry(fp['ns-b'] as bigint, 300), entry(123456n, 40)], 3600);
    const s = await node.merge(legacy, { standbyConfig: optimized, logDir: node.pods });
    assert.equal(s.outcome, 'migrated');
    assert.equal(s.advanced, 3);
    assert.deepEqual(node.positions(legacyId('ns-a')), new Map([[fp['ns-a'], 450n]]));
    // The deleted file's entry (123456) is dropped; optimized's entry 77 has no file on the node and goes nowhere.
    assert.deepEqual(node.positions(legacyId('ns-b')), new Map([[fp['ns-b'], 460n]]));
    assert.deepEqual(node.positions(legacyId('ns-c')), new Map([[fp['ns-c'], 9999n]]));
    assert.equal(targetLine(s.lines, legacyId('ns-b'))?.droppedGone, 1);
    assert.equal(targetLine(s.lines, legacyId('ns-c'))?.beyondEnd, 1);
    assert.equal(s.beyondEnd, 1);
    assert.ok(9999n > (size['ns-c'] as bigint));
  });

  it('rollback without --log-dir falls back to the full union in every legacy source', async () => {
    await node.merge(optimized, { standbyConfig: legacy });
    node.vectorFlush(
      OPT_ID,
      NSS.map((ns) => entry(fp[ns] as bigint, 450)),
    );
    await node.merge(legacy, { standbyConfig: optimized });
    assert.deepEqual(node.positions(legacyId('ns-a')), new Map(NSS.map((ns) => [fp[ns], 450n])));
  });

  it('with the standby config, each chunk of a collapsed group gets only the files of its own namespaces', async () => {
    const chunked = node.writeConfig('chunked.json', {
      sources: { [`${OPT_ID}-0`]: ['ns-a', 'ns-b'], [`${OPT_ID}-1`]: ['ns-c'] },
    });
    await node.merge(chunked, { standbyConfig: legacy });
    assert.deepEqual(
      node.positions(`${OPT_ID}-0`),
      new Map([
        [fp['ns-a'], 300n],
        [fp['ns-b'], 300n],
      ]),
    );
    assert.deepEqual(node.positions(`${OPT_ID}-1`), new Map([[fp['ns-c'], 300n]]));
  });

  it('a gzip standby config (compressConfigFile mounts its Secret as stored) scopes the seeds as a plain one does', async () => {
    const chunked = node.writeConfig('chunked.json', {
      sources: { [`${OPT_ID}-0`]: ['ns-a', 'ns-b'], [`${OPT_ID}-1`]: ['ns-c'] },
    });
    writeFileSync(legacy, gzipSync(readFileSync(legacy)));
    const s = await node.merge(chunked, { standbyConfig: legacy });
    assert.equal(s.basis, 'standby-config');
    assert.deepEqual(
      s.lines.filter((l) => l.level === 'warn'),
      [],
    );
    assert.deepEqual(node.positions(`${OPT_ID}-1`), new Map([[fp['ns-c'], 300n]]));
  });

  it('re-enabling optimization over a stale optimized dir advances it from the legacy sources, not its stale positions', async () => {
    await node.merge(optimized, { standbyConfig: legacy });
    node.vectorFlush(
      OPT_ID,
      NSS.map((ns) => entry(fp[ns] as bigint, 400)),
    );
    await node.merge(legacy, { standbyConfig: optimized, logDir: node.pods });
    // Legacy runs again and reads on to 520; the optimized dir is left behind at 400.
    for (const ns of NSS) node.vectorFlush(legacyId(ns), [entry(fp[ns] as bigint, 520)]);
    const s = await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods });
    assert.equal(s.outcome, 'migrated');
    assert.deepEqual(targetLine(s.lines, OPT_ID), { source: OPT_ID, action: 'advance', applied: 3, total: 3 });
    assert.deepEqual(node.positions(OPT_ID), new Map(NSS.map((ns) => [fp[ns], 520n])));
  });

  it('re-enabling also works on a first run with no journal and no standby config (judged by file mtimes)', async () => {
    // A stale optimized dir from long ago, older than every legacy dir by far.
    node.vectorFlush(
      OPT_ID,
      NSS.map((ns) => entry(fp[ns] as bigint, 100)),
      86_400,
    );
    const s = await node.merge(optimized);
    assert.equal(s.basis, 'file-mtimes');
    assert.deepEqual(node.positions(OPT_ID), new Map(NSS.map((ns) => [fp[ns], 300n])));
  });
});
