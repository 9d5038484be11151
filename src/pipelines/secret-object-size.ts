/**
 * The size of a Secret object as the API server stores it in etcd (protobuf), the model kaasops keeps its
 * `secret assets object size limit: ` budget with: the object's metadata (name, namespace, labels, annotations,
 * owner references) and, per data entry, its `map<string, bytes>` entry (field 2 of `v1.Secret`). It counts what
 * the generated Go `Size()` methods count (k8s.io/api's generated.pb.go): every scalar string field of the metadata
 * is written even when empty, a zero timestamp is an empty message.
 *
 * Invariants:
 * - `secretObjectBytes(meta) + Σ dataEntryBytes(key, value)` is the protobuf size of that Secret with that data.
 * - Pure and allocation-light: sizes only, nothing is encoded.
 */
import type { OwnerReference } from '../kube/client.ts';

/** What the budget is kept for: etcd's default request size, less the annotation limit and a reserve. */
export const assetsObjectBudget = 1_572_864 - 262_144 - 65_536;

/** The metadata the model counts (the assets Secret's, as written: no uid or resourceVersion yet). */
export interface SecretMeta {
  name: string;
  namespace: string;
  labels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
  ownerReferences?: readonly OwnerReference[];
}

/** Bytes of `n` as a protobuf varint. */
function varint(n: number): number {
  let bytes = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) bytes++;
  return bytes;
}

/** A length-delimited field of `len` bytes: its tag, its length and its bytes. */
const field = (len: number): number => 1 + varint(len) + len;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** A `map<string, string>` (labels, annotations): one length-delimited entry of key and value each. */
function stringMap(m: Readonly<Record<string, string>> | undefined): number {
  let n = 0;
  for (const [k, v] of Object.entries(m ?? {})) n += field(field(utf8(k)) + field(utf8(v)));
  return n;
}

function ownerReference(r: OwnerReference): number {
  const strings = [r.kind, r.name, r.uid, r.apiVersion].reduce((n, s) => n + field(utf8(s)), 0);
  return strings + (r.controller === undefined ? 0 : 2) + (r.blockOwnerDeletion === undefined ? 0 : 2);
}

function objectMeta(m: SecretMeta): number {
  // name, generateName, namespace, selfLink, uid, resourceVersion: always written.
  const strings = [m.name, '', m.namespace, '', '', ''].reduce((n, s) => n + field(utf8(s)), 0);
  const generation = 1 + varint(0);
  const creationTimestamp = field(0);
  const owners = (m.ownerReferences ?? []).reduce((n, r) => n + field(ownerReference(r)), 0);
  return strings + generation + creationTimestamp + stringMap(m.labels) + stringMap(m.annotations) + owners;
}

/** The Secret without data: its metadata (field 1) and its empty `type` (field 3, always written). */
export function secretObjectBytes(meta: SecretMeta): number {
  return field(objectMeta(meta)) + field(0);
}

/** What one data entry adds: a `map<string, bytes>` entry of the key (UTF-8) and the value. */
export function dataEntryBytes(key: string, valueBytes: number): number {
  return field(field(utf8(key)) + field(valueBytes));
}
