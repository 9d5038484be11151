/**
 * The Vector simulator's file rules where they decide re-delivery (reference: vector-checkpoints.md §1, §4, §5),
 * on real files rotated the kubelet way, without an API server: the file server is fed the paths directly.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpointer } from '../../lab/vector-sim/checkpointer.ts';
import { FileServer } from '../../lab/vector-sim/file-server.ts';
import { lineId } from '../../lab/vector-sim/deliveries.ts';
import { ContainerLog } from '../../lab/workload/cri-log.ts';
import { parseCheckpoints, serializeCheckpoints } from '../../src/vector/checkpoints.ts';
import { fingerprintFile } from '../../src/vector/fingerprint.ts';

let root: string;
let clock = 1_800_000_000_000_000_000n;
const now = (): bigint => (clock += 1_000_000n);

function lines(pod: string, from: number, n: number): { stream: 'stdout'; message: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    stream: 'stdout' as const,
    message: `id=ns/${pod}/${from + i} hello`,
  }));
}

/** A source: its checkpoint dir under the data dir, and a file server over the container dir's plain files. */
function source(id: string, log: ContainerLog, delivered: string[], stuck = { now: false }) {
  const checkpointer = new Checkpointer(join(root, 'data', id), 60_000);
  const loaded = checkpointer.load();
  const server = new FileServer({
    checkpointer,
    paths: () => [
      log.path,
      ...log
        .rotated()
        .filter((f) => !f.endsWith('.gz'))
        .map((f) => join(log.dir, f)),
    ],
    // The source's map with a zero-length buffer: the checkpoint moves as the line is delivered.
    onLine: (line, file, endOffset) => {
      if (stuck.now) return false;
      checkpointer.update(file.fingerprint, endOffset);
      delivered.push(lineId(line.toString()));
      return true;
    },
  });
  const drain = async (): Promise<void> => {
    await server.discover();
    while (server.readPass() > 0);
  };
  return { checkpointer, server, drain, loaded };
}

function positions(id: string): bigint[] {
  const parsed = parseCheckpoints(readFileSync(join(root, 'data', id, 'checkpoints.json'), 'utf8'));
  if (parsed.kind !== 'ok') throw new Error(`${id}: checkpoints.json does not parse`);
  return parsed.checkpoints.map((c) => c.position);
}

describe('Vector simulator: file and checkpoint rules', () => {
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'vector-rules-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('reads a file without a checkpoint from the beginning', async () => {
    const log = new ContainerLog(join(root, 'pods/ns_p_u/app'));
    log.append(lines('p', 0, 5), now);
    const got: string[] = [];
    const s = source('src', log, got);
    assert.equal(s.loaded, 'none');
    await s.drain();
    assert.deepEqual(got, ['ns/p/0', 'ns/p/1', 'ns/p/2', 'ns/p/3', 'ns/p/4']);
    s.server.close();
  });

  it('resumes exactly after the checkpoint when restarted on the same source id', async () => {
    const log = new ContainerLog(join(root, 'pods/ns_p_u/app'));
    log.append(lines('p', 0, 4), now);
    const first: string[] = [];
    const a = source('src', log, first);
    await a.drain();
    assert.equal(a.checkpointer.write(), true);
    a.server.close();
    log.append(lines('p', 4, 3), now);
    const second: string[] = [];
    const b = source('src', log, second);
    assert.equal(b.loaded, 'stable');
    await b.drain();
    assert.deepEqual(second, ['ns/p/4', 'ns/p/5', 'ns/p/6']);
    b.server.close();
  });

  it('keeps the position of a file renamed by rotation, and reads the new live file from its start', async () => {
    const log = new ContainerLog(join(root, 'pods/ns_p_u/app'));
    log.append(lines('p', 0, 3), now);
    const got: string[] = [];
    const s = source('src', log, got);
    await s.drain();
    log.append(lines('p', 3, 2), now); // written, not yet read, when the kubelet rotates
    const before = await fingerprintFile(log.path);
    const events = log.rotate(now());
    const renamed = events.find((e) => e.kind === 'renamed');
    assert.ok(renamed?.kind === 'renamed');
    assert.deepEqual(await fingerprintFile(join(log.dir, renamed.to)), before, 'same bytes, same fingerprint');
    log.append(lines('p', 5, 2), now);
    await s.drain();
    assert.deepEqual(got, ['ns/p/0', 'ns/p/1', 'ns/p/2', 'ns/p/3', 'ns/p/4', 'ns/p/5', 'ns/p/6']);
    assert.equal(s.server.watched().length, 2);
    s.server.close();
  });

  it('writes the final positions on stop, through checkpoints.new.json and a rename', async () => {
    const log = new ContainerLog(join(root, 'pods/ns_p_u/app'));
    log.append(lines('p', 0, 6), now);
    const s = source('src', log, []);
    await s.drain();
    s.checkpointer.write(); // the shutdown write
    assert.deepEqual(positions('src'), [BigInt(log.size())]);
    assert.equal(existsSync(join(root, 'data/src/checkpoints.new.json')), false);
    assert.equal(s.checkpointer.write(), false, 'an unchanged state is not written again');
    s.server.close();
  });

  it('prefers a parseable checkpoints.new.json left by an interrupted write, and renames it into place', async () => {
    const log = new ContainerLog(join(root, 'pods/ns_p_u/app'));
    log.append(lines('p', 0, 6), now);
    const fp = await fingerprintFile(log.path);
    assert.ok(fp.status === 'ready');
    const entry = (position: number) => ({
      fingerprint: { kind: 'first_lines_checksum' as const, checksum: fp.checksum },
      position: BigInt(position),
      modified: '2027-01-01T00:00:00Z',
    });
    const dir = join(root, 'data/src');
    const probe = source('src', log, []); // creates the dir
    probe.server.close();
    const lineBytes = readFileSync(log.path, 'utf8').indexOf('\n') + 1;
    writeFileSync(join(dir, 'checkpoints.json'), serializeCheckpoints([entry(0)]));
    writeFileSync(join(dir, 'checkpoints.new.json'), serializeCheckpoints([entry(lineBytes * 2)]));
    const got: string[] = [];
    const s = source('src', log, got);
    assert.equal(s.loaded, 'tmp');
    assert.equal(existsSync(join(dir, 'checkpoints.new.json')), false);
    await s.drain();
    assert.deepEqual(got, ['ns/p/2', 'ns/p/3', 'ns/p/4', 'ns/p/5']);
    s.server.close();
  });

  it('re-reads every retained plain file under a new source id, but not the gzipped ones (the duplicates)', async () => {
    const log = new ContainerLog(join(root, 'pods/ns_p_u/app'), '0.log', 5);
    let seq = 0;
    const legacy: string[] = [];
    const a = source('legacy', log, legacy);
    for (let r = 0; r < 3; r++) {
      log.append(lines('p', seq, 4), now);
      seq += 4;
      await a.drain();
      log.rotate(now());
    }
    log.append(lines('p', seq, 4), now);
    seq += 4;
    await a.drain();
    a.checkpointer.write();
    a.server.close();
    assert.equal(legacy.length, seq);
    // The kubelet gzips every rotated file but the newest before renaming 0.log, so two rotated files stay plain:
    // the oldest of the three is gzipped and excluded.
    assert.equal(log.rotated().filter((f) => f.endsWith('.gz')).length, 1);
    const renamed: string[] = [];
    const b = source('optimizedSource-x', log, renamed);
    await b.drain();
    assert.deepEqual(renamed.sort(), Array.from({ length: 12 }, (_, i) => `ns/p/${i + 4}`).sort());
    b.server.close();
  });

  it('stops reading at a line a stuck sink refuses, so its checkpoint stays before that line', async () => {
    const log = new ContainerLog(join(root, 'pods/ns_p_u/app'));
    log.append(lines('p', 0, 3), now);
    const stuck = { now: false };
    const got: string[] = [];
    const s = source('src', log, got, stuck);
    await s.drain();
    stuck.now = true;
    log.append(lines('p', 3, 3), now);
    await s.drain();
    s.checkpointer.write();
    const firstThree = Buffer.byteLength(readFileSync(log.path, 'utf8').split('\n').slice(0, 3).join('\n') + '\n');
    assert.deepEqual(positions('src'), [BigInt(firstThree)]);
    stuck.now = false;
    await s.drain();
    assert.deepEqual(got, ['ns/p/0', 'ns/p/1', 'ns/p/2', 'ns/p/3', 'ns/p/4', 'ns/p/5']);
    s.server.close();
  });
});
