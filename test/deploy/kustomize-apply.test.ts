/**
 * `kubectl apply` of the kustomize base in deploy/ into the API server (the stand-in, and the real one on its lane):
 * every object is created, a second apply changes nothing, the Vector API is served, the RBAC and the Deployment are
 * stored as rendered, and a server-side apply into a fresh server succeeds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../lab/apiserver/server.ts';
import { startControlPlane } from '../../lab/kube-real/control-plane.ts';
import { isSubset } from '../../src/kube/diff.ts';
import { kubeTargets, type KubeTarget } from '../helpers/kube-target.ts';
import { deployDir, KUBECTL, kustomize, only, parseObjects, type Obj } from './manifests.ts';

const NS = 'vector-operator-system';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The stand-in serves the resources the issue lists; Deployments are not among them (docs/testing.md, "Missing").
 * Until it does, this test serves `apps/v1 deployments` through a schemaless CRD, so that kubectl can resolve the kind
 * and store the object. Every other object in the base goes through the stand-in's own built-in types.
 */
const DEPLOYMENT_STANDIN = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: deployments.apps}
spec:
  group: apps
  scope: Namespaced
  names: {kind: Deployment, listKind: DeploymentList, plural: deployments, singular: deployment}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;

interface Standin {
  kubectl: (args: string[], input?: string) => Promise<Run>;
  close: () => Promise<void>;
}

/**
 * A fresh API server with a kubeconfig for it: the stand-in (serving Deployments natively, or else through the CRD
 * above), or the real control plane.
 */
async function startStandin(target: KubeTarget): Promise<Standin> {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-apply-'));
  const kubeconfig = join(dir, 'kubeconfig');
  let server: { close: () => Promise<void> };
  if (target.name === 'real') {
    const plane = await startControlPlane();
    writeFileSync(kubeconfig, plane.kubeconfig, { mode: 0o600 });
    server = { close: () => plane.stop() };
  } else {
    const standIn = await startApiServer();
    standIn.writeKubeconfig(kubeconfig);
    server = standIn;
  }
  // The server runs in this process, so kubectl must run asynchronously (a spawnSync would block the server).
  const kubectl = (args: string[], input?: string): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        KUBECTL,
        args,
        { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir }, timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  const close = async (): Promise<void> => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const apps = await kubectl(['get', '--raw', '/apis/apps/v1']);
    assert.equal(apps.code, 0, apps.stderr);
    const served = (JSON.parse(apps.stdout) as { resources: { name: string }[] }).resources.map((r) => r.name);
    if (!served.includes('deployments')) {
      const crd = await kubectl(['apply', '-f', '-'], DEPLOYMENT_STANDIN);
      assert.equal(crd.code, 0, crd.stderr);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { kubectl, close };
}

for (const target of kubeTargets())
  describe(`deploy/: kubectl (${KUBECTL}) apply into the API server (${target.name})`, { skip: target.skip }, () => {
    let standin: Standin;
    let rendered: string;
    const kubectl = (args: string[], input?: string): Promise<Run> => standin.kubectl(args, input);

    before(async () => {
      rendered = kustomize(deployDir); // before the server starts: this one blocks
      standin = await startStandin(target);
    });
    after(async () => {
      await standin.close();
    });

    it('applies every object of the rendered base, then finds nothing to change on a second apply', async () => {
      const first = await kubectl(['apply', '-f', '-'], rendered);
      assert.equal(first.code, 0, first.stderr);
      const lines = first.stdout.trim().split('\n');
      assert.equal(lines.length, parseObjects(rendered).length, first.stdout);
      for (const line of lines) assert.match(line, / created$/);

      const second = await kubectl(['apply', '-f', '-'], rendered);
      assert.equal(second.code, 0, second.stderr);
      const again = second.stdout.trim().split('\n');
      assert.equal(again.length, lines.length, second.stdout);
      for (const line of again) assert.match(line, / unchanged$/);
    });

    it('serves the Vector API once applied, and stored the RBAC and Deployment as rendered', async () => {
      const resources = await kubectl(['get', '--raw', '/apis/observability.kaasops.io/v1alpha1']);
      assert.equal(resources.code, 0, resources.stderr);
      const names = (JSON.parse(resources.stdout) as { resources: { name: string }[] }).resources.map((r) => r.name);
      for (const r of ['vectors', 'vectorpipelines', 'clustervectorpipelines']) assert.ok(names.includes(r), r);

      const want = parseObjects(rendered);
      const role = await kubectl(['get', 'clusterrole', 'vector-operator', '-o', 'json']);
      assert.equal(role.code, 0, role.stderr);
      assert.deepEqual((JSON.parse(role.stdout) as Obj).rules, only(want, 'ClusterRole').rules);
      const deployment = await kubectl(['get', 'deployment', 'vector-operator', '-n', NS, '-o', 'json']);
      assert.equal(deployment.code, 0, deployment.stderr);
      const template = (JSON.parse(deployment.stdout) as Obj).spec?.template;
      if (target.name === 'stand-in') assert.deepEqual(template, only(want, 'Deployment').spec?.template);
      // The real server fills in defaults (imagePullPolicy, terminationMessagePath, …): everything rendered is there.
      else assert.ok(isSubset(only(want, 'Deployment').spec?.template, template), JSON.stringify(template));
      const binding = await kubectl(['get', 'rolebinding', 'vector-operator-leader-election', '-n', NS, '-o', 'json']);
      assert.equal(binding.code, 0, binding.stderr);
      assert.deepEqual((JSON.parse(binding.stdout) as Obj).subjects, [
        { kind: 'ServiceAccount', name: 'vector-operator', namespace: NS },
      ]);
    });

    it('applies server-side as well, into a fresh server (`kubectl apply --server-side -k deploy/`)', async () => {
      const fresh = await startStandin(target);
      try {
        const applied = await fresh.kubectl(['apply', '--server-side', '-f', '-'], rendered);
        assert.equal(applied.code, 0, applied.stderr);
        const lines = applied.stdout.trim().split('\n');
        assert.equal(lines.length, parseObjects(rendered).length, applied.stdout);
        for (const line of lines) assert.match(line, / serverside-applied$/);
        const again = await fresh.kubectl(['apply', '--server-side', '-f', '-'], rendered);
        assert.equal(again.code, 0, again.stderr);
      } finally {
        await fresh.close();
      }
    });
  });
