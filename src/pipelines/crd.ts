/**
 * CRDs generated from the zod schemas (schemas.ts): `z.toJSONSchema` (OpenAPI 3.0) plus a normaliser that makes the
 * result a structural schema the API server accepts.
 *
 * Normaliser rules:
 * - an open object (`additionalProperties: {}`, from `looseObject`) becomes `x-kubernetes-preserve-unknown-fields: true`
 *   with no `properties` when it declares none;
 * - `additionalProperties: false` is dropped (pruning does that job);
 * - the ±2^53 bounds `.int()` adds are dropped; `$schema` is dropped;
 * - an int-or-string (a union marked `x-kubernetes-int-or-string`) keeps exactly the `anyOf` of integer and string
 *   that a structural schema allows there, and nothing else but its description;
 * - `$ref` and `patternProperties` are refused: a structural schema cannot hold them, and we never generate them.
 * The output is deterministic (same schemas, same bytes), which the committed-files test relies on.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import { aggregatorCrdKinds } from './aggregator-schemas.ts';
import { apiGroup, crdKinds } from './schemas.ts';

type Schema = Record<string, unknown>;

function normalise(node: unknown, path: string): unknown {
  if (Array.isArray(node)) return node.map((n, i) => normalise(n, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return node;
  const s = { ...(node as Schema) };
  if ('$ref' in s || 'patternProperties' in s) throw new Error(`${path}: $ref/patternProperties cannot be structural`);
  delete s.$schema;
  if (s['x-kubernetes-int-or-string'] === true) {
    const description = s.description === undefined ? {} : { description: s.description };
    return { ...description, 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
  }
  if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
  if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
  if (s.additionalProperties === false) delete s.additionalProperties;
  const ap = s.additionalProperties;
  if (ap !== undefined && typeof ap === 'object' && ap !== null && Object.keys(ap).length === 0) {
    delete s.additionalProperties;
    s['x-kubernetes-preserve-unknown-fields'] = true;
    if (s.properties !== undefined && Object.keys(s.properties as object).length === 0) delete s.properties;
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) out[k] = normalise(v, `${path}.${k}`);
  return out;
}

function openApiSchema(schema: z.ZodType, path: string): Schema {
  return normalise(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }), path) as Schema;
}

export interface CrdFile {
  /** File name under deploy/crds/. */
  file: string;
  yaml: string;
}

export function generateCrds(): CrdFile[] {
  return [...crdKinds, ...aggregatorCrdKinds].map((k) => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${k.plural}.${apiGroup}` },
      spec: {
        group: apiGroup,
        names: {
          kind: k.kind,
          listKind: `${k.kind}List`,
          plural: k.plural,
          singular: k.kind.toLowerCase(),
          ...(k.shortNames.length > 0 ? { shortNames: [...k.shortNames] } : {}),
          ...(k.categories.length > 0 ? { categories: [...k.categories] } : {}),
        },
        scope: k.scope,
        versions: [
          {
            name: 'v1alpha1',
            served: true,
            storage: true,
            subresources: { status: {} },
            additionalPrinterColumns: k.columns.map((c) => ({ ...c })),
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  apiVersion: { type: 'string' },
                  kind: { type: 'string' },
                  metadata: { type: 'object' },
                  spec: openApiSchema(k.spec, `${k.kind}.spec`),
                  status: openApiSchema(k.status, `${k.kind}.status`),
                },
              },
            },
          },
        ],
      },
    };
    const header = '# Generated from src/pipelines/schemas.ts by `npm run gen:crds`. Do not edit.\n';
    return { file: `${apiGroup}_${k.plural}.yaml`, yaml: header + stringify(crd, { lineWidth: 0 }) };
  });
}
