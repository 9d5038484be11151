/**
 * The DaemonSet controller of the stand: one pod per node, rolling updates, and the DaemonSet status.
 *
 * Invariants:
 * - Level-triggered: every change to a DaemonSet, pod or node re-runs one serial reconcile over all DaemonSets,
 *   from the caches only. Creates and deletes not yet seen in the cache are remembered (expectations), so a slow
 *   watch never causes a second pod on a node.
 * - A pod belongs to a DaemonSet by its controller ownerReference (uid). Its template revision is the
 *   `controller-revision-hash` label: a hash of the pod template, stable across key order.
 * - One pod per node: a node with no live pod and no terminating one gets a pod (maxSurge is 0: the new pod waits
 *   until the old one is gone, so two agents never share a node's data dir); extra live pods are deleted.
 * - RollingUpdate (the default) with maxUnavailable (default 1, int or percent rounded up, at least 1): old pods that
 *   are not ready go first, without using the budget; then ready old pods, in node-name order, while fewer than
 *   maxUnavailable nodes are unavailable. `OnDelete` never deletes a pod.
 * - Status (desiredNumberScheduled, currentNumberScheduled, updatedNumberScheduled, numberReady, numberAvailable,
 *   numberUnavailable, numberMisscheduled, observedGeneration) is written through /status only when it changes.
 */
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { standReflector } from '../common/reflector.ts';
import { CoalescedLoop } from './coalesced-loop.ts';
import type { Reflector } from '../../src/kube/reflector.ts';
import { describeError } from '../common/kube-http.ts';
import type { StandLog } from '../common/log.ts';

export const revisionLabel = 'controller-revision-hash';

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null)
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function templateHash(template: k8s.V1PodTemplateSpec): string {
  return createHash('sha256').update(canonical(template)).digest('hex').slice(0, 10);
}

function isReady(p: k8s.V1Pod): boolean {
  return (
    p.metadata?.deletionTimestamp === undefined &&
    (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

function maxUnavailable(ds: k8s.V1DaemonSet, desired: number): number {
  const v = ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable;
  if (typeof v === 'number') return Math.max(1, v);
  if (typeof v === 'string' && v.endsWith('%')) return Math.max(1, Math.ceil((Number(v.slice(0, -1)) * desired) / 100));
  return 1;
}

export class DaemonSetController {
  private readonly apps: k8s.AppsV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly daemonsets: Reflector<k8s.V1DaemonSet>;
  private readonly pods: Reflector<k8s.V1Pod>;
  private readonly nodes: Reflector<k8s.V1Node>;
  /** `<ds uid>/<node>` -> time of a create not yet seen. */
  private readonly creating = new Map<string, number>();
  /** pod uid -> time of a delete not yet seen. */
  private readonly deleting = new Map<string, number>();
  private readonly loop: CoalescedLoop;
  private readonly log: StandLog;

  constructor(kc: k8s.KubeConfig, log: StandLog) {
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.log = log;
    this.loop = new CoalescedLoop(
      () => this.reconcileAll(),
      (err) => {
        this.log('daemonset reconcile failed', { error: describeError(err) });
      },
    );
    const kick = (): void => {
      this.kick();
    };
    this.daemonsets = standReflector({
      kc,
      path: '/apis/apps/v1/daemonsets',
      onChange: kick,
      log,
    });
    this.pods = standReflector({
      kc,
      path: '/api/v1/pods',
      onChange: kick,
      log,
    });
    this.nodes = standReflector({
      kc,
      path: '/api/v1/nodes',
      onChange: kick,
      log,
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.daemonsets.start(), this.pods.start(), this.nodes.start()]);
    this.kick();
  }

  async stop(): Promise<void> {
    const stopped = this.loop.stop();
    await Promise.all([this.daemonsets.stop(), this.pods.stop(), this.nodes.stop()]);
    await stopped;
  }

  /** Resolves once no reconcile is running or pending. */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  private kick(): void {
    this.loop.kick();
  }

  private async reconcileAll(): Promise<void> {
    const now = Date.now();
    // Expectations expire: a create or delete that never shows up must not block the node forever.
    for (const [k, t] of this.creating) if (now - t > 10_000) this.creating.delete(k);
    for (const [k, t] of this.deleting) if (now - t > 10_000) this.deleting.delete(k);
    for (const ds of this.daemonsets.list()) {
      if (ds.metadata?.deletionTimestamp === undefined) await this.reconcile(ds);
    }
  }

  private async reconcile(ds: k8s.V1DaemonSet): Promise<void> {
    const uid = ds.metadata?.uid ?? '';
    const ns = ds.metadata?.namespace ?? 'default';
    const hash = templateHash(ds.spec?.template ?? {});
    const nodes = this.nodes
      .list()
      .map((n) => n.metadata?.name ?? '')
      .sort();
    const owned = this.pods
      .list()
      .filter((p) => (p.metadata?.ownerReferences ?? []).some((r) => r.uid === uid && r.controller === true));
    for (const p of owned) {
      const key = `${uid}/${p.spec?.nodeName ?? ''}`;
      this.creating.delete(key);
      if (p.metadata?.deletionTimestamp !== undefined) this.deleting.delete(p.metadata.uid ?? '');
    }
    let unavailable = 0;
    const oldReady: k8s.V1Pod[] = [];
    const counts = { current: 0, updated: 0, ready: 0 };
    for (const node of nodes) {
      const here = owned.filter((p) => p.spec?.nodeName === node);
      const live = here.filter(
        (p) => p.metadata?.deletionTimestamp === undefined && !this.deleting.has(p.metadata?.uid ?? ''),
      );
      const terminating = here.length > live.length;
      if (live.length === 0) {
        unavailable++;
        if (!terminating && !this.creating.has(`${uid}/${node}`)) await this.createPod(ds, node, hash);
        continue;
      }
      const [keep, ...extra] = live.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
      for (const p of extra) await this.deletePod(p);
      const pod = keep as k8s.V1Pod;
      counts.current++;
      const ready = isReady(pod) && !terminating;
      if (ready) counts.ready++;
      else unavailable++;
      const current = pod.metadata?.labels?.[revisionLabel] === hash;
      if (current) counts.updated++;
      else if (!ready) await this.deletePod(pod);
      else oldReady.push(pod);
    }
    if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const budget = maxUnavailable(ds, nodes.length) - unavailable;
      for (const p of oldReady.slice(0, Math.max(0, budget))) await this.deletePod(p);
    }
    const status: k8s.V1DaemonSetStatus = {
      desiredNumberScheduled: nodes.length,
      currentNumberScheduled: counts.current,
      updatedNumberScheduled: counts.updated,
      numberReady: counts.ready,
      numberAvailable: counts.ready,
      numberUnavailable: nodes.length - counts.ready,
      numberMisscheduled: 0,
      observedGeneration: ds.metadata?.generation ?? 0,
    };
    const old = ds.status ?? ({} as k8s.V1DaemonSetStatus);
    const changed = (Object.keys(status) as (keyof k8s.V1DaemonSetStatus)[]).some((k) => (old[k] ?? 0) !== status[k]);
    if (changed) {
      try {
        await this.apps.patchNamespacedDaemonSetStatus(
          { name: ds.metadata?.name ?? '', namespace: ns, body: { status } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      } catch (err) {
        if (!(err instanceof k8s.ApiException && err.code === 404)) throw err;
      }
    }
  }

  private async createPod(ds: k8s.V1DaemonSet, node: string, hash: string): Promise<void> {
    const t = ds.spec?.template ?? {};
    const name = ds.metadata?.name ?? '';
    const spec = structuredClone(t.spec ?? { containers: [] });
    spec.nodeName = node;
    const body: k8s.V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${name}-`,
        namespace: ds.metadata?.namespace,
        labels: {
          ...(t.metadata?.labels ?? {}),
          [revisionLabel]: hash,
          'pod-template-generation': String(ds.metadata?.generation ?? 1),
        },
        annotations: t.metadata?.annotations,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'DaemonSet',
            name,
            uid: ds.metadata?.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      // The real controller pins the pod with node affinity and lets the scheduler bind it; binding directly is
      // the observable end state.
      spec,
    };
    this.creating.set(`${ds.metadata?.uid ?? ''}/${node}`, Date.now());
    await this.core.createNamespacedPod({ namespace: ds.metadata?.namespace ?? 'default', body });
    this.log('daemonset pod created', { daemonset: name, node, revision: hash });
  }

  private async deletePod(p: k8s.V1Pod): Promise<void> {
    const uid = p.metadata?.uid ?? '';
    if (this.deleting.has(uid)) return;
    this.deleting.set(uid, Date.now());
    try {
      await this.core.deleteNamespacedPod({
        name: p.metadata?.name ?? '',
        namespace: p.metadata?.namespace ?? 'default',
      });
      this.log('daemonset pod deleted', { pod: p.metadata?.name, node: p.spec?.nodeName });
    } catch (err) {
      if (!(err instanceof k8s.ApiException && err.code === 404)) throw err;
    }
  }
}
