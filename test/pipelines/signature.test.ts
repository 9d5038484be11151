import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { groupId, sourceSignature } from '../../src/pipelines/signature.ts';

describe('source signature and gid (kaasops-compatible names)', () => {
  it('matches the three reference test vectors checked with Go', () => {
    const plain =
      '{"Type":"kubernetes_logs","ExtraLabelSelector":"","ExtraFieldSelector":"","UseApiServerCache":false,"Options":null}';
    assert.equal(groupId(plain), 'b8c6f0ff');
    assert.equal(groupId(plain.replace('"UseApiServerCache":false', '"UseApiServerCache":true')), '4fea3cff');
    assert.equal(groupId(plain.replace('"Options":null', '"Options":{}')), '39bc4da8');
  });

  it('gives a plain VectorPipeline source the Go bytes of the first vector, whatever its namespace', () => {
    const sig = sourceSignature({
      type: 'kubernetes_logs',
      extra_namespace_label_selector: 'kubernetes.io/metadata.name=a',
    });
    assert.equal(
      sig,
      '{"Type":"kubernetes_logs","ExtraLabelSelector":"","ExtraFieldSelector":"","UseApiServerCache":false,"Options":null}',
    );
    assert.equal(groupId(sig), 'b8c6f0ff');
  });

  it('puts the apiserver cache flag in the struct field, giving 4fea3cff', () => {
    assert.equal(groupId(sourceSignature({ type: 'kubernetes_logs', use_apiserver_cache: true })), '4fea3cff');
  });

  it('puts other keys into Options with sorted keys, HTML escaping and Go numbers', () => {
    const sig = sourceSignature({
      type: 'kubernetes_logs',
      extra_label_selector: 'app=web',
      max_line_bytes: 32768,
      glob_minimum_cooldown_ms: 1.5e3,
      auto_partial_merge: true,
      exclude_paths_glob_patterns: ['**/<tmp>&*'],
    });
    assert.equal(
      sig,
      '{"Type":"kubernetes_logs","ExtraLabelSelector":"app=web","ExtraFieldSelector":"","UseApiServerCache":false,' +
        '"Options":{"auto_partial_merge":true,"exclude_paths_glob_patterns":["**/\\u003ctmp\\u003e\\u0026*"],"glob_minimum_cooldown_ms":1500,"max_line_bytes":32768}}',
    );
  });
});
