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
import { objectKey, splitKey, type KubeObject } from '../kube/client.ts';
import type { Applier } from '../kube/apply.ts';
import { isSubset } from '../kube/diff.ts';
import { ownershipUpgradePatch } from '../kube/csa-upgrade.ts';
import { appliedFields, managedFieldsOf, sameFieldSet } from '../kube/managed-fields.ts';
import { selects } from '../pipelines/build.ts';
import { cachedPipelineHash } from '../pipelines/pipeline-hash.ts';
import type { Pipeline, PipelineStatus, Vector, VectorStatus } from '../pipelines/schemas.ts';
import { configPayloadText } from '../vector/config-payload.ts';
import {
  desiredState,
  liveRollout,
  secretMode,
  type DesiredState,
  type ObjectRef,
  type OperatorFlags,
} from './desired.ts';
import { BuildMemo } from './build-memo.ts';
import type { ConfigMode } from './migration.ts';
import type { ConfigChecker } from './configcheck.ts';
import type { EventSink } from './events.ts';
import { inScope, WrittenStatus, type Informers, type OwnedKind, type WrittenObjects } from './informers.ts';
import type { OperatorMetrics } from './metrics.ts';
import { migrationCounts } from './migration-status.ts';
import { checkFailedFor } from './pipeline-checks.ts';
import { configKey, ownerNamespaceLabel, type AgentObject } from './objects.ts';
import { vectorStatus } from './status.ts';
import type { PipelineValidator } from './validate.ts';
import { secretValuesFor, type SecretReader } from './secret-reader.ts';
import { assetsRecord } from './secret-assets.ts';
import type { SecretAttribution } from './secret-attribution.ts';

const cleanupFinalizer = 'vector-operator.kaasops.io/cleanup';

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface ControllerContext {
  informers: Informers;
  applier: Applier;
  flags: OperatorFlags;
  validator: PipelineValidator;
  written: WrittenObjects;
  events: EventSink;
  metrics: OperatorMetrics;
  log: Logger;
  now?: () => string;
  /** Set with --enable-configcheck-pods (the default): `vector validate` in a pod, per Vector and per pipeline. */
  checker?: ConfigChecker;
  /** --enable-reconciliation-invalid-pipelines: re-check invalid pipelines on every trigger, and retry them. */
  recheckInvalid?: boolean;
  /** --reconciliation-retry-delay (default 30 s). */
  retryDelayMs?: number;
  /** Set with --watch-namespace: keys outside it are never reconciled. */
  watchNamespace?: string;
  /** Managers whose Update-owned fields on our objects become ours before we apply (a cutover from kaasops). */
  adoptManagers?: readonly string[];
  /** Reads the Secrets pipelines reference (secret-reader.ts); without it no Secret exists. */
  secrets?: SecretReader;
  /** Pipelines a Vector build left out for a secret reason, and how to reconcile one again (secret-attribution.ts). */
  attribution?: { store: SecretAttribution; wake: (pipelineKey: string) => void };
}

export function toVector(obj: KubeObject): Vector {
  return {
    kind: 'Vector',
    metadata: obj.metadata as Vector['metadata'],
    spec: obj.spec ?? {},
  };
}

export function toPipeline(obj: KubeObject): Pipeline {
  return {
    kind: obj.kind === 'ClusterVectorPipeline' ? 'ClusterVectorPipeline' : 'VectorPipeline',
    metadata: obj.metadata as Pipeline['metadata'],
    spec: obj.spec ?? {},
  };
}

const ownedKinds = new Set<string>([
  'DaemonSet',
  'Secret',
  'ServiceAccount',
  'Service',
  'ClusterRole',
  'ClusterRoleBinding',
  'PodMonitor',
]);

export class VectorReconciler {
  private readonly ctx: ControllerContext;
  private readonly statuses = new WrittenStatus<VectorStatus>();
  private readonly warnedOutOfScope = new Set<string>();
  private readonly builds = new BuildMemo();

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  /**
   * The pipelines a Vector runs: selected by it, not being deleted, valid on their own, and not refused by a
   * configcheck pod as they are now. One still being checked is used: a refusal removes it when it is recorded.
   */
  pipelinesFor(vector: Vector): Pipeline[] {
    const { informers, validator } = this.ctx;
    const out: Pipeline[] = [];
    for (const obj of [...informers.vectorPipelines.list(), ...informers.clusterPipelines.list()]) {
      if (obj.metadata?.deletionTimestamp !== undefined) continue;
      const p = toPipeline(obj);
      if (!selects(vector, p)) continue;
      const verdict = validator.verdict(p);
      if (!verdict.valid || verdict.role !== 'agent') continue;
      const status = obj.status as PipelineStatus | undefined;
      if (
        status?.configCheckResult === false &&
        checkFailedFor(status, cachedPipelineHash(p), obj.metadata?.generation)
      )
        continue;
      out.push(p);
    }
    return out;
  }

  private live(kind: string, desired: KubeObject): KubeObject | undefined {
    const reflector = ownedKinds.has(kind) ? this.ctx.informers.owned[kind as OwnedKind] : undefined;
    return this.ctx.written.live(kind, reflector?.get(objectKey(desired)), desired);
  }

  /**
   * Whether `live` needs no apply of `o`: it holds every desired value, and our last apply (its managedFields)
   * recorded exactly the fields `o` sets. A field dropped from the Vector is still in that record, so the apply that
   * removes it is sent; a reconcile that changes nothing still writes nothing.
   */
  private upToDate(o: AgentObject, live: KubeObject | undefined): boolean {
    if (live === undefined || !isSubset(o, live)) return false;
    const applied = appliedFields(live, this.ctx.applier.fieldManager);
    return applied !== undefined && sameFieldSet(o, applied);
  }

  /**
   * Folds the fields that `adoptManagers` wrote with Update into our Apply entry (one JSON patch, locked by the
   * resourceVersion read), so that our next apply owns and can drop them. Returns the object as it now is.
   */
  private async adopt(kind: string, live: KubeObject): Promise<KubeObject> {
    const { applier, adoptManagers = [], log, metrics } = this.ctx;
    const ops = ownershipUpgradePatch(live, adoptManagers, applier.fieldManager);
    if (ops === undefined) return live;
    const from = managedFieldsOf(live)
      .filter((e) => e.operation === 'Update' && adoptManagers.includes(e.manager ?? ''))
      .map((e) => e.manager);
    const stored = await applier.jsonPatch({ ...live, kind }, ops);
    this.ctx.written.remember(kind, stored);
    metrics.writes.inc({ kind, verb: 'adopt' });
    log.info(
      { kind, object: objectKey(live), from: [...new Set(from)], fieldManager: applier.fieldManager },
      'took ownership of fields another field manager wrote (cutover): fields we no longer set will be removed',
    );
    return stored;
  }

  /** Applies `o` unless the live object is up to date with it; true when it wrote. */
  private async ensure(o: AgentObject): Promise<boolean> {
    const kind = o.kind ?? '';
    const cached = this.live(kind, o as KubeObject);
    const live = cached === undefined ? undefined : await this.adopt(kind, cached);
    if (this.upToDate(o, live)) return false;
    const stored = await this.ctx.applier.apply(o as KubeObject);
    this.ctx.written.remember(kind, stored);
    this.ctx.metrics.writes.inc({ kind, verb: 'apply' });
    return true;
  }

  private async ensureAbsent(ref: ObjectRef): Promise<void> {
    const obj: KubeObject = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }) },
    };
    if (this.live(ref.kind, obj) === undefined) return;
    await this.ctx.applier.delete(obj);
    this.ctx.written.forget(ref.kind, obj);
    this.ctx.metrics.writes.inc({ kind: ref.kind, verb: 'delete' });
  }

  /** Deletes the cluster-scoped RBAC of the Vector `namespace/name`, found by its labels. */
  private async deleteClusterObjects(namespace: string, name: string): Promise<void> {
    for (const kind of ['ClusterRoleBinding', 'ClusterRole'] as const) {
      for (const obj of this.ctx.informers.owned[kind].list()) {
        const labels = obj.metadata?.labels ?? {};
        if (labels['app.kubernetes.io/instance'] !== name || labels[ownerNamespaceLabel] !== namespace) continue;
        await this.ctx.applier.delete({ ...obj, apiVersion: 'rbac.authorization.k8s.io/v1', kind });
        this.ctx.written.forget(kind, obj);
        this.ctx.metrics.writes.inc({ kind, verb: 'delete' });
      }
    }
  }

  /** True (warned once, counted) for a key outside --watch-namespace, which must not be reconciled at all. */
  private outOfScope(key: string): boolean {
    if (inScope(key, this.ctx.watchNamespace)) return false;
    // A Vector the scoped cache cannot see would look deleted, and the "deleted" path deletes its RBAC.
    this.ctx.metrics.skipped.inc({ reason: 'out-of-scope' });
    if (!this.warnedOutOfScope.has(key)) {
      this.warnedOutOfScope.add(key);
      this.ctx.log.warn(
        { vector: key, watchNamespace: this.ctx.watchNamespace },
        'Vector outside --watch-namespace: skipped, nothing of it is written or deleted',
      );
    }
    return true;
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const { informers, applier, flags, metrics, log } = this.ctx;
    if (this.outOfScope(key)) return undefined;
    const obj = informers.vectors.get(key);
    const { namespace, name } = splitKey(key);
    if (obj === undefined) {
      this.statuses.forget(key);
      this.builds.forget(key);
      for (const p of this.ctx.attribution?.store.record(key, []) ?? []) this.ctx.attribution?.wake(p);
      // Gone without our finalizer (e.g. removed by hand): still clean up what GC cannot.
      await this.deleteClusterObjects(namespace ?? '', name);
      metrics.dropVector(namespace ?? '', name);
      return undefined;
    }
    const vectorObj: KubeObject = {
      ...obj,
      apiVersion: obj.apiVersion ?? 'observability.kaasops.io/v1alpha1',
      kind: 'Vector',
    };
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
      return undefined;
    }
    if (!finalizers.includes(cleanupFinalizer)) {
      await applier.addFinalizer(vectorObj, cleanupFinalizer);
      metrics.writes.inc({ kind: 'Vector', verb: 'finalizer' });
    }

    const vector = toVector(obj);
    const pipelines = this.pipelinesFor(vector);
    const agentName = `${name}-agent`;
    const probe = (kind: OwnedKind, n: string): KubeObject => ({ kind, metadata: { name: n, namespace } });
    const secrets = await secretValuesFor(this.ctx.secrets, pipelines, vector.metadata);
    const observed = {
      daemonSet: this.live('DaemonSet', probe('DaemonSet', agentName)),
      secrets: {
        agent: this.live('Secret', probe('Secret', agentName)),
        opt: this.live('Secret', probe('Secret', `${agentName}-opt`)),
      },
      ...globalsRecord(this.statuses.live(obj)),
      ...secrets,
      ...assetsRecord(
        (n) => this.live('Secret', probe('Secret', n)) as V1Secret | undefined,
        agentName,
        this.statuses.live(obj)?.lastConfigPublishedAt,
        this.ctx.now?.() ?? new Date().toISOString(),
      ),
    } as Parameters<typeof desiredState>[3];
    const desired = desiredState(vector, pipelines, flags, observed, this.builds);
    const attribution = this.ctx.attribution;
    for (const p of attribution?.store.record(key, desired.served.rejected) ?? []) attribution?.wake(p);

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
      for (const a of desired.assets) await this.ensure(a);
      for (const o of desired.objects) {
        const wrote = await this.ensure(o);
        if (wrote && o.kind === 'Secret') published = true;
      }
      for (const d of desired.deletions) await this.ensureAbsent(d);
      await this.announce(vector, desired, before);
      const summary = desired.served.optimization;
      if (summary.collapsedSources > 0)
        log.debug(
          { vector: key, sources: summary.collapsedSources, optimizedSources: summary.groups.length },
          'Sources optimization collapsed kubernetes_logs sources',
        );
      metrics.collapsedSources.set({ namespace: namespace ?? '', vector: name }, summary.collapsedSources);
      metrics.optimizedSources.set({ namespace: namespace ?? '', vector: name }, summary.groups.length);
    } else if ((obj.status as VectorStatus | undefined)?.configCheckResult !== false) {
      await this.event(vector, 'Warning', 'InvalidConfig', desired.problems.join('; '));
      log.warn({ vector: key, problems: desired.problems }, 'config not published: it fails the structural check');
    }

    const pods = informers.owned.Pod.list().filter(
      (p) => p.metadata?.namespace === namespace && p.metadata?.labels?.['app.kubernetes.io/instance'] === name,
    );
    const withMigration = flags.migration || desired.plan.opt === 'legacy' || desired.plan.opt === 'optimized';
    const counts = withMigration ? migrationCounts(pods) : undefined;
    if (counts !== undefined) {
      for (const state of ['migrated', 'pending', 'failed'] as const) {
        const n =
          state === 'migrated' ? counts.nodesMigrated : state === 'pending' ? counts.nodesPending : counts.nodesFailed;
        metrics.nodes.set({ namespace: namespace ?? '', vector: name, state }, n);
      }
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
      await applier.patchStatus(vectorObj, patch);
      this.statuses.remember(obj, patch);
      metrics.writes.inc({ kind: 'Vector', verb: 'status' });
    }
    const requeue = Math.min(
      desired.plan.phase === 'Steady' ? Infinity : 30_000,
      desired.requeueAfterMs ?? Infinity,
      secrets.pollAfterMs ?? Infinity, // Secrets no watch covers: read again then
    );
    return requeue === Infinity ? undefined : { requeueAfterMs: requeue };
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
      if (this.upToDate(o, this.live('Secret', o as KubeObject))) continue;
      const json = decode((o as V1Secret).data?.[configKey]) ?? '';
      const outcome = await checker.check(vector, json, assets);
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
