/**
 * Config checks of aggregators, on both targets, as for agents: each changed aggregator pipeline is checked alone in
 * a pod on every aggregator that selects it, a refusal lands on that pipeline with kaasops' text and the pipeline is
 * left out; the aggregator's own config is checked before it is published, with its `configCheck` settings; and a restart, with
 * the hashes recorded, checks nothing again (kaasops' skip rule). test/helpers/configcheck-kubelet.ts plays the
 * kubelet with the stand's `vector validate`.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { PipelineStatus } from '../../src/pipelines/schemas.ts';
import type { Operator } from '../../src/operator/operator.ts';
import { configCheckKubelet } from '../helpers/configcheck-kubelet.ts';
import { checkingOperator, eventually, type Stand, vaObj, vaPath, vpObj, vpPath } from './stand.ts';
import { standSuite } from './stand-suite.ts';

const socket = (port: number, sink: string) => ({
  sources: { in: { type: 'socket', mode: 'tcp', address: `0.0.0.0:${port}` } },
  sinks: { out: { type: sink, inputs: ['in'] } },
});

async function statusOf(stand: Stand, name: string): Promise<PipelineStatus | undefined> {
  return (await stand.get<{ status?: PipelineStatus }>(vpPath('logs', name)))?.status;
}

async function aggregatorReconciles(op: Operator): Promise<number> {
  const body = await op.metrics.registry.getSingleMetricAsString('vector_operator_reconciles_total');
  return Number(/controller="aggregator",result="success"} (\d+)/.exec(body)?.[1] ?? 0);
}

standSuite('aggregator config checks', { namespaces: ['logs'] }, (stand) => {
  it('checks each pipeline alone on its aggregator and the aggregator config, records the refusal, skips on restart', async () => {
    await stand().create(vaPath('logs'), vaObj('logs', 'chk', { configCheck: { image: 'timberio/vector:check' } }));
    const kubelet = configCheckKubelet(stand(), ['logs']);
    const first = checkingOperator(stand());
    await first.start();
    try {
      await stand().create(vpPath('logs'), vpObj('logs', 'good', socket(9000, 'blackhole')));
      await stand().create(vpPath('logs'), vpObj('logs', 'other', socket(9002, 'blackhole')));
      await stand().create(vpPath('logs'), vpObj('logs', 'bad', socket(9001, 'bogus_sink')));
      const refused = await eventually('the refusal on the pipeline', async () => {
        const s = await statusOf(stand(), 'bad');
        return s?.configCheckResult === false ? s : undefined;
      });
      assert.match(
        refused.reason ?? '',
        /^aggregator logs\/chk config check failed: Failed to load .*\n[\s\S]*unknown variant `bogus_sink` for key `sinks.logs-bad-out.type`/,
      );
      assert.equal(refused.role, 'aggregator');
      assert.ok(refused.LastAppliedPipelineHash !== undefined, 'the hash is recorded on failure too');
      const config = await eventually('the good pipeline published, the refused one left out', async () => {
        const secret = await stand().get<{ data: Record<string, string> }>(
          '/api/v1/namespaces/logs/secrets/chk-aggregator',
        );
        const json = Buffer.from(secret?.data['config.json'] ?? '', 'base64').toString();
        return json.includes('"logs-good-in"') && json.includes('"logs-other-in"') ? json : undefined;
      });
      assert.doesNotMatch(config, /logs-bad-/);
      assert.equal((await statusOf(stand(), 'good'))?.configCheckResult, true);
      await eventually('the aggregator valid', async () => {
        const va = await stand().get<{ status?: { configCheckResult?: boolean } }>(vaPath('logs', 'chk'));
        return va?.status?.configCheckResult === true ? true : undefined;
      });
      // The pipelines' pods (each alone) and the aggregator's, all with its configCheck image, in its namespace.
      const alone = (name: string) =>
        kubelet.seen.filter((p) => Object.keys(p.config.sinks).every((id) => id.startsWith(`logs-${name}-`)));
      assert.equal(alone('bad').length, 1);
      assert.ok(alone('good').length >= 1);
      const whole = kubelet.seen.filter(
        (p) =>
          p.valid && p.config.sinks['logs-good-out'] !== undefined && p.config.sinks['logs-other-out'] !== undefined,
      );
      assert.ok(whole.length >= 1, 'the aggregator config (both pipelines) was checked before it was published');
      for (const p of kubelet.seen) {
        assert.match(p.name, /^configcheck-chk-/);
        assert.equal(p.namespace, 'logs');
        assert.equal(p.spec.containers[0]?.image, 'timberio/vector:check');
      }
    } finally {
      await first.stop();
    }

    const checked = kubelet.seen.length;
    const second = checkingOperator(stand());
    await second.start();
    try {
      await eventually('the aggregator reconciled after the restart', async () =>
        (await aggregatorReconciles(second)) > 0 ? true : undefined,
      );
      await eventually('the pipelines seen again', async () => {
        const body = await second.metrics.registry.getSingleMetricAsString('vector_operator_reconciles_total');
        return /controller="pipeline",result="success"} [3-9]/.test(body) ? true : undefined;
      });
      assert.equal(kubelet.seen.length, checked, 'no check pod: the hashes and the config are unchanged');
      assert.equal((await statusOf(stand(), 'bad'))?.configCheckResult, false, 'still refused');
    } finally {
      await second.stop();
      await kubelet.stop();
    }
  });
});
