/**
 * The aggregator CRDs on both targets: `kubectl apply` of the aggregator manifests of kaasops' documentation
 * (test/fixtures/kaasops-aggregators.yaml) succeeds, and every object reads back as written: nothing pruned, nothing
 * changed but the one default kaasops' CRD also writes (`autoscaling.maxReplicas: 3`).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { request, type KubeObject } from '../../src/kube/client.ts';
import { KUBECTL, requireKubectl } from '../deploy/manifests.ts';
import { group } from './stand.ts';
import { kubeconfigFile, standSuite } from './stand-suite.ts';

requireKubectl();
const fixture = fileURLToPath(new URL('../fixtures/kaasops-aggregators.yaml', import.meta.url));
const docs = parseAllDocuments(readFileSync(fixture, 'utf8')).map((d) => d.toJS() as KubeObject);

const plural: Record<string, string> = {
  VectorAggregator: 'vectoraggregators',
  ClusterVectorAggregator: 'clustervectoraggregators',
  VectorPipeline: 'vectorpipelines',
  ClusterVectorPipeline: 'clustervectorpipelines',
};
const pathOf = (o: KubeObject): string => {
  const ns = o.metadata?.namespace;
  return `${group}${ns === undefined ? '' : `/namespaces/${ns}`}/${plural[o.kind ?? '']}/${o.metadata?.name}`;
};

standSuite('aggregator CRDs', { namespaces: ['vector', 'logging'] }, (stand) => {
  const kubeconfig = kubeconfigFile(stand, 'aggregator-crds-');
  const kubectl = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        KUBECTL,
        args,
        { env: { ...process.env, KUBECONFIG: kubeconfig(), HOME: dirname(kubeconfig()) }, timeout: 60_000 },
        (err, stdout, stderr) => {
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
        },
      );
    });

  it("accept kubectl apply of kaasops' documented aggregator manifests, every field kept", async () => {
    const applied = await kubectl(['apply', '--validate=strict', '-f', fixture]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.ok(docs.filter((d) => d.kind?.endsWith('Aggregator') === true).length >= 5);
    for (const doc of docs) {
      const live = await request<KubeObject>(stand().kc, 'GET', pathOf(doc));
      const want = structuredClone(doc.spec) as { autoscaling?: { maxReplicas?: number } };
      // The CRD default, as kaasops' CRD has it.
      if (want.autoscaling !== undefined) want.autoscaling.maxReplicas ??= 3;
      assert.deepEqual(live.spec, want, `${doc.kind} ${doc.metadata?.name}`);
    }
  });

  it('default autoscaling.maxReplicas to 3, and accept a ClusterVectorAggregator without resourceNamespace', async () => {
    const created = await request<KubeObject>(stand().kc, 'POST', `${group}/clustervectoraggregators`, {
      body: {
        apiVersion: 'observability.kaasops.io/v1alpha1',
        kind: 'ClusterVectorAggregator',
        metadata: { name: 'defaults' },
        spec: { autoscaling: { enabled: true } },
      },
    });
    assert.deepEqual(created.spec, { autoscaling: { enabled: true, maxReplicas: 3 } });
  });

  it('refuse a bad value, naming the field', async () => {
    let err: unknown;
    try {
      await request(stand().kc, 'POST', `${group}/namespaces/vector/vectoraggregators`, {
        body: {
          apiVersion: 'observability.kaasops.io/v1alpha1',
          kind: 'VectorAggregator',
          metadata: { name: 'bad' },
          spec: { podDisruptionBudget: { unhealthyPodEvictionPolicy: 'Never' } },
        },
      });
    } catch (e) {
      err = e;
    }
    assert.match(String((err as Error | undefined)?.message), /unhealthyPodEvictionPolicy/);
  });
});
