/**
 * The chart installed by the real helm into the real control plane (etcd, kube-apiserver, and kube-controller-manager
 * with the Deployment, ReplicaSet and ServiceAccount-token controllers), with a kaasops values file.
 *
 * There is no kubelet, so the operator pod itself never runs (it stays Pending). "Running" is therefore shown two
 * ways: the operator process runs here with the installed Deployment's own args, as the installed ServiceAccount
 * (its token, so only the chart's RBAC applies), and does its work; and an upgrade leaves the Deployment's pod
 * template, generation and ReplicaSet as they were, so a kubelet would keep the running pod.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { kubeBinary } from '../../lab/kube-real/binaries.ts';
import { startControlPlane, type ControlPlane } from '../../lab/kube-real/control-plane.ts';
import { chartPath, helm, helmSkip } from '../helpers/helm.ts';
import { realLaneSkip } from '../helpers/kube-target.ts';
import { spawnOperator, stopOperator } from '../helpers/operator-process.ts';
import { eventually } from '../operator/stand.ts';
import { kaasopsValues } from './render.ts';
import { getTls } from '../helpers/scrape.ts';

const NS = 'vector';
const RELEASE = 'vector-operator';

/** The Prometheus Operator's kinds the chart renders, served schemaless: the chart only needs them to exist. */
const monitoringCrds = ['PodMonitor', 'ServiceMonitor', 'PrometheusRule'].map((kind) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${kind.toLowerCase()}s.monitoring.coreos.com` },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { kind, listKind: `${kind}List`, plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase() },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
}));

interface Deployment {
  metadata: { generation: number; uid: string };
  spec: { template: { spec: { containers: { name: string; args: string[] }[] } } };
  status?: { observedGeneration?: number };
}

describe('the chart installed into the real control plane', { skip: realLaneSkip() || helmSkip }, () => {
  let plane: ControlPlane;
  const kubectl = (args: string[], input?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = execFile(
        kubeBinary('kubectl'),
        ['--kubeconfig', plane.kubeconfigPath, ...args],
        { timeout: 60_000 },
        (err, stdout, stderr) => {
          if (err === null) resolve(stdout);
          else reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`));
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  const getJson = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
  const deployment = (): Promise<Deployment> => getJson(['get', 'deployment', RELEASE, '-n', NS]);
  const replicaSets = async (): Promise<string[]> =>
    (await getJson<{ items: { metadata: { name: string } }[] }>(['get', 'replicasets', '-n', NS])).items.map(
      (r) => r.metadata.name,
    );
  const upgrade = async (extra: string[]): Promise<void> => {
    const r = await helm(
      ['upgrade', RELEASE, chartPath, '-n', NS, '-f', kaasopsValues, ...extra],
      plane.kubeconfigPath,
    );
    assert.equal(r.code, 0, r.stderr);
  };

  before(async () => {
    plane = await startControlPlane({
      controllers: ['deployment-controller', 'replicaset-controller', 'serviceaccount-token-controller'],
    });
    await kubectl(['apply', '-f', '-'], monitoringCrds.map((c) => JSON.stringify(c)).join('\n'));
    for (const c of monitoringCrds)
      await kubectl(['wait', '--for=condition=Established', `crd/${c.metadata.name}`, '--timeout=60s']);
  });
  after(async () => {
    await plane.stop();
  });

  it('installs with a kaasops values file: CRDs first, then every object of the chart', async () => {
    const r = await helm(
      ['install', RELEASE, chartPath, '-n', NS, '--create-namespace', '-f', kaasopsValues],
      plane.kubeconfigPath,
    );
    assert.equal(r.code, 0, r.stderr);
    const crds = await getJson<{ items: { metadata: { name: string } }[] }>(['get', 'crd']);
    for (const crd of [
      'vectors',
      'vectorpipelines',
      'clustervectorpipelines',
      'vectoraggregators',
      'clustervectoraggregators',
    ])
      assert.ok(
        crds.items.some((c) => c.metadata.name === `${crd}.observability.kaasops.io`),
        crd,
      );
    const names = (
      await kubectl(['get', 'vector,podmonitor,prometheusrule,secret,sa,deployment', '-n', NS, '-o', 'name'])
    )
      .trim()
      .split('\n');
    for (const n of [
      'vector.observability.kaasops.io/vector',
      'podmonitor.monitoring.coreos.com/vector-operator',
      'prometheusrule.monitoring.coreos.com/vector-operator-agent',
      'secret/loki-credentials',
      'secret/vector-operator-metrics-reader-token',
      'serviceaccount/vector-operator',
      'deployment.apps/vector-operator',
    ])
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    assert.match(await kubectl(['get', 'clustervectorpipeline', 'kubelet-logs', '-o', 'name']), /kubelet-logs/);
    // The Deployment controller made its ReplicaSet: the Deployment is valid and being rolled out.
    await eventually('the operator ReplicaSet', async () => (await replicaSets()).length === 1);
  });

  it("runs the operator with the Deployment's args as the chart's ServiceAccount: it reconciles, and serves secure metrics to the scrape identity", async () => {
    const token = (await kubectl(['create', 'token', RELEASE, '-n', NS])).trim();
    const kubeconfig = join(plane.dir, 'operator.kubeconfig');
    const ca = Buffer.from(plane.caPem).toString('base64');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: plane.url, 'certificate-authority-data': ca } }],
        users: [{ name: 'operator', user: { token } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'operator' } }],
        'current-context': 'c',
      }),
      { mode: 0o600 },
    );
    const [, ...args] = (await deployment()).spec.template.spec.containers[0]?.args ?? [];
    // Loopback and free ports instead of the pod's; no configcheck pods, since no pod can run here.
    const local = args.map((a) =>
      a.startsWith('--metrics-bind-address=') || a.startsWith('--health-probe-bind-address=')
        ? `${a.slice(0, a.indexOf('=') + 1)}127.0.0.1:0`
        : a,
    );
    const p = spawnOperator(kubeconfig, [
      ...local,
      `--leader-election-namespace=${NS}`,
      '--enable-configcheck-pods=false',
    ]);
    try {
      await eventually('the agent DaemonSet of Vector vector', async () => {
        await kubectl(['get', 'daemonset', 'vector-agent', '-n', NS]);
        return true;
      });
      const at = await eventually('the metrics address', () => p.address('serving /metrics'));
      const url = `https://${at}/metrics`.replace('0.0.0.0', '127.0.0.1');
      assert.equal((await getTls(url)).status, 401);
      const secret = await eventually('the scrape token', async () => {
        const s = await getJson<{ data?: { token?: string } }>([
          'get',
          'secret',
          `${RELEASE}-metrics-reader-token`,
          '-n',
          NS,
        ]);
        return s.data?.token;
      });
      const scrape = await getTls(url, Buffer.from(secret, 'base64').toString());
      assert.equal(scrape.status, 200, scrape.body);
      assert.match(scrape.body, /^vector_operator_reconciles_total\{/m);
      // spec.agent.internalMetrics: the agent PodMonitor, through the chart's podmonitors grant.
      await eventually('the agent PodMonitor', async () => {
        await kubectl(['get', 'podmonitor', 'vector-agent', '-n', NS]);
        return true;
      });
      const errors = p.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
      assert.deepEqual(errors, [], 'no error logged (a missing grant logs one)');
      assert.equal(await stopOperator(p), 0);
    } finally {
      await stopOperator(p);
    }
  });

  it('upgrades with changed values outside the pod without rolling the operator pod', async () => {
    const before = await deployment();
    const sets = await replicaSets();
    await upgrade(['--set', 'metrics.serviceMonitor.enabled=true,prometheusRule.window=5m']);
    await upgrade([]);
    const after = await deployment();
    assert.equal(after.metadata.uid, before.metadata.uid);
    assert.equal(after.metadata.generation, before.metadata.generation, 'the Deployment spec did not change');
    assert.deepEqual(after.spec.template, before.spec.template);
    assert.deepEqual(await replicaSets(), sets, 'no new ReplicaSet: the running pod would stay');
    const history = await helm(['history', RELEASE, '-n', NS, '-o', 'json'], plane.kubeconfigPath);
    assert.equal((JSON.parse(history.stdout) as unknown[]).length, 3);
    // The ServiceMonitor of the second revision is gone again with the third.
    assert.equal((await kubectl(['get', 'servicemonitor', '-n', NS, '-o', 'name'])).trim(), '');
  });

  it('rolls the operator when its args change, and uninstalls, leaving the CRDs', async () => {
    const before = await deployment();
    await upgrade(['--set-json', 'args=["-watch-namespace=vector"]']);
    const after = await deployment();
    assert.equal(after.metadata.generation, before.metadata.generation + 1);
    await eventually('a second ReplicaSet', async () => (await replicaSets()).length === 2);
    const r = await helm(['uninstall', RELEASE, '-n', NS], plane.kubeconfigPath);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await kubectl(['get', 'crd', 'vectors.observability.kaasops.io', '-o', 'name']), /vectors/);
  });
});
