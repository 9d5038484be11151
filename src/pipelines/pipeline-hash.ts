/**
 * kaasops' pipeline hash, `status.LastAppliedPipelineHash`: CRC-32 (IEEE) of Go's `json.Marshal` of the struct
 * `{Spec, Labels, ServiceName, ConfigOptimization omitempty, ForceConfigCheck omitempty}`. It means "last checked":
 * a pipeline whose hash equals the recorded one is not checked again, so a cutover from kaasops re-checks nothing.
 *
 * Invariants:
 * - The bytes are kaasops' for every spec that JSON.parse reads exactly: `Spec` holds `sources`, `transforms`,
 *   `sinks` (raw JSON as the API server re-serialized it: keys sorted, compact, HTML-escaped by Go) and `secret`
 *   (aliases sorted, each `{"type","name"}` plus `"namespace"` when non-empty), each omitted when absent or null;
 *   `Labels` is `null` without labels; `ServiceName` is always present, `""` without the annotation.
 * - Numbers: the API server decodes a custom resource's integers as int64 and other numbers as float64, and prints
 *   them as Go does; goJson prints a float64 the same way (1.0 → `1`, 1e21 → `1e+21`, 1e-7 → `1e-7`). An integer
 *   beyond ±2^53 is the one value JSON.parse cannot keep: its hash differs from kaasops', so such a pipeline is
 *   checked once more after a cutover, and nothing else follows from it.
 * - Pure: the same pipeline gives the same number, an unsigned 32-bit value (kaasops stores it in an int64).
 */
import { crc32 } from 'node:zlib';
import { goJson, goStruct, sortCodePoints } from './gojson.ts';
import type { Pipeline } from './schemas.ts';

const forceConfigCheckAnnotation = 'vector-operator.kaasops.io/force-configcheck';
const serviceNameAnnotation = 'observability.kaasops.io/service-name';
const configOptimizationAnnotation = 'vector-operator.kaasops.io/config-optimization';

type Secrets = NonNullable<Pipeline['spec']['secret']>;

function secretBlock(secret: Secrets): object {
  const out: Record<string, object> = {};
  for (const alias of sortCodePoints(Object.keys(secret))) {
    const b = secret[alias];
    if (b === undefined) continue;
    const fields: [string, unknown][] = [
      ['type', b.type],
      ['name', b.name],
    ];
    if (b.namespace !== undefined && b.namespace !== '') fields.push(['namespace', b.namespace]);
    out[alias] = goStruct(fields);
  }
  return out;
}

/** The exact bytes kaasops hashes (Go's json.Marshal output). */
export function pipelineHashText(p: Pipeline): string {
  const spec = p.spec as Record<string, unknown>;
  const specFields: [string, unknown][] = [];
  for (const k of ['sources', 'transforms', 'sinks'] as const) {
    const v = spec[k];
    if (v !== undefined && v !== null) specFields.push([k, v]);
  }
  if (p.spec.secret !== undefined) specFields.push(['secret', secretBlock(p.spec.secret)]);
  const annotations = p.metadata.annotations ?? {};
  const labels = p.metadata.labels;
  const fields: [string, unknown][] = [
    ['Spec', goStruct(specFields)],
    ['Labels', labels === undefined || labels === null ? null : labels],
    ['ServiceName', annotations[serviceNameAnnotation] ?? ''],
  ];
  const optimization = annotations[configOptimizationAnnotation];
  if (optimization !== undefined && optimization !== '') fields.push(['ConfigOptimization', optimization]);
  const force = annotations[forceConfigCheckAnnotation];
  if (force !== undefined && force !== '') fields.push(['ForceConfigCheck', force]);
  return goJson(goStruct(fields));
}

export function pipelineHash(p: Pipeline): number {
  return crc32(pipelineHashText(p));
}

const memo = new WeakMap<object, { spec: object; hash: number }>();

/** pipelineHash, memoised by the cached metadata object (cached objects are replaced, never mutated). */
export function cachedPipelineHash(p: Pipeline): number {
  const hit = memo.get(p.metadata);
  if (hit?.spec === p.spec) return hit.hash;
  const hash = pipelineHash(p);
  memo.set(p.metadata, { spec: p.spec, hash });
  return hash;
}
