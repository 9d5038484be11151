/**
 * Vector's target-path grammar for source field options, and where `kubernetes_logs` writes the pod namespace and
 * reads its fingerprint settings (vector-fidelity.md A.1, A.9).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTargetPath, vrlPath } from '../../src/vector/field-path.ts';
import {
  fileFieldOf,
  namespaceFieldOf,
  resolvedMaxLineBytes,
  KUBERNETES_LOGS_MAX_LINE_BYTES,
} from '../../src/vector/kubernetes-logs.ts';

const vrl = (text: string): string | undefined => {
  const p = parseTargetPath(text);
  return p === undefined ? undefined : vrlPath(p);
};

describe('target paths', () => {
  it('reads bare, dotted and quoted segments and writes them back as VRL', () => {
    assert.equal(vrl('kubernetes.pod_namespace'), '.kubernetes.pod_namespace');
    assert.equal(vrl('.k8s.ns'), '.k8s.ns');
    assert.equal(vrl('k8s-meta.ns'), '."k8s-meta".ns', 'a dash is not a VRL identifier: quoted');
    assert.equal(vrl('"a.b".ns'), '."a.b".ns', 'a quoted segment keeps its dot');
    assert.equal(vrl('"say \\"hi\\"".x'), '."say \\"hi\\"".x');
    assert.equal(vrl('%meta.ns'), '%meta.ns');
    assert.equal(vrl('0ns'), '."0ns"', 'a leading digit is quoted');
  });

  it('refuses what it cannot address as one plain field', () => {
    for (const bad of ['', '.', 'a..b', 'a.', 'a[0]', '(a|b)', '"unterminated', 'a b', '""']) {
      assert.equal(parseTargetPath(bad), undefined, bad);
    }
  });
});

describe('kubernetes_logs: where the namespace goes', () => {
  const text = (src: Record<string, unknown>): string | null | undefined => {
    const f = namespaceFieldOf(src);
    return f === null || f === undefined ? f : vrlPath(f);
  };

  it('defaults to .kubernetes.pod_namespace, follows pod_annotation_fields, and metadata under log_namespace', () => {
    assert.equal(text({}), '.kubernetes.pod_namespace');
    assert.equal(text({ pod_annotation_fields: { pod_name: 'x' } }), '.kubernetes.pod_namespace');
    assert.equal(text({ pod_annotation_fields: { pod_namespace: 'k8s.ns' } }), '.k8s.ns');
    assert.equal(text({ log_namespace: true }), '%kubernetes_logs.pod_namespace');
    assert.equal(
      text({ log_namespace: true, pod_annotation_fields: { pod_namespace: 'k8s.ns' } }),
      '%kubernetes_logs.pod_namespace',
      'the legacy key is ignored under log_namespace',
    );
    assert.equal(text({ log_namespace: false, pod_annotation_fields: { pod_namespace: 'ns' } }), '.ns');
  });

  it('says "off" for an empty setting and "unknown" for one it cannot address', () => {
    assert.equal(text({ pod_annotation_fields: { pod_namespace: '' } }), null);
    assert.equal(text({ log_namespace: true, pod_annotation_fields: { pod_namespace: '' } }), null);
    assert.equal(text({ pod_annotation_fields: { pod_namespace: 'a[0]' } }), undefined);
    assert.equal(text({ pod_annotation_fields: { pod_namespace: '%meta.ns' } }), undefined);
    assert.equal(text({ pod_annotation_fields: { pod_namespace: 7 } }), undefined);
    assert.equal(text({ pod_annotation_fields: 'ns' }), undefined);
  });

  it('puts the file path at .file, or %kubernetes_logs.file under log_namespace', () => {
    assert.equal(vrlPath(fileFieldOf({})), '.file');
    assert.equal(vrlPath(fileFieldOf({ log_namespace: true })), '%kubernetes_logs.file');
  });
});

describe('kubernetes_logs: the fingerprint cap (Vector 0.48)', () => {
  it('is max_line_bytes, capped by max_merged_line_bytes while auto_partial_merge is on', () => {
    assert.equal(resolvedMaxLineBytes({}), KUBERNETES_LOGS_MAX_LINE_BYTES);
    assert.equal(resolvedMaxLineBytes({ max_line_bytes: 100 }), 100);
    assert.equal(resolvedMaxLineBytes({ max_merged_line_bytes: 64 }), 64);
    assert.equal(resolvedMaxLineBytes({ max_line_bytes: 100, max_merged_line_bytes: 500 }), 100);
    assert.equal(resolvedMaxLineBytes({ max_merged_line_bytes: 64, auto_partial_merge: true }), 64);
    assert.equal(resolvedMaxLineBytes({ max_merged_line_bytes: 64, auto_partial_merge: false }), 32 * 1024);
  });
});
