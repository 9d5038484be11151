/**
 * Our generated CRDs (deploy/crds) on both targets: accepted as structural and Established, read back unchanged (no
 * client on the way dropped an `x-kubernetes-*` field), the examples apply, and a pipeline status as kaasops wrote it
 * (`relatedSecretsHash` an int64) still validates when our operator takes over.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { request, type KubeObject } from '../../src/kube/client.ts';
import { eventually, operator, vpObj, vpPath } from './stand.ts';
import { standSuite } from './stand-suite.ts';

const crdDir = new URL('../../deploy/crds/', import.meta.url);
const examplesDir = new URL('../../examples/', import.meta.url);
const crdPath = (name: string) => `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;

interface Crd extends KubeObject {
  spec: { group: string; names: { plural: string }; versions: { name: string; schema: unknown }[] };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

const generated = (): Crd[] => readdirSync(crdDir).map((f) => parse(readFileSync(new URL(f, crdDir), 'utf8')) as Crd);

/** Every `x-kubernetes-*` key in a schema, by JSON path: what client-node's model serializer would drop. */
function xKubernetes(node: unknown, path = '$', out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((v, i) => xKubernetes(v, `${path}[${i}]`, out));
  else if (node !== null && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('x-kubernetes-')) out.push(`${path}.${k}`);
      xKubernetes(v, `${path}.${k}`, out);
    }
  return out;
}

standSuite('our CRDs', { namespaces: ['vector', 'payments', 'checkout', 'search', 'billing', 'team-a'] }, (stand) => {
  it('are accepted as structural, with names accepted, and Established', async () => {
    for (const crd of generated()) {
      const live = await stand().get<Crd>(crdPath(crd.metadata?.name ?? ''));
      const conditions = Object.fromEntries((live?.status?.conditions ?? []).map((c) => [c.type, c]));
      assert.equal(conditions.NonStructuralSchema, undefined, `${crd.metadata?.name}: structural`);
      assert.equal(conditions.NamesAccepted?.status, 'True', `${crd.metadata?.name}: names accepted`);
      assert.equal(conditions.Established?.status, 'True', `${crd.metadata?.name}: Established`);
    }
  });

  it('read back with the schema as generated, every x-kubernetes-* field included', async () => {
    for (const crd of generated()) {
      const live = await stand().get<Crd>(crdPath(crd.metadata?.name ?? ''));
      assert.ok(xKubernetes(crd.spec.versions).length > 0, 'the schema has x-kubernetes-* fields to lose');
      assert.deepEqual(
        live?.spec.versions.map((v) => v.schema),
        crd.spec.versions.map((v) => v.schema),
        crd.metadata?.name,
      );
    }
  });

  it('read back unchanged when created through the typed client-node API from loadYaml', async () => {
    // The typed API serialises through its model: plain wire-named YAML would lose `x-kubernetes-*` (reference §5.2).
    // loadYaml converts them to the model's names first, so they survive; a CRD of another group so the installed ones stay as they are.
    const crd = generated().find((c) => c.spec.names.plural === 'vectors') as Crd;
    const copy = structuredClone(crd);
    copy.metadata = { name: 'vectors.readback.example.com' };
    copy.spec.group = 'readback.example.com';
    const typed = k8s.loadYaml<k8s.V1CustomResourceDefinition>(stringify(copy));
    await stand().kc.makeApiClient(k8s.ApiextensionsV1Api).createCustomResourceDefinition({ body: typed });
    const live = await stand().get<Crd>(crdPath('vectors.readback.example.com'));
    // Sorted: the real server returns schema properties in its own (alphabetical) order.
    assert.deepEqual(xKubernetes(live?.spec.versions).sort(), xKubernetes(crd.spec.versions).sort());
    assert.deepEqual(
      live?.spec.versions.map((v) => v.schema),
      crd.spec.versions.map((v) => v.schema),
    );
  });

  it('serve the examples: every Vector and pipeline in examples/ is created as written', async () => {
    const docs = readdirSync(examplesDir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .flatMap((f) => parseAllDocuments(readFileSync(new URL(f, examplesDir), 'utf8')).map((d) => d.toJS() as Crd));
    assert.ok(docs.length >= 4);
    for (const doc of docs) {
      const ns = doc.metadata?.namespace;
      const plural =
        { Vector: 'vectors', VectorPipeline: 'vectorpipelines' }[doc.kind ?? ''] ?? 'clustervectorpipelines';
      const base = `/apis/observability.kaasops.io/v1alpha1${ns === undefined ? '' : `/namespaces/${ns}`}/${plural}`;
      const created = await request<KubeObject>(stand().kc, 'POST', base, {
        body: doc,
        query: { fieldValidation: 'Strict' },
      });
      assert.deepEqual(created.spec, doc.spec, `${doc.kind} ${doc.metadata?.name}: nothing pruned or changed`);
    }
  });

  it('keep a status kaasops wrote (relatedSecretsHash as int64) valid when our operator takes over', async () => {
    await stand().create('/apis/observability.kaasops.io/v1alpha1/namespaces/vector/vectors', {
      apiVersion: 'observability.kaasops.io/v1alpha1',
      kind: 'Vector',
      metadata: { name: 'cutover', namespace: 'vector' },
      spec: {},
    });
    await stand().create(vpPath('team-a'), vpObj('team-a', 'from-kaasops'));
    // kaasops' status write: a JSON merge patch on /status, its hashes as Go int64 numbers.
    const hash = 3_735_928_559;
    await stand().patch(`${vpPath('team-a', 'from-kaasops')}/status`, {
      status: {
        role: 'agent',
        configCheckResult: true,
        LastAppliedPipelineHash: 1_234_567_890,
        relatedSecretsHash: hash,
      },
    });
    const op = operator(stand());
    await op.start();
    try {
      const status = await eventually('our status on the pipeline', async () => {
        const p = await stand().get<{ status?: { conditions?: unknown[]; relatedSecretsHash?: unknown } }>(
          vpPath('team-a', 'from-kaasops'),
        );
        return p?.status?.conditions !== undefined ? p.status : undefined;
      });
      assert.equal(status.relatedSecretsHash, hash, 'kaasops value kept, still a number');
    } finally {
      await op.stop();
    }
  });
});
