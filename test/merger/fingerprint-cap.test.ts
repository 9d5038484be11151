/**
 * The merger fingerprints the node's files with each source's own settings, by Vector 0.48's rule: with
 * `auto_partial_merge` on (the default), at most min(`max_line_bytes`, `max_merged_line_bytes`) bytes are hashed.
 * A file whose first line is longer than that cap hashes differently otherwise, and would not be seeded.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { crc64 } from '../../src/vector/crc64.ts';
import { NodeFixture, OPT_ID, entry, legacyId } from '../helpers/node-fixture.ts';

const CAP = 64;

function source(ns: string | string[], extra: Record<string, unknown>): Record<string, unknown> {
  const sel =
    typeof ns === 'string' ? `kubernetes.io/metadata.name=${ns}` : `kubernetes.io/metadata.name in (${ns.join(',')})`;
  return { type: 'kubernetes_logs', extra_namespace_label_selector: sel, ...extra };
}

describe('the fingerprint cap, per source', () => {
  let node: NodeFixture;
  afterEach(() => {
    node.cleanup();
  });

  for (const [what, settings, capped] of [
    ['max_merged_line_bytes caps it', { max_merged_line_bytes: CAP }, true],
    ['auto_partial_merge: false lifts the cap', { max_merged_line_bytes: CAP, auto_partial_merge: false }, false],
    ['max_line_bytes caps it alone', { max_line_bytes: CAP, max_merged_line_bytes: 4096 }, true],
  ] as const) {
    it(`${what}: a long first line is found under Vector's fingerprint and seeded`, async () => {
      node = new NodeFixture();
      const first = `2026-11-24T10:00:00.000000001Z stdout F ${'x'.repeat(200)}\n`;
      const log = node.writeLog({ ns: 'ns-a', pod: 'web', content: first + 'line\n'.repeat(10) });
      const bytes = Buffer.from(first);
      const vectorFp = capped ? crc64(bytes, 0, CAP) : crc64(bytes, 0, bytes.length);
      assert.equal(capped, vectorFp !== log.checksum);
      const legacy = node.writeConfig('legacy.json', {
        sources: {},
        extra: { [legacyId('ns-a')]: source('ns-a', settings), [legacyId('ns-b')]: source('ns-b', settings) },
      });
      const optimized = node.writeConfig('optimized.json', {
        sources: {},
        extra: { [OPT_ID]: source(['ns-a', 'ns-b'], settings) },
      });
      node.vectorFlush(legacyId('ns-a'), [entry(vectorFp, 250)], 3600);
      node.vectorFlush(legacyId('ns-b'), [entry(99n, 7)], 3600);
      const s = await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods });
      assert.equal(s.outcome, 'migrated');
      assert.deepEqual(node.positions(OPT_ID), new Map([[vectorFp, 250n]]));
    });
  }
});
