/**
 * The stand's shared connection pool (lab/common/kube-http.ts) on both targets: against the stand-in and against a
 * real kube-apiserver, undici negotiates HTTP/2 by ALPN, so a hundred sources' three hundred watches are streams on
 * a few connections, and every watch still sees every event. Connections are counted from this process's own
 * sockets (/proc), which works the same for either server.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { sharePool } from '../../lab/common/kube-http.ts';
import { standReflector } from '../../lab/common/reflector.ts';
import type { Reflector } from '../../src/kube/reflector.ts';
import { eventually } from '../operator/stand.ts';
import { standSuite } from '../operator/stand-suite.ts';

/** This process's established TCP connections to `port` (Linux: socket inodes in /proc/self/fd × /proc/net/tcp). */
function connectionsTo(port: number): number {
  const mine = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m !== null) mine.add(m[1] ?? '');
    } catch {
      // The fd closed while we read the directory.
    }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6'])
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[2] is the remote address:port, f[3] the state (01 = ESTABLISHED), f[9] the inode.
      if (f[2]?.endsWith(`:${hexPort}`) === true && f[3] === '01' && mine.has(f[9] ?? '')) n++;
    }
  return n;
}

standSuite("the stand's shared pool over HTTP/2", { namespaces: [] }, (stand) => {
  it("carries a hundred sources' 300 watches on a few connections, and each sees a new namespace", async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(stand().kc.exportConfig());
    sharePool(kc);
    const port = Number(new URL(kc.getCurrentCluster()?.server ?? '').port);
    const base = connectionsTo(port);
    const reflectors: Reflector<k8s.V1Namespace>[] = [];
    for (let i = 0; i < 300; i++) reflectors.push(standReflector({ kc, path: '/api/v1/namespaces' }));
    try {
      await Promise.all(reflectors.map((r) => r.start()));
      await stand().create('/api/v1/namespaces', { metadata: { name: 'shared-pool' } });
      await eventually('every watch saw the new namespace', () =>
        reflectors.every((r) => r.get('shared-pool') !== undefined),
      );
      // undici opens at most 100 streams per HTTP/2 connection: 3 for 300 watches, a few more where lists overlapped
      // them. Over HTTP/1.1 every open watch would hold a connection of its own: 300.
      const held = connectionsTo(port) - base;
      assert.ok(held <= 6, `${String(held)} connections for 300 watches`);
    } finally {
      await Promise.all(reflectors.map((r) => r.stop()));
    }
  });
});
