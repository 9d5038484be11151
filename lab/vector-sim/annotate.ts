/**
 * The event a `kubernetes_logs` source emits for one line, with the fields where Vector puts them
 * (vector-fidelity.md A.1, A.5).
 *
 * Invariants:
 * - `log_namespace: true`: the event is the message; the file path and pod fields are metadata `%kubernetes_logs.*`.
 * - Otherwise `.file` and `.kubernetes.*`, with the namespace at the path of `pod_annotation_fields.pod_namespace`
 *   (`namespaceFieldOf`), nowhere when that is turned off or is a path the simulator does not model.
 * - A pod gone from the store (deleted more than `delay_deletion_ms` ago) adds no pod fields at all; the file path
 *   is still there.
 * - Only the namespace is moved by `pod_annotation_fields`; the other pod fields stay at their defaults, which no
 *   generated condition reads.
 */
import type { KubernetesLogsConfig } from './topology.ts';
import type { SimEvent } from './vrl.ts';

export interface PodInfo {
  ns: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  node: string;
}

function setPath(root: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let cur = root;
  for (const seg of segments.slice(0, -1)) {
    const next = cur[seg];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) cur = next as Record<string, unknown>;
    else cur = cur[seg] = {};
  }
  cur[segments[segments.length - 1] as string] = value;
}

/** `path` is the container path (`/var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log`), as Vector sees it. */
export function annotateEvent(
  config: Pick<KubernetesLogsConfig, 'logNamespace' | 'namespaceField'>,
  line: { message: string; stream: string; timestamp: string },
  path: string,
  pod: PodInfo | undefined,
): SimEvent {
  const { message, stream, timestamp } = line;
  const podFields: Record<string, unknown> | undefined =
    pod === undefined
      ? undefined
      : {
          pod_name: pod.name,
          pod_uid: pod.uid,
          pod_labels: pod.labels,
          pod_node_name: pod.node,
          container_name: /\/([^/]+)\/[^/]+$/.exec(path)?.[1] ?? '',
        };
  if (config.logNamespace) {
    const md: Record<string, unknown> = { stream, timestamp, file: path, ...podFields };
    if (pod !== undefined) md.pod_namespace = pod.ns;
    return { message, fields: { message }, meta: { kubernetes_logs: md } };
  }
  const event: SimEvent = { message, fields: { message, stream, timestamp, file: path }, meta: {} };
  if (podFields !== undefined) event.fields.kubernetes = podFields;
  const ns = config.namespaceField;
  if (pod !== undefined && ns !== null && ns !== undefined) setPath(event.fields, ns.segments, pod.ns);
  return event;
}
