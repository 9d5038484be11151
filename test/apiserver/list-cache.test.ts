/**
 * List replies are serialised once while what they list is unchanged, carry the resourceVersion current when served,
 * and never outlive a write to what they list.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ListCache } from '../../lab/apiserver/list-cache.ts';

function list(rv: number, items: unknown[]): unknown {
  return { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(rv) }, items };
}

describe('the stand-in list reply cache', () => {
  it('builds a thousand identical lists once, and serves the same items', () => {
    const cache = new ListCache();
    let built = 0;
    const build = (): unknown => {
      built++;
      return list(7, [{ name: 'a' }]);
    };
    const first = cache.get('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-0', 3, 7, build);
    for (let i = 0; i < 999; i++)
      assert.deepEqual(cache.get('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-0', 3, 7, build), first);
    assert.equal(built, 1);
    assert.deepEqual(JSON.parse(first.toString()), list(7, [{ name: 'a' }]));
    cache.get('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1', 3, 7, build);
    assert.equal(built, 2, 'another query is another reply');
  });

  it('keeps the items across writes elsewhere, under the resourceVersion current when served', () => {
    const cache = new ListCache();
    let built = 0;
    const build = (): unknown => {
      built++;
      return list(7, [{ name: 'a' }]);
    };
    cache.get('/q', 3, 7, build);
    const later = cache.get('/q', 3, 1234, build);
    assert.equal(built, 1);
    assert.deepEqual(JSON.parse(later.toString()), list(1234, [{ name: 'a' }]));
  });

  it('rebuilds after a write to what it lists: a reply never shows an older state', () => {
    const cache = new ListCache();
    let state = 'before';
    const build = (): unknown => list(8, [{ state }]);
    assert.deepEqual(JSON.parse(cache.get('/q', 3, 8, build).toString()), list(8, [{ state: 'before' }]));
    state = 'after';
    assert.deepEqual(JSON.parse(cache.get('/q', 8, 8, build).toString()), list(8, [{ state: 'after' }]));
  });

  it('serves a reply without list metadata as built, and does not keep it', () => {
    const cache = new ListCache();
    let built = 0;
    const build = (): unknown => ({ n: ++built });
    assert.equal(cache.get('/q', 1, 1, build).toString(), '{"n":1}');
    assert.equal(cache.get('/q', 1, 1, build).toString(), '{"n":2}');
  });

  it('starts over past its size bound instead of growing', () => {
    const cache = new ListCache(150);
    let built = 0;
    const build = (): unknown => {
      built++;
      return list(1, ['x'.repeat(60)]);
    };
    cache.get('/a', 1, 1, build);
    cache.get('/b', 1, 1, build);
    cache.get('/a', 1, 1, build);
    assert.equal(built, 3, '/a was dropped to make room for /b');
  });
});
