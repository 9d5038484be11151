/**
 * The operator at scale on a real control plane (etcd + kube-apiserver from `npm run build:kube`): PIPELINES
 * single-namespace pipelines on one Vector (default 10 000) and NODES stand nodes (default 1000: Node objects with
 * Leases and a kubelet each that runs no container, lab/nodes), so the real DaemonSet controller and scheduler place
 * one agent pod per node; the operator as a child process (`vector-operator run`, the compiled bin) with the
 * ServiceAccount and ClusterRole of `deploy/`, optimization and migration on.
 *
 * Measured:
 * - first sync: operator start → the optimized config Secret holds every pipeline (seen through the bench's own
 *   polls, as admin); then until every agent pod is ready (the DaemonSet's `numberReady`);
 * - pipeline change → config Secret updated, CHANGES times;
 * - API requests per change, reads and writes, from the API server's audit log of the operator's ServiceAccount;
 * - a no-op resync (`--sync-period`): requests, writes expected 0;
 * - a restart with nothing changed: requests until idle, writes expected 0;
 * - the operator's peak RSS (VmHWM).
 * Run: `npm run bench -- real-scale` (BENCH_PIPELINES, BENCH_NODES to change the size). Skipped when the binaries are not built.
 * To look inside: BENCH_DEBUG=1 prints the operator's memory and each window's requests; BENCH_OP_STDOUT=FILE keeps the
 * operator's stdout (with BENCH_OPERATOR_NODE_FLAGS="--trace-gc ...", its garbage collections).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import process, { execPath } from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { missingKubeBinaries } from '../lab/kube-real/binaries.ts';
import { startNodes } from '../lab/nodes/cluster.ts';
import { request } from '../src/kube/client.ts';
import { configPayloadText } from '../src/vector/config-payload.ts';
import { OPERATOR_NODE_FLAGS } from '../src/operator/node-flags.ts';
import { machine, median } from './common.ts';
import { startRealCluster, type AuditEvent, type RealCluster } from './real-cluster.ts';

/** Node flags for the operator process (a trial of V8 settings; the image's ENTRYPOINT has none). */
/** The image's flags (src/operator/node-flags.ts) unless BENCH_OPERATOR_NODE_FLAGS says otherwise ('' for none). */
const NODE_FLAGS =
  process.env.BENCH_OPERATOR_NODE_FLAGS === undefined
    ? OPERATOR_NODE_FLAGS
    : process.env.BENCH_OPERATOR_NODE_FLAGS.split(' ').filter((f) => f !== '');
const PIPELINES = Number(process.env.BENCH_PIPELINES ?? 10_000);
const NODES = Number(process.env.BENCH_NODES ?? 1000);
const CHANGES = 5;
const POLL_MS = 50;
const SYNC_PERIOD_S = Number(process.env.BENCH_SYNC_PERIOD_S ?? 120);
const GROUP = '/apis/observability.kaasops.io/v1alpha1';
const nsName = (i: number): string => `ns-${String(i).padStart(5, '0')}`;
const isWrite = (e: AuditEvent): boolean => !['get', 'list', 'watch'].includes(e.verb);

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

async function inBatches<T>(items: T[], size: number, f: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f));
}

async function populate(kc: KubeConfig): Promise<void> {
  const dir = new URL('../deploy/crds/', import.meta.url);
  for (const f of readdirSync(dir).sort())
    await request(kc, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: parse(readFileSync(new URL(f, dir), 'utf8')) as unknown,
    });
  for (let i = 0; i < 300; i++) {
    const served = await request<{ resources?: unknown[] }>(kc, 'GET', GROUP).catch(() => undefined);
    if ((served?.resources?.length ?? 0) >= 3) break;
    await sleep(100);
  }
  const names = Array.from({ length: PIPELINES }, (_, i) => nsName(i));
  await inBatches(['vector', ...names], 32, (ns) =>
    request(kc, 'POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    }),
  );
  await request(kc, 'POST', `${GROUP}/namespaces/vector/vectors`, {
    body: {
      apiVersion: 'observability.kaasops.io/v1alpha1',
      kind: 'Vector',
      metadata: { name: 'logs', namespace: 'vector' },
      // 10 000 pipelines make a ~3.5 MiB config; a Secret holds 1 MiB. gzip brings it to a few hundred KiB.
      spec: { agent: { compressConfigFile: true } },
    },
  });
  await inBatches(names, 32, (ns) =>
    request(kc, 'POST', `${GROUP}/namespaces/${ns}/vectorpipelines`, {
      body: {
        apiVersion: 'observability.kaasops.io/v1alpha1',
        kind: 'VectorPipeline',
        metadata: { name: 'app', namespace: ns },
        spec: {
          sources: { pods: { type: 'kubernetes_logs' } },
          sinks: { out: { type: 'blackhole', inputs: ['pods'], rate: 1 } },
        },
      },
    }),
  );
}

type Config = { sinks?: Record<string, { rate?: number }> };

/**
 * Reads the optimized config Secret as admin (not audited) every POLL_MS until `pred` holds, and returns when. A poll
 * rather than a watch: a watch that ends under load would need a relist to be trusted, and 50 ms is far below the
 * 1 s goal. The config is decoded only when the Secret's resourceVersion moves, so the poll takes little of the CPU
 * the operator is measured on.
 */
async function secretUntil(kc: KubeConfig, pred: (c: Config) => boolean): Promise<number> {
  let seen: string | undefined;
  for (;;) {
    const s = await request<{ metadata?: { resourceVersion?: string }; data?: Record<string, string> }>(
      kc,
      'GET',
      '/api/v1/namespaces/vector/secrets/logs-agent-opt',
    ).catch(() => undefined);
    const rv = s?.metadata?.resourceVersion;
    const b64 = s?.data?.['agent.json'];
    if (rv !== seen && b64 !== undefined) {
      seen = rv;
      if (pred(JSON.parse(configPayloadText(Buffer.from(b64, 'base64'))) as Config)) return performance.now();
    }
    await sleep(POLL_MS);
  }
}

interface OperatorChild {
  pid: number;
  metricsPort: number;
  stop(): Promise<void>;
  peakRssMiB(): number;
}

async function startOperator(kubeconfig: string): Promise<OperatorChild> {
  const metricsPort = await freePort();
  const bin = new URL('../dist/src/cli/vector-operator.js', import.meta.url).pathname;
  const child = spawn(
    execPath,
    [
      ...NODE_FLAGS,
      bin,
      'run',
      '--kubeconfig',
      kubeconfig,
      '--enable-config-optimization',
      '--enable-checkpoint-migration',
      `--sync-period=${SYNC_PERIOD_S}s`,
      '--health-probe-bind-address=127.0.0.1:0',
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      '--metrics-secure=false',
      '--log-level=warn',
    ],
    {
      stdio: [
        'ignore',
        process.env.BENCH_OP_STDOUT === undefined ? 'ignore' : openSync(process.env.BENCH_OP_STDOUT, 'a'),
        'inherit',
      ],
    },
  );
  const orphan = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', orphan);
  let peak = 0;
  const sample = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m !== null) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      // exited
    }
  }, 500);
  return {
    pid: child.pid ?? 0,
    metricsPort,
    peakRssMiB: () => peak,
    async stop() {
      clearInterval(sample);
      process.off('exit', orphan);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The Vector controller's reconcile time so far, in ms (the operator's duration histogram). */
async function vectorReconcileMs(port: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const m = /vector_operator_reconcile_duration_seconds_sum\{controller="vector"\} ([\d.e+-]+)/.exec(text);
  return m === null ? 0 : Number(m[1]) * 1000;
}

async function reconciles(port: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  return [...text.matchAll(/vector_operator_reconciles_total\{[^}]*result="success"[^}]*\} (\d+)/g)].reduce(
    (s, m) => s + Number(m[1]),
    0,
  );
}

/** Waits until the operator has sent no request for `quietMs` (per the audit log), and returns the time. */
async function idle(cluster: RealCluster, quietMs = 2000): Promise<void> {
  let n = cluster.audit().length;
  for (let i = 0; i < 300; i++) {
    await sleep(quietMs);
    const m = cluster.audit().length;
    if (m === n) return;
    n = m;
  }
}

/** Until the agent DaemonSet reports `n` pods ready. */
async function agentsReady(kc: KubeConfig, n: number): Promise<void> {
  for (;;) {
    const ds = await request<{ status?: { numberReady?: number } }>(
      kc,
      'GET',
      '/apis/apps/v1/namespaces/vector/daemonsets/logs-agent',
    ).catch(() => undefined);
    if ((ds?.status?.numberReady ?? 0) >= n) return;
    await sleep(500);
  }
}

const between = (events: AuditEvent[], from: number, to: number): AuditEvent[] =>
  events.filter((e) => e.at >= from && e.at <= to);

if (missingKubeBinaries().length > 0) {
  process.stdout.write('### Operator on a real control plane: SKIPPED (run `npm run build:kube`)\n');
  process.exit(0);
}

const cluster = await startRealCluster();
const nodesRoot = mkdtempSync(join(tmpdir(), 'real-scale-nodes-'));
const nodes = await startNodes({
  kubeconfig: cluster.plane.kubeconfig,
  root: nodesRoot,
  nodes: NODES,
  kube: 'real',
  runContainers: false,
});
try {
  const tPop = performance.now();
  await populate(cluster.admin);
  const populateS = (performance.now() - tPop) / 1000;
  const last = `${nsName(PIPELINES - 1)}-app-out`;

  const t0 = performance.now();
  let op = await startOperator(cluster.operatorKubeconfig);
  const firstSyncMs = (await secretUntil(cluster.admin, (c) => c.sinks?.[last] !== undefined)) - t0;
  await agentsReady(cluster.admin, NODES);
  const agentsReadyMs = performance.now() - t0;
  await idle(cluster);

  const changeWindows: AuditEvent[][] = [];
  const latencies: number[] = [];
  const reconcileMs: number[] = [];
  const reads: number[] = [];
  const writes: number[] = [];
  for (let c = 0; c < CHANGES; c++) {
    const ns = nsName((c * 1973) % PIPELINES);
    const rate = 1000 + c;
    const from = Date.now();
    const reconciledBefore = await vectorReconcileMs(op.metricsPort);
    const start = performance.now();
    await request(cluster.admin, 'PATCH', `${GROUP}/namespaces/${ns}/vectorpipelines/app`, {
      body: { spec: { sinks: { out: { type: 'blackhole', inputs: ['pods'], rate } } } },
      contentType: 'application/merge-patch+json',
    });
    latencies.push((await secretUntil(cluster.admin, (cfg) => cfg.sinks?.[`${ns}-app-out`]?.rate === rate)) - start);
    await idle(cluster);
    // Every Vector reconcile the change caused, to its end (the Secrets, the DaemonSet check, the status).
    reconcileMs.push((await vectorReconcileMs(op.metricsPort)) - reconciledBefore);
    const sent = between(cluster.audit(), from, Date.now());
    changeWindows.push(sent);
    writes.push(sent.filter(isWrite).length);
    reads.push(sent.filter((e) => !isWrite(e)).length);
  }

  // One no-op resync: every cached object reconciled again, from memory.
  const before = await reconciles(op.metricsPort);
  const resyncFrom = Date.now();
  for (let i = 0; i < SYNC_PERIOD_S * 4 && (await reconciles(op.metricsPort)) < before + PIPELINES + 1; i++)
    await sleep(500);
  await idle(cluster);
  const resync = between(cluster.audit(), resyncFrom, Date.now());
  const resyncReconciles = (await reconciles(op.metricsPort)) - before;
  const peakFirst = op.peakRssMiB();
  if (process.env.BENCH_DEBUG !== undefined) {
    const text = await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`).then((r) => r.text());
    console.error(
      text
        .split('\n')
        .filter((l) => /^nodejs_(heap_size|external)|^process_resident/.test(l))
        .join('\n'),
    );
  }
  await op.stop();

  // A restart with nothing changed.
  const restartFrom = Date.now();
  const t1 = performance.now();
  op = await startOperator(cluster.operatorKubeconfig);
  for (let i = 0; i < 600 && (await reconciles(op.metricsPort)) < PIPELINES + 1; i++) await sleep(200);
  const restartSyncMs = performance.now() - t1;
  await idle(cluster);
  await op.stop();
  const restart = between(cluster.audit(), restartFrom, Date.now());

  const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));
  process.stdout.write(
    [
      `### Operator on a real control plane (${cluster.plane.gitVersion}): ${PIPELINES} pipelines on one Vector, ${NODES} agent pods`,
      '',
      `${machine()}. One run; ${CHANGES} changes (medians). The operator is a child process with the ServiceAccount`,
      'and ClusterRole of deploy/; requests are counted from the API server audit log. See bench/real-scale.bench.ts.',
      '',
      '| measure | result | goal |',
      '|---|---:|---|',
      `| populate: ${PIPELINES} namespaces + pipelines (bench, 32 in flight) | ${populateS.toFixed(1)} s | |`,
      `| first sync: start → optimized Secret holds every pipeline | ${(firstSyncMs / 1000).toFixed(1)} s | ≤ 30 s |`,
      `| start → ${NODES} agent pods ready (DaemonSet controller, scheduler, stand kubelets) | ${(agentsReadyMs / 1000).toFixed(1)} s | |`,
      `| pipeline change → config Secret updated (median) | ${fmt(median(latencies))} ms | ≤ 1 s |`,
      `| the Vector reconciles a change caused, start to end (median) | ${fmt(median(reconcileMs))} ms | |`,
      `| requests per change: writes / reads (median) | ${fmt(median(writes))} / ${fmt(median(reads))} | |`,
      `| no-op resync (${resyncReconciles} reconciles): writes / reads | ${resync.filter(isWrite).length} / ${resync.filter((e) => !isWrite(e)).length} | 0 writes |`,
      `| restart, nothing changed: sync, writes / reads | ${(restartSyncMs / 1000).toFixed(1)} s, ${restart.filter(isWrite).length} / ${restart.filter((e) => !isWrite(e)).length} | 0 writes |`,
      `| operator peak RSS (VmHWM) | ${Math.round(Math.max(peakFirst, op.peakRssMiB()))} MiB | ≤ 500 MiB |`,
      '',
    ].join('\n'),
  );
  if (process.env.BENCH_DEBUG !== undefined) {
    const byKind = (events: AuditEvent[]): Record<string, number> => {
      const m = new Map<string, number>();
      for (const e of events) m.set(`${e.verb} ${e.resource}`, (m.get(`${e.verb} ${e.resource}`) ?? 0) + 1);
      return Object.fromEntries(m);
    };
    changeWindows.forEach((w, i) => {
      console.error(`change ${i} (${latencies[i]} ms) requests`, byKind(w.filter(isWrite)));
    });
    console.error('resync requests', byKind(resync));
    console.error('restart requests', byKind(restart));
  }
} finally {
  await nodes.stop();
  await cluster.plane.stop();
  rmSync(nodesRoot, { recursive: true, force: true });
}
