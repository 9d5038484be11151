/** List replies are serialised once per request and resourceVersion, and never outlive a write. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ListCache } from '../../lab/apiserver/list-cache.ts';

describe('the stand-in list reply cache', () => {
  it('builds a thousand identical lists at one resourceVersion once, and serves the same bytes', () => {
    const cache = new ListCache();
    let built = 0;
    const build = (): unknown => {
      built++;
      return { items: [{ name: 'a' }] };
    };
    const first = cache.get('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-0', 7, build);
    for (let i = 0; i < 999; i++)
      assert.equal(cache.get('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-0', 7, build), first);
    assert.equal(built, 1);
    assert.deepEqual(JSON.parse(first.toString()), { items: [{ name: 'a' }] });
    cache.get('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1', 7, build);
    assert.equal(built, 2, 'another query is another reply');
  });

  it('rebuilds after any write: a new resourceVersion never sees an older reply', () => {
    const cache = new ListCache();
    let state = 'before';
    const build = (): unknown => ({ state });
    assert.equal(cache.get('/q', 7, build).toString(), '{"state":"before"}');
    state = 'after';
    assert.equal(cache.get('/q', 8, build).toString(), '{"state":"after"}');
  });

  it('starts over past its size bound instead of growing', () => {
    const cache = new ListCache(100);
    let built = 0;
    const build = (): unknown => {
      built++;
      return 'x'.repeat(60);
    };
    cache.get('/a', 1, build);
    cache.get('/b', 1, build);
    cache.get('/a', 1, build);
    assert.equal(built, 3, '/a was dropped to make room for /b');
  });
});
