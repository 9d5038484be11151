import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process, { execPath } from 'node:process';
import * as k8s from '@kubernetes/client-node';
import { binPaths, runBin, runWithoutClientNode } from '../helpers/bin.ts';

describe('vector-operator lab', () => {
  it('prints its usage with the scenario names, and refuses an unknown scenario or a bad size with exit 2, loading no Kubernetes client', () => {
    const help = runWithoutClientNode(['lab', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--pipelines N/);
    assert.match(help.stdout, /switch-migration/);
    const unknown = runWithoutClientNode(['lab', '--scenario', 'nope']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown scenario nope/);
    const bad = runWithoutClientNode(['lab', '--nodes', '0']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /positive integer/);
  });

  it('refuses an unknown --kube with exit 2, and --kube real without the built binaries with exit 1 naming the build', () => {
    const bad = runBin('vector-operator', ['lab', '--kube', 'kind']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--kube takes standin or real, not 'kind'/);
    const empty = mkdtempSync(join(tmpdir(), 'lab-nobin-'));
    try {
      const r = runBin('vector-operator', ['lab', '--kube', 'real'], {
        env: { ...process.env, VECTOR_OPERATOR_KUBE_BIN: empty },
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /etcd, kube-apiserver, .* not built in .*; run `npm run build:kube`/);
      assert.equal(r.stdout, '', 'no report when nothing ran');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses lab apiserver without --kubeconfig', () => {
    const r = runBin('vector-operator', ['lab', 'apiserver']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--kubeconfig is required/);
  });

  it('serves the API stand-in until SIGTERM, with a kubeconfig client-node uses as is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const child = spawn(execPath, [binPaths['vector-operator'], 'lab', 'apiserver', '--kubeconfig', kubeconfig], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('serving')) resolve();
        });
        child.on('exit', (code) => {
          reject(new Error(`exited early with ${String(code)}: ${out}`));
        });
      });
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      const namespaces = await kc.makeApiClient(k8s.CoreV1Api).listNamespace();
      assert.deepEqual(
        namespaces.items.map((n) => n.metadata?.name),
        ['default', 'kube-node-lease', 'kube-public', 'kube-system'],
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
