/**
 * The stand's Deployment and ReplicaSet controllers (the stand-in's imitation of kube-controller-manager's, beside
 * the DaemonSet controller): a Deployment owns one ReplicaSet per pod template, a ReplicaSet owns its pods. They run
 * the aggregators' Deployments; on a real control plane kube-controller-manager's own controllers do.
 *
 * Invariants:
 * - Level-triggered: every change to a Deployment, ReplicaSet or pod re-runs one serial reconcile of all of them,
 *   from the caches only. Pods created and not yet seen in the cache are remembered (expectations), so a slow watch
 *   never makes a ReplicaSet overshoot.
 * - A pod belongs to a ReplicaSet, and a ReplicaSet to a Deployment, by its controller ownerReference (uid). A
 *   ReplicaSet's template carries the `pod-template-hash` label: a hash of the Deployment's template, stable across
 *   key order (the DaemonSet controller's).
 * - Pods are created without `spec.nodeName`: the stand's scheduler binds them (kube-scheduler on a real plane).
 * - The rollout is rollout.ts's: surge first (25 %, rounded up), then old pods stop while the Ready ones stay at
 *   least `replicas - maxUnavailable` (25 %, rounded down). A ReplicaSet with too many pods deletes the ones not
 *   Ready first, then the newest.
 * - Status (replicas, updated/ready/available/unavailable replicas, observedGeneration) goes through /status, only
 *   when it changes.
 * - Differs from the real controllers: no revision history cleanup, rollback, pause, progress deadline, conditions
 *   or `minReadySeconds`; Ready counts as available.
 */
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { standReflector } from '../common/reflector.ts';
import { CoalescedLoop } from './coalesced-loop.ts';
import type { Reflector } from '../../src/kube/reflector.ts';
import { describeError } from '../common/kube-http.ts';
import { templateHash } from './daemonset-controller.ts';
import { rolloutStep } from './rollout.ts';
import type { StandLog } from '../common/log.ts';

export const podTemplateHashLabel = 'pod-template-hash';

function isReady(p: k8s.V1Pod): boolean {
  return (
    p.metadata?.deletionTimestamp === undefined &&
    (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

function ownedBy<T extends k8s.KubernetesObject>(objs: T[], owner: k8s.KubernetesObject): T[] {
  const uid = owner.metadata?.uid ?? '';
  return objs.filter((o) => (o.metadata?.ownerReferences ?? []).some((r) => r.uid === uid && r.controller === true));
}

function ownerRef(kind: string, o: k8s.KubernetesObject): k8s.V1OwnerReference {
  return {
    apiVersion: 'apps/v1',
    kind,
    name: o.metadata?.name ?? '',
    uid: o.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

function ignore404(err: unknown): void {
  if (!(err instanceof k8s.ApiException && err.code === 404)) throw err;
}

export class DeploymentController {
  private readonly apps: k8s.AppsV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly deployments: Reflector<k8s.V1Deployment>;
  private readonly replicasets: Reflector<k8s.V1ReplicaSet>;
  private readonly pods: Reflector<k8s.V1Pod>;
  /** pod name -> owner ReplicaSet uid and time, for creates not yet seen. */
  private readonly creating = new Map<string, { rs: string; at: number }>();
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
        this.log('deployment reconcile failed', { error: describeError(err) });
      },
    );
    const onChange = (): void => {
      this.kick();
    };
    this.deployments = standReflector({ kc, path: '/apis/apps/v1/deployments', onChange, log });
    this.replicasets = standReflector({ kc, path: '/apis/apps/v1/replicasets', onChange, log });
    this.pods = standReflector({ kc, path: '/api/v1/pods', onChange, log });
  }

  async start(): Promise<void> {
    await Promise.all([this.deployments.start(), this.replicasets.start(), this.pods.start()]);
    this.kick();
  }

  async stop(): Promise<void> {
    const stopped = this.loop.stop();
    await Promise.all([this.deployments.stop(), this.replicasets.stop(), this.pods.stop()]);
    await stopped;
  }

  private kick(): void {
    this.loop.kick();
  }

  private async reconcileAll(): Promise<void> {
    const now = Date.now();
    // Expectations expire: a create or delete that never shows up must not hold a ReplicaSet forever.
    for (const [k, v] of this.creating) if (now - v.at > 10_000) this.creating.delete(k);
    for (const [k, t] of this.deleting) if (now - t > 10_000) this.deleting.delete(k);
    const seen = new Set(this.pods.list().map((p) => p.metadata?.name ?? ''));
    for (const name of this.creating.keys()) if (seen.has(name)) this.creating.delete(name);
    for (const rs of this.replicasets.list())
      if (rs.metadata?.deletionTimestamp === undefined) await this.reconcileReplicaSet(rs);
    for (const d of this.deployments.list())
      if (d.metadata?.deletionTimestamp === undefined) await this.reconcileDeployment(d);
  }

  /** A ReplicaSet's pods that are neither terminating nor being deleted. */
  private livePods(rs: k8s.V1ReplicaSet): k8s.V1Pod[] {
    return ownedBy(this.pods.list(), rs).filter(
      (p) => p.metadata?.deletionTimestamp === undefined && !this.deleting.has(p.metadata?.uid ?? ''),
    );
  }

  private async reconcileReplicaSet(rs: k8s.V1ReplicaSet): Promise<void> {
    const uid = rs.metadata?.uid ?? '';
    const live = this.livePods(rs);
    const pendingCreates = [...this.creating.values()].filter((c) => c.rs === uid).length;
    const want = rs.spec?.replicas ?? 1;
    for (let n = live.length + pendingCreates; n < want; n++) await this.createPod(rs);
    if (live.length > want) {
      // Not Ready first, then the newest: the real controller's ranking, reduced.
      const order = [...live].sort(
        (a, b) =>
          Number(isReady(a)) - Number(isReady(b)) ||
          String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')),
      );
      for (const p of order.slice(0, live.length - want)) await this.deletePod(p);
    }
    const after = this.livePods(rs);
    const ready = after.filter(isReady).length;
    await this.writeStatus('replicasets', rs, {
      replicas: after.length,
      fullyLabeledReplicas: after.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata?.generation ?? 0,
    });
  }

  private async reconcileDeployment(d: k8s.V1Deployment): Promise<void> {
    const template = d.spec?.template ?? {};
    const hash = templateHash(template);
    const owned = ownedBy(this.replicasets.list(), d).sort((a, b) =>
      String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')),
    );
    const current = owned.find((rs) => rs.metadata?.labels?.[podTemplateHashLabel] === hash);
    if (current === undefined) {
      await this.createReplicaSet(d, hash);
      return;
    }
    const old = owned.filter((rs) => rs !== current);
    const counts = (rs: k8s.V1ReplicaSet) => {
      const pods = ownedBy(this.pods.list(), rs);
      return { replicas: rs.spec?.replicas ?? 0, ready: pods.filter(isReady).length, pods: pods.length };
    };
    const strategy = d.spec?.strategy;
    const step = rolloutStep({
      desired: d.spec?.replicas ?? 1,
      strategy: strategy?.type === 'Recreate' ? 'Recreate' : 'RollingUpdate',
      maxSurge: strategy?.rollingUpdate?.maxSurge,
      maxUnavailable: strategy?.rollingUpdate?.maxUnavailable,
      current: counts(current),
      old: old.map(counts),
    });
    await this.scale(current, step.current);
    for (const [i, rs] of old.entries()) await this.scale(rs, step.old[i] ?? 0);
    const all = owned.flatMap((rs) => this.livePods(rs));
    const ready = all.filter(isReady).length;
    const desired = d.spec?.replicas ?? 1;
    await this.writeStatus('deployments', d, {
      replicas: all.length,
      updatedReplicas: this.livePods(current).length,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, desired - ready),
      observedGeneration: d.metadata?.generation ?? 0,
    });
  }

  private async scale(rs: k8s.V1ReplicaSet, replicas: number): Promise<void> {
    if ((rs.spec?.replicas ?? 0) === replicas) return;
    const name = rs.metadata?.name ?? '';
    await this.apps
      .patchNamespacedReplicaSet(
        { name, namespace: rs.metadata?.namespace ?? 'default', body: { spec: { replicas } } },
        merge,
      )
      .catch(ignore404);
    this.log('replicaset scaled', { replicaset: name, replicas });
  }

  private async createReplicaSet(d: k8s.V1Deployment, hash: string): Promise<void> {
    const t = structuredClone(d.spec?.template ?? {});
    t.metadata ??= {};
    t.metadata.labels = { ...(t.metadata.labels ?? {}), [podTemplateHashLabel]: hash };
    const name = `${d.metadata?.name ?? ''}-${hash}`;
    const body: k8s.V1ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: d.metadata?.namespace,
        labels: t.metadata.labels,
        ownerReferences: [ownerRef('Deployment', d)],
      },
      spec: {
        // Born empty: the next pass grows it within the surge budget.
        replicas: 0,
        selector: {
          matchLabels: { ...(d.spec?.selector.matchLabels ?? {}), [podTemplateHashLabel]: hash },
        },
        template: t,
      },
    };
    await this.apps.createNamespacedReplicaSet({ namespace: d.metadata?.namespace ?? 'default', body });
    this.log('replicaset created', { replicaset: name });
  }

  private async createPod(rs: k8s.V1ReplicaSet): Promise<void> {
    const t = rs.spec?.template ?? {};
    const name = `${rs.metadata?.name ?? ''}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const body: k8s.V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: rs.metadata?.namespace,
        labels: t.metadata?.labels,
        annotations: t.metadata?.annotations,
        ownerReferences: [ownerRef('ReplicaSet', rs)],
      },
      spec: structuredClone(t.spec ?? { containers: [] }),
    };
    this.creating.set(name, { rs: rs.metadata?.uid ?? '', at: Date.now() });
    await this.core.createNamespacedPod({ namespace: rs.metadata?.namespace ?? 'default', body });
    this.log('replicaset pod created', { replicaset: rs.metadata?.name, pod: name });
  }

  private async deletePod(p: k8s.V1Pod): Promise<void> {
    const uid = p.metadata?.uid ?? '';
    if (this.deleting.has(uid)) return;
    this.deleting.set(uid, Date.now());
    await this.core
      .deleteNamespacedPod({ name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? 'default' })
      .catch(ignore404);
    this.log('replicaset pod deleted', { pod: p.metadata?.name, node: p.spec?.nodeName });
  }

  private async writeStatus(
    plural: 'deployments' | 'replicasets',
    o: k8s.V1Deployment | k8s.V1ReplicaSet,
    status: Record<string, number>,
  ): Promise<void> {
    const old = (o.status ?? {}) as Record<string, unknown>;
    if (Object.entries(status).every(([k, v]) => (old[k] ?? 0) === v)) return;
    const args = { name: o.metadata?.name ?? '', namespace: o.metadata?.namespace ?? 'default', body: { status } };
    const write =
      plural === 'deployments'
        ? this.apps.patchNamespacedDeploymentStatus(args, merge)
        : this.apps.patchNamespacedReplicaSetStatus(args, merge);
    await write.catch(ignore404);
  }
}
