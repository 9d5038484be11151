/**
 * `vector-operator run` as a process (the compiled bin, `npm run build` first) against the API server stand-in:
 * probes, metrics, JSON logs, leader election across two processes, and a clean exit on SIGTERM.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { execPath } from 'node:process';
import { binPaths } from '../helpers/bin.ts';
import { cli } from '../helpers/cli.ts';
import { spawnOperator, stopOperator, type OperatorProcess } from '../helpers/operator-process.ts';
import { normaliseArgs, parseBindAddress, parseDuration, parseManagerList } from '../../src/cli/run.ts';
import { eventually, secretPath, vectorObj, vectorPath } from '../operator/stand.ts';
import { operatorProcessHooks, standSuite } from '../operator/stand-suite.ts';

interface Proc extends OperatorProcess {
  health: () => string | undefined;
  metrics: () => string | undefined;
}

function startOperator(kubeconfig: string, extra: string[] = []): Proc {
  const p = spawnOperator(kubeconfig, [
    '--metrics-bind-address=127.0.0.1:0',
    '--metrics-secure=false',
    '--leader-election-namespace',
    'vector',
    ...extra,
  ]);
  return {
    ...p,
    health: () => p.address('serving /healthz and /readyz'),
    metrics: () => p.address('serving /metrics'),
  };
}

const stop = stopOperator;

const fetchText = async (url: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
};

standSuite('vector-operator run', {}, (stand) => {
  const kubeconfig = operatorProcessHooks(stand, 'run-test-');

  it('reconciles, serves probes and metrics, logs JSON, and exits 0 on SIGTERM releasing the lease', async () => {
    const a = startOperator(kubeconfig(), ['--leader-elect']);
    try {
      const health = await eventually('the probe address', a.health);
      await eventually('ready', async () => (await fetchText(`http://${health}/readyz`)).status === 200);
      assert.equal((await fetchText(`http://${health}/healthz`)).body, 'ok');
      await stand().create(vectorPath('vector'), vectorObj('logs', 'vector'));
      await eventually('the agent Secret', async () => stand().get(secretPath('vector', 'logs-agent')));
      const metrics = await eventually('the metrics address', a.metrics);
      const body = await eventually('reconciles in /metrics', async () => {
        const m = (await fetchText(`http://${metrics}/metrics`)).body;
        return /vector_operator_reconciles_total\{controller="vector",result="success"\} [1-9]/.test(m) ? m : undefined;
      });
      assert.match(body, /vector_operator_workqueue_depth\{controller="vector"\} 0/);
      assert.match(body, /vector_operator_optimization_collapsed_sources\{namespace="vector",vector="logs"\} 0/);
      assert.ok(a.logs.every((l) => typeof l.level === 'number' && typeof l.msg === 'string'));
      assert.equal(await stop(a), 0);
      const lease = await stand().get<{ spec?: { holderIdentity?: string } }>(
        '/apis/coordination.k8s.io/v1/namespaces/vector/leases/79cbe7f3.kaasops.io',
      );
      assert.ok((lease?.spec?.holderIdentity ?? '') === '', 'the lease was released on shutdown');
    } finally {
      await stop(a);
    }
  });

  it('fails over between two processes: the standby takes over when the leader stops', async () => {
    const a = startOperator(kubeconfig(), ['--leader-elect']);
    const b = startOperator(kubeconfig(), ['--leader-elect']);
    try {
      await eventually('a leader', () => [a, b].find((p) => p.logs.some((l) => l.msg === 'controllers started')));
      const leader = a.logs.some((l) => l.msg === 'controllers started') ? a : b;
      const standby = leader === a ? b : a;
      assert.equal(
        standby.logs.some((l) => l.msg === 'controllers started'),
        false,
        'one leader at a time',
      );
      assert.equal(await stop(leader), 0);
      await eventually('the standby leads', () => standby.logs.some((l) => l.msg === 'controllers started'));
      await stand().patch(vectorPath('vector', 'logs'), { spec: { agent: { api: { enabled: true } } } });
      await eventually('the new leader reconciles', async () =>
        stand().get('/api/v1/namespaces/vector/services/logs-agent'),
      );
    } finally {
      await stop(a);
      await stop(b);
    }
  });

  it('rejects bad flags with a message naming the flag', async () => {
    const p = spawn(execPath, [binPaths['vector-operator'], 'run', '--checkpoint-merger-image', 'repo:'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(p, 'exit')) as [number];
    assert.equal(code, 2);
    assert.match(err, /--checkpoint-merger-image 'repo:'/);
    const policy = await cli(['run', '--checkpoint-merger-position-policy', 'median']);
    assert.equal(policy.status, 2);
    assert.match(policy.stderr, /--checkpoint-merger-position-policy 'median' must be min or max/);
    const period = await cli(['run', '--sync-period', 'weekly']);
    assert.equal(period.status, 2);
    assert.match(period.stderr, /--sync-period 'weekly' is not a positive duration/);
    const tenant = await cli(['run', '--pipeline-policy', 'off']);
    assert.equal(tenant.status, 2);
    assert.match(tenant.stderr, /--pipeline-policy 'off' must be enforce or warn/);
    const paths = await cli(['run', '--pipeline-policy-allow-paths', 'certs/']);
    assert.equal(paths.status, 2);
    assert.match(paths.stderr, /--pipeline-policy-allow-paths 'certs\/' must be an absolute directory/);
  });

  it('accepts kaasops-style flags', () => {
    assert.deepEqual(
      normaliseArgs(['-leader-elect', '--enable-config-optimization=true', '--enable-checkpoint-migration=false']),
      ['--leader-elect', '--enable-config-optimization', '--no-enable-checkpoint-migration'],
    );
    assert.deepEqual(
      normaliseArgs([
        '--agent-least-privilege=true',
        '--pipeline-policy-cluster-pipelines=false',
        '-pipeline-policy=warn',
      ]),
      ['--agent-least-privilege', '--no-pipeline-policy-cluster-pipelines', '--pipeline-policy=warn'],
    );
    assert.equal(parseDuration('300s'), 300_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('soon'), undefined);
    assert.equal(parseBindAddress('0'), undefined);
    assert.deepEqual(parseBindAddress(':8081'), { host: '', port: 8081 });
    assert.deepEqual(parseManagerList('manager, legacy-op,'), ['manager', 'legacy-op']);
    assert.deepEqual(parseManagerList(''), []);
  });
});
