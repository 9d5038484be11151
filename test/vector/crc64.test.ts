import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc64 } from '../../src/vector/crc64.ts';
import { oracle } from '../helpers/oracle.ts';

describe('CRC-64/ECMA-182', () => {
  it('gives the catalogue check value for "123456789"', () => {
    assert.equal(crc64(Buffer.from('123456789')), 0x6c40df5f0b497347n);
  });

  it('is not CRC-64/XZ (whose check value is 0x995dc9bbdf1939fa)', () => {
    assert.notEqual(crc64(Buffer.from('123456789')), 0x995dc9bbdf1939fan);
  });

  it("reproduces the checksums in the reference's literal checkpoints example", () => {
    const line1 = 'hello i am a test log line that is just long enough but not super long\n';
    const line2 = '2024-01-15T10:00:00.123456789Z stdout F hello\n';
    assert.equal(crc64(Buffer.from(line1)), 1279482062628298237n);
    assert.equal(crc64(Buffer.from(line2)), 12732378475522658459n);
  });

  it('is 0 for empty input and honours start/end bounds', () => {
    assert.equal(crc64(new Uint8Array(0)), 0n);
    const padded = Buffer.from('xx123456789yy');
    assert.equal(crc64(padded, 2, 11), 0x6c40df5f0b497347n);
  });

  it('agrees with the Python oracle on every length 0..80 and on random buffers', () => {
    const inputs: Buffer[] = [];
    for (let n = 0; n <= 80; n++) inputs.push(randomBytes(n));
    for (const n of [255, 256, 4096, 32768, 100_003]) inputs.push(randomBytes(n));
    const expected = oracle(
      'for line in sys.stdin:\n    print(vf.crc64(bytes.fromhex(line.strip())))',
      inputs.map((b) => b.toString('hex')).join('\n') + '\n',
    )
      .trim()
      .split('\n')
      .map((s) => BigInt(s));
    assert.deepEqual(
      inputs.map((b) => crc64(b)),
      expected,
    );
  });
});
