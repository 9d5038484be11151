/**
 * Positions move with the duty: only sources live before this start are authoritative, continuing sources are
 * never touched (the lagging opted-out pipeline keeps its backlog), and the position policy decides between
 * several retiring readers of one file.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFixture, OPT_ID, entry, legacyId, targetLine } from '../helpers/node-fixture.ts';
import { decideLiveness, STALE_MARGIN_NS } from '../../src/merger/liveness.ts';

const A = 101n; // ns-a's log file
const B = 202n; // ns-b's log file

describe('a lagging pipeline keeps its backlog', () => {
  let node: NodeFixture;
  beforeEach(() => {
    node = new NodeFixture();
  });
  afterEach(() => {
    node.cleanup();
  });

  it('an opted-out source that lags stays at its own position across a switch and every restart after it', async () => {
    // Pipeline q on ns-a is opted out of optimization (its sink is stuck): it exists in both modes and lags at 100.
    const legacy = node.writeConfig('legacy.json', {
      sources: { [legacyId('ns-a')]: ['ns-a'], [legacyId('ns-a', 'q')]: ['ns-a'], [legacyId('ns-b')]: ['ns-b'] },
    });
    const optimized = node.writeConfig('optimized.json', {
      sources: { [OPT_ID]: ['ns-a', 'ns-b'], [legacyId('ns-a', 'q')]: ['ns-a'] },
    });
    node.vectorFlush(legacyId('ns-a'), [entry(A, 1000)], 600);
    node.vectorFlush(legacyId('ns-a', 'q'), [entry(A, 100)], 600);
    node.vectorFlush(legacyId('ns-b'), [entry(B, 2000)], 600);
    const lagging = node.readRaw(legacyId('ns-a', 'q'));

    const s = await node.merge(optimized, { standbyConfig: legacy });
    assert.equal(s.outcome, 'migrated');
    assert.equal(targetLine(s.lines, legacyId('ns-a', 'q'))?.action, 'continuing');
    assert.equal(node.readRaw(legacyId('ns-a', 'q')), lagging);
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [A, 1000n],
        [B, 2000n],
      ]),
    );

    // Both run on; the shared source is far ahead, q still lags. Restarts must not drag q forward (the Go merger does).
    node.vectorFlush(OPT_ID, [entry(A, 5000), entry(B, 6000)]);
    node.vectorFlush(legacyId('ns-a', 'q'), [entry(A, 150)]);
    for (let restart = 0; restart < 3; restart++) {
      const r = await node.merge(optimized, { standbyConfig: legacy });
      assert.equal(r.outcome, 'unchanged');
      assert.deepEqual(node.positions(legacyId('ns-a', 'q')), new Map([[A, 150n]]));
    }
  });

  it('policy min: a file read by a fast and a lagging retiring pipeline resumes at the laggard, losing nothing', async () => {
    const legacy = node.writeConfig('legacy.json', {
      sources: { [legacyId('ns-a')]: ['ns-a'], [legacyId('ns-a', 'r')]: ['ns-a'] },
    });
    const optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b'] } });
    node.vectorFlush(legacyId('ns-a'), [entry(A, 1000, '2026-11-24T10:00:05Z')], 600);
    node.vectorFlush(legacyId('ns-a', 'r'), [entry(A, 100, '2026-11-24T09:00:00Z')], 600);
    await node.merge(optimized, { standbyConfig: legacy });
    assert.deepEqual(node.positions(OPT_ID), new Map([[A, 100n]]));
    // modified is the newest of the two, keeping the entry clear of ignore_older_secs.
    assert.match(node.readRaw(OPT_ID) ?? '', /"modified":"2026-11-24T10:00:05Z"/);
  });

  it('policy max: the same switch resumes at the fast pipeline (no duplicates, the laggard loses its backlog)', async () => {
    const legacy = node.writeConfig('legacy.json', {
      sources: { [legacyId('ns-a')]: ['ns-a'], [legacyId('ns-a', 'r')]: ['ns-a'] },
    });
    const optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a'] } });
    node.vectorFlush(legacyId('ns-a'), [entry(A, 1000)], 600);
    node.vectorFlush(legacyId('ns-a', 'r'), [entry(A, 100)], 600);
    await node.merge(optimized, { standbyConfig: legacy, policy: 'max' });
    assert.deepEqual(node.positions(OPT_ID), new Map([[A, 1000n]]));
  });
});

describe('knowing who was live before this start', () => {
  let node: NodeFixture;
  beforeEach(() => {
    node = new NodeFixture();
  });
  afterEach(() => {
    node.cleanup();
  });

  it('a source added by a live config reload (never seen by the merger) is live, and its positions carry at the next switch', async () => {
    const two = node.writeConfig('two.json', {
      sources: { [legacyId('ns-a')]: ['ns-a'], [legacyId('ns-b')]: ['ns-b'] },
    });
    const three = node.writeConfig('three.json', {
      sources: { [legacyId('ns-a')]: ['ns-a'], [legacyId('ns-b')]: ['ns-b'], [legacyId('ns-c')]: ['ns-c'] },
    });
    const optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b', 'ns-c'] } });
    node.vectorFlush(legacyId('ns-a'), [entry(A, 10)], 600);
    node.vectorFlush(legacyId('ns-b'), [entry(B, 20)], 600);
    await node.merge(two); // the journal now says: ns-a, ns-b
    // A pipeline for ns-c arrives by live reload: Vector creates and flushes its source without a restart.
    node.vectorFlush(legacyId('ns-c'), [entry(303n, 30)]);
    const restart = await node.merge(three);
    assert.equal(targetLine(restart.lines, legacyId('ns-c'))?.action, 'continuing');
    const s = await node.merge(optimized);
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [A, 10n],
        [B, 20n],
        [303n, 30n],
      ]),
    );
    assert.equal(s.basis, 'journal');
  });

  it('a merger killed half-way is recognised at the next start, which repeats the same decision', async () => {
    const optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b'] } });
    node.vectorFlush(legacyId('ns-a'), [entry(A, 10)], 600);
    node.vectorFlush(legacyId('ns-b'), [entry(B, 20)], 600);
    // The interrupted run had written its intent; a later flush of an unrelated dir must not sway the decision.
    mkdirSync(join(node.data, '.checkpoint-merger'));
    writeFileSync(
      join(node.data, '.checkpoint-merger', 'journal.json'),
      JSON.stringify({
        version: 1,
        complete: false,
        previous: [legacyId('ns-a'), legacyId('ns-b')],
        current: [OPT_ID],
      }),
    );
    node.vectorFlush('unrelated-old-source', [entry(999n, 1)]);
    const s = await node.merge(optimized);
    assert.equal(s.basis, 'interrupted-run');
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [A, 10n],
        [B, 20n],
      ]),
    );
  });

  it('an unreadable journal is ignored with a warning, never fatal', async () => {
    const optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a'] } });
    node.vectorFlush(legacyId('ns-a'), [entry(A, 10)], 600);
    mkdirSync(join(node.data, '.checkpoint-merger'));
    writeFileSync(join(node.data, '.checkpoint-merger', 'journal.json'), '{not json');
    const s = await node.merge(optimized);
    assert.equal(s.outcome, 'migrated');
    assert.ok(s.lines.some((l) => l.level === 'warn' && l.msg === 'ignoring unreadable journal'));
  });

  it('the standby config is read only when needed: not at a plain restart, once at a first-run switch', async () => {
    const optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a'] } });
    const broken = node.writeConfig('standby.json', { sources: {} });
    writeFileSync(broken, '{not json');
    node.vectorFlush(legacyId('ns-a'), [entry(A, 10)], 600);
    const unusable = (lines: { msg: string }[]) =>
      lines.filter((l) => l.msg === 'standby config unusable, judging liveness without it').length;
    const first = await node.merge(optimized, { standbyConfig: broken });
    assert.equal(first.outcome, 'migrated');
    assert.equal(unusable(first.lines), 1, 'read once for liveness, not again to scope the seeds');
    const restart = await node.merge(optimized, { standbyConfig: broken });
    assert.equal(restart.outcome, 'unchanged');
    assert.equal(unusable(restart.lines), 0, 'a plain restart has a journal and nothing to seed');
  });
});

describe('decideLiveness (pure)', () => {
  const sec = 1_000_000_000n;
  const dirs = (xs: [string, bigint][]) => xs.map(([id, mtimeNs]) => ({ id, mtimeNs }));
  /** A dir whose mtime must not be read: reading it is a system call per dir (merger/datadir.ts). */
  const unread = (id: string) => ({
    id,
    get mtimeNs(): bigint {
      throw new Error(`mtime of ${id} read`);
    },
  });

  it('with the standby config, the set whose own dirs were written last ran last, and common sources count for both', () => {
    const input = {
      active: new Set(['opt', 'common']),
      activeComponents: new Set(['opt', 'common']),
      standby: new Set(['l1', 'l2', 'common']),
      journal: null,
      dirs: dirs([
        ['l1', 100n * sec],
        ['l2', 101n * sec],
        ['common', 500n * sec],
        ['opt', 50n * sec],
      ]),
    };
    assert.deepEqual([...decideLiveness(input).liveBefore].sort(), ['common', 'l1', 'l2']);
    const optRanLast = {
      ...input,
      dirs: dirs([
        ['l1', 100n * sec],
        ['common', 1n * sec],
        ['opt', 200n * sec],
      ]),
    };
    assert.deepEqual([...decideLiveness(optRanLast).liveBefore].sort(), ['common', 'opt']);
  });

  it('a first switch (the new side has no dirs yet) is decided without reading a single mtime', () => {
    const r = decideLiveness({
      active: new Set(['opt']),
      activeComponents: new Set(['opt']),
      standby: new Set(['l1', 'l2']),
      journal: null,
      dirs: [unread('l1'), unread('l2')],
    });
    assert.equal(r.basis, 'standby-config');
    assert.deepEqual([...r.liveBefore].sort(), ['l1', 'l2']);
  });

  it('without journal or standby, a first switch (no active dir yet) reads no mtime either', () => {
    const r = decideLiveness({
      active: new Set(['opt']),
      activeComponents: new Set(['opt', 'sink']),
      standby: null,
      journal: null,
      dirs: [unread('l1'), unread('l2')],
    });
    assert.equal(r.basis, 'file-mtimes');
    assert.deepEqual([...r.liveBefore].sort(), ['l1', 'l2']);
  });

  it('with a journal, a dir it already counts as live is not statted', () => {
    const journal = { complete: true, previous: [], current: ['a', 'b'], mtimeNs: 1000n * sec };
    const r = decideLiveness({
      active: new Set(['a', 'b']),
      activeComponents: new Set(['a', 'b']),
      standby: null,
      journal,
      dirs: [unread('a'), unread('b'), { id: 'reloaded', mtimeNs: 2000n * sec }, { id: 'old', mtimeNs: 10n * sec }],
    });
    assert.deepEqual([...r.liveBefore].sort(), ['a', 'b', 'reloaded']);
  });

  it('quiet dirs are judged by the file, not by how old their entries are: a day-old dir in the live set is live', () => {
    const journal = { complete: true, previous: [], current: ['quiet', 'busy'], mtimeNs: 1000n * sec };
    const r = decideLiveness({
      active: new Set(['quiet', 'busy']),
      activeComponents: new Set(['quiet', 'busy']),
      standby: null,
      journal,
      dirs: dirs([
        ['quiet', 10n * sec],
        ['busy', 2000n * sec],
      ]),
    });
    assert.deepEqual([...r.liveBefore].sort(), ['busy', 'quiet']);
  });

  it('without journal or standby, an active dir is stale only when older than every other dir by the margin', () => {
    const base = { active: new Set(['opt']), activeComponents: new Set(['opt', 'sink']), standby: null, journal: null };
    const other = 1000n * sec;
    const justOlder = decideLiveness({
      ...base,
      dirs: dirs([
        ['legacy', other],
        ['opt', other - STALE_MARGIN_NS + 1n],
      ]),
    });
    assert.ok(justOlder.liveBefore.has('opt'));
    const muchOlder = decideLiveness({
      ...base,
      dirs: dirs([
        ['legacy', other],
        ['opt', other - STALE_MARGIN_NS - 1n],
      ]),
    });
    assert.ok(!muchOlder.liveBefore.has('opt'));
    assert.ok(muchOlder.liveBefore.has('legacy'));
  });
});
