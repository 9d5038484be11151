/**
 * The OpenAPI v3 documents kubectl reads before `apply`, `replace` and `create`.
 *
 * Invariant: they describe operations only — each resource path with its group-version-kind and the `fieldValidation`
 * and `fieldManager` query parameters — and no schemas. That is what kubectl ≥1.27 checks to decide that the server
 * validates fields itself; with it, kubectl's default `--validate=strict` sends `fieldValidation=Strict` instead of
 * validating client-side against schemas we do not have.
 * - `/openapi/v2` is an empty Swagger document (no definitions), in JSON or — what kubectl before 1.27 asks for — in
 *   protobuf. A kind missing from the document is one kubectl's client-side validation skips, so old kubectl applies
 *   without `--validate=false`; it just validates nothing (the server still validates custom resources).
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from './json.ts';
import type { Registry, ResourceType } from './registry.ts';

function gvPath(t: ResourceType): string {
  return t.group === '' ? `api/${t.version}` : `apis/${t.group}/${t.version}`;
}

// Clients ask with '@v1.0' in Accept; the server answers with '.v1.0' (Go's mime parser rejects the '@').
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/**
 * The gnostic `openapi_v2.Document` with only `swagger: "2.0"` set, hand-encoded: field 1 (string) → tag 0x0a,
 * length 3, "2.0". Every other field is empty, so nothing else needs encoding.
 */
export const OPENAPI_V2_EMPTY_PB = Buffer.from([0x0a, 0x03, 0x32, 0x2e, 0x30]);

export function openApiV2(): JsonObject {
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0-lab' }, paths: {}, definitions: {} };
}

export function openApiV3Index(registry: Registry): JsonObject {
  const paths: JsonObject = {};
  for (const t of registry.all()) {
    // kubectl caches these documents by URL; the hash must change when the content does (a CRD came or went).
    const hash = createHash('sha256')
      .update(JSON.stringify(openApiV3Path(registry, gvPath(t))))
      .digest('hex')
      .slice(0, 32)
      .toUpperCase();
    paths[gvPath(t)] = { serverRelativeURL: `/openapi/v3/${gvPath(t)}?hash=${hash}` };
  }
  return { paths };
}

const PARAMS = ['fieldValidation', 'fieldManager', 'dryRun'].map((name) => ({
  name,
  in: 'query',
  schema: { type: 'string', uniqueItems: true },
}));

export function openApiV3Path(registry: Registry, gv: string): JsonObject | undefined {
  const types = registry.all().filter((t) => gvPath(t) === gv);
  if (types.length === 0) return undefined;
  const paths: JsonObject = {};
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const op = (action: string): JsonObject => ({
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: PARAMS,
      responses: { '200': { description: 'OK' } },
    });
    const base = `/${gv}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
    paths[base] = { get: op('list'), post: op('post'), delete: op('deletecollection') };
    paths[`${base}/{name}`] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
    if (t.status) paths[`${base}/{name}/status`] = { get: op('get'), put: op('put'), patch: op('patch') };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-lab' },
    paths,
    components: { schemas: {} },
  };
}
