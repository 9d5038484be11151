/**
 * Defaults and derived settings of Vector's `kubernetes_logs` source that checkpoints and events depend on
 * (reference: vector-checkpoints.md §3, vector-fidelity.md A.1 and A.9).
 *
 * A module of its own (importing only the path grammar), so that reading a config does not load the fingerprinting code (and
 * build its CRC tables): the checkpoint merger reads the config at every agent start, and most starts fingerprint
 * nothing.
 */

import { parseTargetPath, type FieldPath } from './field-path.ts';

/** `max_line_bytes`: the first line is hashed up to this many bytes. */
export const KUBERNETES_LOGS_MAX_LINE_BYTES = 32 * 1024;

/** The source name Vector uses as the metadata prefix under `log_namespace: true`. */
const KUBERNETES_LOGS_METADATA_PREFIX = 'kubernetes_logs';

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/**
 * The bytes Vector 0.48 hashes at most for a fingerprint (and reads per line): `max_line_bytes`, capped by
 * `max_merged_line_bytes` when it is set and `auto_partial_merge` is on (the default). Vector 0.48
 * `src/sources/kubernetes_logs/mod.rs:796-802,846`.
 */
export function resolvedMaxLineBytes(src: Readonly<Record<string, unknown>>): number {
  const maxLine = positiveInt(src.max_line_bytes) ?? KUBERNETES_LOGS_MAX_LINE_BYTES;
  const merged = positiveInt(src.max_merged_line_bytes);
  if (src.auto_partial_merge === false || merged === undefined) return maxLine;
  return Math.min(maxLine, merged);
}

/** `fingerprint_lines`, default 1. */
export function fingerprintLines(src: Readonly<Record<string, unknown>>): number {
  return positiveInt(src.fingerprint_lines) ?? 1;
}

/** Whether the source puts its fields into event metadata (`%kubernetes_logs.*`), Vector's `log_namespace: true`. */
export function usesLogNamespace(src: Readonly<Record<string, unknown>>): boolean {
  return src.log_namespace === true;
}

/** Where the source writes the pod namespace by default: `.kubernetes.pod_namespace`. */
const DEFAULT_NAMESPACE_FIELD: FieldPath = { metadata: false, segments: ['kubernetes', 'pod_namespace'] };

/**
 * Where this source writes an event's pod namespace (Vector 0.48 `pod_metadata_annotator.rs:137,262-292`,
 * `lib/vector-core/src/config/mod.rs:445-467`):
 * - `log_namespace: true`: event metadata `%kubernetes_logs.pod_namespace`;
 * - otherwise `pod_annotation_fields.pod_namespace`, default `.kubernetes.pod_namespace`.
 *
 * `null` when the field is turned off (`pod_namespace: ""`, also under `log_namespace`, where we do not rely on
 * Vector writing the metadata anyway); `undefined` when the setting is not a plain event path we can address.
 */
export function namespaceFieldOf(src: Readonly<Record<string, unknown>>): FieldPath | null | undefined {
  const fields = src.pod_annotation_fields;
  let setting: unknown = undefined;
  if (fields !== undefined && fields !== null) {
    if (typeof fields !== 'object' || Array.isArray(fields)) return undefined;
    setting = (fields as Record<string, unknown>).pod_namespace;
  }
  if (setting === '') return null;
  if (usesLogNamespace(src)) {
    return setting === undefined || typeof setting === 'string'
      ? { metadata: true, segments: [KUBERNETES_LOGS_METADATA_PREFIX, 'pod_namespace'] }
      : undefined;
  }
  if (setting === undefined) return DEFAULT_NAMESPACE_FIELD;
  if (typeof setting !== 'string') return undefined;
  const path = parseTargetPath(setting);
  // A `%` path under the legacy namespace lands in the event, not in metadata: too odd to rely on.
  return path === undefined || path.metadata ? undefined : path;
}

/** Where the source writes the file path of an event: `.file`, or `%kubernetes_logs.file` under `log_namespace`. */
export function fileFieldOf(src: Readonly<Record<string, unknown>>): FieldPath {
  return usesLogNamespace(src)
    ? { metadata: true, segments: [KUBERNETES_LOGS_METADATA_PREFIX, 'file'] }
    : { metadata: false, segments: ['file'] };
}
