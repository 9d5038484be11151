/**
 * `render` and `plan` of an aggregator, as a kaasops user would run them on their manifests: the config the operator
 * would publish, the Services its sources listen on, and errors that name the pipeline and the field.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWithoutClientNode } from '../helpers/bin.ts';
import { cli } from '../helpers/cli.ts';

const fixture = fileURLToPath(new URL('../fixtures/kaasops-aggregators.yaml', import.meta.url));
const golden = (name: string) => readFileSync(new URL(`../golden/config/${name}`, import.meta.url), 'utf8');

describe('render and plan: aggregators', () => {
  it('render the config of the aggregator --aggregator names, a cluster one by its name alone', async () => {
    const va = await cli(['render', '-f', fixture, '--aggregator', 'vector/vector-aggregator1']);
    assert.equal(va.status, 0, va.stderr);
    assert.equal(va.stdout, golden('vector-aggregator1.json'));
    const cva = runWithoutClientNode(['render', '-f', fixture, '--aggregator', 'cluster-vector-aggregator1']);
    assert.equal(cva.status, 0, cva.stderr);
    assert.equal(cva.stdout, golden('cluster-vector-aggregator1.json'));
  });

  it('render the only aggregator when there is no Vector, and ask which one when there are several', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vo-agg-'));
    writeFileSync(
      join(dir, 'a.yaml'),
      `apiVersion: observability.kaasops.io/v1alpha1
kind: VectorAggregator
metadata: {name: agg, namespace: logs}
spec: {}
`,
    );
    const one = await cli(['render', '-f', dir]);
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stdout, /"defaultSource":\{"address":"\[::\]:8989","type":"vector"\}/);
    const many = await cli(['render', '-f', fixture]);
    assert.equal(many.status, 1);
    assert.match(
      many.stderr,
      /6 aggregators in the inputs \(vector\/vector-aggregator1, .*\): choose one with --aggregator/,
    );
    const missing = await cli(['render', '-f', fixture, '--aggregator', 'nope']);
    assert.match(missing.stderr, /--aggregator nope: not in the inputs/);
  });

  it('fail naming the pipeline and the field when a pipeline is rejected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vo-agg-'));
    writeFileSync(
      join(dir, 'a.yaml'),
      `apiVersion: observability.kaasops.io/v1alpha1
kind: VectorAggregator
metadata: {name: agg, namespace: logs}
---
apiVersion: observability.kaasops.io/v1alpha1
kind: VectorPipeline
metadata: {name: in, namespace: logs}
spec:
  sources:
    s: {type: socket, address: "0.0.0.0:http", mode: tcp}
`,
    );
    const r = await cli(['render', '-f', dir]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /error: VectorPipeline logs\/in: spec\.sources\.s\.address: failed to parse port http: strconv\.Atoi: parsing "http": invalid syntax/,
    );
  });

  it('plan lists the pipelines used and the Services with their ports, as text and as JSON', async () => {
    const text = runWithoutClientNode(['plan', '-f', fixture, '--aggregator', 'vector/vector-aggregator1']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /config optimization and checkpoint migration do not apply to aggregators/);
    assert.match(text.stdout, /vector-aggregator1-aggregator-events {2}source-test 42000\/TCP \(kubernetes_events\)/);
    assert.match(text.stdout, /vector-aggregator1-aggregator-vector-pipeline1 {2}source-test 9000\/TCP/);
    const json = await cli(['plan', '-f', fixture, '--aggregator', 'vector/vector-aggregator1', '--json']);
    const summary = JSON.parse(json.stdout) as { services: { name: string }[] };
    assert.deepEqual(
      summary.services.map((s) => s.name),
      ['vector-aggregator1-aggregator-events', 'vector-aggregator1-aggregator-vector-pipeline1'],
    );
  });

  it('render --objects prints every object of the aggregator, as the operator builds them', async () => {
    const r = runWithoutClientNode(['render', '-f', fixture, '--aggregator', 'logging/every-field', '--objects']);
    assert.equal(r.status, 0, r.stderr);
    const kinds = [...r.stdout.matchAll(/^kind: (\w+)\nmetadata:\n {2}name: (\S+)/gm)].map((m) => `${m[1]}/${m[2]}`);
    assert.deepEqual(kinds, [
      'Secret/every-field-aggregator',
      'StatefulSet/every-field-aggregator',
      'ServiceAccount/every-field-aggregator',
      'ClusterRole/logging.every-field-aggregator',
      'ClusterRoleBinding/logging.every-field-aggregator',
      'Service/every-field-aggregator',
      'Service/every-field-aggregator-headless',
      'PodMonitor/every-field-aggregator',
      'PodDisruptionBudget/every-field-aggregator',
    ]);
    const none = await cli(['render', '-f', fixture, '--aggregator', 'no-namespace', '--objects']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /error: ClusterVectorAggregator no-namespace: spec\.resourceNamespace is empty/);
  });
});
