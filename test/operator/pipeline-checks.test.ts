/**
 * Per-pipeline configcheck pods, as kaasops runs them, on both lanes: each changed pipeline is checked alone on every
 * Vector that selects it; a refusal is reported on that pipeline with kaasops' text, and the other pipelines keep
 * flowing. No node runs pods here: test/helpers/configcheck-kubelet.ts plays the kubelet with the stand's
 * `vector validate`.
 */
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/kube/client.ts';
import { pipelineHash } from '../../src/pipelines/pipeline-hash.ts';
import type { PipelineStatus } from '../../src/pipelines/schemas.ts';
import type { Operator } from '../../src/operator/operator.ts';
import { toPipeline } from '../../src/operator/controller-context.ts';
import { configCheckKubelet, type CheckedPod } from '../helpers/configcheck-kubelet.ts';
import {
  agentJson,
  checkingOperator,
  eventually,
  hasSource,
  secretPath,
  type Stand,
  vectorObj,
  vectorPath,
  vpObj,
  vpPath,
} from './stand.ts';
import { standSuite } from './stand-suite.ts';

const bogusSpec = {
  sources: { pods: { type: 'kubernetes_logs' } },
  sinks: { out: { type: 'bogus_sink', inputs: ['pods'] } },
};

/** Pods that checked the pipeline `ns/name` alone (its sink is the only one). */
const alone = (seen: readonly CheckedPod[], ns: string, name: string): CheckedPod[] =>
  seen.filter((p) => Object.keys(p.config.sinks).every((id) => id.startsWith(`${ns}-${name}-`)));

async function statusOf(stand: Stand, ns: string, name: string): Promise<PipelineStatus | undefined> {
  return (await stand.get<{ status?: PipelineStatus }>(vpPath(ns, name)))?.status;
}

// The admin allows the type, so only `vector validate` can refuse it.
const start = (stand: Stand, extra: { recheck?: boolean } = {}): Operator =>
  checkingOperator(stand, extra.recheck === true ? { invalidPipelines: { recheck: true, retryDelayMs: 50 } } : {});

standSuite('operator: per-pipeline configcheck pods', {}, (stand) => {
  before(async () => {
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector'));
  });

  it('reports a refused pipeline on that pipeline, and the other pipelines keep flowing', async () => {
    const kubelet = configCheckKubelet(stand());
    const op = start(stand());
    await op.start();
    try {
      await stand().create(vpPath('team-a'), vpObj('team-a', 'first'));
      await eventually('the first pipeline published', hasSource(stand(), 'team-a-first-pods'));
      const stored = await stand().create(vpPath('team-b'), vpObj('team-b', 'bogus', bogusSpec));
      const status = await eventually('the refusal on the pipeline', async () => {
        const s = await statusOf(stand(), 'team-b', 'bogus');
        return s?.configCheckResult === false ? s : undefined;
      });
      assert.match(
        status.reason ?? '',
        /^agent vector\/logs config check failed: Failed to load \["\/etc\/vector\/config.json"\]\n-+\nx unknown variant `bogus_sink` for key `sinks.team-b-bogus-out.type`/,
      );
      assert.equal(status.LastAppliedPipelineHash, pipelineHash(toPipeline({ ...stored, kind: 'VectorPipeline' })));
      assert.equal(status.conditions?.find((c) => c.type === 'Valid')?.reason, 'ConfigCheckFailed');
      assert.equal(alone(kubelet.seen, 'team-b', 'bogus').length, 1, 'one pod checked the pipeline alone');

      await stand().create(vpPath('team-a'), vpObj('team-a', 'second'));
      const cfg = await eventually('the pipeline created after it published', async () => {
        const c = agentJson(await stand().get(secretPath('vector', 'logs-agent')));
        return c?.sources?.['team-a-second-pods'] === undefined ? undefined : c;
      });
      assert.equal(cfg.sinks?.['team-b-bogus-out'], undefined, 'the refused pipeline is left out');
      assert.ok(cfg.sources?.['team-a-first-pods']);
      await eventually('the Vector valid', async () => {
        const v = await stand().get<{ status?: { configCheckResult?: boolean } }>(vectorPath('vector', 'logs'));
        return v?.status?.configCheckResult === true;
      });
      // The pipeline's own status is written by its reconcile, not with the Vector's: wait for it too.
      await eventually(
        'the new pipeline valid',
        async () => (await statusOf(stand(), 'team-a', 'second'))?.configCheckResult === true,
      );
    } finally {
      await op.stop();
      await kubelet.stop();
    }
  });

  it('re-checks on force-configcheck, not on a label-only edit, and keeps the refused pipeline out meanwhile', async () => {
    const kubelet = configCheckKubelet(stand());
    const op = start(stand());
    await op.start();
    try {
      const before = (await statusOf(stand(), 'team-b', 'bogus'))?.LastAppliedPipelineHash;
      await stand().patch(vpPath('team-b', 'bogus'), { metadata: { labels: { tier: 'x' } } });
      // A barrier: a pipeline created after the label edit, checked once the edit's events were handled.
      await stand().create(vpPath('team-a'), vpObj('team-a', 'barrier'));
      await eventually(
        'the barrier checked',
        async () => (await statusOf(stand(), 'team-a', 'barrier'))?.configCheckResult,
      );
      assert.equal(alone(kubelet.seen, 'team-b', 'bogus').length, 0, 'a label-only edit checks nothing');
      assert.equal((await statusOf(stand(), 'team-b', 'bogus'))?.LastAppliedPipelineHash, before);
      // The barrier's verdict comes before the Vector reconcile that publishes it: wait for the publication.
      const held = await eventually('the barrier published', async () => {
        const json = agentJson(await stand().get(secretPath('vector', 'logs-agent')));
        return json?.sources?.['team-a-barrier-pods'] === undefined ? undefined : json;
      });
      assert.equal(held.sinks?.['team-b-bogus-out'], undefined, 'the relabelled refused pipeline stays out');

      await stand().patch(vpPath('team-b', 'bogus'), {
        metadata: { annotations: { 'vector-operator.kaasops.io/force-configcheck': '1' } },
      });
      const stored = await stand().get(vpPath('team-b', 'bogus'));
      const hash = pipelineHash(toPipeline({ ...(stored as KubeObject), kind: 'VectorPipeline' }));
      await eventually('the forced check recorded', async () => {
        const s = await statusOf(stand(), 'team-b', 'bogus');
        return s?.LastAppliedPipelineHash === hash && s.configCheckResult === false;
      });
      assert.equal(alone(kubelet.seen, 'team-b', 'bogus').length, 1, 'force-configcheck ran one check');
      const cfg = agentJson(await stand().get(secretPath('vector', 'logs-agent')));
      assert.equal(cfg?.sinks?.['team-b-bogus-out'], undefined);
    } finally {
      await op.stop();
      await kubelet.stop();
    }
  });

  it('retries an invalid pipeline with --enable-reconciliation-invalid-pipelines', async () => {
    const kubelet = configCheckKubelet(stand());
    const op = start(stand(), { recheck: true });
    await op.start();
    try {
      await eventually('checked again and again without a change', () =>
        alone(kubelet.seen, 'team-b', 'bogus').length >= 3 ? true : undefined,
      );
      assert.ok(alone(kubelet.seen, 'team-a', 'first').length === 0, 'a valid pipeline is not re-checked');
    } finally {
      await op.stop();
      await kubelet.stop();
    }
  });

  it("takes over kaasops' recorded hashes without checking anything again", async () => {
    const stored = await stand().create(vpPath('team-a'), vpObj('team-a', 'from-kaasops'));
    const hash = pipelineHash(toPipeline({ ...stored, kind: 'VectorPipeline' }));
    await stand().patch(`${vpPath('team-a', 'from-kaasops')}/status`, {
      status: { configCheckResult: true, LastAppliedPipelineHash: hash, role: 'agent' },
    });
    const kubelet = configCheckKubelet(stand());
    const op = start(stand());
    await op.start();
    try {
      await eventually('our status written beside kaasops fields', async () =>
        (await statusOf(stand(), 'team-a', 'from-kaasops'))?.conditions?.some((c) => c.type === 'Valid'),
      );
      await eventually('published', hasSource(stand(), 'team-a-from-kaasops-pods'));
      assert.equal(alone(kubelet.seen, 'team-a', 'from-kaasops').length, 0, 'no pod checked it alone');
      assert.equal((await statusOf(stand(), 'team-a', 'from-kaasops'))?.LastAppliedPipelineHash, hash);
    } finally {
      await op.stop();
      await kubelet.stop();
    }
  });
});
