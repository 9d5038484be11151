import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { crc64 } from '../../src/vector/crc64.ts';
import { fingerprintFile, firstLinesChecksum, type FileFingerprint } from '../../src/vector/fingerprint.ts';
import { oracle } from '../helpers/oracle.ts';

const dir = mkdtempSync(join(tmpdir(), 'fingerprint-test-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function checksumOf(fp: FileFingerprint): bigint {
  if (fp.status !== 'ready') assert.fail('expected a ready fingerprint');
  return fp.checksum;
}

const CRI = '2026-11-24T10:00:00.000000001Z stdout F started\n';

describe('fingerprint of a log file', () => {
  it('hashes the first line including its newline, and nothing after it', async () => {
    const fp = await fingerprintFile(file('a.log', `${CRI}more\nlines\n`));
    assert.deepEqual(fp, {
      status: 'ready',
      checksum: crc64(Buffer.from(CRI)),
      size: BigInt(CRI.length + 11),
      gzip: false,
    });
  });

  it('includes a \\r before the newline', () => {
    assert.equal(firstLinesChecksum(Buffer.from('abc\r\nx')), crc64(Buffer.from('abc\r\n')));
  });

  it('is not ready while the first line is incomplete, or the file is shorter than 2 bytes', async () => {
    assert.equal(
      (await fingerprintFile(file('partial.log', '2026-11-24T10:00:00Z stdout P half a li'))).status,
      'not-ready',
    );
    assert.equal((await fingerprintFile(file('one.log', '\n'))).status, 'not-ready');
    assert.equal((await fingerprintFile(file('empty.log', ''))).status, 'not-ready');
  });

  it('hashes exactly max_line_bytes when the first line is longer (32 KiB for kubernetes_logs)', async () => {
    const long = 'x'.repeat(40_000) + '\n';
    assert.equal(checksumOf(await fingerprintFile(file('long.log', long))), crc64(Buffer.from(long), 0, 32 * 1024));
    const small = await fingerprintFile(file('long2.log', long), { maxLineBytes: 100 });
    assert.equal(checksumOf(small), crc64(Buffer.from(long), 0, 100));
  });

  it('reads past its first chunk to find a long first line', async () => {
    const line = 'y'.repeat(10_000) + '\n';
    assert.equal(checksumOf(await fingerprintFile(file('mid.log', line + 'tail\n'))), crc64(Buffer.from(line)));
  });

  it('never sees the bytes of a file read before it (the read buffer is reused)', async () => {
    const long = `${'a'.repeat(9_000)}\n`;
    await fingerprintFile(file('first-long.log', long));
    assert.equal(checksumOf(await fingerprintFile(file('then-short.log', 'ab\n'))), crc64(Buffer.from('ab\n')));
    await fingerprintFile(file('long-again.log', long));
    assert.equal((await fingerprintFile(file('then-partial.log', 'abc'))).status, 'not-ready');
  });

  it('fingerprints gzip content decompressed, equal to the plain file', async () => {
    const content = `${CRI}${'body line\n'.repeat(5000)}`;
    const plain = await fingerprintFile(file('r.log', content));
    const gz = await fingerprintFile(file('r.log.gz', gzipSync(content)));
    assert.equal(gz.gzip, true);
    assert.equal(checksumOf(gz), checksumOf(plain));
  });

  it('supports fingerprint_lines and ignored_header_bytes', () => {
    const text = Buffer.from('HEADERline one\nline two\nline three\n');
    assert.equal(firstLinesChecksum(text, { lines: 2 }), crc64(text, 0, 'HEADERline one\nline two\n'.length));
    assert.equal(firstLinesChecksum(text, { ignoredHeaderBytes: 6 }), crc64(text, 6, 'HEADERline one\n'.length));
  });

  it('agrees with the Python oracle on plain, gzip, long and not-ready files', async () => {
    const paths = [
      file('o1.log', `${CRI}x\n`),
      file('o2.log', 'z'.repeat(33_000)),
      file('o3.log', 'no newline yet'),
      file('o4.log.gz', gzipSync(`${CRI}zipped\n`)),
      file('o5.log', 'w'.repeat(5000) + '\nrest'),
    ];
    const expected = oracle(
      'for p in sys.stdin.read().split():\n    r = vf.fingerprint(p)\n    print("not-ready" if r is None else r)',
      paths.join('\n'),
    )
      .trim()
      .split('\n');
    const ours = await Promise.all(paths.map((p) => fingerprintFile(p)));
    assert.deepEqual(
      ours.map((fp) => (fp.status === 'ready' ? String(fp.checksum) : 'not-ready')),
      expected,
    );
  });
});
