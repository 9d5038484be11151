/**
 * The log workload: deterministic given its seed, rotated the kubelet way, and its ledger matches the files on disk.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as k8s from '@kubernetes/client-node';
import { startApiServer } from '../../lab/apiserver/server.ts';
import { Workload } from '../../lab/workload/workload.ts';

async function run(seed: number): Promise<{ w: Workload; files: Map<string, string>; cleanup: () => Promise<void> }> {
  const server = await startApiServer();
  const kc = new k8s.KubeConfig();
  kc.loadFromString(server.kubeconfig);
  const root = mkdtempSync(join(tmpdir(), 'workload-'));
  const w = await Workload.create(kc.makeApiClient(k8s.CoreV1Api), {
    seed,
    namespaces: ['a', 'b'],
    podsPerNamespace: 2,
    nodes: [
      { name: 'n0', root: join(root, 'n0') },
      { name: 'n1', root: join(root, 'n1') },
    ],
    maxFileBytes: 2048,
    maxFiles: 4,
  });
  for (let i = 0; i < 12; i++) w.write(15);
  // Contents by `<ns>/<pod>/<file>`: the pod uid (from the API server) is the only part that may differ.
  const files = new Map<string, string>();
  for (const p of w.pods) {
    for (const f of readdirSync(p.log.dir).sort()) {
      const bytes = readFileSync(join(p.log.dir, f));
      files.set(`${p.node}/${p.ns}/${p.name}/${f}`, (f.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8'));
    }
  }
  return {
    w,
    files,
    cleanup: async () => {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function ids(text: string): string[] {
  return [...text.matchAll(/ id=(\S+) /g)].map((m) => m[1] as string);
}

describe('log workload', () => {
  it('writes the same lines, timestamps, placement and rotations for the same seed, and others for another', async () => {
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    try {
      assert.deepEqual([...a.files], [...b.files]);
      assert.notDeepEqual([...a.files], [...c.files]);
    } finally {
      await Promise.all([a.cleanup(), b.cleanup(), c.cleanup()]);
    }
  });

  it('writes CRI lines with unique ids, rotates the kubelet way, and its ledger matches the files', async () => {
    const { w, files, cleanup } = await run(7);
    try {
      const all = [...files.values()].flatMap(ids);
      assert.equal(new Set(all).size, all.length, 'no id twice on disk');
      for (const text of files.values())
        for (const line of text.split('\n').filter((l) => l !== ''))
          assert.match(line, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z (stdout|stderr) F id=\S+ x+$/);
      const names = [...files.keys()].map((k) => k.split('/').pop() ?? '');
      assert.ok(
        names.some((n) => /^0\.log\.\d{8}-\d{6}\.gz$/.test(n)),
        'older rotated files are gzipped',
      );
      assert.ok(
        names.some((n) => /^0\.log\.\d{8}-\d{6}$/.test(n)),
        'the newest rotated files stay plain',
      );
      assert.ok(!names.some((n) => n.endsWith('.tmp')));
      for (const p of w.pods) assert.ok(readdirSync(p.log.dir).length <= 4, 'at most maxFiles files per container');
      // The ledger: retained = ids in plain files, written = every id ever written (some deleted by now).
      const plain = [...files].filter(([k]) => !k.endsWith('.gz')).flatMap(([, t]) => ids(t));
      assert.deepEqual(w.retained().sort(), plain.sort());
      assert.equal(
        w.written().length,
        w.pods.reduce((n, p) => n + p.seq, 0),
      );
      assert.ok(w.written().length > all.length, 'excess rotated files were deleted');
    } finally {
      await cleanup();
    }
  });
});
