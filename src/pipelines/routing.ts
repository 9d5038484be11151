/**
 * Route layout for one collapsed source: which transforms restore each namespace's event stream.
 *
 * Invariants (kaasops-compatible names and VRL):
 * - ≤ 16 namespaces: one flat `route` transform `optimizedRouter-<gid>`, one route per namespace.
 * - more: a `remap` bucketer `optimizedBucketer-<gid>` sets `%bucket` from the first md5 byte of the namespace,
 *   with `mod()` (VRL parses `%` after an expression as a metadata path: kaasops fix bc76f8e); an L1 router
 *   `optimizedRouter-<gid>-l1` with one route per non-empty bucket; an L2 router `optimizedRouter-<gid>-<b>` per
 *   bucket with its namespaces' routes.
 * - Routes are per namespace, not per source: all pipelines of a namespace share one output.
 * - The bucket chosen here (md5(ns)[0] % B) is the bucket the VRL computes at runtime.
 * - Conditions and the bucketer read the namespace where the group's source writes it (`namespaceField`, a VRL path:
 *   `.kubernetes.pod_namespace` by default, a moved `pod_annotation_fields.pod_namespace`, or
 *   `%kubernetes_logs.pod_namespace` under `log_namespace`). With the default field the text is kaasops' byte for byte.
 * - Events without the namespace field (a pod deleted more than `delay_deletion_ms` ago, whose backlog Vector still
 *   drains) leave through the first router's `_unmatched` into `optimizedFallback-<gid>`, which routes them by the
 *   file path the source writes (`.file`, or `%kubernetes_logs.file`): `/var/log/pods/<ns>_<pod>_<uid>/...`.
 *   Namespace names cannot contain `_`, so the prefix `/var/log/pods/<ns>_` names exactly one namespace. An event
 *   reaches one of a namespace's two outputs, never both: the fallback sees only what no namespace route took.
 */
import { createHash } from 'node:crypto';
import type { InputComponent } from '../vector/config.ts';

const flatRoutingThreshold = 16;
const maxRouteBuckets = 256;
export const maxNamespacesPerSource = 1000;

/** The power of two near √n that minimises conditions evaluated per event (B + ⌈n/B⌉), capped at 256. */
export function bucketCount(n: number): number {
  let b = 1;
  while (b * b < n && b < maxRouteBuckets) b *= 2;
  const half = b / 2;
  if (half >= 1 && half + Math.ceil(n / half) <= b + Math.ceil(n / b)) return half;
  return b;
}

export function namespaceBucket(ns: string, buckets: number): number {
  return (createHash('md5').update(ns, 'utf8').digest()[0] ?? 0) % buckets;
}

/** Go's `%q` for the strings we quote (namespace names): escapes quote, backslash and non-printable characters. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** The VRL path of the namespace field Vector writes by default. */
const defaultNamespaceField = '.kubernetes.pod_namespace';

export function namespaceCondition(ns: string, namespaceField: string = defaultNamespaceField): string {
  return `${namespaceField} == ${goQuote(ns)}`;
}

export function bucketerSource(buckets: number, namespaceField: string = defaultNamespaceField): string {
  return `%bucket = mod(parse_int!(slice!(md5(string!(${namespaceField})), 0, 2), base: 16), ${buckets})`;
}

/** The VRL path of the file field Vector writes by default. */
const defaultFileField = '.file';

/** Where Vector's kubernetes_logs source reads pod logs from (`K8sPathsProvider`). */
const podLogsDir = '/var/log/pods';

function fileFallbackCondition(ns: string, fileField: string = defaultFileField): string {
  return `starts_with(string!(${fileField}), ${goQuote(`${podLogsDir}/${ns}_`)})`;
}

/** The VRL paths a group's routes read. */
export interface RouteFields {
  namespace: string;
  file: string;
}

const defaultRouteFields: RouteFields = { namespace: defaultNamespaceField, file: defaultFileField };

export interface RouteLayout {
  routing: 'flat' | 'two-level';
  buckets: number;
  /** Transforms to add, by id. */
  transforms: Record<string, InputComponent>;
  /** Namespace -> the output its consumers read. */
  output: Map<string, string>;
  /** Namespace -> the fallback output its consumers also read (events without pod metadata). */
  fallback: Map<string, string>;
}

/** The route transform for events that reached `unmatched` without a namespace: by file path. */
function fallbackRoute(gid: string, unmatched: string, namespaces: readonly string[], fileField: string) {
  const id = `optimizedFallback-${gid}`;
  const route: Record<string, string> = {};
  const fallback = new Map<string, string>();
  for (const ns of namespaces) {
    route[ns] = fileFallbackCondition(ns, fileField);
    fallback.set(ns, `${id}.${ns}`);
  }
  return { id, transform: { type: 'route', inputs: [unmatched], route } satisfies InputComponent, fallback };
}

function routeMap(namespaces: readonly string[], namespaceField: string): Record<string, string> {
  const route: Record<string, string> = {};
  for (const ns of namespaces) route[ns] = namespaceCondition(ns, namespaceField);
  return route;
}

/** `namespaces` must be sorted and unique; `fields` are the VRL paths the group's source writes. */
export function layoutRoutes(
  gid: string,
  sourceId: string,
  namespaces: readonly string[],
  fields: RouteFields = defaultRouteFields,
): RouteLayout {
  const namespaceField = fields.namespace;
  const output = new Map<string, string>();
  if (namespaces.length <= flatRoutingThreshold) {
    const router = `optimizedRouter-${gid}`;
    for (const ns of namespaces) output.set(ns, `${router}.${ns}`);
    const fb = fallbackRoute(gid, `${router}._unmatched`, namespaces, fields.file);
    return {
      routing: 'flat',
      buckets: 1,
      transforms: {
        [router]: { type: 'route', inputs: [sourceId], route: routeMap(namespaces, namespaceField) },
        [fb.id]: fb.transform,
      },
      output,
      fallback: fb.fallback,
    };
  }
  const buckets = bucketCount(namespaces.length);
  const bucketer = `optimizedBucketer-${gid}`;
  const l1 = `optimizedRouter-${gid}-l1`;
  const members = new Map<number, string[]>();
  for (const ns of namespaces) {
    const b = namespaceBucket(ns, buckets);
    const list = members.get(b);
    if (list === undefined) members.set(b, [ns]);
    else list.push(ns);
  }
  const transforms: Record<string, InputComponent> = {
    [bucketer]: { type: 'remap', inputs: [sourceId], source: bucketerSource(buckets, namespaceField) },
  };
  const l1Routes: Record<string, string> = {};
  for (const [b, nss] of [...members].sort((x, y) => x[0] - y[0])) {
    l1Routes[String(b)] = `%bucket == ${b}`;
    const l2 = `optimizedRouter-${gid}-${b}`;
    transforms[l2] = { type: 'route', inputs: [`${l1}.${b}`], route: routeMap(nss, namespaceField) };
    for (const ns of nss) output.set(ns, `${l2}.${ns}`);
  }
  transforms[l1] = { type: 'route', inputs: [bucketer], route: l1Routes };
  // No namespace means no bucket (string! fails, the remap passes the event on unchanged): L1's _unmatched.
  const fb = fallbackRoute(gid, `${l1}._unmatched`, namespaces, fields.file);
  transforms[fb.id] = fb.transform;
  return { routing: 'two-level', buckets, transforms, output, fallback: fb.fallback };
}
