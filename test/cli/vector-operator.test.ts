import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runBin } from '../helpers/bin.ts';

describe('vector-operator CLI', () => {
  it('prints its commands on --help and exits 0', () => {
    const r = runBin('vector-operator', ['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: vector-operator <command>/);
    assert.match(r.stdout, /render/);
  });

  it('rejects an unknown command with exit 2 and names it', () => {
    const r = runBin('vector-operator', ['frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });
});
