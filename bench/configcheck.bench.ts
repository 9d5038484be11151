/**
 * Bench of what config checks add to "pipeline change → config Secret updated", in the stand: the API server
 * stand-in and 3 simulated nodes whose kubelets run the configcheck pods (the stand's `vector validate`, a process
 * per pod), one Vector and PIPELINES pipelines. Run: `npm run bench -- configcheck`.
 *
 * Measured, per mode (configcheck pods off, then on, each on a fresh stand): a VectorPipeline's spec is patched; the
 * time until the Vector's config Secret in the stand-in's store holds the change (read in-process). CHANGES changes,
 * each once the operator is idle again; the median. With checks on, the change waits for the Vector's check pod (the
 * pipeline's own check runs beside it).
 */
import process from 'node:process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startApiServer, type ApiServer } from '../lab/apiserver/server.ts';
import { startNodes } from '../lab/nodes/cluster.ts';
import { request } from '../src/kube/client.ts';
import { Operator } from '../src/operator/operator.ts';
import { machine, median } from './common.ts';

const PIPELINES = Number(process.env.BENCH_PIPELINES ?? 30);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 7);
const group = '/apis/observability.kaasops.io/v1alpha1';
const silent = { info() {}, warn() {}, error() {}, debug() {} };
const ns = (i: number): string => `ns-${String(i).padStart(4, '0')}`;

async function setup(kc: KubeConfig): Promise<void> {
  const dir = new URL('../deploy/crds/', import.meta.url);
  for (const f of readdirSync(dir).sort())
    await request(kc, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: parse(readFileSync(new URL(f, dir), 'utf8')) as unknown,
    });
  for (const n of ['vector', ...Array.from({ length: PIPELINES }, (_, i) => ns(i))])
    await request(kc, 'POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } },
    });
  await request(kc, 'POST', `${group}/namespaces/vector/vectors`, {
    body: {
      apiVersion: 'observability.kaasops.io/v1alpha1',
      kind: 'Vector',
      metadata: { name: 'logs', namespace: 'vector' },
      spec: {},
    },
  });
  for (let i = 0; i < PIPELINES; i++)
    await request(kc, 'POST', `${group}/namespaces/${ns(i)}/vectorpipelines`, {
      body: {
        apiVersion: 'observability.kaasops.io/v1alpha1',
        kind: 'VectorPipeline',
        metadata: { name: 'app', namespace: ns(i) },
        spec: {
          sources: { pods: { type: 'kubernetes_logs' } },
          sinks: { out: { type: 'blackhole', inputs: ['pods'], rate: 1 } },
        },
      },
    });
}

function secretText(server: ApiServer): string {
  const s = server.store.get('/secrets', 'vector', 'logs-agent') as { data?: Record<string, string> } | undefined;
  return Buffer.from(s?.data?.['agent.json'] ?? '', 'base64').toString('utf8');
}

/** Settled: no configcheck pod left (the kubelets' Secret re-reads never let the stand-in go quiet), then a pause. */
async function idle(server: ApiServer): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const pods = server.store.list('/pods', 'vector') as { metadata?: { labels?: Record<string, string> } }[];
    if (!pods.some((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === 'ConfigCheck')) break;
    await sleep(50);
  }
  await sleep(500);
}

async function oneMode(checks: boolean): Promise<{ latencies: number[] }> {
  const server = await startApiServer({ gracefulPodDeletion: true, eventLogSize: 50_000 });
  const root = mkdtempSync(join(tmpdir(), 'bench-configcheck-'));
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig);
  await setup(kc);
  // The agents run too (the operator's DaemonSet), as in `npm start`: the check pods share the machine with them.
  const nodes = await startNodes({ kubeconfig: server.kubeconfig, root, nodes: 3 });
  const op = new Operator({
    kc,
    flags: { optimize: false, migration: false, mergerImage: 'merger:bench' },
    log: silent,
    resyncMs: 0,
    ...(checks ? { configCheckPods: { timeoutMs: 300_000 } } : {}),
  });
  await op.start();
  for (let i = 0; i < 6000 && !secretText(server).includes(`${ns(PIPELINES - 1)}-app-out`); i++) await sleep(10);
  await idle(server);
  const latencies: number[] = [];
  for (let c = 0; c < CHANGES; c++) {
    const marker = 1000 + c;
    server.hooks.resetCounts();
    const start = performance.now();
    await request(kc, 'PATCH', `${group}/namespaces/${ns((c * 7) % PIPELINES)}/vectorpipelines/app`, {
      body: { spec: { sinks: { out: { type: 'blackhole', inputs: ['pods'], rate: marker } } } },
      contentType: 'application/merge-patch+json',
    });
    for (let i = 0; i < 1_000_000 && !secretText(server).includes(`"rate":${marker}`); i++)
      await new Promise((res) => setImmediate(res));
    latencies.push(performance.now() - start);
    await idle(server);
  }
  await op.stop();
  await nodes.stop();
  await server.close();
  rmSync(root, { recursive: true, force: true });
  return { latencies };
}

const off = await oneMode(false);
const on = await oneMode(true);
const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(0));
process.stdout.write(
  [
    `### Config checks: pipeline change → config Secret updated, in the stand (${PIPELINES} pipelines, 3 nodes)`,
    '',
    `${machine()}. Medians of ${CHANGES} changes per mode, each on an idle operator; the stand-in, the operator and`,
    'the kubelets in one process, each check pod its own process. See the top of bench/configcheck.bench.ts.',
    '',
    '| configcheck pods | pipeline change → Secret updated (median) | min – max |',
    '|---|---|---|',
    `| off (\`--enable-configcheck-pods=false\`) | ${fmt(median(off.latencies))} ms | ${fmt(Math.min(...off.latencies))} – ${fmt(Math.max(...off.latencies))} ms |`,
    `| on (the default) | ${fmt(median(on.latencies))} ms | ${fmt(Math.min(...on.latencies))} – ${fmt(Math.max(...on.latencies))} ms |`,
    '',
  ].join('\n'),
);
