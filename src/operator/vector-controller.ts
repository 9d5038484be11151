/**
 * Vector reconcile: one Vector key in, its agent objects converged, its status written.
 *
 * Invariants:
 * - Level-triggered and idempotent: reads the Vector, its pipelines and its children from the caches, computes the
 *   desired state with plain functions (desired.ts), and converges; it never depends on which event woke it.
 * - A reconcile that changes nothing writes nothing: an object is applied only when the live one does not already
 *   contain it (`isSubset`) or when our last apply, as `managedFields` records it, set other fields than the desired
 *   object does (a field removed from the Vector); the status only when it differs; an Event only for a change this
 *   reconcile made.
 * - Cutover: fields of our objects that another operator wrote with Update (`adoptManagers`, default kaasops'
 *   `manager`) are first made ours, as client-go's csaupgrade does, so a field we do not set leaves the object. When
 *   the content is the same, only ownership changes: the template's generation stays and no agent rolls.
 * - Nothing is written when a config that would be written fails the structural check or `vector validate` in a pod
 *   (unless `spec.agent.configCheck.disabled` or --enable-configcheck-pods=false): the agents keep their last good
 *   config; the status says why.
 * - Write order: config Secrets, then the DaemonSet that mounts them, then RBAC and the Service; deletions last.
 * - With --watch-namespace, a key outside the namespace is refused before anything is read (warned once, counted in
 *   `vector_operator_reconciles_skipped_total`): nothing outside the scope is ever written or deleted.
 * - Cluster-scoped RBAC carries no owner reference (GC cannot resolve a namespaced owner), so the Vector carries the
 *   `vector-operator.kaasops.io/cleanup` finalizer; on deletion the RBAC found by its labels is deleted, then the
 *   finalizer removed. Namespaced children go by garbage collection through their owner reference.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { splitKey, type KubeObject } from '../kube/client.ts';
import { isSubset } from '../kube/diff.ts';
import { selects } from '../pipelines/build.ts';
import { toPipeline, toVector, type ControllerContext } from './controller-context.ts';
import { apiVersion, type Pipeline, type Vector, type VectorStatus } from '../pipelines/schemas.ts';
import { configPayloadText } from '../vector/config-payload.ts';
import { desiredState, type DesiredState, type Observed } from './desired.ts';
import { liveRollout, secretMode } from './live-state.ts';
import { BuildMemo } from './build-memo.ts';
import { ObjectWriter } from './object-writer.ts';
import type {} from './migration.ts';
import type { ConfigMode } from '../pipelines/modes.ts';
import { inScope, WrittenStatus, type OwnedKind } from './informers.ts';
import { OutOfScope } from './out-of-scope.ts';
import { migrationCounts } from './migration-status.ts';
import { vectorSubject } from './configcheck.ts';
import { buildable } from './pipeline-checks.ts';
import { configKey, ownerNamespaceLabel, type AgentObject } from './objects.ts';
import { vectorStatus } from './status.ts';
import { secretValuesFor } from './secret-reader.ts';
import { assetsRecord } from './secret-assets.ts';

const cleanupFinalizer = 'vector-operator.kaasops.io/cleanup';

/** The cached Vector with its apiVersion and kind, as writes to it need them. */
const typed = (obj: KubeObject): KubeObject => ({ ...obj, apiVersion: obj.apiVersion ?? apiVersion, kind: 'Vector' });

export class VectorReconciler {
  private readonly ctx: ControllerContext;
  private readonly statuses = new WrittenStatus<VectorStatus>();
  private readonly refusals: OutOfScope;
  private readonly builds = new BuildMemo();
  private readonly writer: ObjectWriter;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.writer = new ObjectWriter(ctx);
    this.refusals = new OutOfScope({
      field: 'vector',
      noun: 'Vector',
      watchNamespace: ctx.watchNamespace,
      metrics: ctx.metrics,
      log: ctx.log,
    });
  }

  /**
   * The pipelines a Vector runs: selected by it, not being deleted, valid on their own, and not refused by a
   * configcheck pod as they are now. One still being checked is used: a refusal removes it when it is recorded.
   */
  pipelinesFor(vector: Vector): Pipeline[] {
    const { caches, validator } = this.ctx;
    const out: Pipeline[] = [];
    for (const obj of [...caches.vectorPipelines.list(), ...caches.clusterPipelines.list()]) {
      const p = toPipeline(obj);
      if (selects(vector, p) && buildable(obj, p, validator, 'agent')) out.push(p);
    }
    return out;
  }

  /** Deletes the cluster-scoped RBAC of the Vector `namespace/name`, found by its labels. */
  private async deleteClusterObjects(namespace: string, name: string): Promise<void> {
    for (const kind of ['ClusterRoleBinding', 'ClusterRole'] as const) {
      for (const obj of this.ctx.caches.owned[kind].list()) {
        const labels = obj.metadata?.labels ?? {};
        if (labels['app.kubernetes.io/instance'] !== name || labels[ownerNamespaceLabel] !== namespace) continue;
        await this.ctx.applier.delete({ ...obj, apiVersion: 'rbac.authorization.k8s.io/v1', kind });
        this.ctx.written.forget(kind, obj);
        this.ctx.metrics.writes.inc({ kind, verb: 'delete' });
      }
    }
  }

  /** True (recorded) for a key outside --watch-namespace, which must not be reconciled at all. */
  private outOfScope(key: string): boolean {
    if (inScope(key, this.ctx.watchNamespace)) return false;
    this.refusals.refused(key);
    return true;
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    if (this.outOfScope(key)) return undefined;
    const obj = this.ctx.caches.vectors.get(key);
    if (obj === undefined) {
      await this.gone(key);
      return undefined;
    }
    if (await this.finalize(key, obj)) return undefined;
    const vector = toVector(obj);
    const pipelines = this.pipelinesFor(vector);
    const secrets = await secretValuesFor(this.ctx.secrets, pipelines, vector.metadata);
    const observed = this.observe(vector, obj, secrets);
    const desired = desiredState(vector, pipelines, this.ctx.flags, observed, this.builds);
    const attribution = this.ctx.attribution;
    for (const p of attribution?.store.record(key, desired.served.rejected) ?? []) attribution?.wake(p);
    const { published, checkFailure } = await this.publish(key, vector, obj, desired, observed);
    await this.writeStatus(vector, obj, desired, published, checkFailure);
    const requeue = Math.min(
      desired.plan.phase === 'Steady' ? Infinity : 30_000,
      desired.requeueAfterMs ?? Infinity,
      secrets.pollAfterMs ?? Infinity, // Secrets no watch covers: read again then
    );
    return requeue === Infinity ? undefined : { requeueAfterMs: requeue };
  }

  /** The Vector is gone from the cache: forget it, and clean up what GC cannot (removed without our finalizer). */
  private async gone(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    this.statuses.forget(key);
    this.builds.forget(key);
    for (const p of this.ctx.attribution?.store.record(key, []) ?? []) this.ctx.attribution?.wake(p);
    await this.deleteClusterObjects(namespace ?? '', name);
    this.ctx.metrics.dropVector(namespace ?? '', name);
  }

  /** The cleanup finalizer: added while the Vector lives, run and removed when it is deleted (true: deleted). */
  private async finalize(key: string, obj: KubeObject): Promise<boolean> {
    const { applier, metrics, log } = this.ctx;
    const { namespace, name } = splitKey(key);
    const vectorObj = typed(obj);
    const finalizers = obj.metadata?.finalizers ?? [];
    if (obj.metadata?.deletionTimestamp !== undefined) {
      await this.deleteClusterObjects(namespace ?? '', name);
      if (finalizers.includes(cleanupFinalizer)) {
        await applier.removeFinalizer(vectorObj, cleanupFinalizer);
        metrics.writes.inc({ kind: 'Vector', verb: 'finalizer' });
      }
      metrics.dropVector(namespace ?? '', name);
      this.builds.forget(key);
      log.info({ vector: key }, 'Vector deleted: cluster-scoped RBAC removed, namespaced objects left to GC');
      return true;
    }
    if (!finalizers.includes(cleanupFinalizer)) {
      await applier.addFinalizer(vectorObj, cleanupFinalizer);
      metrics.writes.inc({ kind: 'Vector', verb: 'finalizer' });
    }
    return false;
  }

  /** What the cluster shows of the Vector's objects, as desiredState takes it. */
  private observe(vector: Vector, obj: KubeObject, secrets: Awaited<ReturnType<typeof secretValuesFor>>): Observed {
    const { namespace, name } = vector.metadata;
    const agentName = `${name}-agent`;
    const probe = (kind: OwnedKind, n: string): KubeObject => ({ kind, metadata: { name: n, namespace } });
    return {
      daemonSet: this.writer.live('DaemonSet', probe('DaemonSet', agentName)),
      secrets: {
        agent: this.writer.live('Secret', probe('Secret', agentName)),
        opt: this.writer.live('Secret', probe('Secret', `${agentName}-opt`)),
      },
      ...globalsRecord(this.statuses.live(obj)),
      ...secrets,
      ...assetsRecord(
        (n) => this.writer.live('Secret', probe('Secret', n)) as V1Secret | undefined,
        agentName,
        this.statuses.live(obj)?.lastConfigPublishedAt,
        this.ctx.now?.() ?? new Date().toISOString(),
      ),
    } as Observed;
  }

  /**
   * Applies the desired objects when they pass the structural check and the configcheck pod: assets first, then
   * configs, the DaemonSet and the rest, deletions last. Otherwise writes nothing and says why (Event, log).
   */
  private async publish(
    key: string,
    vector: Vector,
    obj: KubeObject,
    desired: DesiredState,
    observed: Observed,
  ): Promise<{ published: boolean; checkFailure: string | undefined }> {
    const { metrics, log } = this.ctx;
    const { namespace, name } = vector.metadata;
    let published = false;
    const checkFailure = desired.ok
      ? await this.configCheck(vector, desired.objects, desired.assets[0]?.data ?? {})
      : undefined;
    if (desired.ok && checkFailure !== undefined) {
      if (this.statuses.live(obj)?.reason !== `configcheck: ${checkFailure}`) {
        await this.event(vector, 'Warning', 'ConfigCheckFailed', checkFailure);
        log.warn({ vector: key, reason: checkFailure }, 'config not published: the configcheck pod refused it');
      }
    } else if (desired.ok) {
      const live = liveRollout(vector, observed.daemonSet);
      const before = live === undefined ? undefined : secretMode(observed.secrets[live.mount]);
      // Values before the configs that name them: a pod (re)starting in between finds every key it needs.
      for (const a of desired.assets) await this.writer.ensure(a);
      for (const o of desired.objects) {
        const wrote = await this.writer.ensure(o);
        if (wrote && o.kind === 'Secret') published = true;
      }
      for (const d of desired.deletions) await this.writer.ensureAbsent(d);
      await this.announce(vector, desired, before);
      const summary = desired.served.optimization;
      if (summary.collapsedSources > 0)
        log.debug(
          { vector: key, sources: summary.collapsedSources, optimizedSources: summary.groups.length },
          'Sources optimization collapsed kubernetes_logs sources',
        );
      metrics.collapsedSources.set({ namespace, vector: name }, summary.collapsedSources);
      metrics.optimizedSources.set({ namespace, vector: name }, summary.groups.length);
    } else if ((obj.status as VectorStatus | undefined)?.configCheckResult !== false) {
      await this.event(vector, 'Warning', 'InvalidConfig', desired.problems.join('; '));
      log.warn({ vector: key, problems: desired.problems }, 'config not published: it fails the structural check');
    }
    return { published, checkFailure };
  }

  /** The status (and the nodes gauge), written only when it differs from the live one. */
  private async writeStatus(
    vector: Vector,
    obj: KubeObject,
    desired: DesiredState,
    published: boolean,
    checkFailure: string | undefined,
  ): Promise<void> {
    const { caches, applier, flags, metrics } = this.ctx;
    const { namespace, name } = vector.metadata;
    const pods = caches.owned.Pod.list().filter(
      (p) => p.metadata?.namespace === namespace && p.metadata.labels?.['app.kubernetes.io/instance'] === name,
    );
    const withMigration = flags.migration || desired.plan.opt === 'legacy' || desired.plan.opt === 'optimized';
    const counts = withMigration ? migrationCounts(pods) : undefined;
    if (counts !== undefined) {
      metrics.nodes.set({ namespace, vector: name, state: 'migrated' }, counts.nodesMigrated);
      metrics.nodes.set({ namespace, vector: name, state: 'pending' }, counts.nodesPending);
      metrics.nodes.set({ namespace, vector: name, state: 'failed' }, counts.nodesFailed);
    }
    const mountedJson = desired.ok && checkFailure === undefined ? desired.mountedJson : undefined;
    const liveStatus = this.statuses.live(obj);
    const status = vectorStatus(
      {
        desired,
        generation: obj.metadata?.generation,
        migrationFlag: flags.migration,
        counts,
        mountedJson,
        published,
        ...(checkFailure === undefined ? {} : { checkFailure }),
      },
      liveStatus,
      this.ctx.now?.() ?? new Date().toISOString(),
    );
    const patch: Record<string, unknown> = { ...status };
    for (const k of ['migration', 'optimization', 'LastAppliedConfigHash'] as const) {
      if (liveStatus?.[k] !== undefined && status[k] === undefined) patch[k] = null;
    }
    const stale = Object.keys(patch).some((k) => patch[k] === null);
    if (stale || !isSubset(status, liveStatus ?? {})) {
      await applier.patchStatus(typed(obj), patch);
      this.statuses.remember(obj, patch);
      metrics.writes.inc({ kind: 'Vector', verb: 'status' });
    }
  }

  /**
   * Runs the configcheck pod on each config Secret this reconcile would change (both modes: pods not yet rolled
   * live-reload the standby too). Undefined when every one passes, or when pod checks are off.
   */
  private async configCheck(
    vector: Vector,
    objects: readonly AgentObject[],
    assets: Readonly<Record<string, string>>,
  ): Promise<string | undefined> {
    const checker = this.ctx.checker;
    if (checker === undefined || vector.spec.agent?.configCheck?.disabled === true) return undefined;
    for (const o of objects) {
      if (o.kind !== 'Secret') continue;
      if (this.writer.upToDate(o, this.writer.live('Secret', o as KubeObject))) continue;
      const json = decode((o as V1Secret).data?.[configKey]) ?? '';
      const outcome = await checker.check(vectorSubject(vector), json, assets);
      if (outcome.result === 'invalid') return `${o.metadata?.name ?? ''}: ${outcome.reason}`;
      // Not checked (timeout, pod gone): fail the reconcile so the queue retries with backoff; status says why.
      if (outcome.result === 'error') throw new Error(`configcheck of ${o.metadata?.name ?? ''}: ${outcome.reason}`);
    }
    return undefined;
  }

  /** The Event of a step that switched the config mode or rolled the agents for a rename (once: the next plan stays). */
  private async announce(vector: Vector, desired: DesiredState, before: ConfigMode | undefined): Promise<void> {
    const { flags, log } = this.ctx;
    const key = `${vector.metadata.namespace}/${vector.metadata.name}`;
    const plan = desired.plan;
    const secret = desired.objects[0]?.metadata?.name ?? '';
    const modeSwitch = before !== undefined && before !== plan.servedMode;
    if (plan.roll === 'rename') {
      const reason = modeSwitch ? 'ConfigModeSwitch' : 'SourcesRenamed';
      const from = modeSwitch ? `agent config switched from ${before} to ${plan.servedMode}; ` : '';
      await this.event(vector, 'Normal', reason, `${from}agents roll to Secret ${secret}, ${plan.message}`);
      log.info({ vector: key, secret, renamed: desired.renamed, from: before, to: plan.servedMode }, 'agents roll');
    } else if (modeSwitch) {
      const msg =
        `agent config switched from ${before} to ${plan.servedMode} (Secret ${secret}); ` +
        (flags.migration
          ? 'no source renames, so the agents live-reload it'
          : 'checkpoint migration is off: agents re-read retained logs under the new source names');
      await this.event(vector, 'Normal', 'ConfigModeSwitch', msg);
      log.info({ vector: key, from: before, to: plan.servedMode }, 'config mode switch');
    }
  }

  private async event(vector: Vector, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    try {
      await this.ctx.events.record(vector, type, reason, message);
      this.ctx.metrics.writes.inc({ kind: 'Event', verb: 'create' });
    } catch (err) {
      this.ctx.log.warn({ err, reason }, 'could not record an Event');
    }
  }
}

/** The recorded hash of the global options, as `Observed` takes it (absent before any was recorded). */
function globalsRecord(status: VectorStatus | undefined): { globalConfigHash?: number } {
  const h = status?.LastAppliedGlobalConfigHash;
  return h === undefined ? {} : { globalConfigHash: h };
}

function decode(b64: string | undefined): string | undefined {
  if (b64 === undefined) return undefined;
  return configPayloadText(Buffer.from(b64, 'base64'));
}
