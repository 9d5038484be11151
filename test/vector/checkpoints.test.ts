import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCheckpoints, serializeCheckpoints, U64_MAX, type Checkpoint } from '../../src/vector/checkpoints.ts';
import { compareRfc3339, isRfc3339, parseRfc3339 } from '../../src/vector/timestamp.ts';
import { oracle } from '../helpers/oracle.ts';

/** The literal example of reference vector-checkpoints.md §2, as Vector writes it. */
const REFERENCE =
  '{"version":"1","checkpoints":[{"fingerprint":{"first_lines_checksum":1279482062628298237},"position":71,"modified":"2025-11-03T09:12:44.123456789Z"},{"fingerprint":{"first_lines_checksum":12732378475522658459},"position":46,"modified":"2025-11-03T09:13:44.500Z"},{"fingerprint":{"dev_inode":[64769,1835017]},"position":1234,"modified":"2025-11-03T09:13:45Z"}]}';

function ok(text: string) {
  const r = parseCheckpoints(text);
  if (r.kind !== 'ok') assert.fail(`expected ok, got ${r.kind}`);
  return r;
}

function doc(entries: string[], version = '"1"'): string {
  return `{"version":${version},"checkpoints":[${entries.join(',')}]}`;
}

function flc(
  checksum: string,
  position: string,
  modified = '"2025-11-03T09:13:45Z"',
  key = 'first_lines_checksum',
): string {
  return `{"fingerprint":{"${key}":${checksum}},"position":${position},"modified":${modified}}`;
}

describe('checkpoints.json v1', () => {
  it("round-trips the reference's literal example byte for byte", () => {
    const r = ok(REFERENCE);
    assert.equal(r.vectorAccepts, true);
    assert.deepEqual(r.problems, []);
    assert.equal(serializeCheckpoints(r.checkpoints), REFERENCE);
  });

  it('keeps u64 values exact at the extremes: 0, 2^53+1, 2^64-1', () => {
    const r = ok(
      doc([
        flc('18446744073709551615', '18446744073709551615'),
        flc('9007199254740993', '9007199254740993'),
        flc('0', '0'),
      ]),
    );
    assert.deepEqual(
      r.checkpoints.map((c) => [c.fingerprint.kind === 'first_lines_checksum' && c.fingerprint.checksum, c.position]),
      [
        [0n, 0n],
        [9007199254740993n, 9007199254740993n],
        [U64_MAX, U64_MAX],
      ],
    );
    assert.match(
      serializeCheckpoints(r.checkpoints),
      /"first_lines_checksum":18446744073709551615\},"position":18446744073709551615/,
    );
    assert.match(serializeCheckpoints(r.checkpoints), /9007199254740993/);
  });

  it('drops, with a reason, every number Vector would refuse as a u64', () => {
    for (const bad of ['18446744073709551616', '-1', '1.0', '1e3', '"5"', 'null', 'true']) {
      const r = ok(doc([flc('7', '1'), flc('8', bad)]));
      assert.equal(r.checkpoints.length, 1, bad);
      assert.equal(r.vectorAccepts, false);
      assert.match(r.problems[0] ?? '', /position is not a u64/, bad);
    }
  });

  it('reads the first_line_checksum alias and writes first_lines_checksum', () => {
    const r = ok(doc([flc('42', '7', '"2025-11-03T09:13:45Z"', 'first_line_checksum')]));
    assert.equal(r.vectorAccepts, true);
    assert.equal(serializeCheckpoints(r.checkpoints), doc([flc('42', '7')]));
  });

  it('drops checksum and unknown variants and a missing modified, which Vector >= 0.51 rejects', () => {
    const r = ok(
      doc([
        flc('5', '1', '"2025-11-03T09:13:45Z"', 'checksum'),
        flc('6', '1', '"2025-11-03T09:13:45Z"', 'unknown'),
        '{"fingerprint":{"first_lines_checksum":7},"position":1}',
        flc('8', '1', '"yesterday"'),
        flc('9', '3'),
      ]),
    );
    assert.equal(r.vectorAccepts, false);
    assert.equal(r.problems.length, 4);
    assert.equal(serializeCheckpoints(r.checkpoints), doc([flc('9', '3')]));
  });

  it('reads a numeric version 1 with a warning, and treats any other version as foreign', () => {
    const numeric = ok(doc([flc('1', '2')], '1'));
    assert.equal(numeric.vectorAccepts, false);
    assert.match(numeric.problems[0] ?? '', /number 1/);
    assert.deepEqual(parseCheckpoints(doc([], '"2"')), { kind: 'foreign-version', version: '"2"' });
    assert.deepEqual(parseCheckpoints('{"checkpoints":[]}'), { kind: 'foreign-version', version: '<missing>' });
    assert.equal(parseCheckpoints('{"version":"1","checkpoints":[').kind, 'invalid');
    assert.equal(parseCheckpoints('[]').kind, 'invalid');
  });

  it('keeps the exact modified text, whatever offset or precision it was written with', () => {
    const texts = ['2025-11-03 11:13:45.5+02:00', '2025-11-03T09:13:45Z', '2025-11-03T09:13:45.123456Z'];
    const r = ok(doc(texts.map((t, i) => flc(String(i + 1), '1', JSON.stringify(t)))));
    assert.deepEqual(
      r.checkpoints.map((c) => c.modified),
      texts,
    );
    assert.equal(parseRfc3339(texts[0] ?? ''), parseRfc3339('2025-11-03T09:13:45.500Z'));
  });

  it('refuses impossible dates rather than normalising them', () => {
    for (const bad of [
      '2025-02-29T00:00:00Z',
      '2025-13-01T00:00:00Z',
      '2025-01-01T24:00:00Z',
      '2025-01-01T00:00:00.1234567890Z',
    ]) {
      assert.equal(parseRfc3339(bad), null, bad);
      assert.equal(isRfc3339(bad), false, bad);
    }
    assert.notEqual(parseRfc3339('2024-02-29T00:00:00Z'), null);
    assert.equal(isRfc3339('2024-02-29T00:00:00Z'), true);
    assert.equal(isRfc3339('2024-02-28T00:00:00+24:00'), false);
  });

  it('orders modified texts by the instant they denote, exactly', () => {
    // [earlier, later] pairs: same layout (string order), then mixed precision, offsets and separators.
    const pairs: [string, string][] = [
      ['2025-11-03T09:13:45.123456788Z', '2025-11-03T09:13:45.123456789Z'],
      ['2025-11-03T09:13:45Z', '2025-11-03T09:13:46Z'],
      ['2025-11-03T09:13:45.10Z', '2025-11-03T09:13:45.9Z'],
      ['2025-11-03T09:13:45Z', '2025-11-03T09:13:45.5Z'], // string order says the opposite
      ['2025-11-03T09:13:45.999999999Z', '2025-11-03T09:13:46Z'],
      ['2025-11-03 11:13:45+02:00', '2025-11-03T09:13:45.000000001Z'],
      ['2025-11-03T09:13:45Z', '2025-11-03 09:13:46Z'],
      ['2025-11-03T10:00:00+01:00', '2025-11-03T09:30:00Z'],
    ];
    for (const [earlier, later] of pairs) {
      assert.equal(compareRfc3339(earlier, later), -1, `${earlier} < ${later}`);
      assert.equal(compareRfc3339(later, earlier), 1, `${later} > ${earlier}`);
    }
    assert.equal(compareRfc3339('2025-11-03 11:13:45.5+02:00', '2025-11-03T09:13:45.500Z'), 0);
    assert.equal(compareRfc3339('2025-11-03T09:13:45.5Z', '2025-11-03T09:13:45.500Z'), 0);
  });

  it("writes Vector's canonical order: checksums ascending numerically, then dev_inode by (dev, ino)", () => {
    const r = ok(
      doc([
        '{"fingerprint":{"dev_inode":[2,1]},"position":1,"modified":"2025-11-03T09:13:45Z"}',
        flc('18446744073709551615', '1'),
        '{"fingerprint":{"dev_inode":[1,9]},"position":1,"modified":"2025-11-03T09:13:45Z"}',
        flc('10', '1'),
        flc('9', '1'),
      ]),
    );
    const out = serializeCheckpoints(r.checkpoints);
    const order = [...out.matchAll(/"(first_lines_checksum|dev_inode)":(\[[0-9,]+\]|[0-9]+)/g)].map((m) => m[2]);
    assert.deepEqual(order, ['9', '10', '18446744073709551615', '[1,9]', '[2,1]']);
  });

  it('keeps one entry per fingerprint, the one Vector loads: highest position, then latest modified', () => {
    const r = ok(
      doc([
        flc('5', '10'),
        flc('5', '30', '"2025-01-01T00:00:00Z"'),
        flc('5', '30', '"2025-06-01T00:00:00Z"'),
        flc('5', '20'),
      ]),
    );
    assert.equal(r.checkpoints.length, 1);
    const [survivor] = r.checkpoints;
    assert.equal(survivor?.position, 30n);
    assert.equal(survivor.modified, '2025-06-01T00:00:00Z');
    assert.match(r.problems[0] ?? '', /duplicate/);
  });

  it('gives the same result for the compact form Vector writes and for any other spacing or order', () => {
    const compact = ok(REFERENCE);
    const spaced = ok(
      JSON.stringify(JSON.parse(REFERENCE.replace(/(\d{15,})/g, '"$1"')), null, 2).replace(/"(\d{15,})"/g, '$1'),
    );
    assert.deepEqual(spaced, compact);
    const unsorted = ok(doc([flc('9', '1'), flc('3', '2')]));
    assert.equal(serializeCheckpoints(unsorted.checkpoints), doc([flc('3', '2'), flc('9', '1')]));
  });

  it('never reads a cut-off file as a whole one: every proper prefix is invalid, up to trailing whitespace', () => {
    // The merger trusts a short read(2) as the end of a file only because of this (merger/datadir.ts).
    const texts = [
      REFERENCE,
      `${JSON.stringify(JSON.parse(REFERENCE.replace(/(\d{15,})/g, '"$1"')), null, 2).replace(/"(\d{15,})"/g, '$1')}\n`,
      doc([flc('1', '2')], '1'),
      doc([flc('1', '2')], '"2"'),
      doc([]),
    ];
    for (const full of texts) {
      const whole = parseCheckpoints(full);
      for (let n = 0; n < full.length; n++) {
        const prefix = full.slice(0, n);
        if (full.slice(n).trim() === '') assert.deepEqual(parseCheckpoints(prefix), whole);
        else assert.equal(parseCheckpoints(prefix).kind, 'invalid', JSON.stringify(prefix));
      }
    }
  });

  it('writes only what the strict oracle (and so Vector >= 0.51) accepts, with the same values', () => {
    const entries: Checkpoint[] = [
      {
        fingerprint: { kind: 'first_lines_checksum', checksum: U64_MAX },
        position: U64_MAX,
        modified: '2025-11-03T09:13:45Z',
      },
      {
        fingerprint: { kind: 'dev_inode', dev: 1n, ino: U64_MAX },
        position: 0n,
        modified: '2025-11-03T09:13:45.1Z',
      },
    ];
    const text = serializeCheckpoints(entries);
    const parsed = oracle(
      'd = vf.strict_parse(sys.stdin.read())\nprint(json.dumps(sorted([[list(k), v[0], v[1]] for k, v in d.items()])))',
      text,
    );
    assert.deepEqual(JSON.parse(parsed.replace(/(\d{16,})/g, '"$1"')), [
      [['di', 1, '18446744073709551615'], 0, '2025-11-03T09:13:45.1Z'],
      [['flc', '18446744073709551615'], '18446744073709551615', '2025-11-03T09:13:45Z'],
    ]);
  });
});
