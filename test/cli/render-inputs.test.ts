/**
 * What `render` and `plan` read, and what they say about the rest: ignored kinds and dropped fields are warned about
 * on stderr (file, object, field), `--namespace` fills in a missing namespace, and `plan --enable-checkpoint-migration`
 * shows the migration objects and what enabling optimization does to the agents.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { runWithoutClientNode } from '../helpers/bin.ts';
import { cli } from '../helpers/cli.ts';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

function manifests(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vo-inputs-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const pipeline = `apiVersion: observability.kaasops.io/v1alpha1
kind: VectorPipeline
metadata: {name: app, namespace: team-a}
spec:
  sources:
    pods: {type: kubernetes_logs}
  sinks:
    out: {type: blackhole, inputs: [pods]}
`;

const extras = `apiVersion: observability.kaasops.io/v1alpha1
kind: VectorAggregator
metadata: {name: agg, namespace: vector}
spec: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: vector}
`;

describe('render and plan: inputs', () => {
  it('warn about ignored kinds and unknown fields, naming file, object and field, and render the Vector beside an aggregator', async () => {
    const vector = `apiVersion: observability.kaasops.io/v1alpha1
kind: Vector
metadata: {name: logs, namespace: vector}
spec:
  agent:
    expireMetricsSecs: 60
    imagePulPolicy: Always
`;
    const clean = manifests({ 'a.yaml': vector.replace('    imagePulPolicy: Always\n', ''), 'p.yaml': pipeline });
    const dir = manifests({ 'a.yaml': vector, 'p.yaml': pipeline, 'x.yaml': extras });
    for (const cmd of ['render', 'plan']) {
      const r = await cli([cmd, '-f', dir]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.deepEqual(
        lines.map((l) => l.replace(dir, '<dir>')),
        [
          'warning: <dir>/a.yaml#1: Vector vector/logs: spec.agent.imagePulPolicy: unknown field, ignored (the API server prunes it too)',
          'warning: <dir>/x.yaml#2: v1 ConfigMap vector/settings: ignored: only Vector, VectorPipeline, ClusterVectorPipeline, VectorAggregator and ClusterVectorAggregator of observability.kaasops.io/v1alpha1 are read',
        ],
        cmd,
      );
      assert.equal(r.stdout, (await cli([cmd, '-f', clean])).stdout, `${cmd}: the output is unchanged`);
    }
    assert.equal((await cli(['render', '-f', clean])).stderr, '', 'nothing left out: no warning');
  });

  it('take --namespace for manifests that carry none, and refuse them without it', async () => {
    const dir = manifests({
      'v.yaml': `apiVersion: observability.kaasops.io/v1alpha1
kind: Vector
metadata: {name: logs}
spec: {}
`,
      'p.yaml': pipeline.replace(', namespace: team-a', ''),
    });
    for (const cmd of ['render', 'plan']) {
      const refused = await cli([cmd, '-f', dir]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /v\.yaml#1: Vector \?\/logs: metadata\.namespace: is required: .*--namespace NS/);
    }
    const r = await cli(['render', '-f', dir, '--namespace', 'team-a', '--objects']);
    assert.equal(r.status, 0, r.stderr);
    const objs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { namespace?: string } });
    assert.equal(objs.find((o) => o.kind === 'DaemonSet')?.metadata.namespace, 'team-a');
    const config = await cli(['render', '-f', dir, '-n', 'team-a']);
    assert.match(config.stdout, /"team-a-app-pods"/);
    const plan = await cli(['plan', '-f', dir, '-n', 'team-a']);
    assert.equal(plan.status, 0, plan.stderr);
    assert.match(plan.stdout, /^Vector team-a\/logs: legacy vs optimized/);
  });
});

describe('plan --enable-checkpoint-migration', () => {
  it('shows the Secrets render --objects prints, and what enabling optimization and rolling back do', async () => {
    const r = await cli(['plan', '-f', examples, '--enable-checkpoint-migration']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Secret logs-agent {6}legacy {5}mounted\n {2}Secret logs-agent-opt {2}optimized {2}standby/);
    assert.match(r.stdout, /init container checkpoint-merger \(ghcr\.io\/vector-operator\/checkpoint-merger:/);
    assert.match(
      r.stdout,
      /Enabling optimization: the template switches to Secret logs-agent-opt and the agents roll once; .*5 source rename\(s\) over 4 namespace\(s\)/,
    );
    assert.match(r.stdout, /Rolling back: the template switches to Secret logs-agent and the agents roll once/);
    assert.doesNotMatch((await cli(['plan', '-f', examples])).stdout, /checkpoint migration/);

    const objects = await cli(['render', '-f', examples, '--objects', '--enable-checkpoint-migration']);
    const secrets = parseAllDocuments(objects.stdout)
      .map((d) => d.toJS() as { kind: string; metadata: { name: string; annotations?: Record<string, string> } })
      .filter((o) => o.kind === 'Secret')
      .map((o) => ({
        name: o.metadata.name,
        mode: o.metadata.annotations?.['vector-operator.kaasops.io/config-mode'],
      }));
    const json = await cli(['plan', '-f', examples, '--json', '--enable-checkpoint-migration']);
    const preview = (
      JSON.parse(json.stdout) as {
        migration: { secrets: { name: string; mode: string }[]; enable: { rolls: boolean; mountedSecret: string } };
      }
    ).migration;
    assert.deepEqual(
      preview.secrets.map((s) => ({ name: s.name, mode: s.mode })),
      secrets,
    );
    assert.deepEqual([preview.enable.rolls, preview.enable.mountedSecret], [true, 'logs-agent-opt']);
  });

  it('says when enabling optimization renames nothing: a live reload, no rollout', async () => {
    const dir = manifests({
      'v.yaml': `apiVersion: observability.kaasops.io/v1alpha1
kind: Vector
metadata: {name: logs, namespace: vector}
spec: {}
`,
      'p.yaml': pipeline,
    });
    const r = await cli(['plan', '-f', dir, '--enable-checkpoint-migration']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Enabling optimization: no source renames: .*live-reload it, no rollout/);
  });

  it('refuses a bad merger flag with exit 2, and never loads @kubernetes/client-node', async () => {
    const bad = await cli([
      'plan',
      '-f',
      examples,
      '--enable-checkpoint-migration',
      '--checkpoint-merger-position-policy',
      'median',
    ]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--checkpoint-merger-position-policy 'median' must be min or max/);
    const r = runWithoutClientNode(['plan', '-f', examples, '--enable-checkpoint-migration']);
    assert.equal(r.status, 0, r.stderr);
  });
});
