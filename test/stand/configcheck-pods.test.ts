/**
 * Configcheck pods on the stand's nodes: the stand-in's scheduler binds the operator's bare pod, the simulated kubelet
 * runs the stand's `vector validate` on the mounted config, and the pod ends Succeeded or Failed with Vector's output
 * as its termination message, which the operator reports on the pipeline. The checker itself: validate.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { Operator } from '../../src/operator/operator.ts';
import { defaultPolicy } from '../../src/pipelines/policy.ts';
import type { PipelineStatus } from '../../src/pipelines/schemas.ts';
import { request } from '../../src/kube/client.ts';
import { installCrds, silent, vectorObj, vectorPath, vpObj, vpPath, agentJson } from '../operator/stand.ts';
import { startStand, type Stand } from './helpers.ts';
import { eventually } from '../helpers/eventually.ts';

describe('the stand runs configcheck pods', () => {
  let stand: Stand;
  let kc: k8s.KubeConfig;
  let op: Operator;
  before(async () => {
    stand = await startStand(2);
    kc = new k8s.KubeConfig();
    kc.loadFromString(stand.server.kubeconfig);
    await installCrds(kc);
    for (const ns of ['team-a', 'team-b']) await stand.core.createNamespace({ body: { metadata: { name: ns } } });
    op = new Operator({
      kc,
      flags: {
        optimize: false,
        migration: false,
        mergerImage: 'merger:test',
        policy: { ...defaultPolicy, allowTypes: new Set(['bogus_sink']) },
      },
      log: silent,
      resyncMs: 0,
      configCheckPods: { timeoutMs: 60_000 },
    });
    await op.start();
    await request(kc, 'POST', vectorPath('vector'), { body: vectorObj('logs', 'vector') });
  });
  after(async () => {
    await op.stop();
    await stand.stop();
  });

  const status = async (ns: string, name: string): Promise<PipelineStatus | undefined> =>
    (await request<{ status?: PipelineStatus }>(kc, 'GET', vpPath(ns, name))).status;

  it('passes a valid pipeline and refuses an unknown sink type with Vector output and exit code', async () => {
    await request(kc, 'POST', vpPath('team-a'), { body: vpObj('team-a', 'good') });
    await request(kc, 'POST', vpPath('team-b'), {
      body: vpObj('team-b', 'bogus', {
        sources: { pods: { type: 'kubernetes_logs' } },
        sinks: { out: { type: 'bogus_sink', inputs: ['pods'] } },
      }),
    });
    const good = await eventually('the good pipeline checked', async () => {
      const s = await status('team-a', 'good');
      return s?.configCheckResult === undefined ? undefined : s;
    });
    assert.equal(good.configCheckResult, true, good.reason);
    const bad = await eventually('the bogus pipeline refused', async () => {
      const s = await status('team-b', 'bogus');
      return s?.configCheckResult === false ? s : undefined;
    });
    assert.match(bad.reason ?? '', /^agent vector\/logs config check failed: Failed to load/);
    assert.match(bad.reason ?? '', /x unknown variant `bogus_sink` for key `sinks.team-b-bogus-out.type`/);
    const cfg = await eventually('the good pipeline published without the bogus one', async () => {
      const s = await stand.core
        .readNamespacedSecret({ name: 'logs-agent', namespace: 'vector' })
        .catch(() => undefined);
      const c = agentJson(s as never);
      return c?.sources?.['team-a-good-pods'] === undefined ? undefined : c;
    });
    assert.equal(cfg.sinks?.['team-b-bogus-out'], undefined);
    await eventually('configcheck pods and Secrets cleaned up', async () => {
      const sel = { namespace: 'vector', labelSelector: 'app.kubernetes.io/component=ConfigCheck' };
      const pods = await stand.core.listNamespacedPod(sel);
      const secrets = await stand.core.listNamespacedSecret(sel);
      return pods.items.length + secrets.items.length === 0 ? true : undefined;
    });
  });
});
