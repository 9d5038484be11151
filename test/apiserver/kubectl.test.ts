import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startApiServer, type ApiServer } from '../../lab/apiserver/server.ts';
import { KUBECTL, requireKubectl } from '../deploy/manifests.ts';

// LAB_KUBECTL picks another kubectl (e.g. Debian's 1.20) to check against; the default is the one on PATH. Without
// it these tests fail (requireKubectl), as the deploy tests do.
requireKubectl();
// kubectl before 1.21 always prints managedFields and has no flag for it.
const managedFlag = spawnSync(KUBECTL, ['get', '--help'], { encoding: 'utf8' }).stdout.includes('--show-managed-fields')
  ? ['--show-managed-fields']
  : [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe(`kubectl (${KUBECTL}) against the API server stand-in`, () => {
  let server: ApiServer;
  let dir: string;
  let kubeconfig: string;
  // The server runs in this process, so kubectl must run asynchronously (a spawnSync would block the server).
  const kubectl = (args: string[], input?: string, timeoutMs = 20_000): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        KUBECTL,
        args,
        { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir }, timeout: timeoutMs },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  const manifest = (image: string, rv?: string): string => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: vector
  namespace: default
${rv === undefined ? '' : `  resourceVersion: "${rv}"\n`}  labels: {app: vector}
spec:
  selector: {matchLabels: {app: vector}}
  template:
    metadata: {labels: {app: vector}}
    spec:
      containers:
      - name: vector
        image: ${image}
        env: [{name: A, value: "1"}]
`;

  before(async () => {
    server = await startApiServer();
    dir = mkdtempSync(join(tmpdir(), 'lab-kubectl-'));
    kubeconfig = join(dir, 'kubeconfig');
    server.writeKubeconfig(kubeconfig);
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies server-side, and reads the object back as YAML with its field manager', async () => {
    const file = join(dir, 'ds.yaml');
    writeFileSync(file, manifest('timberio/vector:0.51.0'));
    const applied = await kubectl(['apply', '--server-side', '-f', file]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /daemonset.apps\/vector serverside-applied/);
    const got = await kubectl(['get', 'daemonset', 'vector', '-o', 'yaml', ...managedFlag]);
    assert.equal(got.code, 0, got.stderr);
    const ds = parseYaml(got.stdout) as {
      metadata: { generation: number; managedFields: { manager: string; operation: string }[] };
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    assert.equal(ds.metadata.generation, 1);
    assert.deepEqual(
      ds.metadata.managedFields.map((m) => `${m.manager}/${m.operation}`),
      ['kubectl/Apply'],
    );
    assert.equal(ds.spec.template.spec.containers[0]?.image, 'timberio/vector:0.51.0');
    const table = await kubectl(['get', 'daemonsets']);
    assert.match(table.stdout, /^NAME\s+AGE\nvector\s+\d+s\n$/);
  });

  it('patches with merge, json and strategic patches', async () => {
    const merge = await kubectl([
      'patch',
      'daemonset',
      'vector',
      '--type',
      'merge',
      '-p',
      '{"metadata":{"labels":{"team":"obs"}}}',
    ]);
    assert.equal(merge.code, 0, merge.stderr);
    const json = await kubectl([
      'patch',
      'daemonset',
      'vector',
      '--type',
      'json',
      '-p',
      '[{"op":"add","path":"/metadata/annotations","value":{"note":"j"}}]',
    ]);
    assert.equal(json.code, 0, json.stderr);
    const smp = await kubectl([
      'patch',
      'daemonset',
      'vector',
      '--type',
      'strategic',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"vector","env":[{"name":"B","value":"2"}]}]}}}}',
    ]);
    assert.equal(smp.code, 0, smp.stderr);
    const got = await kubectl([
      'get',
      'daemonset',
      'vector',
      '-o',
      'jsonpath={.metadata.labels.team} {.metadata.annotations.note} {.spec.template.spec.containers[0].env[*].name} {.metadata.generation}',
    ]);
    assert.equal(got.stdout, 'obs j A B 2');
  });

  it('refuses apply --server-side on a field another manager took, unless --force-conflicts', async () => {
    const file = join(dir, 'ds2.yaml');
    await kubectl([
      'patch',
      'daemonset',
      'vector',
      '--type',
      'merge',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"vector","image":"hand:edit","env":[{"name":"A","value":"1"}]}]}}}}',
    ]);
    writeFileSync(file, manifest('timberio/vector:0.52.0'));
    const refused = await kubectl(['apply', '--server-side', '-f', file]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /conflict with "kubectl-patch"/);
    const forced = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', file]);
    assert.equal(forced.code, 0, forced.stderr);
  });

  it('gives a conflict when replacing with a stale resourceVersion', async () => {
    const got = await kubectl(['get', 'daemonset', 'vector', '-o', 'jsonpath={.metadata.resourceVersion}']);
    const staleRv = got.stdout;
    await kubectl(['label', 'daemonset', 'vector', 'bump=1']);
    const file = join(dir, 'stale.yaml');
    writeFileSync(file, manifest('timberio/vector:0.53.0', staleRv));
    const r = await kubectl(['replace', '-f', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Conflict.*the object has been modified/s);
  });

  it('watches with get -w until its request timeout, seeing changes as they happen', async () => {
    const watching = kubectl(['get', 'configmaps', '-w', '--request-timeout=3s', '-o', 'name']);
    for (let i = 0; i < 200 && server.openWatches('configmaps') === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.openWatches('configmaps'), 1);
    const made = await kubectl(
      ['apply', '--server-side', '-f', '-'],
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\ndata: {k: v}\n',
    );
    assert.equal(made.code, 0, made.stderr);
    const w = await watching;
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /configmap\/watched/);
  });

  it('deletes, after which get reports NotFound', async () => {
    const del = await kubectl(['delete', 'daemonset', 'vector']);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /daemonset.apps "vector" deleted/);
    const get = await kubectl(['get', 'daemonset', 'vector']);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /NotFound/);
  });
});
