/**
 * A pipeline an aggregator's build leaves out because another pipeline holds what it asks for (a port, a Service
 * name) gets the reason on its own status, in kaasops' text of a build failure, and loses it once the conflict goes:
 * it then flows, with its Service.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/kube/client.ts';
import { eventually, operator, type Stand, vaObj, vaPath, vpPath } from './stand.ts';
import { standSuite } from './stand-suite.ts';

const svc = (ns: string, name: string) => `/api/v1/namespaces/${ns}/services/${name}`;

interface PipelineStatus {
  configCheckResult?: boolean;
  reason?: string;
}

function vp(name: string, source: Record<string, unknown>, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'observability.kaasops.io/v1alpha1',
    kind: 'VectorPipeline',
    metadata: { name, namespace: 'logs', ...(annotations === undefined ? {} : { annotations }) },
    spec: { sources: { in: source }, sinks: { out: { type: 'blackhole', inputs: ['in'] } } },
  };
}

async function statusOf(stand: Stand, name: string, want: (s: PipelineStatus) => boolean): Promise<PipelineStatus> {
  let last: PipelineStatus | undefined;
  return eventually(`the status of ${name}`, async () => {
    const o = await stand.get<{ status?: PipelineStatus }>(vpPath('logs', name));
    last = o?.status;
    return last !== undefined && want(last) ? last : undefined;
  }).catch((err: unknown) => {
    throw new Error(`${String(err)}; last status: ${JSON.stringify(last)}`);
  });
}

standSuite("aggregator build rejections on the pipeline's status", { namespaces: ['logs'] }, (stand) => {
  it('the younger of two pipelines on one port says why, and flows once the older one goes', async () => {
    await stand().create(vaPath('logs'), vaObj('logs', 'agg', {}));
    await stand().create(vpPath('logs'), vp('first', { type: 'http_server', address: '0.0.0.0:9000' }));
    await stand().create(vpPath('logs'), vp('second', { type: 'socket', mode: 'tcp', address: '0.0.0.0:9000' }));
    // Another kind of conflict: a Service name the older pipeline's Service already has.
    await stand().create(
      vpPath('logs'),
      vp(
        'third',
        { type: 'http_server', address: '0.0.0.0:9100' },
        {
          'observability.kaasops.io/service-name': 'agg-aggregator-first',
        },
      ),
    );
    const op = operator(stand());
    await op.start();
    try {
      const second = await statusOf(stand(), 'second', (s) => s.configCheckResult === false);
      assert.equal(
        second.reason,
        'aggregator logs/agg build config failed: failed to build config: VectorPipeline logs/second: ' +
          'spec.sources.in.address: duplicate port 9000/TCP in first and second ' +
          '(the older VectorPipeline logs/first keeps it); listen on another port',
      );
      const third = await statusOf(stand(), 'third', (s) => s.configCheckResult === false);
      assert.match(
        third.reason ?? '',
        /^aggregator logs\/agg build config failed: failed to build config: VectorPipeline logs\/third: metadata\.annotations\.observability\.kaasops\.io\/service-name: Service name 'agg-aggregator-first' is already used by the older VectorPipeline logs\/first; change the annotation$/,
      );
      const first = await statusOf(stand(), 'first', (s) => s.configCheckResult !== undefined);
      assert.equal(first.configCheckResult, true, 'the older pipeline keeps flowing');

      await stand().del(vpPath('logs', 'first'));
      const healed = await statusOf(stand(), 'second', (s) => s.configCheckResult === true);
      assert.equal(healed.reason ?? '', '');
      await eventually("the younger pipeline's Service", () => stand().get(svc('logs', 'agg-aggregator-second')));
      await statusOf(stand(), 'third', (s) => s.configCheckResult === true);
      await eventually("the third pipeline's Service", () => stand().get(svc('logs', 'agg-aggregator-first')));
    } finally {
      await op.stop();
    }
  });
});
