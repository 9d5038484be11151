/** `vector-operator render` and `plan`, run as a user runs them: the compiled bin on manifest files. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execPath } from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { binPaths, runWithoutClientNode } from '../helpers/bin.ts';
import { cli } from '../helpers/cli.ts';
import { assertGolden } from '../helpers/golden.ts';
import { fallbackIds, withoutFallback } from '../helpers/fallback.ts';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

function manifests(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vo-render-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const vectorYaml = (name: string) => `apiVersion: observability.kaasops.io/v1alpha1
kind: Vector
metadata: {name: ${name}, namespace: vector}
spec: {}
`;

describe('vector-operator render', () => {
  it('prints the legacy and the optimized agent config for examples/', async () => {
    const legacy = await cli(['render', '-f', examples]);
    assert.equal(legacy.status, 0, legacy.stderr);
    assertGolden('cli/examples-render.json', legacy.stdout);
    const optimized = await cli(['render', '-f', examples, '--enable-config-optimization']);
    assert.equal(optimized.status, 0, optimized.stderr);
    // The golden file is kaasops' output; ours adds the deleted-pod fallback route (checked on its own).
    assertGolden('cli/examples-render-optimized.json', withoutFallback(optimized.stdout) + '\n');
    assert.deepEqual(fallbackIds(optimized.stdout), ['optimizedFallback-b8c6f0ff']);
    assert.match(optimized.stdout, /"optimizedSource-b8c6f0ff"/);
  });

  it('prints every object with --objects, the Secret holding exactly the rendered config', async () => {
    const config = (await cli(['render', '-f', examples])).stdout.trimEnd();
    const r = await cli(['render', '-f', examples, '--objects']);
    assert.equal(r.status, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> },
    );
    assert.deepEqual(
      docs.map((d) => `${d.kind}/${d.metadata.name}`),
      [
        'Secret/logs-agent',
        'DaemonSet/logs-agent',
        'ServiceAccount/logs-agent',
        'ClusterRole/vector.logs-agent',
        'ClusterRoleBinding/vector.logs-agent',
        'Service/logs-agent',
        'PodMonitor/logs-agent',
      ],
    );
    assert.equal(Buffer.from(docs[0]?.data?.['agent.json'] ?? '', 'base64').toString(), config);
  });

  it('exits 1 and names the pipeline and the field when a pipeline is invalid', async () => {
    const dir = manifests({
      'v.yaml': vectorYaml('logs'),
      'p.yaml': `apiVersion: observability.kaasops.io/v1alpha1
kind: VectorPipeline
metadata: {name: sneaky, namespace: team-a}
spec:
  sources:
    pods: {type: kubernetes_logs, extra_namespace_label_selector: "kubernetes.io/metadata.name=team-b"}
  sinks:
    out: {type: blackhole, inputs: [pods]}
`,
    });
    const r = await cli(['render', '-f', dir]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /VectorPipeline team-a\/sneaky: spec\.sources\.pods\.extra_namespace_label_selector: logs from external namespace not allowed/,
    );
  });

  it('exits 1 and names the field when a manifest does not match the schema', async () => {
    const dir = manifests({
      'v.yaml': vectorYaml('logs'),
      'p.yaml':
        'apiVersion: observability.kaasops.io/v1alpha1\nkind: ClusterVectorPipeline\nmetadata: {name: c}\nspec: {sinks: [a, b]}\n',
    });
    const r = await cli(['render', '-f', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ClusterVectorPipeline c: spec\.sinks: expected record, received array/);
  });

  it('exits 1 on a broken graph: a sink reading a component that does not exist', async () => {
    const dir = manifests({
      'v.yaml': vectorYaml('logs'),
      'p.yaml':
        'apiVersion: observability.kaasops.io/v1alpha1\nkind: ClusterVectorPipeline\nmetadata: {name: c}\nspec: {sources: {j: {type: journald}}, sinks: {o: {type: blackhole, inputs: [typo]}}}\n',
    });
    const r = await cli(['render', '-f', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /sinks\.c-o: input 'c-typo' does not resolve to a component/);
  });

  it('asks for --vector when the manifests hold several Vectors, and uses the one named', async () => {
    const dir = manifests({ 'a.yaml': vectorYaml('a'), 'b.yaml': vectorYaml('b') });
    const r = await cli(['render', '-f', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /2 Vectors in the inputs \(vector\/a, vector\/b\): choose one with --vector ns\/name/);
    const picked = await cli(['render', '-f', dir, '--vector', 'vector/b', '--objects']);
    assert.equal(picked.status, 0, picked.stderr);
    assert.match(picked.stdout, /name: b-agent/);
  });

  it('exits 1 naming the file on a YAML syntax error', async () => {
    const dir = manifests({ 'broken.yaml': 'kind: Vector\nmetadata: {name: [\n' });
    const r = await cli(['render', '-f', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /broken\.yaml: line \d+, column \d+: /);
  });

  it('notes aggregator pipelines it leaves out, and still renders', async () => {
    const dir = manifests({
      'v.yaml': vectorYaml('logs'),
      'agg.yaml':
        'apiVersion: observability.kaasops.io/v1alpha1\nkind: ClusterVectorPipeline\nmetadata: {name: intake}\nspec: {sources: {http: {type: http_server, address: "0.0.0.0:8080"}}, sinks: {o: {type: blackhole, inputs: [http]}}}\n',
    });
    const r = await cli(['render', '-f', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /note: ClusterVectorPipeline intake skipped: its sources make it an aggregator pipeline/);
    assert.match(r.stdout, /"defaultSource"/);
  });

  it('applies the operator tenant policy: refuses, allows by flag, keeps flowing with a warning in warn mode', async () => {
    const dir = manifests({
      'v.yaml': vectorYaml('logs'),
      'p.yaml': `apiVersion: observability.kaasops.io/v1alpha1
kind: VectorPipeline
metadata: {name: peek, namespace: team-a}
spec:
  sources: {pods: {type: kubernetes_logs}}
  transforms: {t: {type: remap, inputs: [pods], source: '.x = get_env_var!("TEAM_B_TOKEN")'}}
  sinks: {out: {type: blackhole, inputs: [t]}}
`,
    });
    const refused = await cli(['render', '-f', dir]);
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      /error: VectorPipeline team-a\/peek: spec\.transforms\.t\.source: calls VRL function get_env_var.*--pipeline-policy=warn/,
    );
    const allowed = await cli(['render', '-f', dir, '--pipeline-policy-allow-vrl-functions=get_env_var']);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stdout, /team-a-peek-t/);
    const warned = await cli(['render', '-f', dir, '--pipeline-policy', 'warn']);
    assert.equal(warned.status, 0, warned.stderr);
    assert.match(warned.stderr, /warning: VectorPipeline team-a\/peek: spec\.transforms\.t\.source: .*warn mode/);
    assert.equal(warned.stdout, allowed.stdout);
    const plan = await cli(['plan', '-f', dir]);
    assert.equal(plan.status, 1);
    assert.match(plan.stderr, /spec\.transforms\.t\.source/);
    assert.equal((await cli(['plan', '-f', dir, '--pipeline-policy=warn'])).status, 0);
    const both = await cli([
      'render',
      '-f',
      dir,
      '--pipeline-policy-allow-types=lua',
      '--pipeline-policy-deny-types=file,lua',
    ]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /lua is in both --pipeline-policy-allow-types and --pipeline-policy-deny-types/);
  });

  it('prints the hardened agent pod with --objects --agent-least-privilege, and only then', async () => {
    const plain = await cli(['render', '-f', examples, '--objects']);
    const hardened = await cli(['render', '-f', examples, '--objects', '--agent-least-privilege']);
    assert.equal(hardened.status, 0, hardened.stderr);
    assert.doesNotMatch(plain.stdout, /readOnly|allowPrivilegeEscalation/);
    assert.match(hardened.stdout, /allowPrivilegeEscalation: false/);
    assert.match(hardened.stdout, /name: var-lib\n\s+mountPath: \/var\/lib\/\n\s+readOnly: true/);
  });

  it('rejects unknown flags with exit 2 and usage', async () => {
    const r = await cli(['render', '--frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: vector-operator render/);
  });

  it('never loads @kubernetes/client-node (render must start fast)', () => {
    const r = runWithoutClientNode(['render', '-f', examples, '--objects']);
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('vector-operator plan', () => {
  it('shows sources collapsed, watches before and after, routes and checkpoints to seed for examples/', async () => {
    const r = await cli(['plan', '-f', examples]);
    assert.equal(r.status, 0, r.stderr);
    assertGolden('cli/examples-plan.txt', r.stdout);
    assert.match(r.stdout, /watch connections\s+18\s+6/);
    assert.match(r.stdout, /seed:\s+optimizedSource-b8c6f0ff/);
  });

  it('prints the same plan as JSON with --json', async () => {
    const r = await cli(['plan', '-f', examples, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as {
      watches: { legacy: number; optimized: number };
      enable: { targets: string[]; from: string[] };
    };
    assert.deepEqual(plan.watches, { legacy: 18, optimized: 6 });
    assert.deepEqual(plan.enable.targets, ['optimizedSource-b8c6f0ff']);
    assert.equal(plan.enable.from.length, 5);
  });
});

describe('CLI output through a pipe', () => {
  /** 2 000 namespaced pipelines, one per namespace: a config of ~370 KB, far past a pipe's 64 KiB. */
  function bigInput(): string {
    const docs = [vectorYaml('logs')];
    for (let i = 0; i < 2000; i++) {
      docs.push(`apiVersion: observability.kaasops.io/v1alpha1
kind: VectorPipeline
metadata: {name: p${i}, namespace: ns-${i}}
spec:
  sources:
    logs: {type: kubernetes_logs}
  sinks:
    out: {type: blackhole, inputs: [logs]}
`);
    }
    return manifests({ 'big.yaml': docs.join('---\n') });
  }

  /** Runs the bin once into a file and once into a pipe whose reader starts late, so the pipe fills up. */
  function fileAndPipe(args: string[]): { file: string; piped: string; pipedStatus: string } {
    const out = mkdtempSync(join(tmpdir(), 'vo-pipe-'));
    const cmd = [execPath, binPaths['vector-operator'], ...args].map((a) => `'${a}'`).join(' ');
    const r = spawnSync(
      'bash',
      ['-c', `${cmd} > file.out; ${cmd} | (sleep 0.3; cat > piped.out); echo "\${PIPESTATUS[0]}" > piped.status`],
      { cwd: out, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const read = (name: string) => readFileSync(join(out, name), 'utf8');
    return { file: read('file.out'), piped: read('piped.out'), pipedStatus: read('piped.status').trim() };
  }

  it('render, render --objects and plan print the same bytes into a pipe as into a file, for 2 000 pipelines', () => {
    const dir = bigInput();
    for (const args of [
      ['render', '-f', dir],
      ['render', '-f', dir, '--objects'],
      ['plan', '-f', dir, '--json'],
    ]) {
      const { file, piped, pipedStatus } = fileAndPipe(args);
      assert.equal(pipedStatus, '0', `${args.join(' ')} exit code through the pipe`);
      assert.ok(file.length > 65_536 || args[0] === 'plan', `${args.join(' ')} is only ${file.length} bytes`);
      assert.equal(piped.length, file.length, `${args.join(' ')}: bytes through the pipe`);
      assert.equal(piped, file);
    }
  });
});
