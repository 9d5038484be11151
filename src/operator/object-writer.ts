/**
 * Converging one object at a time: apply a desired object only when the live one differs, delete one only when it
 * exists, and take over the fields another field manager wrote first (a cutover from kaasops).
 *
 * Invariants:
 * - Reads come from the caches, overlaid with what this process wrote (`WrittenObjects`), so a write is never
 *   repeated because the watch has not delivered it yet.
 * - An object is applied when the live one does not hold every desired value, or when our last apply (its
 *   managedFields) recorded other fields than the desired object sets; otherwise nothing is sent.
 * - Every write is counted in `vector_operator_writes_total` by kind and verb.
 */
import { objectKey, type KubeObject } from '../kube/client.ts';
import { ownershipUpgradePatch } from '../kube/csa-upgrade.ts';
import { isSubset } from '../kube/diff.ts';
import { appliedFields, managedFieldsOf, sameFieldSet } from '../kube/managed-fields.ts';
import type { ControllerContext } from './controller-context.ts';
import type { ObjectRef } from './desired.ts';
import type { OwnedKind } from './informers.ts';
import type { AgentObject } from './objects.ts';

const ownedKinds = new Set<string>([
  'DaemonSet',
  'Secret',
  'ServiceAccount',
  'Service',
  'ClusterRole',
  'ClusterRoleBinding',
  'PodMonitor',
]);

export class ObjectWriter {
  private readonly ctx: ControllerContext;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  live(kind: string, desired: KubeObject): KubeObject | undefined {
    const reflector = ownedKinds.has(kind) ? this.ctx.caches.owned[kind as OwnedKind] : undefined;
    return this.ctx.written.live(kind, reflector?.get(objectKey(desired)), desired);
  }

  /**
   * Whether `live` needs no apply of `o`: it holds every desired value, and our last apply (its managedFields)
   * recorded exactly the fields `o` sets. A field dropped from the Vector is still in that record, so the apply that
   * removes it is sent; a reconcile that changes nothing still writes nothing.
   */
  upToDate(o: AgentObject, live: KubeObject | undefined): boolean {
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
  async ensure(o: AgentObject): Promise<boolean> {
    const kind = o.kind ?? '';
    const cached = this.live(kind, o as KubeObject);
    const live = cached === undefined ? undefined : await this.adopt(kind, cached);
    if (this.upToDate(o, live)) return false;
    const stored = await this.ctx.applier.apply(o as KubeObject);
    this.ctx.written.remember(kind, stored);
    this.ctx.metrics.writes.inc({ kind, verb: 'apply' });
    return true;
  }

  async ensureAbsent(ref: ObjectRef): Promise<void> {
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
}
