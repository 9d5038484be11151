/**
 * Under `min`, a file that a retiring source reads but had not started (no entry) is read from its start: a lagging
 * pipeline's backlog often runs past a rotation into a new file, and seeding that file at the fast pipeline's
 * position would skip the laggard's share of it. What "reads" means comes from the source's config: every file of
 * its namespaces, every file of the containers it has entries for (a pod selector), or only its entries (path globs).
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { NodeFixture, OPT_ID, entry, legacyId, targetLine } from '../helpers/node-fixture.ts';

const ROTATED = '0.log.20261124-100000';

describe('a file the lagging pipeline had not started', () => {
  let node: NodeFixture;
  let rotated: bigint; // app-1's rotated file: both pipelines read it, r lags in it
  let live: bigint; // app-1's live file: only the fast pipeline started it
  let other: bigint; // app-2's file: read by the fast pipeline only, in every case below
  beforeEach(() => {
    node = new NodeFixture();
    rotated = node.writeLog({ ns: 'ns-a', pod: 'app-1', file: ROTATED, content: 'r1\nr2\nr3\n' }).checksum;
    live = node.writeLog({ ns: 'ns-a', pod: 'app-1', content: 'l1\nl2\n' }).checksum;
    other = node.writeLog({ ns: 'ns-a', pod: 'app-2', content: 'o1\no2\n' }).checksum;
  });
  afterEach(() => {
    node.cleanup();
  });

  /** Every file at the fast pipeline's position, but the rotated one at `rotated` (the laggard's, under min). */
  const everyFileSeeded = (atRotated: bigint): Map<bigint, bigint> =>
    new Map([
      [rotated, atRotated],
      [live, 6n],
      [other, 6n],
    ]);

  /** Legacy: pipeline p reads all of ns-a and is done; pipeline r (configured by `laggard`) lags in the rotated file. */
  function switchWith(laggard: Record<string, unknown>): { legacy: string; optimized: string } {
    const r = legacyId('ns-a', 'r');
    const legacy = node.writeConfig('legacy.json', {
      sources: { [legacyId('ns-a')]: ['ns-a'] },
      extra: {
        [r]: {
          type: 'kubernetes_logs',
          extra_namespace_label_selector: 'kubernetes.io/metadata.name=ns-a',
          ...laggard,
        },
      },
    });
    const optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a'] } });
    node.vectorFlush(legacyId('ns-a'), [entry(rotated, 9), entry(live, 6), entry(other, 6)], 600);
    node.vectorFlush(r, [entry(rotated, 3)], 600);
    return { legacy, optimized };
  }

  it('min: the laggard read every file of its namespace, so the file it had not started is read from its start', async () => {
    const { legacy, optimized } = switchWith({});
    const s = await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods });
    assert.equal(s.outcome, 'migrated');
    // The rotated file at the laggard; app-1's live file and app-2's file from their start (no entry).
    assert.deepEqual(node.positions(OPT_ID), new Map([[rotated, 3n]]));
    assert.equal(targetLine(s.lines, OPT_ID)?.readFromStart, 2);
    assert.equal(s.readFromStart, 2);
  });

  it('min, the laggard selecting pods: only the files of the containers it reads are read from their start', async () => {
    const { legacy, optimized } = switchWith({ extra_label_selector: 'app=one' });
    const s = await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods });
    // r holds an entry in app-1's container, so it reads app-1's live file too; app-2 may not be one of its pods.
    assert.deepEqual(
      node.positions(OPT_ID),
      new Map([
        [rotated, 3n],
        [other, 6n],
      ]),
    );
    assert.equal(s.readFromStart, 1);
  });

  it('min, the laggard filtering paths: only its entries say what it read, as before', async () => {
    const { legacy, optimized } = switchWith({ exclude_paths_glob_patterns: ['**/0.log'] });
    const s = await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods });
    assert.deepEqual(node.positions(OPT_ID), everyFileSeeded(3n));
    assert.equal(s.readFromStart, 0);
  });

  it('max: the fast pipeline position everywhere; the laggard loses its backlog, as max promises', async () => {
    const { legacy, optimized } = switchWith({});
    const s = await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods, policy: 'max' });
    assert.deepEqual(node.positions(OPT_ID), everyFileSeeded(9n));
    assert.equal(s.readFromStart, 0);
  });

  it('min over a stale target: its own old entry for the file is dropped too, not kept', async () => {
    const { legacy, optimized } = switchWith({});
    node.vectorFlush(OPT_ID, [entry(live, 2), entry(rotated, 1)], 7200);
    const s = await node.merge(optimized, { standbyConfig: legacy, logDir: node.pods });
    assert.equal(targetLine(s.lines, OPT_ID)?.action, 'advance');
    assert.deepEqual(node.positions(OPT_ID), new Map([[rotated, 3n]]));
    assert.equal(s.readFromStart, 2);
  });

  it('min without the standby config: what the retiring sources read is unknown, so only their entries count', async () => {
    const { optimized } = switchWith({});
    const s = await node.merge(optimized, { logDir: node.pods });
    assert.deepEqual(node.positions(OPT_ID), everyFileSeeded(3n));
    assert.equal(s.readFromStart, 0);
  });
});
