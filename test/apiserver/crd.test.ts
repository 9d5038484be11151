import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { kubeTargets } from '../helpers/kube-target.ts';
import { failure, startLabOn, type Lab } from './helpers.ts';
import { eventually } from '../helpers/eventually.ts';

// Written in client-node's model spelling (`_default`, `x_kubernetes_preserve_unknown_fields`): the typed client
// serialises these to `default` and `x-kubernetes-preserve-unknown-fields` on the wire.
const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'vectors.observability.kaasops.io' },
  spec: {
    group: 'observability.kaasops.io',
    scope: 'Namespaced',
    names: { kind: 'Vector', plural: 'vectors', singular: 'vector', listKind: 'VectorList' },
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: {
                type: 'object',
                required: ['agent'],
                properties: {
                  agent: {
                    type: 'object',
                    properties: {
                      image: { type: 'string', _default: 'timberio/vector:0.51.0' },
                      replicas: { type: 'integer', minimum: 0 },
                      mode: { type: 'string', _enum: ['legacy', 'optimized'] },
                    },
                  },
                  extra: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                },
              },
              status: { type: 'object', properties: { ready: { type: 'boolean' } } },
            },
          },
        },
      },
    ],
  },
};

interface Vector extends k8s.KubernetesObject {
  spec?: {
    agent?: { image?: string; replicas?: unknown; mode?: string; junk?: unknown };
    extra?: Record<string, unknown>;
  };
  status?: { ready?: boolean };
}

const vector = (name: string, spec: Vector['spec']): Vector => ({
  apiVersion: 'observability.kaasops.io/v1alpha1',
  kind: 'Vector',
  metadata: { name, namespace: 'default' },
  spec,
});

for (const t of kubeTargets())
  describe(`custom resources served from a registered CRD (${t.name})`, { skip: t.skip }, () => {
    let lab: Lab & { close: () => Promise<void> };
    let custom: k8s.CustomObjectsApi;
    const target = { group: 'observability.kaasops.io', version: 'v1alpha1', namespace: 'default', plural: 'vectors' };
    before(async () => {
      lab = await startLabOn(t);
      custom = lab.kc.makeApiClient(k8s.CustomObjectsApi);
      const ext = lab.kc.makeApiClient(k8s.ApiextensionsV1Api);
      await ext.createCustomResourceDefinition({ body: crd });
      await eventually('the CRD Established', async () => {
        const got = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
        return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true;
      });
    });
    after(async () => {
      await lab.close();
    });

    it('is discoverable with its status subresource once the CRD exists, and Established', async () => {
      const res = await lab.kc.makeApiClient(k8s.ApisApi).getAPIVersions();
      assert.ok(res.groups.some((g) => g.name === 'observability.kaasops.io'));
      const got = await lab.kc
        .makeApiClient(k8s.ApiextensionsV1Api)
        .readCustomResourceDefinition({ name: crd.metadata.name });
      assert.equal(got.status?.conditions?.find((c) => c.type === 'Established')?.status, 'True');
    });

    it('defaults missing fields and prunes unknown ones, keeping what preserve-unknown-fields allows', async () => {
      const made = (await custom.createNamespacedCustomObject({
        ...target,
        body: vector('v1', { agent: { replicas: 2, junk: true }, extra: { anything: { goes: 1 } } }),
      })) as Vector;
      assert.equal(made.spec?.agent?.image, 'timberio/vector:0.51.0');
      assert.equal(made.spec.agent.junk, undefined);
      assert.deepEqual(made.spec.extra, { anything: { goes: 1 } });
      assert.equal(made.metadata?.generation, 1);
    });

    it('rejects a custom resource failing its schema with 422, naming the field', async () => {
      const r = await failure(() =>
        custom.createNamespacedCustomObject({ ...target, body: vector('bad', { agent: { replicas: 'two' } }) }),
      );
      assert.equal(r.code, 422);
      assert.equal(r.status.reason, 'Invalid');
      assert.deepEqual(
        r.status.details?.causes?.map((c) => c.field),
        ['spec.agent.replicas'],
      );
      // kube-openapi's wording: the value's type, not the value.
      assert.match(
        r.status.message ?? '',
        /spec\.agent\.replicas: Invalid value: "string": spec\.agent\.replicas in body must be of type integer: "string"/,
      );
      const missing = await failure(() => custom.createNamespacedCustomObject({ ...target, body: vector('bad2', {}) }));
      assert.deepEqual(
        missing.status.details?.causes?.map((c) => `${c.field ?? ''} ${c.reason ?? ''}`),
        ['spec.agent FieldValueRequired'],
      );
      const enumBad = await failure(() =>
        custom.createNamespacedCustomObject({ ...target, body: vector('bad3', { agent: { mode: 'fast' } }) }),
      );
      assert.deepEqual(
        enumBad.status.details?.causes?.map((c) => c.field),
        ['spec.agent.mode'],
      );
    });

    it('separates spec from the status subresource, and bumps generation only on spec changes', async () => {
      await custom.createNamespacedCustomObject({ ...target, body: vector('st', { agent: { replicas: 1 } }) });
      const withStatus = (await custom.patchNamespacedCustomObjectStatus(
        { ...target, name: 'st', body: { status: { ready: true }, spec: { agent: { replicas: 9 } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )) as Vector;
      assert.equal(withStatus.status?.ready, true);
      assert.equal(withStatus.spec?.agent?.replicas, 1, '/status must not change spec');
      assert.equal(withStatus.metadata?.generation, 1);
      const respec = (await custom.patchNamespacedCustomObject(
        { ...target, name: 'st', body: { spec: { agent: { replicas: 3 } }, status: { ready: false } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )) as Vector;
      assert.equal(respec.metadata?.generation, 2);
      assert.equal(respec.status?.ready, true, 'the main endpoint must not change status');
    });

    it('refuses strategic merge patch on a custom resource with 415, as the real server does', async () => {
      await custom.createNamespacedCustomObject({ ...target, body: vector('smp', { agent: {} }) });
      const r = await failure(() =>
        custom.patchNamespacedCustomObject(
          { ...target, name: 'smp', body: { spec: {} } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
        ),
      );
      assert.equal(r.code, 415);
    });

    it('server-side applies a custom resource through KubernetesObjectApi and lists it', async () => {
      await lab.objects.patch(
        vector('applied', { agent: { replicas: 4 } }),
        undefined,
        undefined,
        'vector-operator',
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
      const list = await lab.objects.list('observability.kaasops.io/v1alpha1', 'Vector', 'default');
      assert.ok(list.items.some((v) => v.metadata?.name === 'applied'));
    });

    it('deleting the CRD removes its custom resources and its API', async () => {
      await lab.kc.makeApiClient(k8s.ApiextensionsV1Api).deleteCustomResourceDefinition({ name: crd.metadata.name });
      // The real server removes the custom resources, then the CRD and its API, asynchronously.
      await eventually(
        'the API gone',
        async () => (await failure(() => custom.listNamespacedCustomObject(target))).code === 404,
      );
      // Not a Status: the group-version is no API any more, and the server says so in plain text.
      const gone = await failure(() => custom.listNamespacedCustomObject(target));
      assert.equal(gone.status.message, '404 page not found\n');
      if (t.name === 'stand-in') {
        await lab.server.settled();
        assert.equal(lab.server.store.list('observability.kaasops.io/vectors').length, 0);
      }
    });
  });
