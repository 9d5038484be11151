/**
 * The kubelet of one simulated node: runs the pods bound to it (pod-worker.ts) and finishes their deletion.
 *
 * Invariants:
 * - It watches only pods with `spec.nodeName=<node>` (one watch connection), as a real kubelet does: on the real
 *   control plane a pod appears once the scheduler has bound it.
 * - Deletion: on a deletionTimestamp the containers get SIGTERM (SIGKILL after the grace period), their terminated
 *   status is written, and the pod is deleted with grace 0 and its uid as precondition (the kubelet's last word, so a
 *   new pod of the same name is never deleted by mistake). A pod removed outright is stopped the same way. Stop order
 *   is what makes the final checkpoint flush happen before the next pod on the node starts.
 * - Mounted Secrets are re-read every `secretSyncMs` and their files rewritten when they change (the kubelet's
 *   TTL-cache strategy; it opens no watch, so the watch count stays the agents' own).
 * - Pod IPs come from the node's range (node-object.ts), one per pod, round robin.
 */
import * as k8s from '@kubernetes/client-node';
import { standReflector } from '../common/reflector.ts';
import type { Reflector } from '../../src/kube/reflector.ts';
import { describeError, retrying } from '../common/kube-http.ts';
import type { SimTiming } from '../vector-sim/sim.ts';
import type { NodeFs, VolumeSources } from './node-fs.ts';
import { nodeIP, podIP } from './node-object.ts';
import { PodWorker } from './pod-worker.ts';
import type { StandLog } from '../common/log.ts';

export interface KubeletOptions {
  kc: k8s.KubeConfig;
  /** Given to agent containers in place of a service account. */
  kubeconfigPath: string;
  node: NodeFs;
  /** The node's index: its addresses follow from it (node-object.ts). */
  index: number;
  /**
   * Run the containers (default true): the merger CLI, the Vector simulator, volumes on disk. False makes every
   * container a no-op that is ready at once, with no volume and no process: a node that costs one watch.
   */
  runContainers?: boolean;
  /** Vector simulator delivery records: `<dir>/<node>/<pod>-<container>-<restart>.tsv`. */
  deliveriesDir: string;
  controlFile?: string;
  /** The pod network of `vector` sources and sinks (lab/vector-sim/pod-network.ts). */
  netDir?: string;
  timing: SimTiming;
  secretSyncMs: number;
  /** Backoff before restarting a failed container. */
  restartBackoffMs: number;
  log: StandLog;
}

const notFound = (err: unknown): boolean => err instanceof k8s.ApiException && err.code === 404;

export class Kubelet implements VolumeSources {
  readonly opts: KubeletOptions;
  readonly core: k8s.CoreV1Api;
  readonly hostIP: string;
  readonly runContainers: boolean;
  private readonly pods: Reflector<k8s.V1Pod>;
  private readonly workers = new Map<string, PodWorker>();
  private readonly finishing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private podSlot = 0;

  constructor(opts: KubeletOptions) {
    this.opts = opts;
    this.core = opts.kc.makeApiClient(k8s.CoreV1Api);
    this.hostIP = nodeIP(opts.index);
    this.runContainers = opts.runContainers ?? true;
    const fieldSelector = `spec.nodeName=${opts.node.name}`;
    this.pods = standReflector<k8s.V1Pod>({
      kc: opts.kc,
      path: '/api/v1/pods',
      fieldSelector,
      log: opts.log,
      onChange: (type, pod) => {
        this.changed(type, pod);
      },
    });
  }

  async secret(namespace: string, name: string): Promise<k8s.V1Secret | undefined> {
    try {
      return await retrying(`get secrets ${namespace}/${name}`, () =>
        this.core.readNamespacedSecret({ name, namespace }),
      );
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  async configMap(namespace: string, name: string): Promise<k8s.V1ConfigMap | undefined> {
    try {
      return await retrying(`get configmaps ${namespace}/${name}`, () =>
        this.core.readNamespacedConfigMap({ name, namespace }),
      );
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  /** A TokenRequest for the pod's ServiceAccount, as the kubelet makes one per projected token. */
  async token(namespace: string, serviceAccount: string, source: k8s.V1ServiceAccountTokenProjection): Promise<string> {
    const res = await this.core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace,
      body: {
        spec: {
          audiences: source.audience === undefined ? [] : [source.audience],
          expirationSeconds: source.expirationSeconds ?? 3600,
        },
      },
    });
    return res.status?.token ?? '';
  }

  async start(): Promise<void> {
    await this.pods.start();
    if (!this.runContainers) return;
    this.timer = setInterval(() => {
      for (const w of this.workers.values())
        w.syncSecrets().catch((err: unknown) => {
          this.opts.log('secret sync failed', { error: describeError(err) });
        });
    }, this.opts.secretSyncMs);
  }

  private changed(type: 'add' | 'update' | 'delete', pod: k8s.V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const worker = this.workers.get(uid);
    if (type === 'delete' || pod.metadata?.deletionTimestamp !== undefined) {
      if (this.finishing.has(uid)) return;
      this.finishing.add(uid);
      void (async () => {
        await worker?.stop();
        if (type !== 'delete') {
          await worker?.terminated();
          await this.finalize(pod);
        }
        this.workers.delete(uid);
        this.finishing.delete(uid);
      })();
      return;
    }
    if (worker === undefined) {
      const w = new PodWorker(this, pod, podIP(this.opts.index, this.podSlot++));
      this.workers.set(uid, w);
      w.start();
    }
  }

  /** The kubelet's last word on a terminated pod: delete with grace 0, only this pod (uid precondition). */
  private async finalize(pod: k8s.V1Pod): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? 'default',
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid ?? '' } },
      });
    } catch (err) {
      // 404: gone already; 409: the precondition failed, so the name now holds another pod, which is not ours to end.
      if (!(err instanceof k8s.ApiException && (err.code === 404 || err.code === 409)))
        this.opts.log('pod finalize failed', { pod: pod.metadata?.name, error: describeError(err) });
    }
  }

  /** Stops every pod (SIGTERM, final flushes) and the watch; the pods stay in the API server. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.pods.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
  }
}
