/**
 * Bench of the lab API server stand-in (lab/apiserver): list 10 000 objects, hold 1 000 concurrent watches, and fan
 * events out to them. Run: `./node_modules/.bin/node bench/apiserver.bench.ts` (Node 24; type stripping).
 *
 * Method: the server runs in its own child process (so its RSS is its own), over loopback HTTPS with the bearer token,
 * exactly as a client sees it. Each figure is the median of RUNS runs. Clients are raw node:https (no client-library
 * decode cost) except the "client-node list" row, which measures what the operator will see; watches are held by
 * worker threads. Every loop is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:https';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 10_000);
const WATCHES = 1_000;
const FANOUT_WRITES = 200;
const FANOUT_WRITERS = Number(process.env.BENCH_WRITERS ?? 8);
const serverModule = fileURLToPath(new URL('../lab/apiserver/server.ts', import.meta.url));

interface Endpoint {
  url: string;
  token: string;
  ca: string;
  kubeconfig: string;
}

function startServer(): Promise<{ child: ChildProcess; ep: Endpoint }> {
  const script = `
    const { startApiServer } = await import(${JSON.stringify(serverModule)});
    const s = await startApiServer({ eventLogSize: 50000 });
    process.stdout.write(JSON.stringify({ kubeconfig: s.kubeconfig }) + '\\n');
    process.on('SIGTERM', () => { void s.close().then(() => process.exit(0)); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const { kubeconfig } = JSON.parse(buf.slice(0, nl)) as { kubeconfig: string };
      const kc = parseYaml(kubeconfig) as {
        clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
        users: { user: { token: string } }[];
      };
      const cluster = kc.clusters[0]?.cluster;
      resolve({
        child,
        ep: {
          url: cluster?.server ?? '',
          ca: Buffer.from(cluster?.['certificate-authority-data'] ?? '', 'base64').toString(),
          token: kc.users[0]?.user.token ?? '',
          kubeconfig,
        },
      });
    });
    child.on('exit', (code) => {
      reject(new Error(`server exited with ${String(code)}`));
    });
  });
}

function call(
  ep: Endpoint,
  agent: Agent,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${ep.url}${path}`,
      {
        method,
        agent,
        ca: ep.ca,
        headers: { authorization: `Bearer ${ep.token}`, 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function parallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/**
 * Watchers live in WORKERS worker threads (WATCHES / WORKERS each), so that reading 1 000 TLS streams is not bounded by
 * one client thread; each counts newline-terminated events and reports when every one of its watches has `target`.
 */
const WORKERS = 2;
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const https = require('node:https');
const { url, ca, token } = workerData;
const agent = new https.Agent({ keepAlive: false, maxSockets: Infinity });
let watches = [];
let target = Infinity;
const check = () => {
  if (target !== Infinity && watches.every((w) => w.lines >= target)) { target = Infinity; parentPort.postMessage('reached'); }
};
parentPort.on('message', (m) => {
  if (m.cmd === 'open') {
    let ready = 0;
    for (let i = 0; i < m.n; i++) {
      const w = { lines: 0, req: undefined };
      w.req = https.request(url + m.path, { agent, ca, headers: { authorization: 'Bearer ' + token } }, (res) => {
        res.on('data', (c) => { for (const b of c) if (b === 10) w.lines++; if (w.lines >= target) check(); });
        res.on('error', () => {});
        if (++ready === m.n) parentPort.postMessage('opened');
      });
      w.req.on('error', () => {});
      w.req.end();
      watches.push(w);
    }
  } else if (m.cmd === 'await') { target = m.target; check(); }
  else if (m.cmd === 'close') { for (const w of watches) w.req.destroy(); watches = []; parentPort.postMessage('closed'); }
});
`;

class WatchPool {
  private readonly workers: Worker[];

  constructor(ep: Endpoint) {
    this.workers = Array.from(
      { length: WORKERS },
      () => new Worker(WORKER_SOURCE, { eval: true, workerData: { url: ep.url, ca: ep.ca, token: ep.token } }),
    );
  }

  private all(msg: unknown, reply: string): Promise<void> {
    return Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const on = (m: unknown): void => {
              if (m !== reply) return;
              w.off('message', on);
              resolve();
            };
            w.on('message', on);
            w.postMessage(msg);
          }),
      ),
    ).then(() => undefined);
  }

  open(path: string, total: number): Promise<void> {
    return this.all({ cmd: 'open', n: total / WORKERS, path }, 'opened');
  }

  /** Resolves when every watch has received `target` events in total; call before the writes start. */
  reach(target: number): Promise<void> {
    return this.all({ cmd: 'await', target }, 'reached');
  }

  close(): Promise<void> {
    return this.all({ cmd: 'close' }, 'closed');
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

async function main(): Promise<void> {
  const { child, ep } = await startServer();
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const rows: [string, string][] = [];
  try {
    await call(ep, agent, 'POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });
    await call(ep, agent, 'POST', '/api/v1/namespaces', { metadata: { name: 'fan' } });
    const names = Array.from({ length: OBJECTS }, (_, i) => `cm-${String(i).padStart(5, '0')}`);
    const createMs = await timed(() =>
      parallel(names, 64, async (name) => {
        const r = await call(ep, agent, 'POST', '/api/v1/namespaces/bench/configmaps', {
          metadata: { name, labels: { app: 'bench', shard: String(name.length % 7) } },
          data: { 'vector.yaml': 'sources: {}\n'.repeat(8) },
        });
        if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.text}`);
      }),
    );
    rows.push([`create ${OBJECTS} ConfigMaps (64 in flight)`, `${Math.round(OBJECTS / (createMs / 1000))} creates/s`]);

    const held = JSON.parse((await call(ep, agent, 'GET', '/_lab/stats')).text) as { rssBytes: number };
    rows.push([`server RSS holding ${OBJECTS} objects`, `${(held.rssBytes / 1048576).toFixed(0)} MiB`]);
    const fullList: number[] = [];
    const pagedList: number[] = [];
    const clientList: number[] = [];
    const kc = new k8s.KubeConfig();
    kc.loadFromString(ep.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    let listBytes = 0;
    for (let run = 0; run < RUNS; run++) {
      fullList.push(
        await timed(async () => {
          const r = await call(ep, agent, 'GET', '/api/v1/namespaces/bench/configmaps');
          listBytes = r.text.length;
          const n = (JSON.parse(r.text) as { items: unknown[] }).items.length;
          if (n !== OBJECTS) throw new Error(`listed ${n}`);
        }),
      );
      pagedList.push(
        await timed(async () => {
          let cont = '';
          let n = 0;
          for (let page = 0; page < 1000; page++) {
            const r = await call(
              ep,
              agent,
              'GET',
              `/api/v1/namespaces/bench/configmaps?limit=500${cont === '' ? '' : `&continue=${cont}`}`,
            );
            const body = JSON.parse(r.text) as { items: unknown[]; metadata: { continue?: string } };
            n += body.items.length;
            cont = body.metadata.continue ?? '';
            if (cont === '') break;
          }
          if (n !== OBJECTS) throw new Error(`paged ${n}`);
        }),
      );
      clientList.push(
        await timed(async () => {
          const l = await core.listNamespacedConfigMap({ namespace: 'bench' });
          if (l.items.length !== OBJECTS) throw new Error('client-node list short');
        }),
      );
    }
    rows.push([
      `list ${OBJECTS} objects, one response (${(listBytes / 1e6).toFixed(1)} MB)`,
      `${median(fullList).toFixed(0)} ms`,
    ]);
    rows.push([`list ${OBJECTS} objects, limit=500 pages`, `${median(pagedList).toFixed(0)} ms`]);
    rows.push([`list ${OBJECTS} objects with client-node (typed, decoded)`, `${median(clientList).toFixed(0)} ms`]);

    const openMs: number[] = [];
    const fanRates: number[] = [];
    const fanMs: number[] = [];
    const serverCpuShare: number[] = [];
    let heldOk = 0;
    const pool = new WatchPool(ep);
    for (let run = 0; run < RUNS; run++) {
      const list = JSON.parse((await call(ep, agent, 'GET', '/api/v1/namespaces/fan/configmaps')).text) as {
        metadata: { resourceVersion: string };
      };
      const rv = list.metadata.resourceVersion;
      openMs.push(
        await timed(() =>
          pool.open(`/api/v1/namespaces/fan/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=600`, WATCHES),
        ),
      );
      const stats = JSON.parse((await call(ep, agent, 'GET', '/_lab/stats')).text) as { openWatches: number };
      if (stats.openWatches === WATCHES) heldOk++;
      const cpu0 = (JSON.parse((await call(ep, agent, 'GET', '/_lab/stats')).text) as { cpuMs: number }).cpuMs;
      const ms = await timed(async () => {
        const arrived = pool.reach(FANOUT_WRITES);
        const indexes = Array.from({ length: FANOUT_WRITES }, (_, i) => i);
        await parallel(indexes, FANOUT_WRITERS, async (i) => {
          const r = await call(ep, agent, 'POST', '/api/v1/namespaces/fan/configmaps', {
            metadata: { name: `r${run}-e${i}` },
            data: { i: String(i) },
          });
          if (r.status !== 201) throw new Error(`fan create ${r.status}`);
        });
        await arrived;
      });
      fanMs.push(ms);
      const cpu1 = (JSON.parse((await call(ep, agent, 'GET', '/_lab/stats')).text) as { cpuMs: number }).cpuMs;
      serverCpuShare.push((cpu1 - cpu0) / ms);
      fanRates.push((FANOUT_WRITES * WATCHES) / (ms / 1000));
      await pool.close();
      for (let i = 0; i < 500; i++) {
        const s = JSON.parse((await call(ep, agent, 'GET', '/_lab/stats')).text) as { openWatches: number };
        if (s.openWatches === 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    await pool.terminate();
    rows.push([
      `open ${WATCHES} concurrent watches (TLS + replay)`,
      `${median(openMs).toFixed(0)} ms; held ${heldOk}/${RUNS} runs at ${WATCHES}`,
    ]);
    rows.push([
      `${FANOUT_WRITES} writes (${FANOUT_WRITERS} in flight) fanned out to ${WATCHES} watches`,
      `${median(fanMs).toFixed(0)} ms`,
    ]);
    rows.push([`server CPU busy during fan-out`, `${Math.round(median(serverCpuShare) * 100)} %`]);
    rows.push([
      `events delivered per second (writes × watchers)`,
      `${Math.round(median(fanRates)).toLocaleString('en-US')} /s`,
    ]);
    const stats = JSON.parse((await call(ep, agent, 'GET', '/_lab/stats')).text) as { maxRssBytes: number };
    rows.push(['server peak RSS', `${(stats.maxRssBytes / 1048576).toFixed(0)} MiB`]);
    rows.push(['bench client peak RSS', `${((process.resourceUsage().maxRSS * 1024) / 1048576).toFixed(0)} MiB`]);
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
  }
  process.stdout.write(
    `### lab API server stand-in (median of ${RUNS} runs, Node ${process.version}, loopback HTTPS)\n\n`,
  );
  process.stdout.write('| measure | result |\n|---|---|\n');
  for (const [k, v] of rows) process.stdout.write(`| ${k} | ${v} |\n`);
}

await main();
