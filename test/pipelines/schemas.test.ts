/** CR schemas, manifest parsing and the generated CRDs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { generateCrds } from '../../src/pipelines/crd.ts';
import { parseManifests } from '../../src/pipelines/manifests.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = (value: unknown) => [{ origin: 'test.yaml#1', value }];
const api = 'observability.kaasops.io/v1alpha1';

describe('CR manifests', () => {
  it('reads an empty spec and `transforms: null` as valid pipelines', () => {
    const r = parseManifests([
      ...doc({ apiVersion: api, kind: 'VectorPipeline', metadata: { name: 'empty', namespace: 'a' } }),
      ...doc({
        apiVersion: api,
        kind: 'VectorPipeline',
        metadata: { name: 'n', namespace: 'a' },
        spec: { transforms: null },
      }),
    ]);
    assert.deepEqual(r.errors, []);
    assert.equal(r.pipelines.length, 2);
  });

  it('names the object and the field of bad input, and does not throw', () => {
    const r = parseManifests([
      ...doc({
        apiVersion: api,
        kind: 'VectorPipeline',
        metadata: { name: 'p', namespace: 'a' },
        spec: { sources: { s: 'kubernetes_logs' } },
      }),
      ...doc({
        apiVersion: api,
        kind: 'Vector',
        metadata: { name: 'v', namespace: 'a' },
        spec: { agent: { api: { enabled: 'yes' } } },
      }),
      ...doc({
        apiVersion: api,
        kind: 'Vector',
        metadata: { name: 'w', namespace: 'a' },
        spec: { agent: { scrapeInterval: 'often' } },
      }),
    ]);
    assert.equal(r.errors.length, 3);
    assert.match(r.errors[0] ?? '', /^VectorPipeline a\/p: spec\.sources\.s: expected object, received string$/);
    assert.match(r.errors[1] ?? '', /^Vector a\/v: spec\.agent\.api\.enabled: expected boolean, received string$/);
    assert.match(r.errors[2] ?? '', /^Vector a\/w: spec\.agent\.scrapeInterval: /);
  });

  it('requires a namespace on namespaced kinds and a name on every object', () => {
    const r = parseManifests([
      ...doc({ apiVersion: api, kind: 'VectorPipeline', metadata: { name: 'p' } }),
      ...doc({ apiVersion: api, kind: 'ClusterVectorPipeline', metadata: {} }),
    ]);
    assert.match(r.errors[0] ?? '', /VectorPipeline \?\/p: metadata\.namespace: is required/);
    assert.match(r.errors[1] ?? '', /metadata\.name/);
  });

  it('ignores other kinds and reads List objects', () => {
    const r = parseManifests(
      doc({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'ConfigMap' },
          { apiVersion: api, kind: 'ClusterVectorPipeline', metadata: { name: 'c' } },
        ],
      }),
    );
    assert.equal(r.ignored, 1);
    assert.equal(r.pipelines[0]?.metadata.name, 'c');
  });
});

describe('generated CRDs', () => {
  it('are committed exactly as `npm run gen:crds` writes them', () => {
    const generated = generateCrds();
    const committed = readdirSync(root + 'deploy/crds').sort();
    assert.deepEqual(committed, generated.map((c) => c.file).sort());
    for (const { file, yaml } of generated) {
      assert.equal(
        readFileSync(root + 'deploy/crds/' + file, 'utf8'),
        yaml,
        `deploy/crds/${file} is stale: run npm run gen:crds`,
      );
    }
  });

  it('are structural: no $ref, no patternProperties, no additionalProperties: false, every node typed', () => {
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return;
      const s = node as Record<string, unknown>;
      assert.ok(!('$ref' in s) && !('patternProperties' in s), path);
      assert.notEqual(s.additionalProperties, false, path);
      for (const key of ['properties', 'additionalProperties', 'items'] as const) {
        const child = s[key];
        if (key === 'properties' && child !== undefined) {
          for (const [k, v] of Object.entries(child as object)) {
            const typed = v as Record<string, unknown>;
            // The one untyped node a structural schema allows: an int-or-string, as exactly this anyOf.
            if (typed['x-kubernetes-int-or-string'] === true) {
              assert.deepEqual(typed.anyOf, [{ type: 'integer' }, { type: 'string' }], `${path}.${k}`);
              continue;
            }
            assert.ok(typed.type !== undefined, `${path}.${k} has no type`);
            walk(v, `${path}.${k}`);
          }
        } else if (child !== undefined && typeof child === 'object') walk(child, `${path}.${key}`);
      }
    };
    for (const { file, yaml } of generateCrds()) {
      const crd = parse(yaml) as { spec: { versions: { schema: { openAPIV3Schema: unknown } }[] } };
      walk(crd.spec.versions[0]?.schema.openAPIV3Schema, file);
    }
  });

  it('accept every example manifest and reject a non-object component, like the zod schemas', () => {
    const ajv = new Ajv({ strict: false });
    ajv.addFormat('int64', true);
    const validators = new Map(
      generateCrds().map(({ yaml }) => {
        const crd = parse(yaml) as {
          spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] };
        };
        return [crd.spec.names.kind, ajv.compile(crd.spec.versions[0]?.schema.openAPIV3Schema ?? {})] as const;
      }),
    );
    let checked = 0;
    for (const file of readdirSync(root + 'examples')) {
      for (const d of parseAllDocuments(readFileSync(root + 'examples/' + file, 'utf8'))) {
        const obj = d.toJS() as { kind: string };
        const validate = validators.get(obj.kind);
        assert.ok(validate, obj.kind);
        assert.ok(validate(obj), `${file}: ${JSON.stringify(validate.errors)}`);
        checked++;
      }
    }
    assert.ok(checked >= 5);
    const vp = validators.get('VectorPipeline');
    assert.equal(vp?.({ spec: { sources: { s: 'x' } } }), false);
    assert.equal(vp({ spec: { transforms: null } }), true);
  });
});
