/**
 * appliedFields / sameFieldSet: "what our field manager last applied" against "what we would apply now", on tries
 * shaped as a real API server writes them (containers by name, mounts by mountPath, ports by containerPort and
 * protocol, atomic selectors as leaves).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appliedFields, sameFieldSet, type FieldsV1 } from '../../src/kube/managed-fields.ts';

const desired = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'logs-agent', namespace: 'vector', labels: { app: 'v' } },
  spec: {
    selector: { matchLabels: { app: 'v' } },
    template: {
      spec: {
        tolerations: [{ key: 'dedicated', operator: 'Exists' }],
        containers: [
          {
            name: 'agent',
            image: 'vector:1',
            ports: [{ name: 'prom', containerPort: 9598, protocol: 'TCP' }],
            volumeMounts: [{ name: 'data', mountPath: '/vector-data-dir' }],
          },
        ],
        securityContext: { runAsUser: 0 },
        volumes: [{ name: 'data', hostPath: { path: '/var/lib/vector' } }],
      },
    },
  },
};

/** The trie a real server records for `desired` applied (selector atomic, ports keyed by port and protocol). */
const trie = (): FieldsV1 => ({
  'f:metadata': { 'f:labels': { 'f:app': {} } },
  'f:spec': {
    'f:selector': {},
    'f:template': {
      'f:spec': {
        'f:tolerations': {},
        'f:containers': {
          'k:{"name":"agent"}': {
            '.': {},
            'f:name': {},
            'f:image': {},
            'f:ports': {
              'k:{"containerPort":9598,"protocol":"TCP"}': {
                '.': {},
                'f:name': {},
                'f:containerPort': {},
                'f:protocol': {},
              },
            },
            'f:volumeMounts': { 'k:{"mountPath":"/vector-data-dir"}': { '.': {}, 'f:name': {}, 'f:mountPath': {} } },
          },
        },
        'f:securityContext': { 'f:runAsUser': {} },
        'f:volumes': { 'k:{"name":"data"}': { '.': {}, 'f:name': {}, 'f:hostPath': { 'f:path': {} } } },
      },
    },
  },
});

type Spec = (typeof desired)['spec']['template']['spec'];
const withSpec = (edit: (s: Partial<Spec>) => void): unknown => {
  const d = structuredClone(desired);
  edit(d.spec.template.spec);
  return d;
};

describe('sameFieldSet', () => {
  it('is true when the trie records exactly the desired fields (name, namespace, apiVersion, kind stripped)', () => {
    assert.equal(sameFieldSet(desired, trie()), true);
  });

  it('sees a field removed from the desired object: a map field, an atomic list, a keyed list item', () => {
    assert.equal(
      sameFieldSet(
        withSpec((s) => delete s.securityContext),
        trie(),
      ),
      false,
    );
    assert.equal(
      sameFieldSet(
        withSpec((s) => delete s.tolerations),
        trie(),
      ),
      false,
    );
    assert.equal(
      sameFieldSet(
        withSpec((s) => (s.volumes = [])),
        trie(),
      ),
      false,
    );
    const noLabels = structuredClone(desired) as { metadata: { labels?: unknown } };
    delete noLabels.metadata.labels;
    assert.equal(sameFieldSet(noLabels, trie()), false);
  });

  it('sees a field added to the desired object that our last apply did not set', () => {
    assert.equal(
      sameFieldSet(
        withSpec((s) => Object.assign(s, { hostNetwork: true })),
        trie(),
      ),
      false,
    );
    assert.equal(
      sameFieldSet(
        withSpec((s) => s.volumes?.push({ name: 'more', hostPath: { path: '/x' } })),
        trie(),
      ),
      false,
    );
  });

  it('leaves changed values inside a leaf (atomic list or struct) to isSubset, and ignores absent and empty values', () => {
    assert.equal(
      sameFieldSet(
        withSpec((s) => (s.tolerations = [{ key: 'other', operator: 'Exists' }])),
        trie(),
      ),
      true,
    );
    assert.equal(
      sameFieldSet(
        withSpec((s) => Object.assign(s, { initContainers: [], priorityClassName: undefined, nodeName: null })),
        trie(),
      ),
      true,
    );
  });

  it('refuses a trie with status, or with keys it cannot parse', () => {
    assert.equal(sameFieldSet(desired, { ...trie(), 'f:status': {} }), false);
    const bad = trie();
    (bad['f:spec'] as FieldsV1)['f:template'] = { 'f:spec': { 'f:volumes': { 'k:{not json': {} } } };
    assert.equal(sameFieldSet(desired, bad), false);
  });
});

describe('appliedFields', () => {
  it('returns the Apply entry of the manager on the main resource, not its Update or status entries', () => {
    const obj = {
      metadata: {
        managedFields: [
          { manager: 'vector-operator', operation: 'Update', fieldsV1: { 'f:a': {} } },
          { manager: 'vector-operator', operation: 'Apply', subresource: 'status', fieldsV1: { 'f:b': {} } },
          { manager: 'vector-operator', operation: 'Apply', fieldsV1: { 'f:c': {} } },
        ],
      },
    };
    assert.deepEqual(appliedFields(obj, 'vector-operator'), { 'f:c': {} });
    assert.equal(appliedFields(obj, 'manager'), undefined);
    assert.equal(appliedFields({}, 'vector-operator'), undefined);
  });
});
