/**
 * A pipeline's own config check on aggregators, without a cluster: the pod gets the pipeline alone in the
 * aggregator's config, in the aggregator's namespace with its configCheck settings, and a refusal reads as kaasops
 * writes it (`aggregator <ns>/<name> ...`, `cluster aggregator /<name> ...` with its leading slash).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckSubject } from '../../src/operator/configcheck.ts';
import { checkOnWorkloads, type Checker } from '../../src/operator/pipeline-checks.ts';
import type { Aggregator } from '../../src/pipelines/aggregator-schemas.ts';
import { cvp, vp } from '../helpers/fixtures.ts';

const va: Aggregator = {
  kind: 'VectorAggregator',
  metadata: { name: 'agg', namespace: 'logs' },
  spec: { internalMetrics: true, configCheck: { image: 'vector:check' } },
};
const cva: Aggregator = {
  kind: 'ClusterVectorAggregator',
  metadata: { name: 'wide' },
  spec: { resourceNamespace: 'obs' },
};
const spec = {
  sources: { in: { type: 'socket', mode: 'tcp', address: '0.0.0.0:9000' } },
  sinks: { out: { type: 'blackhole', inputs: ['in'] } },
};

function refusing(): { checker: Checker; seen: { subject: CheckSubject; json: string }[] } {
  const seen: { subject: CheckSubject; json: string }[] = [];
  return {
    seen,
    checker: {
      check(subject, json) {
        seen.push({ subject, json });
        return Promise.resolve({ result: 'invalid', reason: 'x unknown option' });
      },
    },
  };
}

describe('per-pipeline config check on aggregators', () => {
  it("checks the pipeline alone in the aggregator's config, as the aggregator, and words a refusal as kaasops", async () => {
    const { checker, seen } = refusing();
    const check = await checkOnWorkloads([{ kind: 'aggregator', aggregator: va }], vp('logs', 'ingest', spec), {
      checker,
      optimize: false,
    });
    assert.deepEqual(check, { result: 'invalid', reason: 'aggregator logs/agg config check failed: x unknown option' });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.subject.name, 'agg');
    assert.equal(seen[0].subject.namespace, 'logs');
    assert.equal(seen[0].subject.spec.configCheck?.image, 'vector:check');
    const config = JSON.parse(seen[0].json) as { sources: Record<string, unknown> };
    assert.deepEqual(Object.keys(config.sources).sort(), ['internalMetricsSource', 'logs-ingest-in']);
  });

  it("a ClusterVectorAggregator: checked in its resourceNamespace; kaasops' leading slash", async () => {
    const { checker, seen } = refusing();
    const check = await checkOnWorkloads([{ kind: 'aggregator', aggregator: cva }], cvp('ingest', spec), {
      checker,
      optimize: false,
    });
    assert.deepEqual(check, {
      result: 'invalid',
      reason: 'cluster aggregator /wide config check failed: x unknown option',
    });
    assert.equal(seen[0]?.subject.namespace, 'obs');
  });

  it("a pipeline the aggregator build refuses gets no pod, and kaasops' build-failure text", async () => {
    const { checker, seen } = refusing();
    const bad = vp('logs', 'ingest', {
      sources: { in: { type: 'socket', mode: 'tcp', address: '0.0.0.0:http' } },
      sinks: { out: { type: 'blackhole', inputs: ['in'] } },
    });
    const check = await checkOnWorkloads([{ kind: 'aggregator', aggregator: va }], bad, { checker, optimize: false });
    assert.ok(check.result === 'invalid', `refused, not ${check.result}`);
    assert.match(
      check.reason,
      /^aggregator logs\/agg build config failed: failed to build config: .*failed to parse port http/,
    );
    assert.equal(seen.length, 0);
  });
});
