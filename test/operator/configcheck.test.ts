/**
 * Configcheck pods (`--enable-configcheck-pods`) against the stand-in. Nothing runs pods in the stand-in, so the test
 * plays the kubelet: it "runs" each configcheck pod by validating its config with our structural validator, plus the
 * one thing `vector validate` would add that matters here (an unknown component type), and writes the pod status.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../../src/kube/client.ts';
import { defaultPolicy } from '../../src/pipelines/policy.ts';
import { validateConfigGraph } from '../../src/vector/graph.ts';
import type { VectorConfig } from '../../src/vector/config.ts';
import {
  agentJson,
  eventually,
  operator,
  secretPath,
  startStand,
  vectorObj,
  vectorPath,
  vpObj,
  vpPath,
  type Stand,
} from './stand.ts';
import { kubeTargets } from '../helpers/kube-target.ts';

interface PodSpec {
  initContainers?: unknown[];
  volumes: { name: string; hostPath?: unknown; emptyDir?: unknown; secret?: { secretName: string } }[];
  containers: { args: string[]; volumeMounts: { name: string; readOnly?: boolean }[] }[];
}

/** Plays the kubelet for configcheck pods until stopped; records the pod specs it saw. */
function runner(stand: Stand): { seen: PodSpec[]; stop: () => Promise<void> } {
  const seen: PodSpec[] = [];
  const state = { running: true };
  const loop = (async () => {
    const done = new Set<string>();
    while (state.running) {
      const list = await stand.get<{ items: (KubeObject & { spec: PodSpec })[] }>(
        '/api/v1/namespaces/vector/pods?labelSelector=app.kubernetes.io%2Fcomponent%3DConfigCheck',
      );
      for (const pod of list?.items ?? []) {
        const name = pod.metadata?.name ?? '';
        if (done.has(name)) continue;
        done.add(name);
        seen.push(pod.spec);
        const secretName = pod.spec.volumes.find((v) => v.name === 'config')?.secret?.secretName ?? '';
        const secret = await stand.get<{ data: Record<string, string> }>(secretPath('vector', secretName));
        const config = JSON.parse(Buffer.from(secret?.data['config.json'] ?? '', 'base64').toString()) as VectorConfig;
        const problems = validateConfigGraph(config).map((p) => `${p.component}: ${p.message}`);
        for (const [id, sink] of Object.entries(config.sinks))
          if (sink.type.startsWith('bogus')) problems.push(`unknown sink type '${sink.type}' (${id})`);
        const ok = problems.length === 0;
        await stand.patch(`/api/v1/namespaces/vector/pods/${name}/status`, {
          status: {
            phase: ok ? 'Succeeded' : 'Failed',
            containerStatuses: [
              { name: 'configcheck', state: { terminated: { exitCode: ok ? 0 : 78, message: problems.join('\n') } } },
            ],
          },
        });
      }
      await sleep(20);
    }
  })();
  return {
    seen,
    stop: async () => {
      state.running = false;
      await loop;
    },
  };
}

async function leftovers(stand: Stand): Promise<number> {
  const sel = '?labelSelector=app.kubernetes.io%2Fcomponent%3DConfigCheck';
  const pods = await stand.get<{ items: unknown[] }>(`/api/v1/namespaces/vector/pods${sel}`);
  const secrets = await stand.get<{ items: unknown[] }>(`/api/v1/namespaces/vector/secrets${sel}`);
  return (pods?.items.length ?? 0) + (secrets?.items.length ?? 0);
}

for (const target of kubeTargets())
  describe(`operator: configcheck pods (${target.name})`, { skip: target.skip }, () => {
    let stand: Stand;
    before(async () => {
      stand = await startStand(target);
      await stand.create(vectorPath('vector'), vectorObj('logs', 'vector'));
    });
    after(async () => {
      await stand.close();
    });

    it('checks a config in a pod that has no data dir, no host path and no merger, then cleans up', async () => {
      const kubelet = runner(stand);
      const op = operator(stand, {
        configCheckPods: { timeoutMs: 10_000 },
        flags: { optimize: false, migration: true, mergerImage: 'merger:test' },
      });
      await op.start();
      try {
        await stand.create(vpPath('team-a'), vpObj('team-a', 'good'));
        await eventually(
          'the checked pipeline published',
          async () => agentJson(await stand.get(secretPath('vector', 'logs-agent')))?.sources?.['team-a-good-pods'],
        );
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
        await eventually('configcheck objects cleaned up', async () => (await leftovers(stand)) === 0);
      } finally {
        await op.stop();
        await kubelet.stop();
      }
    });

    it('publishes nothing when vector validate refuses the config, and says why', async () => {
      const kubelet = runner(stand);
      // The admin allows the type, so the tenant policy lets it through and only `vector validate` can refuse it.
      const op = operator(stand, {
        configCheckPods: { timeoutMs: 10_000 },
        flags: {
          optimize: false,
          migration: false,
          mergerImage: 'merger:test',
          policy: { ...defaultPolicy, allowTypes: new Set(['bogus_sink']) },
        },
      });
      await op.start();
      try {
        await stand.create(
          vpPath('team-b'),
          vpObj('team-b', 'bogus', {
            sources: { pods: { type: 'kubernetes_logs' } },
            sinks: { out: { type: 'bogus_sink', inputs: ['pods'] } },
          }),
        );
        const status = await eventually('the refusal on the Vector', async () => {
          const v = await stand.get<{ status?: { configCheckResult?: boolean; reason?: string } }>(
            vectorPath('vector', 'logs'),
          );
          return v?.status?.configCheckResult === false ? v.status : undefined;
        });
        assert.match(status.reason ?? '', /configcheck: logs-agent: unknown sink type 'bogus_sink'/);
        const cfg = agentJson(await stand.get(secretPath('vector', 'logs-agent')));
        assert.equal(cfg?.sinks?.['team-b-bogus-out'], undefined, 'the refused config was not published');
        assert.ok(cfg?.sources?.['team-a-good-pods'], 'the last good config stays');
        const events = await stand.get<{ items: { reason: string }[] }>('/api/v1/namespaces/vector/events');
        assert.ok(events?.items.some((e) => e.reason === 'ConfigCheckFailed'));

        await stand.del(vpPath('team-b', 'bogus'));
        await eventually('valid again once the pipeline is gone', async () => {
          const v = await stand.get<{ status?: { configCheckResult?: boolean } }>(vectorPath('vector', 'logs'));
          return v?.status?.configCheckResult === true;
        });
        await eventually('configcheck objects cleaned up', async () => (await leftovers(stand)) === 0);
      } finally {
        await op.stop();
        await kubelet.stop();
      }
    });

    it('a check that never finishes times out, publishes nothing, cleans up, and is retried', async () => {
      const op = operator(stand, { configCheckPods: { timeoutMs: 300 } });
      await op.start();
      try {
        await stand.create(vpPath('team-b'), vpObj('team-b', 'unchecked'));
        await eventually('a failed reconcile', async () =>
          /controller="vector"} [1-9]/.test(
            await op.metrics.registry.getSingleMetricAsString('vector_operator_reconcile_errors_total'),
          ),
        );
        const cfg = agentJson(await stand.get(secretPath('vector', 'logs-agent')));
        assert.equal(cfg?.sources?.['team-b-unchecked-pods'], undefined);
        await eventually('configcheck objects cleaned up', async () => (await leftovers(stand)) === 0);
      } finally {
        await op.stop();
      }
      await eventually('configcheck objects cleaned up after stop', async () => (await leftovers(stand)) === 0);
    });
  });
