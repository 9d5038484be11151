/**
 * Regression tests for kaasops' trap list (reference §7) that are not already scenarios elsewhere. The others:
 * bc76f8e mod() -> routing.test.ts; a5ab772 dedupe, determinism, gid collision guard and 461fae8 per-namespace routes,
 * chunking -> optimize.test.ts; b636c36 template order -> operator/objects.test.ts; d0bfefb byte comparison ->
 * optimize.test.ts (byte-identical builds).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { buildAgentConfig } from '../../src/pipelines/build.ts';
import { generateCrds } from '../../src/pipelines/crd.ts';
import { parseManifests } from '../../src/pipelines/manifests.ts';
import { logsToSink } from '../helpers/fixtures.ts';

const api = 'observability.kaasops.io/v1alpha1';

describe('kaasops traps (§7)', () => {
  it('6dea6aa: the removed spec.agent.configOptimization field neither enables optimization nor fails the Vector', () => {
    const parsed = parseManifests([
      {
        origin: 'v.yaml',
        value: {
          apiVersion: api,
          kind: 'Vector',
          metadata: { name: 'logs', namespace: 'vector' },
          spec: { agent: { configOptimization: { sources: { enabled: true } } } },
        },
      },
    ]);
    assert.deepEqual(parsed.errors, []);
    const vector = parsed.vectors[0];
    assert.ok(vector);
    const r = buildAgentConfig(vector, [logsToSink('a'), logsToSink('b')], { optimize: false });
    assert.deepEqual(Object.keys(r.config.sources).sort(), ['a-logs-pods', 'b-logs-pods']);
  });

  it('809e9fc: CRC-32 hashes and relatedSecretsHash in status are int64 with no int32 bound, as kaasops writes them', () => {
    for (const { yaml } of generateCrds()) {
      const crd = parse(yaml) as {
        spec: { versions: { schema: { openAPIV3Schema: { properties: { status: { properties: object } } } } }[] };
      };
      const status = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.status.properties ?? {};
      for (const [field, schema] of Object.entries(status)) {
        if (!field.startsWith('LastApplied') && field !== 'relatedSecretsHash') continue;
        assert.deepEqual(
          { type: (schema as { type: string }).type, format: (schema as { format: string }).format },
          { type: 'integer', format: 'int64' },
          field,
        );
        assert.equal((schema as { maximum?: number }).maximum, undefined, field);
      }
    }
  });
});
