import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareCodePoints, goJson, goStruct } from '../../src/pipelines/gojson.ts';

describe('Go-compatible JSON (what kaasops writes and hashes)', () => {
  it('escapes <, > and & the way Go does, so VRL conditions serialize like kaasops', () => {
    assert.equal(goJson('.a < 1 && .b > 2'), '".a \\u003c 1 \\u0026\\u0026 .b \\u003e 2"');
  });

  it('escapes quotes, backslashes, controls and the JS-unsafe line separators', () => {
    assert.equal(goJson('"\\\n\r\t\u0001\u2028\u2029'), '"\\"\\\\\\n\\r\\t\\u0001\\u2028\\u2029"');
  });

  it('replaces a lone surrogate with U+FFFD as Go does for invalid UTF-8, and keeps valid pairs', () => {
    assert.equal(goJson('a\ud800b'), '"a\ufffdb"');
    assert.equal(goJson('😀'), '"😀"');
  });

  it('sorts map keys by byte order at every depth and skips undefined members', () => {
    assert.equal(
      goJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, x: undefined }),
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('orders keys by code point, not UTF-16 unit (astral characters sort after U+FFFF)', () => {
    const keys = ['\uffff', '😀', 'a'].sort(compareCodePoints);
    assert.deepEqual(keys, ['a', '\uffff', '😀']);
  });

  it('prints float64 numbers like Go: integers plain, exponent from 1e21 and below 1e-6, -0 kept', () => {
    assert.equal(
      goJson([100, 1.5, 1e21, 1e20, 1e-7, 0.000001, -0, 123456789012]),
      '[100,1.5,1e+21,100000000000000000000,1e-7,0.000001,-0,123456789012]',
    );
  });

  it('keeps struct field order for Go structs', () => {
    assert.equal(
      goJson(
        goStruct([
          ['Type', 'x'],
          ['A', null],
        ]),
      ),
      '{"Type":"x","A":null}',
    );
  });

  it('refuses NaN and Infinity instead of writing invalid JSON', () => {
    assert.throws(() => goJson(Number.NaN), /unsupported value/);
  });
});
