/**
 * Bench of the operator (src/operator) with 1000 pipelines on one Vector, against the API server stand-in over
 * loopback HTTPS. Run: `./node_modules/.bin/node bench/operator.bench.ts` (Node 24; type stripping).
 *
 * Measured, per run (median of RUNS runs, each on a fresh stand-in):
 * - latency: a VectorPipeline's spec is patched; time until the Vector's config Secret in the stand-in's store holds
 *   the change (read from the store in-process, so the probe itself sends no request). CHANGES changes per run.
 * - requests per pipeline change: everything the operator sends from the patch until it is idle again (the bench's
 *   own patch is subtracted), split into reads and writes.
 * - a no-op resync (every cached object re-emitted, every Vector and pipeline reconciled): requests sent.
 * - a restart with nothing changed: requests sent until idle (lists and watches only, 0 writes expected).
 * Flags: --enable-config-optimization and --enable-checkpoint-migration on (both configs are built every reconcile,
 * the most expensive setting). The stand-in runs in this process, so its CPU time is included in the latency.
 */
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startApiServer, type ApiServer } from '../lab/apiserver/server.ts';
import { request } from '../src/kube/client.ts';
import { defaultMergerImage } from '../src/operator/merger-container.ts';
import { Operator } from '../src/operator/operator.ts';
import { machine, median } from './common.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PIPELINES = Number(process.env.BENCH_PIPELINES ?? 1000);
const CHANGES = 5;
const group = '/apis/observability.kaasops.io/v1alpha1';
const silent = { info() {}, warn() {}, error() {}, debug() {} };
const isWrite = (k: string): boolean => !/^(get|list|watch) /.test(k);

function total(counts: Record<string, number>, pick: (k: string) => boolean): number {
  return Object.entries(counts)
    .filter(([k]) => pick(k))
    .reduce((s, [, n]) => s + n, 0);
}

async function setup(): Promise<{ server: ApiServer; kc: KubeConfig }> {
  const server = await startApiServer({ eventLogSize: 50_000 });
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig);
  const dir = new URL('../deploy/crds/', import.meta.url);
  for (const f of readdirSync(dir).sort())
    await request(kc, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: parse(readFileSync(new URL(f, dir), 'utf8')) as unknown,
    });
  const names = Array.from({ length: PIPELINES }, (_, i) => `ns-${String(i).padStart(4, '0')}`);
  for (const ns of ['vector', ...names])
    await request(kc, 'POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    });
  await request(kc, 'POST', `${group}/namespaces/vector/vectors`, {
    body: {
      apiVersion: 'observability.kaasops.io/v1alpha1',
      kind: 'Vector',
      metadata: { name: 'logs', namespace: 'vector' },
      spec: {},
    },
  });
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(
      names.slice(i, i + 50).map((ns) =>
        request(kc, 'POST', `${group}/namespaces/${ns}/vectorpipelines`, {
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
      ),
    );
  }
  return { server, kc };
}

function secretText(server: ApiServer, name: string): string {
  const s = server.store.get('/secrets', 'vector', name) as { data?: Record<string, string> } | undefined;
  return Buffer.from(s?.data?.['agent.json'] ?? '', 'base64').toString('utf8');
}

/** Idle: no request for `quietMs` (bounded wait). */
async function idle(server: ApiServer, quietMs = 300): Promise<void> {
  let last = JSON.stringify(server.hooks.requestCounts());
  for (let i = 0; i < 600; i++) {
    await sleep(quietMs);
    const now = JSON.stringify(server.hooks.requestCounts());
    if (now === last) return;
    last = now;
  }
}

async function reconciles(op: Operator): Promise<number> {
  const text = await op.metrics.registry.getSingleMetricAsString('vector_operator_reconciles_total');
  return [...text.matchAll(/result="success"} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
}

interface RunResult {
  latencies: number[];
  reads: number[];
  writes: number[];
  resyncRequests: number;
  restartReads: number;
  restartWrites: number;
  initialMs: number;
}

async function oneRun(): Promise<RunResult> {
  const { server, kc } = await setup();
  const flags = { optimize: true, migration: true, mergerImage: defaultMergerImage };
  const t0 = performance.now();
  let op = new Operator({ kc, flags, log: silent, resyncMs: 0 });
  await op.start();
  for (
    let i = 0;
    i < 3000 && !secretText(server, 'logs-agent-opt').includes(`ns-${String(PIPELINES - 1).padStart(4, '0')}`);
    i++
  )
    await sleep(5);
  const initialMs = performance.now() - t0;
  await idle(server);

  const r: RunResult = {
    latencies: [],
    reads: [],
    writes: [],
    resyncRequests: 0,
    restartReads: 0,
    restartWrites: 0,
    initialMs,
  };
  for (let c = 0; c < CHANGES; c++) {
    const ns = `ns-${String((c * 197) % PIPELINES).padStart(4, '0')}`;
    const marker = 1000 + c;
    server.hooks.resetCounts();
    const start = performance.now();
    await request(kc, 'PATCH', `${group}/namespaces/${ns}/vectorpipelines/app`, {
      body: { spec: { sinks: { out: { type: 'blackhole', inputs: ['pods'], rate: marker } } } },
      contentType: 'application/merge-patch+json',
    });
    for (let i = 0; i < 100_000 && !secretText(server, 'logs-agent-opt').includes(`"rate":${marker}`); i++)
      await new Promise((res) => setImmediate(res));
    r.latencies.push(performance.now() - start);
    await idle(server);
    const counts = server.hooks.requestCounts();
    r.reads.push(total(counts, (k) => !isWrite(k)));
    r.writes.push(total(counts, isWrite) - 1); // minus the bench's own patch
    if (process.env.BENCH_DEBUG !== undefined) console.error(counts);
  }
  await op.stop();

  // Restart with nothing changed, with a short resync so one no-op resync can be observed too.
  server.hooks.resetCounts();
  op = new Operator({ kc, flags, log: silent, resyncMs: 3000 });
  await op.start();
  await idle(server);
  const restart = server.hooks.requestCounts();
  r.restartReads = total(restart, (k) => !isWrite(k));
  r.restartWrites = total(restart, isWrite);
  server.hooks.resetCounts();
  const before = await reconciles(op);
  for (let i = 0; i < 1000 && (await reconciles(op)) < before + PIPELINES + 1; i++) await sleep(20);
  await idle(server, 200);
  r.resyncRequests = total(server.hooks.requestCounts(), () => true);
  await op.stop();
  await server.close();
  return r;
}

const results: RunResult[] = [];
for (let i = 0; i < RUNS; i++) results.push(await oneRun());
const med = (f: (r: RunResult) => number[]): number => median(results.flatMap(f));
const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));
process.stdout.write(
  [
    `### Operator: ${PIPELINES} pipelines on one Vector`,
    '',
    `${machine()}. Medians of ${RUNS} runs × ${CHANGES} changes; optimization and migration on; the API server`,
    'stand-in in the same process (its CPU time counts). See the top of bench/operator.bench.ts for the method.',
    '',
    '| measure | median |',
    '|---|---|',
    `| first sync: operator start → both config Secrets hold all ${PIPELINES} pipelines | ${fmt(med((r) => [r.initialMs]))} ms |`,
    `| pipeline change → config Secret updated | ${fmt(med((r) => r.latencies))} ms |`,
    `| API requests per pipeline change: writes | ${fmt(med((r) => r.writes))} |`,
    `| API requests per pipeline change: reads | ${fmt(med((r) => r.reads))} |`,
    `| no-op resync (${PIPELINES + 1} reconciles): requests (writes) | ${fmt(med((r) => [r.resyncRequests]))} (0 expected) |`,
    `| restart with nothing changed: writes | ${fmt(med((r) => [r.restartWrites]))} |`,
    `| restart with nothing changed: reads (lists + watches) | ${fmt(med((r) => [r.restartReads]))} |`,
    '',
  ].join('\n'),
);
