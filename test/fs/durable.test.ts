import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeFileDurably, replaceFileDurably, syncDirectory } from '../../src/fs/durable.ts';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'durable-'));
}

test('a replacement leaves exactly the new bytes and no tmp file', async () => {
  const dir = scratch();
  writeFileSync(join(dir, 'f.json'), 'old');
  await replaceFileDurably(dir, 'f.json', 'new text');
  await replaceFileDurably(dir, 'g.bin', new Uint8Array([0, 1, 2, 255]));
  assert.equal(readFileSync(join(dir, 'f.json'), 'utf8'), 'new text');
  assert.deepEqual([...readFileSync(join(dir, 'g.bin'))], [0, 1, 2, 255]);
  assert.deepEqual(readdirSync(dir).sort(), ['f.json', 'g.bin']);
});

test('a new file gets the requested mode (a umask can only take bits away)', async () => {
  const dir = scratch();
  await replaceFileDurably(dir, 'private', 'x', { mode: 0o600 });
  assert.equal(statSync(join(dir, 'private')).mode & 0o077, 0);
});

test('a failed rename keeps the old target and removes the tmp file', async () => {
  const dir = scratch();
  mkdirSync(join(dir, 'target'));
  writeFileSync(join(dir, 'target', 'inside'), 'keep');
  await assert.rejects(replaceFileDurably(dir, 'target', 'data'), { code: 'EISDIR' });
  assert.deepEqual(readdirSync(dir), ['target']);
  assert.equal(readFileSync(join(dir, 'target', 'inside'), 'utf8'), 'keep');
});

test('a missing dir is an error, not a write elsewhere', async () => {
  const dir = scratch();
  await assert.rejects(replaceFileDurably(join(dir, 'absent'), 'f', 'x'), { code: 'ENOENT' });
  await assert.rejects(syncDirectory(join(dir, 'absent')), { code: 'ENOENT' });
  assert.deepEqual(readdirSync(dir), []);
});

test('removal says whether there was a file to remove', async () => {
  const dir = scratch();
  writeFileSync(join(dir, 'f'), 'x');
  assert.equal(await removeFileDurably(dir, 'f'), true);
  assert.equal(await removeFileDurably(dir, 'f'), false);
  assert.deepEqual(readdirSync(dir), []);
});
