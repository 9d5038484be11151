/**
 * Garbage collection through ownerReferences, namespace termination and CRD cleanup: the controllers a real control
 * plane runs beside the API server, reduced to what a client can observe.
 *
 * Invariants:
 * - Background (the default): the owner goes first; its dependents are deleted afterwards, off the request path
 *   (setImmediate), and their own dependents follow in turn. A dependent that still has another existing owner only
 *   loses the reference to the deleted one.
 * - Foreground: dependents are deleted before the owner (no `foregroundDeletion` finalizer is shown).
 * - Orphan: dependents lose their reference to the owner and stay.
 * - A terminating namespace deletes everything in it and disappears once it is empty (objects held by finalizers keep
 *   it Terminating). Deleting a CRD deletes all its custom resources.
 */
import type { KObject } from './json.ts';
import { clone } from './json.ts';
import type { Registry, ResourceType } from './registry.ts';
import { storageKey, typeOfStorage } from './registry.ts';
import type { Collector, Resources } from './resources.ts';
import type { Store } from './store.ts';

const SYSTEM = { manager: 'garbage-collector', dryRun: false, validation: 'Ignore' as const, force: false };

export class GarbageCollector implements Collector {
  private readonly resources: Resources;
  private readonly store: Store;
  private readonly registry: Registry;
  private pending = 0;

  constructor(resources: Resources) {
    this.resources = resources;
    this.store = resources.store;
    this.registry = resources.registry;
  }

  /** Work scheduled but not yet done (tests and the bench can wait for quiescence). */
  get busy(): boolean {
    return this.pending > 0;
  }

  private later(fn: () => void): void {
    this.pending++;
    setImmediate(() => {
      this.pending--;
      fn();
    });
  }

  private dependentsOf(uid: string): [string, KObject][] {
    const out: [string, KObject][] = [];
    for (const [key, o] of this.store.everything())
      if ((o.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push([key, o]);
    return out;
  }

  private exists(uid: string): boolean {
    for (const [, o] of this.store.everything()) if (o.metadata.uid === uid) return true;
    return false;
  }

  private deleteObject(key: string, o: KObject, policy: string): void {
    const type = typeOfStorage(this.registry, key);
    if (type === undefined) return;
    try {
      this.resources.delete(
        { type, namespace: o.metadata.namespace, name: o.metadata.name, subresource: undefined },
        undefined,
        policy,
        SYSTEM,
      );
    } catch {
      // Already gone (another path removed it first): nothing to collect.
    }
  }

  private dropOwnerRef(key: string, o: KObject, uid: string): void {
    const next = clone(o);
    next.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
    if (next.metadata.ownerReferences.length === 0) Reflect.deleteProperty(next.metadata, 'ownerReferences');
    this.store.commit(key, 'MODIFIED', next, o);
  }

  deleting(_t: ResourceType, obj: KObject, policy: string): void {
    const uid = obj.metadata.uid ?? '';
    if (policy === 'Orphan') for (const [key, o] of this.dependentsOf(uid)) this.dropOwnerRef(key, o, uid);
    if (policy === 'Foreground') for (const [key, o] of this.dependentsOf(uid)) this.deleteObject(key, o, 'Foreground');
  }

  removed(t: ResourceType, obj: KObject): void {
    const uid = obj.metadata.uid ?? '';
    if (t.plural === 'namespaces' && this.store.get('/namespaces', undefined, obj.metadata.name ?? '') !== undefined) {
      this.later(() => {
        this.sweepNamespace(obj.metadata.name ?? '');
      });
      return;
    }
    if (t.plural === 'customresourcedefinitions') this.dropCustomResources(obj);
    const ns = obj.metadata.namespace;
    if (ns !== undefined) {
      const nsObj = this.store.get('/namespaces', undefined, ns);
      if (nsObj?.metadata.deletionTimestamp !== undefined)
        this.later(() => {
          this.finishNamespace(ns);
        });
    }
    this.later(() => {
      this.collect(uid);
    });
  }

  private collect(uid: string): void {
    for (const [key, o] of this.dependentsOf(uid)) {
      const others = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      if (others.some((r) => this.exists(r.uid))) this.dropOwnerRef(key, o, uid);
      else this.deleteObject(key, o, 'Background');
    }
  }

  private dropCustomResources(crd: KObject): void {
    const spec = crd.spec as { group?: string; names?: { plural?: string } } | undefined;
    const key = storageKey({ group: spec?.group ?? '', plural: spec?.names?.plural ?? '' });
    for (const o of this.store.list(key)) this.store.commit(key, 'DELETED', clone(o), o);
  }

  private sweepNamespace(ns: string): void {
    const inside: [string, KObject][] = [];
    for (const [key, o] of this.store.everything()) if (o.metadata.namespace === ns) inside.push([key, o]);
    for (const [key, o] of inside) this.deleteObject(key, o, 'Background');
    this.finishNamespace(ns);
  }

  private finishNamespace(ns: string): void {
    const nsObj = this.store.get('/namespaces', undefined, ns);
    if (nsObj?.metadata.deletionTimestamp === undefined) return;
    for (const [, o] of this.store.everything()) if (o.metadata.namespace === ns) return;
    const type = typeOfStorage(this.registry, '/namespaces');
    if (type !== undefined) this.resources.remove(type, clone(nsObj), nsObj);
  }
}
