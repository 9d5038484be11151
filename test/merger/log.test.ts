/**
 * The merger's JSON-lines output: whole lines, in order, whether written one by one or in chunks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLogger } from '../../src/merger/log.ts';

describe('jsonLogger', () => {
  it('writes a batch of lines whole and in order, across its 64 KiB chunks, after the single lines before it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'merger-log-'));
    try {
      const file = join(dir, 'out.jsonl');
      const fd = openSync(file, 'w');
      const log = jsonLogger(fd);
      log.log('info', 'build info', { version: 'x' });
      const batch = Array.from({ length: 2000 }, (_, i) => ({
        level: 'info' as const,
        msg: 'target',
        fields: { source: `ns-${i}-logs`, applied: BigInt(i), pad: 'x'.repeat(i % 97) },
      }));
      log.logAll(batch);
      log.logAll([]);
      log.log('info', 'summary');
      closeSync(fd);
      const text = readFileSync(file, 'utf8');
      assert.ok(text.length > 3 * 64 * 1024, 'the batch spans several chunks');
      assert.ok(text.endsWith('\n'));
      const lines = text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.length, 2002);
      assert.equal(lines[0]?.msg, 'build info');
      assert.equal(lines.at(-1)?.msg, 'summary');
      lines.slice(1, -1).forEach((l, i) => {
        assert.equal(l.source, `ns-${i}-logs`);
        assert.equal(l.applied, String(i), 'u64 values as decimal strings');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
