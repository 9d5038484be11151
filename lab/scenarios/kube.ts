/**
 * The API server a stand runs on: the stand-in (lab/apiserver, in this process) or a real control plane (etcd,
 * kube-apiserver, kube-controller-manager and kube-scheduler from `npm run build:kube`, lab/kube-real).
 *
 * Invariants:
 * - Both answer the same questions the same way, measured by the server: its `/version` `gitVersion`, and the watch
 *   connections open now per core resource (the stand-in's own counter; kube-apiserver's
 *   `apiserver_longrunning_requests` gauge for verb WATCH).
 * - The real control plane runs what a cluster runs for the stand's objects: the DaemonSet controller and the
 *   scheduler place the agents, the Deployment and ReplicaSet controllers run the aggregators, the node lifecycle controller watches the nodes' Leases and taints, the
 *   ServiceAccount admission plugin and controller give every pod its token volume, the root CA publisher the
 *   `kube-root-ca.crt` it mounts, and the garbage collector follows owner references.
 * - `close()` stops every process it started and removes their files.
 */
import type { ControlPlane } from '../kube-real/control-plane.ts';

export type KubeKind = 'stand-in' | 'real';

export interface StandKube {
  readonly kind: KubeKind;
  /** Admin kubeconfig YAML. */
  readonly kubeconfig: string;
  /** `gitVersion` of the server's `/version`. */
  readonly gitVersion: string;
  /** Watch connections open now on each of `resources` (core group, e.g. `pods`), as the server counts them. */
  openWatches(resources: readonly string[]): Promise<Record<string, number>>;
  /** Watches opened since the server started (the stand-in's counter; kube-apiserver has no such figure). */
  watchesOpened?(): number;
  close(): Promise<void>;
}

/** The controllers of kube-controller-manager a stand needs (see the invariants above). */
export const standControllers = [
  'daemonset-controller',
  'deployment-controller',
  'replicaset-controller',
  'garbage-collector-controller',
  'node-lifecycle-controller',
  'taint-eviction-controller',
  'pod-garbage-collector-controller',
  'serviceaccount-controller',
  'root-ca-certificate-publisher-controller',
];

const gauge = /^apiserver_longrunning_requests\{([^}]*)\} (\d+)/;

/** Open WATCH requests per core-group resource from kube-apiserver's `/metrics` text. */
export function watchesFromMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = gauge.exec(line);
    if (m === null) continue;
    const labels = new Map([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1] ?? '', l[2] ?? '']));
    if (labels.get('verb') !== 'WATCH' || labels.get('group') !== '' || labels.get('subresource') !== '') continue;
    const r = labels.get('resource') ?? '';
    out.set(r, (out.get(r) ?? 0) + Number(m[2]));
  }
  return out;
}

async function standIn(): Promise<StandKube> {
  const { startApiServer } = await import('../apiserver/server.ts');
  const { versionInfo } = await import('../apiserver/discovery.ts');
  const server = await startApiServer({ gracefulPodDeletion: true, bookmarkIntervalMs: 5_000 });
  return {
    kind: 'stand-in',
    kubeconfig: server.kubeconfig,
    gitVersion: String(versionInfo().gitVersion),
    openWatches: (resources) => Promise.resolve(Object.fromEntries(resources.map((r) => [r, server.openWatches(r)]))),
    watchesOpened: () => server.watchesOpened(),
    close: () => server.close(),
  };
}

function realKube(plane: ControlPlane): StandKube {
  return {
    kind: 'real',
    kubeconfig: plane.kubeconfig,
    gitVersion: plane.gitVersion,
    async openWatches(resources) {
      const res = await plane.get('/metrics');
      if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${res.body.slice(0, 200)}`);
      const w = watchesFromMetrics(res.body);
      return Object.fromEntries(resources.map((r) => [r, w.get(r) ?? 0]));
    },
    close: () => plane.stop(),
  };
}

export async function startKube(kind: KubeKind): Promise<StandKube> {
  if (kind === 'stand-in') return standIn();
  const { startControlPlane } = await import('../kube-real/control-plane.ts');
  const plane = await startControlPlane({
    serviceAccountAdmission: true,
    controllers: standControllers,
    scheduler: true,
  });
  return realKube(plane);
}
