/**
 * A config payload is JSON text or gzip of it (kaasops' `compressConfigFile`), told apart by gzip's magic bytes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { configPayloadText, isGzip } from '../../src/vector/config-payload.ts';

const json = '{"sources":{"a":{"type":"kubernetes_logs"}}}';

describe('config payloads, plain or gzip', () => {
  it('plain JSON is read as it is', () => {
    assert.equal(isGzip(Buffer.from(json)), false);
    assert.equal(configPayloadText(Buffer.from(json)), json);
    assert.equal(configPayloadText(Buffer.alloc(0)), '');
  });

  it('gzip is unpacked to the same text', () => {
    const packed = gzipSync(json);
    assert.equal(isGzip(packed), true);
    assert.equal(configPayloadText(packed), json);
  });

  it('a corrupt gzip payload is a clear error, not garbage text', () => {
    const packed = gzipSync(json);
    const truncated = packed.subarray(0, packed.length - 10);
    assert.throws(() => configPayloadText(truncated), /gzip payload does not unpack/);
    assert.throws(() => configPayloadText(Buffer.from([0x1f, 0x8b, 0, 0])), /gzip payload does not unpack/);
  });

  it('a payload that unpacks past the bound is refused', () => {
    const bomb = gzipSync(Buffer.alloc(1024 * 1024, 0x20));
    assert.throws(() => configPayloadText(bomb, 1024), /gzip payload does not unpack/);
    assert.equal(configPayloadText(bomb, 1024 * 1024).length, 1024 * 1024);
  });
});
