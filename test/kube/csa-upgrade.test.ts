/**
 * upgradeManagedFields / ownershipUpgradePatch: kaasops' Update-owned fields (manager `manager`) become ours, as
 * client-go's csaupgrade does it, and nothing is sent when there is nothing to take over.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ownershipUpgradePatch, unionFields, upgradeManagedFields } from '../../src/kube/csa-upgrade.ts';
import type { ManagedFieldsEntry } from '../../src/kube/managed-fields.ts';

const entry = (
  manager: string,
  operation: 'Apply' | 'Update',
  fieldsV1: Record<string, unknown>,
  extra: Partial<ManagedFieldsEntry> = {},
): ManagedFieldsEntry => ({
  manager,
  operation,
  apiVersion: 'apps/v1',
  time: '2026-12-01T00:00:00Z',
  fieldsType: 'FieldsV1',
  fieldsV1,
  ...extra,
});

describe('unionFields', () => {
  it('merges two tries key by key, deeply', () => {
    assert.deepEqual(
      unionFields({ 'f:spec': { 'f:a': {}, 'f:b': { 'f:x': {} } } }, { 'f:spec': { 'f:b': { 'f:y': {} }, 'f:c': {} } }),
      { 'f:spec': { 'f:a': {}, 'f:b': { 'f:x': {}, 'f:y': {} }, 'f:c': {} } },
    );
  });
});

describe('upgradeManagedFields', () => {
  it("turns kaasops' Update entry into our Apply entry when we have none", () => {
    const status = entry('kube-controller-manager', 'Update', { 'f:status': {} }, { subresource: 'status' });
    const out = upgradeManagedFields(
      [entry('manager', 'Update', { 'f:spec': { 'f:tolerations': {} } }), status],
      ['manager'],
      'vector-operator',
    );
    assert.deepEqual(out, [
      entry('vector-operator', 'Apply', { 'f:spec': { 'f:tolerations': {} } }),
      status, // another manager's subresource entry stays as it is
    ]);
  });

  it('unions the Update entry of our apiVersion into our existing Apply entry and drops every Update entry', () => {
    const out = upgradeManagedFields(
      [
        entry('vector-operator', 'Apply', { 'f:spec': { 'f:a': {} } }),
        entry('manager', 'Update', { 'f:spec': { 'f:b': {} } }),
        entry('manager', 'Update', { 'f:spec': { 'f:old': {} } }, { apiVersion: 'apps/v1beta2' }),
        entry('kubectl-edit', 'Update', { 'f:spec': { 'f:c': {} } }),
      ],
      ['manager'],
      'vector-operator',
    );
    assert.deepEqual(out, [
      entry('vector-operator', 'Apply', { 'f:spec': { 'f:a': {}, 'f:b': {} } }),
      entry('kubectl-edit', 'Update', { 'f:spec': { 'f:c': {} } }),
    ]);
  });

  it('folds several old managers, the first one becoming ours', () => {
    const out = upgradeManagedFields(
      [entry('manager', 'Update', { 'f:a': {} }), entry('legacy', 'Update', { 'f:b': {} })],
      ['manager', 'legacy'],
      'vector-operator',
    );
    assert.deepEqual(out, [entry('vector-operator', 'Apply', { 'f:a': {}, 'f:b': {} })]);
  });

  it('gives undefined when no old manager has an Update entry on the main resource', () => {
    const entries = [
      entry('vector-operator', 'Apply', { 'f:a': {} }),
      entry('manager', 'Apply', { 'f:b': {} }),
      entry('manager', 'Update', { 'f:status': {} }, { subresource: 'status' }),
    ];
    assert.equal(upgradeManagedFields(entries, ['manager'], 'vector-operator'), undefined);
    assert.equal(upgradeManagedFields(entries, [], 'vector-operator'), undefined);
  });

  it('does not mutate its input', () => {
    const entries = [entry('manager', 'Update', { 'f:a': {} })];
    const copy = structuredClone(entries);
    upgradeManagedFields(entries, ['manager'], 'vector-operator');
    assert.deepEqual(entries, copy);
  });
});

describe('ownershipUpgradePatch', () => {
  it('replaces managedFields and pins the resourceVersion read, so a concurrent change fails with 409', () => {
    const obj = { metadata: { resourceVersion: '42', managedFields: [entry('manager', 'Update', { 'f:a': {} })] } };
    assert.deepEqual(ownershipUpgradePatch(obj, ['manager'], 'vector-operator'), [
      { op: 'replace', path: '/metadata/managedFields', value: [entry('vector-operator', 'Apply', { 'f:a': {} })] },
      { op: 'replace', path: '/metadata/resourceVersion', value: '42' },
    ]);
    assert.equal(ownershipUpgradePatch({ metadata: {} }, ['manager'], 'vector-operator'), undefined);
  });
});
