/**
 * The stand's pod network, for what one Vector sends another: pod IPs to loopback ports, and a Service name to a
 * backend pod, as cluster DNS and kube-proxy do it.
 *
 * - A pod listening on `<podIP>:<port>` (a `vector` source) really listens on a loopback port and publishes it as
 *   the file `<netDir>/<podIP>_<port>`. A published port whose listener has closed refuses connections, as a pod
 *   that stopped listening does.
 * - A sink's address `<svc>.<ns>[.svc[.cluster.local]]:<port>` (or `<svc>:<port>` in the sender's namespace) names
 *   a Service. A new connection goes to one of its endpoints, picked at random as kube-proxy's iptables mode does:
 *   the pods its selector matches that are Ready and not terminating (an EndpointSlice's `ready`), on the Service
 *   port's `targetPort`. The pick holds for the connection's life (conntrack), however the endpoints change.
 *
 * Invariants:
 * - Resolution reads the Service and the pods through the API server at each new connection, so a pod that turns
 *   Ready, or starts terminating, changes where the next connection goes, and nowhere else.
 * - `resolveBackend` returns undefined when the Service has no ready endpoint or the endpoint publishes no port: the
 *   sender sees a refused connection and retries.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { request } from '../../src/kube/client.ts';

export function publishPort(netDir: string, podIP: string, port: number, realPort: number): void {
  mkdirSync(netDir, { recursive: true });
  const file = join(netDir, `${podIP}_${String(port)}`);
  writeFileSync(`${file}.tmp`, String(realPort));
  renameSync(`${file}.tmp`, file);
}

function publishedPort(netDir: string, podIP: string, port: number): number | undefined {
  try {
    return Number(readFileSync(join(netDir, `${podIP}_${String(port)}`), 'utf8'));
  } catch {
    return undefined;
  }
}

/** `host:port` of a sink address: the Service and its namespace (the sender's when the name is short). */
export function parseServiceAddress(
  address: string,
  ownNamespace: string,
): { service: string; namespace: string; port: number } | string {
  const m = /^(?:[a-z]+:\/\/)?([^:/]+):(\d+)\/?$/.exec(address);
  if (m === null) return `address '${address}' is not host:port`;
  const parts = (m[1] ?? '').replace(/\.svc(\.cluster\.local)?$/, '').split('.');
  if (parts.length > 2) return `address '${address}' names no Service (<svc>[.<ns>[.svc[.cluster.local]]])`;
  return { service: parts[0] ?? '', namespace: parts[1] ?? ownNamespace, port: Number(m[2]) };
}

interface Service {
  spec?: { selector?: Record<string, string>; ports?: { port: number; targetPort?: number | string }[] };
}

interface Pod {
  metadata?: { name?: string; deletionTimestamp?: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
}

export interface Backend {
  pod: string;
  podIP: string;
  /** The loopback port that stands for `podIP:targetPort`. */
  realPort: number;
}

export async function resolveBackend(
  kc: k8s.KubeConfig,
  netDir: string,
  target: { service: string; namespace: string; port: number },
  pick: (n: number) => number = (n) => Math.floor(Math.random() * n),
): Promise<Backend | undefined> {
  const svc = await request<Service>(kc, 'GET', `/api/v1/namespaces/${target.namespace}/services/${target.service}`);
  const port = svc.spec?.ports?.find((p) => p.port === target.port);
  const selector = svc.spec?.selector;
  if (port === undefined || selector === undefined) return undefined;
  const targetPort = typeof port.targetPort === 'number' ? port.targetPort : port.port;
  const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await request<{ items: Pod[] }>(
    kc,
    'GET',
    `/api/v1/namespaces/${target.namespace}/pods?labelSelector=${encodeURIComponent(labelSelector)}`,
  );
  const ready = pods.items.filter(
    (p) =>
      p.metadata?.deletionTimestamp === undefined &&
      p.status?.podIP !== undefined &&
      (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  if (ready.length === 0) return undefined;
  const chosen = ready[pick(ready.length)] as Pod;
  const podIP = chosen.status?.podIP ?? '';
  const realPort = publishedPort(netDir, podIP, targetPort);
  return realPort === undefined ? undefined : { pod: chosen.metadata?.name ?? '', podIP, realPort };
}
