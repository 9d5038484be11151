/**
 * A Vector's configcheck pods (`--enable-configcheck-pods`, on by default in `run`), on both lanes. No node runs pods
 * here, so the test plays the kubelet (test/helpers/configcheck-kubelet.ts): each pod's config is checked by the
 * stand's `vector validate`, and the pod status written. Per-pipeline checks: pipeline-checks.test.ts.
 */
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineHash } from '../../src/pipelines/pipeline-hash.ts';
import { toPipeline } from '../../src/operator/controller-context.ts';
import { configCheckKubelet, type CheckPodSpec } from '../helpers/configcheck-kubelet.ts';
import {
  agentJson,
  checkingOperator,
  eventually,
  hasSource,
  operator,
  secretPath,
  type Stand,
  vectorObj,
  vectorPath,
  vpObj,
  vpPath,
} from './stand.ts';
import { standSuite } from './stand-suite.ts';

function runner(stand: Stand): { seen: CheckPodSpec[]; stop: () => Promise<void> } {
  const k = configCheckKubelet(stand);
  return {
    get seen() {
      return k.seen.map((p) => p.spec);
    },
    stop: k.stop,
  };
}

async function leftovers(stand: Stand): Promise<number> {
  const sel = '?labelSelector=app.kubernetes.io%2Fcomponent%3DConfigCheck';
  const pods = await stand.get<{ items: unknown[] }>(`/api/v1/namespaces/vector/pods${sel}`);
  const secrets = await stand.get<{ items: unknown[] }>(`/api/v1/namespaces/vector/secrets${sel}`);
  return (pods?.items.length ?? 0) + (secrets?.items.length ?? 0);
}

standSuite('operator: configcheck pods', {}, (stand) => {
  before(async () => {
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector'));
  });

  it('checks a config in a pod that has no data dir, no host path and no merger, then cleans up', async () => {
    const kubelet = runner(stand());
    const op = operator(stand(), {
      configCheckPods: { timeoutMs: 10_000 },
      flags: { optimize: false, migration: true, mergerImage: 'merger:test' },
    });
    await op.start();
    try {
      await stand().create(vpPath('team-a'), vpObj('team-a', 'good'));
      await eventually('the checked pipeline published', hasSource(stand(), 'team-a-good-pods'));
      assert.ok(kubelet.seen.length > 0, 'a configcheck pod ran');
      for (const spec of kubelet.seen) {
        assert.equal(spec.initContainers, undefined, 'never the merger');
        assert.ok(
          spec.volumes.every((v) => v.hostPath === undefined),
          'no host path, so never the data dir',
        );
        assert.ok(spec.volumes.find((v) => v.name === 'data')?.emptyDir);
        const container = spec.containers[0];
        assert.ok(container);
        assert.deepEqual(container.args, ['--require-healthy=false', 'validate', '/etc/vector/config.json']);
        assert.equal(container.volumeMounts.find((m) => m.name === 'config')?.readOnly, true);
      }
      await eventually('configcheck objects cleaned up', async () => (await leftovers(stand())) === 0);
    } finally {
      await op.stop();
      await kubelet.stop();
    }
  });

  it('publishes nothing when vector validate refuses the Vector config, and says why', async () => {
    // A pipeline kaasops recorded as checked (its hash and a verdict in the status): its own check is not run again
    // (cutover), so only the Vector's check stands between it and the agents.
    const stored = await stand().create(
      vpPath('team-b'),
      vpObj('team-b', 'bogus', {
        sources: { pods: { type: 'kubernetes_logs' } },
        sinks: { out: { type: 'bogus_sink', inputs: ['pods'] } },
      }),
    );
    const hash = pipelineHash(toPipeline({ ...stored, kind: 'VectorPipeline' }));
    await stand().patch(`${vpPath('team-b', 'bogus')}/status`, {
      status: { configCheckResult: true, LastAppliedPipelineHash: hash },
    });
    const kubelet = configCheckKubelet(stand());
    // The admin allows the type, so the tenant policy lets it through and only `vector validate` can refuse it.
    const op = checkingOperator(stand());
    await op.start();
    try {
      const status = await eventually('the refusal on the Vector', async () => {
        const v = await stand().get<{ status?: { configCheckResult?: boolean; reason?: string } }>(
          vectorPath('vector', 'logs'),
        );
        return v?.status?.configCheckResult === false ? v.status : undefined;
      });
      assert.match(
        status.reason ?? '',
        /configcheck: logs-agent: Failed to load .*\n-+\nx unknown variant `bogus_sink`/s,
      );
      const cfg = agentJson(await stand().get(secretPath('vector', 'logs-agent')));
      assert.equal(cfg?.sinks?.['team-b-bogus-out'], undefined, 'the refused config was not published');
      assert.ok(cfg?.sources?.['team-a-good-pods'], 'the last good config stays');
      const events = await stand().get<{ items: { reason: string }[] }>('/api/v1/namespaces/vector/events');
      assert.ok(events?.items.some((e) => e.reason === 'ConfigCheckFailed'));
      assert.ok(
        kubelet.seen.every((pod) => pod.config.sources['team-a-good-pods'] !== undefined),
        'every pod checked a whole Vector config: the recorded pipeline was not checked alone again',
      );

      await stand().del(vpPath('team-b', 'bogus'));
      await eventually('valid again once the pipeline is gone', async () => {
        const v = await stand().get<{ status?: { configCheckResult?: boolean } }>(vectorPath('vector', 'logs'));
        return v?.status?.configCheckResult === true;
      });
      await eventually('configcheck objects cleaned up', async () => (await leftovers(stand())) === 0);
    } finally {
      await op.stop();
      await kubelet.stop();
    }
  });

  it('a check that never finishes times out, publishes nothing, cleans up, and is retried', async () => {
    const op = operator(stand(), { configCheckPods: { timeoutMs: 300 } });
    await op.start();
    try {
      await stand().create(vpPath('team-b'), vpObj('team-b', 'unchecked'));
      await eventually('a failed reconcile', async () =>
        /controller="vector"} [1-9]/.test(
          await op.metrics.registry.getSingleMetricAsString('vector_operator_reconcile_errors_total'),
        ),
      );
      const cfg = agentJson(await stand().get(secretPath('vector', 'logs-agent')));
      assert.equal(cfg?.sources?.['team-b-unchecked-pods'], undefined);
      await eventually('configcheck objects cleaned up', async () => (await leftovers(stand())) === 0);
    } finally {
      await op.stop();
    }
    await eventually('configcheck objects cleaned up after stop', async () => (await leftovers(stand())) === 0);
  });
});
