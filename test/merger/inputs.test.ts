/**
 * What the merger meets on real nodes: Vector's leftover tmp files, u64 extremes, corrupt and foreign files,
 * names that try to escape the data dir, and every way the merge can fail: it always fails open.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFixture, OPT_ID, entry, legacyId, targetLine } from '../helpers/node-fixture.ts';
import { U64_MAX } from '../../src/vector/checkpoints.ts';

const A = 101n;
const B = 202n;

describe('inputs as Vector leaves them', () => {
  let node: NodeFixture;
  let optimized: string;
  beforeEach(() => {
    node = new NodeFixture();
    optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b'] } });
    node.vectorFlush(legacyId('ns-a'), [entry(A, 100)], 600);
    node.vectorFlush(legacyId('ns-b'), [entry(B, 200)], 600);
  });
  afterEach(() => {
    node.cleanup();
  });

  it("reads a retiring source like Vector: a parseable checkpoints.new.json wins, an unparseable one doesn't", async () => {
    node.writeRaw(
      legacyId('ns-a'),
      'checkpoints.new.json',
      `{"version":"1","checkpoints":[{"fingerprint":{"first_lines_checksum":${A}},"position":150,"modified":"2026-11-24T10:00:00Z"}]}`,
    );
    node.writeRaw(legacyId('ns-b'), 'checkpoints.new.json', '{"version":"1","checkpoi');
    await node.merge(optimized);
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [A, 150n],
        [B, 200n],
      ]),
    );
  });

  it('removes a stale checkpoints.new.json from the target, so Vector reads the merge and not the leftover', async () => {
    node.writeRaw(
      OPT_ID,
      'checkpoints.new.json',
      `{"version":"1","checkpoints":[{"fingerprint":{"first_lines_checksum":${A}},"position":1,"modified":"2020-01-01T00:00:00Z"}]}`,
    );
    node.age(OPT_ID, 86_400);
    const s = await node.merge(optimized);
    assert.equal(s.outcome, 'migrated');
    assert.equal(node.readRaw(OPT_ID, 'checkpoints.new.json'), null);
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [A, 100n],
        [B, 200n],
      ]),
    );
  });

  it('carries u64 extremes exactly: fingerprint and position 2^64-1, and 2^53+1', async () => {
    node.vectorFlush(legacyId('ns-a'), [entry(U64_MAX, U64_MAX), entry(9007199254740993n, 9007199254740993n)], 600);
    await node.merge(optimized);
    const text = node.readRaw(OPT_ID) ?? '';
    assert.match(text, /\{"first_lines_checksum":18446744073709551615\},"position":18446744073709551615,/);
    assert.match(text, /\{"first_lines_checksum":9007199254740993\},"position":9007199254740993,/);
  });

  it('skips a corrupt retiring dir and a foreign-version one, carries the rest, and rewrites neither', async () => {
    node.writeRaw(legacyId('ns-a'), 'checkpoints.json', '{"version":"1","checkpoints":[{"fingerp');
    node.writeRaw(legacyId('ns-b'), 'checkpoints.json', '{"version":"2","checkpoints":[]}');
    node.vectorFlush(legacyId('ns-c'), [entry(303n, 300)], 600);
    const s = await node.merge(node.writeConfig('opt3.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b', 'ns-c'] } }));
    assert.deepEqual(node.positions(OPT_ID), new Map([[303n, 300n]]));
    assert.equal(node.readRaw(legacyId('ns-b')), '{"version":"2","checkpoints":[]}');
    const skipped = s.lines.filter((l) => l.msg === 'skipping source dir').map((l) => l.fields.source);
    assert.deepEqual(skipped.sort(), [legacyId('ns-a'), legacyId('ns-b')]);
  });

  it('never writes an entry Vector >= 0.51 rejects: checksum/unknown variants are dropped with a warning', async () => {
    node.writeRaw(
      legacyId('ns-a'),
      'checkpoints.json',
      `{"version":"1","checkpoints":[{"fingerprint":{"checksum":5},"position":1,"modified":"2026-11-24T10:00:00Z"},{"fingerprint":{"unknown":6},"position":1,"modified":"2026-11-24T10:00:00Z"},{"fingerprint":{"first_line_checksum":${A}},"position":100,"modified":"2026-11-24T10:00:00Z"}]}`,
    );
    const s = await node.merge(optimized);
    const text = node.readRaw(OPT_ID) ?? '';
    assert.doesNotMatch(text, /"checksum"|"unknown"|first_line_checksum/);
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [A, 100n],
        [B, 200n],
      ]),
    );
    assert.equal(s.lines.filter((l) => l.msg === 'checkpoint entry dropped').length, 2);
  });

  it('leaves a target of a foreign version alone, and replaces a corrupt target with the seed', async () => {
    node.writeRaw(OPT_ID, 'checkpoints.json', '{"version":"3","checkpoints":"future"}');
    node.age(OPT_ID, 86_400);
    const foreign = await node.merge(optimized);
    assert.equal(targetLine(foreign.lines, OPT_ID)?.action, 'skip');
    assert.equal(node.readRaw(OPT_ID), '{"version":"3","checkpoints":"future"}');
    node.writeRaw(OPT_ID, 'checkpoints.json', 'garbage');
    node.age(OPT_ID, 86_400);
    rmSync(join(node.data, '.checkpoint-merger'), { recursive: true });
    const corrupt = await node.merge(optimized);
    assert.equal(targetLine(corrupt.lines, OPT_ID)?.action, 'advance');
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [A, 100n],
        [B, 200n],
      ]),
    );
  });
});

describe('the data dir is never escaped', () => {
  let node: NodeFixture;
  beforeEach(() => {
    node = new NodeFixture();
    node.vectorFlush(legacyId('ns-a'), [entry(A, 100)], 600);
  });
  afterEach(() => {
    node.cleanup();
  });

  it("refuses source ids '.', '..' and ones containing '/' or NUL, and writes nothing outside", async () => {
    const config = join(node.root, 'evil.json');
    writeFileSync(
      config,
      JSON.stringify({
        sources: {
          '..': { type: 'kubernetes_logs' },
          '.': { type: 'kubernetes_logs' },
          '../x': { type: 'kubernetes_logs' },
          'a\u0000b': { type: 'kubernetes_logs' },
          [OPT_ID]: { type: 'kubernetes_logs' },
        },
      }),
    );
    const s = await node.merge(config);
    assert.equal(s.lines.filter((l) => l.msg === 'refusing source id').length, 4);
    assert.equal(existsSync(join(node.root, 'checkpoints.json')), false);
    assert.equal(existsSync(join(node.root, 'x')), false);
    assert.deepEqual(node.positions(OPT_ID), new Map([[A, 100n]]));
  });

  it('does not follow a symlinked target dir out of the data dir', async () => {
    const outside = join(node.root, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(node.data, OPT_ID));
    const s = await node.merge(node.writeConfig('opt.json', { sources: { [OPT_ID]: ['ns-a'] } }));
    assert.equal(targetLine(s.lines, OPT_ID)?.action, 'skip');
    assert.deepEqual(readdirSync(outside), []);
  });

  it('skips a target whose checkpoints.json is a symlink, and still seeds the other targets', async () => {
    const outside = join(node.root, 'outside.json');
    writeFileSync(outside, '{"version":"1","checkpoints":[]}');
    mkdirSync(join(node.data, 'linked'));
    symlinkSync(outside, join(node.data, 'linked', 'checkpoints.json'));
    node.age('linked', 86_400);
    const s = await node.merge(node.writeConfig('opt.json', { sources: { [OPT_ID]: ['ns-a'], linked: ['ns-a'] } }));
    assert.equal(targetLine(s.lines, 'linked')?.action, 'skip');
    assert.match(String(targetLine(s.lines, 'linked')?.reason), /cannot read the target/);
    assert.equal(readFileSync(outside, 'utf8'), '{"version":"1","checkpoints":[]}');
    assert.deepEqual(node.positions(OPT_ID), new Map([[A, 100n]]));
  });

  it('does not read a checkpoint file that is a symlink to a file outside the data dir', async () => {
    const outside = join(node.root, 'outside.json');
    writeFileSync(
      outside,
      `{"version":"1","checkpoints":[{"fingerprint":{"first_lines_checksum":${B}},"position":7,"modified":"2026-11-24T10:00:00Z"}]}`,
    );
    mkdirSync(join(node.data, legacyId('ns-b')));
    symlinkSync(outside, join(node.data, legacyId('ns-b'), 'checkpoints.json'));
    node.age(legacyId('ns-b'), 600);
    const s = await node.merge(node.writeConfig('opt.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b'] } }));
    assert.deepEqual(node.positions(OPT_ID), new Map([[A, 100n]]));
    assert.ok(s.lines.some((l) => l.msg === 'skipping source dir' && l.fields.source === legacyId('ns-b')));
  });

  it('reads checkpoints.json past a dangling checkpoints.new.json symlink, as Vector does', async () => {
    node.vectorFlush(legacyId('ns-b'), [entry(B, 200)], 600);
    symlinkSync(join(node.root, 'gone.json'), join(node.data, legacyId('ns-b'), 'checkpoints.new.json'));
    node.age(legacyId('ns-b'), 600);
    await node.merge(node.writeConfig('opt.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b'] } }));
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [A, 100n],
        [B, 200n],
      ]),
    );
  });

  it('does not read a checkpoints.new.json that is a symlink to a file outside the data dir', async () => {
    const outside = join(node.root, 'outside-new.json');
    writeFileSync(
      outside,
      `{"version":"1","checkpoints":[{"fingerprint":{"first_lines_checksum":${B}},"position":7,"modified":"2026-11-24T10:00:00Z"}]}`,
    );
    node.vectorFlush(legacyId('ns-b'), [entry(B, 200)], 600);
    symlinkSync(outside, join(node.data, legacyId('ns-b'), 'checkpoints.new.json'));
    node.age(legacyId('ns-b'), 600);
    await node.merge(node.writeConfig('opt.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b'] } }));
    assert.notEqual(node.positions(OPT_ID).get(B), 7n);
  });
});

describe('fail open', () => {
  let node: NodeFixture;
  beforeEach(() => {
    node = new NodeFixture();
    node.vectorFlush(legacyId('ns-a'), [entry(A, 100)], 600);
    node.vectorFlush(legacyId('ns-b'), [entry(B, 200)], 600);
  });
  afterEach(() => {
    node.cleanup();
  });

  it('a missing or invalid config skips the merge, writing nothing', async () => {
    const before = node.snapshot();
    const missing = await node.merge(join(node.root, 'nope.json'));
    assert.equal(missing.outcome, 'skipped');
    writeFileSync(join(node.root, 'bad.json'), '{"sources": [');
    const invalid = await node.merge(join(node.root, 'bad.json'));
    assert.equal(invalid.outcome, 'skipped');
    assert.match(invalid.error ?? '', /not JSON/);
    writeFileSync(join(node.root, 'wrong.json'), '{"sources": "x"}');
    assert.equal((await node.merge(join(node.root, 'wrong.json'))).outcome, 'skipped');
    assert.deepEqual(node.snapshot(), before);
  });

  it('a missing data dir is a failed outcome, not an exception', async () => {
    const s = await node.merge(node.writeConfig('o.json', { sources: { [OPT_ID]: ['ns-a'] } }), {
      dataDir: join(node.root, 'gone'),
    });
    assert.equal(s.outcome, 'failed');
    assert.match(s.error ?? '', /ENOENT/);
  });

  it('a target that cannot be written fails alone: the others are written and the outcome is partial', async () => {
    writeFileSync(join(node.data, 'blocked'), 'a file where a dir should be');
    const s = await node.merge(
      node.writeConfig('o.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b'], blocked: ['ns-a'] } }),
    );
    assert.equal(s.outcome, 'partial');
    assert.equal(s.failed, 1);
    assert.equal(targetLine(s.lines, 'blocked')?.action, 'failed');
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [A, 100n],
        [B, 200n],
      ]),
    );
  });

  it('a source with its own data_dir is reported as not migrated', async () => {
    const config = join(node.root, 'own.json');
    writeFileSync(
      config,
      JSON.stringify({ sources: { [OPT_ID]: { type: 'kubernetes_logs', data_dir: '/elsewhere' } } }),
    );
    const s = await node.merge(config);
    assert.equal(targetLine(s.lines, OPT_ID)?.action, 'skip');
    assert.match(String(targetLine(s.lines, OPT_ID)?.reason), /own data_dir/);
    assert.equal(existsSync(join(node.data, OPT_ID)), false);
  });
});
