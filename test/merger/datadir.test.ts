/**
 * Listing a data dir: which entries are source dirs, and when each was last written (read lazily, on first use).
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSourceDirs } from '../../src/merger/datadir.ts';

describe('listSourceDirs', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'datadir-'));
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists real dirs only, sorted, and refuses symlinks without following them', () => {
    mkdirSync(join(dataDir, 'b'));
    mkdirSync(join(dataDir, 'a'));
    mkdirSync(join(dataDir, '.checkpoint-merger'));
    writeFileSync(join(dataDir, 'a-file'), '');
    symlinkSync(join(dataDir, 'a'), join(dataDir, 'link'));
    const listing = listSourceDirs(dataDir);
    assert.deepEqual(
      listing.dirs.map((d) => d.id),
      ['a', 'b'],
    );
    assert.deepEqual(
      listing.refused.map((r) => r.name),
      ['link'],
    );
  });

  it("a dir's mtime is its own, to the nanosecond the file system keeps, read when first asked and then kept", () => {
    mkdirSync(join(dataDir, 'src'));
    utimesSync(join(dataDir, 'src'), 1000, 1_700_000_000.5);
    const [dir] = listSourceDirs(dataDir).dirs;
    assert.ok(dir !== undefined);
    const expected = lstatSync(join(dataDir, 'src'), { bigint: true }).mtimeNs;
    assert.equal(dir.mtimeNs, expected);
    assert.equal(expected, 1_700_000_000_500_000_000n);
    utimesSync(join(dataDir, 'src'), 1000, 1_800_000_000);
    assert.equal(dir.mtimeNs, expected, 'one decision sees one value');
  });

  it('a dir that vanished or turned into a symlink after the listing reads as never written (0)', () => {
    mkdirSync(join(dataDir, 'gone'));
    mkdirSync(join(dataDir, 'swapped'));
    mkdirSync(join(dataDir, 'elsewhere'));
    const dirs = listSourceDirs(dataDir).dirs;
    rmSync(join(dataDir, 'gone'), { recursive: true });
    rmSync(join(dataDir, 'swapped'), { recursive: true });
    symlinkSync(join(dataDir, 'elsewhere'), join(dataDir, 'swapped'));
    const byId = new Map(dirs.map((d) => [d.id, d.mtimeNs]));
    assert.equal(byId.get('gone'), 0n);
    assert.equal(byId.get('swapped'), 0n);
    assert.ok((byId.get('elsewhere') ?? 0n) > 0n);
  });
});
