import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../lab/apiserver/patch.ts';
import { parseFieldSelector, parseLabelSelector } from '../../lab/apiserver/selectors.ts';
import { fieldSetOf, fromFieldsV1, toFieldsV1 } from '../../lab/apiserver/managed-fields.ts';
import type { KObject } from '../../lab/apiserver/json.ts';

const obj = (labels: Record<string, string>, extra: Record<string, unknown> = {}): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', labels },
  ...extra,
});

describe('the stand-in’s patch formats', () => {
  it('merge patch deletes with null and replaces lists (RFC 7386)', () => {
    assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null }, l: [3] }), {
      a: 1,
      b: { d: 3 },
      l: [3],
    });
  });

  it('JSON patch applies add, remove, replace, move, copy and test in order, and fails a false test', () => {
    const doc = { a: [1, 2], b: { c: 'x' } };
    const out = jsonPatch(doc, [
      { op: 'add', path: '/a/-', value: 3 },
      { op: 'remove', path: '/a/0' },
      { op: 'replace', path: '/b/c', value: 'y' },
      { op: 'copy', from: '/b/c', path: '/d' },
      { op: 'move', from: '/d', path: '/e~1f' },
      { op: 'test', path: '/e~1f', value: 'y' },
    ]);
    assert.deepEqual(out, { a: [2, 3], b: { c: 'y' }, 'e/f': 'y' });
    assert.deepEqual(doc, { a: [1, 2], b: { c: 'x' } }, 'the input is untouched');
    assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/b/c', value: 'nope' }]), /testing value \/b\/c failed/);
  });

  it('strategic merge keys volumeMounts by mountPath and container ports by containerPort', () => {
    const live = {
      containers: [
        { name: 'c', volumeMounts: [{ name: 'a', mountPath: '/a' }], ports: [{ containerPort: 80, name: 'http' }] },
      ],
    };
    const out = strategicMergePatch(live, {
      containers: [
        { name: 'c', volumeMounts: [{ name: 'b', mountPath: '/b' }], ports: [{ containerPort: 80, protocol: 'TCP' }] },
      ],
    });
    assert.deepEqual(out, {
      containers: [
        {
          name: 'c',
          volumeMounts: [
            { name: 'a', mountPath: '/a' },
            { name: 'b', mountPath: '/b' },
          ],
          ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }],
        },
      ],
    });
  });

  it('strategic merge honours $patch: replace on a list and $deleteFromPrimitiveList', () => {
    const live = { volumes: [{ name: 'a' }, { name: 'b' }], metadata: { finalizers: ['x', 'y'] } };
    const out = strategicMergePatch(live, {
      volumes: [{ name: 'c' }, { $patch: 'replace' }],
      metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] },
    });
    assert.deepEqual(out, { volumes: [{ name: 'c' }], metadata: { finalizers: ['y'] } });
  });
});

describe('the stand-in’s selectors', () => {
  it('parses set-based requirements with commas inside parentheses', () => {
    const m = parseLabelSelector('app in (a, b),tier notin (db),!legacy,env');
    assert.equal(m(obj({ app: 'a', tier: 'web', env: 'x' })), true);
    assert.equal(m(obj({ app: 'c', env: 'x' })), false);
    assert.equal(m(obj({ app: 'b', tier: 'db', env: 'x' })), false);
    assert.equal(m(obj({ app: 'a', legacy: '1', env: 'x' })), false);
    assert.equal(m(obj({ app: 'a' })), false);
  });

  it('rejects malformed label selectors and unsupported field selectors with 400', () => {
    assert.throws(
      () => parseLabelSelector('app in (a'),
      (e: unknown) => (e as { code: number }).code === 400,
    );
    assert.throws(
      () => parseFieldSelector('spec.nodeName=x', 'configmaps'),
      /field label not supported: spec.nodeName/,
    );
    assert.equal(parseFieldSelector('spec.nodeName=n1', 'pods')(obj({}, { spec: { nodeName: 'n1' } })), true);
  });
});

describe('the stand-in’s field sets', () => {
  it('round-trips through the fieldsV1 trie with list items keyed by name', () => {
    const set = fieldSetOf(
      { custom: false },
      { metadata: { name: 'x', labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    );
    const trie = toFieldsV1(set);
    assert.deepEqual(trie, {
      'f:metadata': { 'f:labels': { 'f:a': {} } },
      'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:name': {}, 'f:image': {} } } },
    });
    assert.deepEqual([...fromFieldsV1(trie)].sort(), [...set].sort());
  });
});
