import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  bucketCount,
  bucketerSource,
  layoutRoutes,
  namespaceBucket,
  namespaceCondition,
} from '../../src/pipelines/routing.ts';
import { namespaces } from '../helpers/fixtures.ts';

describe('routing layout', () => {
  it('chooses the reference bucket counts: 1→1, 17→4, 40→8, 1000→32, 10^6→256', () => {
    assert.deepEqual([1, 17, 40, 1000, 1e6].map(bucketCount), [1, 4, 8, 32, 256]);
  });

  it('uses mod(), never %, after an expression in the bucketer (kaasops fix bc76f8e)', () => {
    const src = bucketerSource(8);
    assert.equal(src, '%bucket = mod(parse_int!(slice!(md5(string!(.kubernetes.pod_namespace)), 0, 2), base: 16), 8)');
    assert.doesNotMatch(src.slice(src.indexOf('=') + 1), /\) %/);
  });

  it('puts a namespace in the bucket the VRL computes: first two md5 hex digits, base 16, mod B', () => {
    for (const ns of namespaces(50)) {
      const vrl = parseInt(createHash('md5').update(ns).digest('hex').slice(0, 2), 16) % 8;
      assert.equal(namespaceBucket(ns, 8), vrl, ns);
    }
  });

  it('quotes the namespace like Go %q in route conditions', () => {
    assert.equal(namespaceCondition('team-a'), '.kubernetes.pod_namespace == "team-a"');
  });

  it('routes up to 16 namespaces with one flat router and more with bucketer + L1 + one L2 per non-empty bucket', () => {
    const flat = layoutRoutes('g', 'optimizedSource-g', namespaces(16));
    assert.deepEqual(Object.keys(flat.transforms), ['optimizedRouter-g', 'optimizedFallback-g']);
    assert.deepEqual(flat.transforms['optimizedFallback-g']?.inputs, ['optimizedRouter-g._unmatched']);
    const deep = layoutRoutes('g', 'optimizedSource-g', namespaces(17));
    assert.equal(deep.routing, 'two-level');
    assert.equal(deep.buckets, 4);
    const l1 = deep.transforms['optimizedRouter-g-l1'];
    assert.ok(l1);
    const used = new Set(namespaces(17).map((ns) => namespaceBucket(ns, 4)));
    assert.deepEqual(Object.keys(l1.route as object).sort(), [...used].map(String).sort());
    for (const b of used)
      assert.deepEqual(deep.transforms[`optimizedRouter-g-${b}`]?.inputs, [`optimizedRouter-g-l1.${b}`]);
    assert.deepEqual(deep.transforms['optimizedFallback-g']?.inputs, ['optimizedRouter-g-l1._unmatched']);
    assert.equal(deep.fallback.get('ns-03'), 'optimizedFallback-g.ns-03');
  });
});
