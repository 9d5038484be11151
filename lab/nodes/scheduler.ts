/**
 * The stand-in's scheduler for bare pods (the operator's configcheck pods): a pod created without `spec.nodeName` is
 * bound to a node, round robin, so a kubelet runs it. On the real control plane kube-scheduler does this, and this
 * one does not run.
 *
 * Invariants:
 * - One watch, on pods whose `spec.nodeName` is empty; DaemonSet pods never pass through it (their controller names
 *   the node, as the real one does through node affinity).
 * - A pod is bound once: the binding is a merge patch of `spec.nodeName` (the stand-in has no `pods/binding`), and a
 *   pod already deleted is left alone.
 */
import * as k8s from '@kubernetes/client-node';
import { describeError, retrying } from '../common/kube-http.ts';
import { standReflector } from '../common/reflector.ts';
import type { Reflector } from '../../src/kube/reflector.ts';
import type { StandLog } from '../common/log.ts';

export class BarePodScheduler {
  private readonly core: k8s.CoreV1Api;
  private readonly pods: Reflector<k8s.V1Pod>;
  private readonly nodes: readonly string[];
  private readonly bound = new Set<string>();
  private next = 0;
  private readonly log: StandLog;

  constructor(kc: k8s.KubeConfig, nodes: readonly string[], log: StandLog) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.nodes = nodes;
    this.log = log;
    const fieldSelector = 'spec.nodeName=';
    this.pods = standReflector<k8s.V1Pod>({
      kc,
      path: '/api/v1/pods',
      fieldSelector,
      log,
      onChange: (type, pod) => {
        // A bound pod leaves the selector: the watch reports it deleted, and it is forgotten.
        if (type === 'delete') this.bound.delete(pod.metadata?.uid ?? '');
        else this.bind(pod);
      },
    });
  }

  start(): Promise<void> {
    return this.pods.start();
  }

  stop(): Promise<void> {
    return this.pods.stop();
  }

  private bind(pod: k8s.V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (this.nodes.length === 0 || this.bound.has(uid) || pod.metadata?.deletionTimestamp !== undefined) return;
    this.bound.add(uid);
    const node = this.nodes[this.next++ % this.nodes.length] ?? '';
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    retrying(`bind pods ${namespace}/${name}`, () =>
      this.core.patchNamespacedPod(
        { name, namespace, body: { spec: { nodeName: node } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    ).catch((err: unknown) => {
      if (!(err instanceof k8s.ApiException && err.code === 404))
        this.log('pod binding failed', { pod: `${namespace}/${name}`, error: describeError(err) });
    });
  }
}
