/**
 * Docker nodes (cri-dockerd): pod log files under the log dir are symlinks into the Docker data dir. The merger
 * follows them as Vector does, and a file it cannot see is never taken for gone: the targets reading its namespace
 * fall back to the unscoped union and say so, while the others stay scoped.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFixture, OPT_ID, entry, legacyId, targetLine } from '../helpers/node-fixture.ts';

const NSS = ['ns-a', 'ns-b'];
const GONE = 123456n; // a file ns-a's source once read, deleted from the node since

function cri(ns: string): string {
  return `2026-11-24T10:00:00.000000001Z stdout F ${ns} pod started\n${'line\n'.repeat(100)}`;
}

describe('symlinked pod logs (Docker via cri-dockerd)', () => {
  let node: NodeFixture;
  let legacy: string;
  let optimized: string;
  const fp: Record<string, bigint> = {};
  let link = '';
  let dockerFile = '';

  beforeEach(() => {
    node = new NodeFixture();
    legacy = node.writeConfig('legacy.json', { sources: Object.fromEntries(NSS.map((ns) => [legacyId(ns), [ns]])) });
    optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: NSS } });
    for (const ns of NSS) fp[ns] = node.writeLog({ ns, pod: 'web', content: cri(ns) }).checksum;
    // ns-a's log is Docker's json log, reached through a link, as cri-dockerd lays it out.
    const a = node.writeLog({ ns: 'ns-a', pod: 'web', content: cri('ns-a') });
    dockerFile = join(node.root, 'docker', 'containers', 'c0ffee', 'c0ffee-json.log');
    mkdirSync(join(dockerFile, '..'), { recursive: true });
    renameSync(a.path, dockerFile);
    symlinkSync(dockerFile, a.path);
    link = a.path;
    node.vectorFlush(legacyId('ns-a'), [entry(fp['ns-a'] as bigint, 300), entry(GONE, 40)], 3600);
    node.vectorFlush(legacyId('ns-b'), [entry(fp['ns-b'] as bigint, 300)], 3600);
  });

  afterEach(() => {
    node.cleanup();
  });

  it('follows a link to a readable file: its position is carried and the scope holds', async () => {
    const s = await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods });
    assert.equal(s.outcome, 'migrated');
    assert.equal(s.unscoped, 0);
    // GONE has no file on the node: scoped out. The linked file is seeded like the regular one.
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [fp['ns-a'], 300n],
        [fp['ns-b'], 300n],
      ]),
    );
    assert.equal(targetLine(s.lines, OPT_ID)?.unscoped, undefined);
    assert.equal(s.lines.find((l) => l.msg === 'scanned log dir')?.fields.linked, 1);
  });

  const unseen = async (why: string): Promise<void> => {
    const s = await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods });
    assert.equal(s.outcome, 'migrated', why);
    assert.equal(s.unscoped, 1, why);
    // The whole union: nothing that might still be on the node is dropped, the linked file included.
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [fp['ns-a'], 300n],
        [GONE, 40n],
        [fp['ns-b'], 300n],
      ]),
      why,
    );
    assert.match(String(targetLine(s.lines, OPT_ID)?.unscoped), /1 log file.* not visible in namespace\(s\) ns-a:/);
  };

  it('a dangling link whose target is not visible here (not mounted) is unseen, never gone', async () => {
    const { rmSync } = await import('node:fs');
    rmSync(join(node.root, 'docker'), { recursive: true });
    await unseen('dangling');
  });

  it('a link to something unreadable is unseen, never gone', async () => {
    const { rmSync } = await import('node:fs');
    rmSync(dockerFile);
    mkdirSync(dockerFile); // opens, but cannot be read as a file (EISDIR): as unreadable as EACCES is to non-root
    await unseen('unreadable');
  });

  it('a dangling link into a visible directory that lacks the file is absent: the scope holds', async () => {
    const { rmSync } = await import('node:fs');
    rmSync(dockerFile);
    const s = await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods });
    assert.equal(s.unscoped, 0);
    assert.deepEqual(node.positions(OPT_ID), new Map([[fp['ns-b'], 300n]]));
    assert.ok(link !== '');
  });

  it('rollback: only the targets reading the unseen namespace lose their scope', async () => {
    const { rmSync } = await import('node:fs');
    await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods });
    node.vectorFlush(OPT_ID, [entry(fp['ns-a'] as bigint, 450), entry(fp['ns-b'] as bigint, 460)]);
    rmSync(join(node.root, 'docker'), { recursive: true });
    const s = await node.merge(legacy, { standbyConfig: optimized, logDir: node.pods });
    assert.equal(s.unscoped, 1);
    assert.deepEqual(
      node.positions(legacyId('ns-a')),
      new Map([
        [fp['ns-a'], 450n],
        [GONE, 40n],
        [fp['ns-b'], 460n],
      ]),
    );
    assert.deepEqual(node.positions(legacyId('ns-b')), new Map([[fp['ns-b'], 460n]]));
    assert.equal(targetLine(s.lines, legacyId('ns-b'))?.unscoped, undefined);
  });
});
