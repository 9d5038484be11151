/** isSubset: "desired ⊆ live", the check that keeps a no-op reconcile from writing. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSubset } from '../../src/kube/diff.ts';

describe('isSubset', () => {
  const live = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'v', namespace: 'ns', uid: 'u', resourceVersion: '7', labels: { a: '1', extra: 'x' } },
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'agent', image: 'vector:1', imagePullPolicy: 'IfNotPresent', args: ['--config', '/etc/v'] },
          ],
        },
      },
    },
    status: { numberReady: 2 },
  };

  it('ignores what only the live object has: server fields, defaults inside list elements, other labels', () => {
    const desired = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'v', namespace: 'ns', labels: { a: '1' } },
      spec: {
        template: { spec: { containers: [{ name: 'agent', image: 'vector:1', args: ['--config', '/etc/v'] }] } },
      },
    };
    assert.equal(isSubset(desired, live), true);
  });

  it('sees a changed scalar, a missing field, a changed list and a list of another length', () => {
    assert.equal(isSubset({ metadata: { labels: { a: '2' } } }, live), false);
    assert.equal(isSubset({ metadata: { annotations: { k: 'v' } } }, live), false);
    assert.equal(isSubset({ spec: { template: { spec: { containers: [{ image: 'vector:2' }] } } } }, live), false);
    const twoContainers = { spec: { template: { spec: { containers: [{ name: 'agent' }, { name: 'merger' }] } } } };
    assert.equal(isSubset(twoContainers, live), false);
    assert.equal(isSubset({ args: ['--config'] }, { args: ['--config', '/etc/v'] }), false);
    assert.equal(isSubset({ n: 1 }, { n: '1' }), false);
    assert.equal(isSubset({ a: { b: 1 } }, { a: 'scalar' }), false);
    assert.equal(isSubset({ a: [1] }, { a: { 0: 1 } }), false);
  });

  it('treats empty values as matching an absent field, as the API server drops them (omitempty)', () => {
    assert.equal(
      isSubset({ spec: { hostNetwork: false, args: [], env: {}, note: '', n: 0, x: null } }, { spec: {} }),
      true,
    );
    assert.equal(isSubset({ spec: { hostNetwork: true } }, { spec: {} }), false);
    assert.equal(isSubset({ x: null }, { x: 'set' }), false);
  });

  it('compares scalars and undefined sensibly', () => {
    assert.equal(isSubset(undefined, { a: 1 }), true);
    assert.equal(isSubset({ a: undefined }, {}), true);
    assert.equal(isSubset('a', 'a'), true);
    assert.equal(isSubset(3, 3), true);
    assert.equal(isSubset(true, false), false);
  });
});
