/**
 * kaasops' second assets budget: the whole secret-assets Secret object (key names and values, in its protobuf size)
 * must stay within 1 245 184 bytes. The model's sizes by hand, then a pipeline exactly at the budget (kept) and one
 * byte over (left out with kaasops' `secret assets object size limit: ` text), while the values alone stay under 1 MiB.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildAgentConfig } from '../../src/pipelines/build.ts';
import { describeRejection } from '../../src/pipelines/pipeline.ts';
import type { Pipeline } from '../../src/pipelines/schemas.ts';
import { assetsObjectBudget, dataEntryBytes, secretObjectBytes } from '../../src/pipelines/secret-object-size.ts';
import { secretSourceOf, type SecretManifest } from '../../src/pipelines/secrets.ts';
import { vector, vp } from '../helpers/fixtures.ts';

describe('the protobuf size model of a Secret', () => {
  it('counts what the generated Size() methods count', () => {
    // metadata: name (3) generateName (2) namespace (3) selfLink uid resourceVersion (2 each) generation (2)
    // creationTimestamp (2) = 18; the Secret: field 1 (1 + 1 + 18) and the empty type (2).
    assert.equal(secretObjectBytes({ name: 'a', namespace: 'b' }), 22);
    // A label entry `k: v`: (1+1+1) + (1+1+1) inside, 1 + 1 around.
    assert.equal(secretObjectBytes({ name: 'a', namespace: 'b', labels: { k: 'v' } }), 22 + 8);
    // An owner reference: kind, name, uid, apiVersion as strings, and two booleans.
    const owner = { apiVersion: 'v', kind: 'K', name: 'n', uid: 'u', controller: true, blockOwnerDeletion: true };
    assert.equal(secretObjectBytes({ name: 'a', namespace: 'b', ownerReferences: [owner] }), 22 + 1 + 1 + 4 * 3 + 4);
    assert.equal(dataEntryBytes('k', 1), 8);
    // Lengths past 127 take a two-byte varint.
    assert.equal(dataEntryBytes('k', 200), 1 + 2 + (3 + 1 + 2 + 200));
    assert.equal(assetsObjectBudget, 1_245_184);
  });
});

/** A pipeline whose one sink reads every key of `keys` from its Secret (alias `s`). */
function pipeline(name: string, secret: string, keys: readonly string[], created: string): Pipeline {
  return vp(
    'team-a',
    name,
    {
      sources: { pods: { type: 'kubernetes_logs' } },
      sinks: {
        out: {
          type: 'http',
          inputs: ['pods'],
          uri: keys.map((k) => `SECRET[s.${k}]`).join(''),
          encoding: { codec: 'json' },
        },
      },
      secret: { s: { type: 'kubernetes_secret', name: secret } },
    },
    { creationTimestamp: created },
  );
}

const flat = (p: string, key: string) => `team_a_${p}_s_${key}`;

describe('secret assets object size limit', () => {
  // 1 000 entries of a 190-character key and a 1 000-byte value: 1 000 000 bytes of values (under 1 MiB), but
  // about 1.2 MB of object: the key names are what the values budget does not see.
  const keys = Array.from({ length: 1000 }, (_, i) => `k${String(i).padStart(4, '0')}${'x'.repeat(185)}`);
  const many: SecretManifest = {
    metadata: { namespace: 'team-a', name: 'many' },
    data: Object.fromEntries(keys.map((k) => [k, Buffer.from('v'.repeat(1000)).toString('base64')])),
  };
  const older = pipeline('one', 'many', keys, '2026-01-01T00:00:00Z');
  const committed =
    secretObjectBytes({ name: 'logs-agent-secret-assets', namespace: 'vector' }) +
    keys.reduce((n, k) => n + dataEntryBytes(flat('one', k), 1000), 0);
  /** The value length whose entry fills the budget exactly. */
  let fill = 0;
  while (committed + dataEntryBytes(flat('two', 'last'), fill + 1) <= assetsObjectBudget) fill++;
  const build = (valueBytes: number) => {
    const last: SecretManifest = {
      metadata: { namespace: 'team-a', name: 'last' },
      data: { last: Buffer.from('w'.repeat(valueBytes)).toString('base64') },
    };
    const younger = pipeline('two', 'last', ['last'], '2026-02-01T00:00:00Z');
    return buildAgentConfig(vector(), [younger, older], { optimize: false, secrets: secretSourceOf([many, last]) });
  };

  it('keeps a pipeline whose entries fill the budget exactly, the values staying under 1 MiB', () => {
    assert.equal(committed + dataEntryBytes(flat('two', 'last'), fill), assetsObjectBudget);
    assert.ok(1000 * 1000 + fill < 1024 * 1024, 'the values limit is not what decides');
    const r = build(fill);
    assert.deepEqual(r.rejected.map(describeRejection), []);
    assert.equal(r.secretAssets.size, 1001);
  });

  it("leaves out the younger pipeline one byte over, with kaasops' text; the older keeps its entries", () => {
    const r = build(fill + 1);
    const own = dataEntryBytes(flat('two', 'last'), fill + 1);
    assert.deepEqual(r.rejected.map(describeRejection), [
      `VectorPipeline team-a/two: spec.secret: secret assets object size limit: adding this pipeline's ${String(own)} ` +
        `bytes of secret entries (key names and values) to the ${String(committed)} bytes already committed by older ` +
        'pipelines would exceed the 1245184 byte budget the operator keeps for the whole secret-assets Secret object; ' +
        'the Secret is shared by every pipeline Vector vector/logs selects, so older pipelines (by creation time) keep ' +
        'it and this one is excluded until the total fits - this limit accounts for the combined size of key names ' +
        'and values together, not values alone',
    ]);
    assert.equal(r.secretAssets.size, 1000);
    assert.equal(r.config.sinks['team-a-two-out'], undefined);
  });

  it('starts from the real metadata the operator gives (labels, annotations, owner): they take room too', () => {
    const r = buildAgentConfig(vector(), [older, pipeline('two', 'last', ['last'], '2026-02-01T00:00:00Z')], {
      optimize: false,
      secrets: secretSourceOf([
        many,
        {
          metadata: { namespace: 'team-a', name: 'last' },
          data: { last: Buffer.from('w'.repeat(fill)).toString('base64') },
        },
      ]),
      assetsObjectBytes: secretObjectBytes({ name: 'logs-agent-secret-assets', namespace: 'vector' }) + 1,
    });
    assert.match(r.rejected.map(describeRejection).join(), /secret assets object size limit: /);
  });
});
