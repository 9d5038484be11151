/**
 * Aggregator reconcile: one VectorAggregator or ClusterVectorAggregator key in, its objects converged
 * (aggregator-objects.ts), its status written.
 *
 * Invariants:
 * - Level-triggered and idempotent: reads the aggregator, the pipelines and its objects from the caches, computes
 *   the desired objects with plain functions, and converges; it never depends on which event woke it.
 * - A reconcile that changes nothing writes nothing: an object is applied (server-side, the Applier shared with the
 *   agents) only when the live one does not hold it (`isSubset`) or our last apply set other fields; the status only
 *   when it differs.
 * - Nothing is written when the config fails the structural check, its configcheck pod refuses it (a changed config,
 *   unless `configCheck.disabled`; the pod runs as for agents, configcheck.ts), or an object cannot be built (a claim
 *   template without `data`, a ClusterVectorAggregator without `resourceNamespace`): the status says why, and the
 *   running aggregator keeps its last good config. Pipelines a check pod refused on their own are left out.
 * - Write order as kaasops: config Secret, workload, RBAC, Services, PodMonitor, event collector, HPA, PDB; then
 *   deletions of what is no longer desired among the objects that name this aggregator in an owner reference (the
 *   other workload kind, Services of removed pipelines, the HPA, PDB, PodMonitor, the event collector's objects once
 *   no pipeline has `kubernetes_events`, everything left in a former `resourceNamespace`). kaasops sent 6 DELETEs
 *   for the event collector on every reconcile; here only objects the caches hold are deleted.
 * - A VectorAggregator carries the `vector-operator.kaasops.io/cleanup` finalizer, because its cluster-scoped RBAC has
 *   no owner reference; on deletion that RBAC (found by labels) is deleted, then the finalizer removed. Everything
 *   else goes by garbage collection through owner references.
 * - Pipelines rejected by the build (a port clash, a bad Service name) are left out and named in `status.reason`,
 *   and each gets the reason on its own status (`attribute`); the others are published.
 * - A change of the global options (`expireMetricsSecs`) restarts the aggregator pods once (globals.ts).
 * - With --watch-namespace, a key out of scope (`AggregatorScope`) is refused before anything is read or written:
 *   the scoped caches cannot see that aggregator, and the "deleted" path would delete its RBAC.
 * - Cutover: fields of our objects that kaasops wrote with Update (`adoptManagers`) are first made ours, as the agent
 *   controller does, so a field we do not set leaves the object; same content, same pod template: nothing rolls.
 */
import { crc32 } from 'node:zlib';
import type { V1Secret } from '@kubernetes/client-node';
import { objectKey, type KubeObject } from '../kube/client.ts';
import type { Applier } from '../kube/apply.ts';
import { ownershipUpgradePatch } from '../kube/csa-upgrade.ts';
import { isSubset } from '../kube/diff.ts';
import { appliedFields, sameFieldSet } from '../kube/managed-fields.ts';
import {
  aggregatorName,
  buildAggregatorConfig,
  describeAggregator,
  type AggregatorBuild,
} from '../pipelines/aggregator-build.ts';
import type { Aggregator } from '../pipelines/aggregator-schemas.ts';
import { describeRejection, type Rejection } from '../pipelines/pipeline.ts';
import type { Pipeline, VectorStatus } from '../pipelines/schemas.ts';
import { serializeConfig } from '../pipelines/serialize.ts';
import { validateConfigGraph } from '../vector/graph.ts';
import type { AggregatorCaches, AggregatorScope } from './aggregator-informers.ts';
import {
  aggregatorConfigKey,
  aggregatorNamespace,
  aggregatorAssetsObjectBytes,
  aggregatorObjects,
  type AggregatorObject,
} from './aggregator-objects.ts';
import { assetsSecretName, bridgedAssets } from './secret-assets.ts';
import { secretValuesFor, type SecretReader } from './secret-reader.ts';
import { attributedReason, type SecretAttribution } from './secret-attribution.ts';
import { globalConfigHash, restartedAtAnnotation, restartStamp } from './globals.ts';
import { WrittenObjects, WrittenStatus } from './informers.ts';
import type { OperatorMetrics } from './metrics.ts';
import { ownerNamespaceLabel } from './objects.ts';
import { buildable, buildFailedReason, checkSubject, type Checker } from './pipeline-checks.ts';
import type { PipelineValidator } from './validate.ts';
import type { Logger } from './controller-context.ts';

const cleanupFinalizer = 'vector-operator.kaasops.io/cleanup';

export interface AggregatorContext {
  caches: AggregatorCaches;
  /** The pipelines' caches (the agent controller's). */
  pipelines: () => KubeObject[];
  applier: Applier;
  validator: PipelineValidator;
  /** `vector validate` in a pod before a changed config is published (--enable-configcheck-pods). */
  checker?: Checker;
  podMonitor: boolean;
  /** --watch-namespace: the keys this operator may reconcile; undefined for the whole cluster. */
  scope?: AggregatorScope;
  /** Reads the Secrets aggregator pipelines reference (secret-reader.ts); without it no Secret exists. */
  secrets?: SecretReader;
  /** Where pipelines left out for a secret reason are recorded, and how to reconcile one again (shared with Vectors). */
  attribution?: { store: SecretAttribution; wake: (pipelineKey: string) => void };
  /** The assets prune grace (kaasops' 90 s when absent; tests shorten it). */
  assetsPruneGraceMs?: number;
  /** Managers whose Update-owned fields on our objects become ours before we apply (kaasops' `manager`). */
  adoptManagers: readonly string[];
  metrics: OperatorMetrics;
  log: Logger;
  now?: () => string;
}

/** What a reconcile would publish: the objects, or the problems that stop it. */
type Desire = { build: AggregatorBuild; json: string } & (
  | { objects: AggregatorObject[]; requeueAfterMs: number | undefined; poll: number | undefined; problems?: never }
  | { objects?: never; problems: string[] }
);

type Status = Pick<
  VectorStatus,
  'configCheckResult' | 'reason' | 'LastAppliedConfigHash' | 'LastAppliedGlobalConfigHash' | 'lastConfigPublishedAt'
> & { observedGeneration?: number };

export function toAggregator(obj: KubeObject, kind: Aggregator['kind']): Aggregator {
  return { kind, metadata: obj.metadata as Aggregator['metadata'], spec: obj.spec ?? {} };
}

function toPipeline(obj: KubeObject, kind: Pipeline['kind']): Pipeline {
  return { kind, metadata: obj.metadata as Pipeline['metadata'], spec: obj.spec ?? {} };
}

export class AggregatorReconciler {
  private readonly ctx: AggregatorContext;
  private readonly written = new WrittenObjects();
  private readonly statuses = new WrittenStatus<Status>();

  constructor(ctx: AggregatorContext) {
    this.ctx = ctx;
  }

  /**
   * Valid aggregator-role pipelines, not being deleted, and not refused by their own configcheck pod as they are now
   * (as for Vectors): the build selects among them.
   */
  private pipelines(): Pipeline[] {
    const out: Pipeline[] = [];
    for (const obj of this.ctx.pipelines()) {
      const p = toPipeline(obj, obj.metadata?.namespace === undefined ? 'ClusterVectorPipeline' : 'VectorPipeline');
      if (buildable(obj, p, this.ctx.validator, 'aggregator')) out.push(p);
    }
    return out;
  }

  /**
   * The workload check, as kaasops runs it (unless `configCheck.disabled`): `vector validate` in a pod when the config
   * Secret would change. The refusal's text, or undefined to publish. An unchanged config is never checked twice
   * (the checker memoises outcomes), so a refused config does not start a pod on every owned-object event, as in
   * kaasops (trap T14). A check that could not conclude throws: the queue retries with backoff.
   */
  private async configCheck(
    agg: Aggregator,
    objects: readonly AggregatorObject[],
    json: string,
    build: AggregatorBuild,
  ): Promise<string | undefined> {
    const checker = this.ctx.checker;
    if (checker === undefined || agg.spec.configCheck?.disabled === true) return undefined;
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata?.name === aggregatorName(agg));
    if (secret === undefined) return undefined;
    const live = this.live('Secret', secret as KubeObject) as { data?: Record<string, string> } | undefined;
    if (live !== undefined && isSubset((secret as { data?: unknown }).data ?? {}, live.data ?? {})) return undefined;
    // The values the config names, beside it in the pod, as the aggregator mounts them.
    const assets: Record<string, string> = {};
    for (const [k, v] of build.secretAssets) assets[k] = Buffer.from(v).toString('base64');
    const outcome = await checker.check(checkSubject({ kind: 'aggregator', aggregator: agg }), json, assets);
    if (outcome.result === 'valid') return undefined;
    if (outcome.result === 'invalid') return outcome.reason;
    throw new Error(`configcheck of ${describeAggregator(agg)}: ${outcome.reason}`);
  }

  private live(kind: string, o: KubeObject): KubeObject | undefined {
    const r = this.ctx.caches.owned[kind as keyof AggregatorCaches['owned']];
    return this.written.live(kind, r?.get(objectKey(o)), o);
  }

  /**
   * Folds the fields `adoptManagers` wrote with Update into our apply entry (as the agent controller does), so that
   * our next apply drops those we no longer set; a cutover from kaasops leaves no field behind.
   */
  private async adopt(kind: string, live: KubeObject): Promise<KubeObject> {
    const { applier, adoptManagers } = this.ctx;
    const ops = ownershipUpgradePatch(live, adoptManagers, applier.fieldManager);
    if (ops === undefined) return live;
    const stored = await applier.jsonPatch({ ...live, kind }, ops);
    this.written.remember(kind, stored);
    this.ctx.metrics.writes.inc({ kind, verb: 'adopt' });
    return stored;
  }

  private async ensure(o: AggregatorObject): Promise<boolean> {
    const kind = o.kind ?? '';
    const cached = this.live(kind, o as KubeObject);
    const live = cached === undefined ? undefined : await this.adopt(kind, cached);
    if (live !== undefined && isSubset(o, live)) {
      const applied = appliedFields(live, this.ctx.applier.fieldManager);
      if (applied !== undefined && sameFieldSet(o, applied)) return false;
    }
    const stored = await this.ctx.applier.apply(o as KubeObject);
    this.written.remember(kind, stored);
    this.ctx.metrics.writes.inc({ kind, verb: 'apply' });
    return true;
  }

  private async remove(kind: string, obj: KubeObject): Promise<void> {
    await this.ctx.applier.delete({ ...obj, kind });
    this.written.forget(kind, obj);
    this.ctx.metrics.writes.inc({ kind, verb: 'delete' });
  }

  /**
   * Objects in the caches whose owner reference names this aggregator's uid, by kind, plus a VectorAggregator's
   * cluster-scoped RBAC (by its instance and owner-namespace labels): what the deletion sweep looks at. By uid, not
   * by labels: a VectorAggregator and a ClusterVectorAggregator of one name share labels, and a
   * ClusterVectorAggregator's objects left in a former `resourceNamespace` are found too. So an event collector whose
   * last `kubernetes_events` pipeline went is deleted object by object, and only what the caches hold.
   */
  private ownedBy(agg: Aggregator): { kind: string; obj: KubeObject }[] {
    const uid = agg.metadata.uid;
    if (uid === undefined) return [];
    const { name, namespace } = agg.metadata;
    // A VectorAggregator's cluster-scoped RBAC has no owner reference: its labels name it.
    const clusterOwned = (obj: KubeObject): boolean =>
      agg.kind === 'VectorAggregator' &&
      obj.metadata?.labels?.['app.kubernetes.io/instance'] === name &&
      obj.metadata.labels[ownerNamespaceLabel] === namespace;
    const out: { kind: string; obj: KubeObject }[] = [];
    for (const [kind, r] of Object.entries(this.ctx.caches.owned))
      for (const obj of r.list())
        if (obj.metadata?.ownerReferences?.some((o) => o.uid === uid) === true || clusterOwned(obj))
          out.push({ kind, obj });
    return out;
  }

  /** Deletes the cluster-scoped RBAC of VectorAggregator `ns/name`, found by its labels. */
  private async deleteClusterObjects(ns: string, name: string): Promise<void> {
    for (const kind of ['ClusterRoleBinding', 'ClusterRole'] as const)
      for (const obj of this.ctx.caches.owned[kind]?.list() ?? []) {
        const labels = obj.metadata?.labels ?? {};
        if (labels['app.kubernetes.io/instance'] === name && labels[ownerNamespaceLabel] === ns)
          await this.remove(kind, { ...obj, apiVersion: 'rbac.authorization.k8s.io/v1' });
      }
  }

  async reconcile(key: string): Promise<{ requeueAfterMs: number } | undefined> {
    if (this.ctx.scope?.refuse(key) === true) return undefined;
    const [kind, ...rest] = key.split('/') as [Aggregator['kind'], ...string[]];
    const objKey = rest.join('/');
    const cache = kind === 'VectorAggregator' ? this.ctx.caches.vectorAggregators : this.ctx.caches.clusterAggregators;
    const obj = cache.get(objKey);
    const [ns, name] = kind === 'VectorAggregator' ? [rest[0] ?? '', rest[1] ?? ''] : ['', rest[0] ?? ''];
    if (obj === undefined) {
      this.statuses.forget(objKey);
      this.attribute(key, undefined, []);
      if (kind === 'VectorAggregator') await this.deleteClusterObjects(ns, name);
      return undefined;
    }
    const self: KubeObject = { ...obj, apiVersion: 'observability.kaasops.io/v1alpha1', kind };
    if (kind === 'VectorAggregator') {
      const finalizers = obj.metadata?.finalizers ?? [];
      if (obj.metadata?.deletionTimestamp !== undefined) {
        await this.deleteClusterObjects(ns, name);
        await this.ctx.applier.removeFinalizer(self, cleanupFinalizer);
        return undefined;
      }
      if (!finalizers.includes(cleanupFinalizer)) await this.ctx.applier.addFinalizer(self, cleanupFinalizer);
    } else if (obj.metadata?.deletionTimestamp !== undefined) return undefined;
    const after = await this.converge(key, toAggregator(obj, kind), obj);
    return after === undefined ? undefined : { requeueAfterMs: after };
  }

  /**
   * The build, and the desired objects with the assets Secret bridged as for agents (secret-assets.ts): keys the new
   * config no longer names stay until the config is unchanged and 90 s have passed since it was published.
   */
  private async desire(agg: Aggregator, obj: KubeObject): Promise<Desire> {
    const pipelines = this.pipelines();
    const ns = aggregatorNamespace(agg);
    const read = await secretValuesFor(this.ctx.secrets, pipelines, { namespace: ns, name: agg.metadata.name });
    const assetsObjectBytes = aggregatorAssetsObjectBytes(agg);
    const build = buildAggregatorConfig(agg, pipelines, {
      assetsObjectBytes,
      ...(read.secretValues === undefined ? {} : { secrets: read.secretValues }),
    });
    const problems = validateConfigGraph(build.config).map((p) => `${p.kind}.${p.component}: ${p.message}`);
    const json = serializeConfig(build.config);
    if (problems.length > 0) return { build, json, problems };
    const opts = { podMonitor: this.ctx.podMonitor };
    const exact = aggregatorObjects(agg, build, opts);
    if (!exact.ok) return { build, json, problems: exact.problems };
    const name = aggregatorName(agg);
    const probe = (n: string): KubeObject => ({ kind: 'Secret', metadata: { name: n, namespace: ns } });
    const liveOf = (n: string) => this.live('Secret', probe(n)) as { data?: Record<string, string> } | undefined;
    const config = exact.objects.find((o) => o.kind === 'Secret' && o.metadata?.name === name) as V1Secret;
    const since = Date.parse(this.now()) - Date.parse(this.statuses.live(obj)?.lastConfigPublishedAt ?? '');
    const bridge = bridgedAssets(
      build.secretAssets,
      liveOf(assetsSecretName(name))?.data ?? {},
      {
        configUnchanged: liveOf(name)?.data?.[aggregatorConfigKey] === config.data?.[aggregatorConfigKey],
        sincePublishedMs: Number.isNaN(since) ? undefined : Math.max(0, since),
        ...(this.ctx.assetsPruneGraceMs === undefined ? {} : { graceMs: this.ctx.assetsPruneGraceMs }),
      },
      assetsObjectBytes,
    );
    const desired = aggregatorObjects(agg, build, { ...opts, assetsData: bridge.data });
    if (!desired.ok) return { build, json, problems: desired.problems };
    return { build, json, objects: desired.objects, requeueAfterMs: bridge.requeueAfterMs, poll: read.pollAfterMs };
  }

  private now(): string {
    return this.ctx.now?.() ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  }

  /**
   * Pipelines this aggregator's build left out get the reason on their own status (secret-attribution.ts): a secret
   * reason bare (kaasops' frozen prefix), any other (a port, a Service name, a component id) in kaasops' text of a
   * build failure. The store wakes those whose reason changed, so the reason goes once the conflict does.
   */
  private attribute(key: string, agg: Aggregator | undefined, rejected: readonly Rejection[]): void {
    const attribution = this.ctx.attribution;
    const victims = rejected.map((r) =>
      attributedReason(r.reason) || agg === undefined
        ? r
        : { ...r, reason: buildFailedReason({ kind: 'aggregator', aggregator: agg }, describeRejection(r)) },
    );
    for (const p of attribution?.store.recordVictims(key, victims) ?? []) attribution?.wake(p);
  }

  private async converge(key: string, agg: Aggregator, obj: KubeObject): Promise<number | undefined> {
    const { log } = this.ctx;
    const d = await this.desire(agg, obj);
    this.attribute(key, agg, d.build.rejected);
    const generation = obj.metadata?.generation;
    const refused =
      d.objects === undefined ? d.problems.join('; ') : await this.configCheck(agg, d.objects, d.json, d.build);
    if (d.objects === undefined || refused !== undefined) {
      log.warn({ aggregator: describeAggregator(agg), reason: refused }, 'aggregator config not published');
      await this.writeStatus(agg, obj, { configCheckResult: false, reason: refused, observedGeneration: generation });
      return undefined;
    }
    this.stampRestart(agg, obj, d.objects);
    let published = false;
    for (const o of d.objects) {
      const wrote = await this.ensure(o);
      if (wrote && o.kind === 'Secret' && o.metadata?.name === aggregatorName(agg)) published = true;
    }
    const wanted = new Set(d.objects.map((o) => `${o.kind ?? ''}:${objectKey(o as KubeObject)}`));
    for (const { kind, obj: owned } of this.ownedBy(agg))
      if (!wanted.has(`${kind}:${objectKey(owned)}`)) await this.remove(kind, owned);
    await this.succeed(agg, obj, d, published);
    const after = [d.requeueAfterMs, d.poll].filter((x) => x !== undefined);
    return after.length === 0 ? undefined : Math.min(...after);
  }

  private async succeed(agg: Aggregator, obj: KubeObject, d: Desire, published: boolean): Promise<void> {
    const { log } = this.ctx;
    const rejected = d.build.rejected.map(describeRejection);
    const live = this.statuses.live(obj);
    const status: Status = {
      configCheckResult: true,
      reason: rejected.length === 0 ? '' : `pipelines left out: ${rejected.join('; ')}`,
      LastAppliedConfigHash: crc32(d.json),
      LastAppliedGlobalConfigHash: globalConfigHash(agg.spec),
      observedGeneration: obj.metadata?.generation,
    };
    if (published || live?.lastConfigPublishedAt === undefined) status.lastConfigPublishedAt = this.now();
    if (rejected.length > 0) log.warn({ aggregator: describeAggregator(agg), rejected }, 'pipelines left out');
    if (published) log.info({ aggregator: describeAggregator(agg), secret: aggregatorName(agg) }, 'config published');
    await this.writeStatus(agg, obj, status);
  }

  /**
   * The one restart a change of the global options needs (globals.ts, as for agents): the workload's pod template
   * gets `restartedAt: globals-<hash>` when the recorded hash differs; the live stamp is kept otherwise, so nothing
   * rolls twice, and a template without one stays without.
   */
  private stampRestart(agg: Aggregator, obj: KubeObject, objects: readonly AggregatorObject[]): void {
    const workload = objects.find((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet') as
      { kind: string; spec?: { template: { metadata?: { annotations?: Record<string, string> } } } } | undefined;
    const meta = workload?.spec?.template.metadata;
    if (workload === undefined || meta === undefined) return;
    const live = this.live(workload.kind, workload) as typeof workload | undefined;
    const stamp = restartStamp({
      hash: globalConfigHash(agg.spec),
      applied: this.statuses.live(obj)?.LastAppliedGlobalConfigHash,
      liveStamp: live?.spec?.template.metadata?.annotations?.[restartedAtAnnotation],
    });
    if (stamp !== undefined) meta.annotations = { ...(meta.annotations ?? {}), [restartedAtAnnotation]: stamp };
  }

  private async writeStatus(agg: Aggregator, obj: KubeObject, status: Status): Promise<void> {
    if (isSubset(status, this.statuses.live(obj) ?? {})) return;
    const self: KubeObject = { ...obj, apiVersion: 'observability.kaasops.io/v1alpha1', kind: agg.kind };
    await this.ctx.applier.patchStatus(self, status);
    this.statuses.remember(obj, status);
    this.ctx.metrics.writes.inc({ kind: agg.kind, verb: 'status' });
  }
}
