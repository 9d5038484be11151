/**
 * The REST verbs on one resource type: get, list, create, update, patch (four content types) and delete.
 *
 * Invariants:
 * - Every write goes through `write`: admission (admission.ts), field ownership (managed-fields.ts), no-op detection,
 *   then one store commit. A no-op write returns the stored object and does not bump resourceVersion.
 * - An object being deleted disappears at the write that leaves it with no finalizers.
 * - Final removal of any object hands its uid to the garbage collector (gc.ts); the collector runs later, in the
 *   background, as the real one does.
 * - `dryRun=All` runs everything but the commit.
 */
import { parse as parseYaml } from 'yaml';
import {
  admitCreate,
  admitUpdate,
  checkIdentity,
  checkPrecondition,
  sameContent,
  type FieldValidation,
} from './admission.ts';
import { alreadyExists, ApiError, badRequest, notFound, unsupportedMediaType } from './errors.ts';
import type { JsonObject, KObject } from './json.ts';
import { clone, isObject, nowIso } from './json.ts';
import { serverSideApply, trackUpdate } from './managed-fields.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { checkApplyKeys } from './pod-validation.ts';
import type { Registry, ResourceType } from './registry.ts';
import { apiVersionOf, storageKey } from './registry.ts';
import { makeSchemaChecker } from './crd.ts';
import type { Matcher } from './selectors.ts';
import type { Store } from './store.ts';

export interface Target {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

export interface WriteOptions {
  manager: string;
  dryRun: boolean;
  validation: FieldValidation;
  force: boolean;
}

export interface WriteResult {
  obj: KObject;
  created: boolean;
  warnings: string[];
}

export interface Collector {
  /** Called after an object is gone for good. */
  removed(t: ResourceType, obj: KObject): void;
  /** Called when a delete request arrives with a propagation policy (before the object is marked or removed). */
  deleting(t: ResourceType, obj: KObject, policy: string): void;
}

export function serve(t: ResourceType, o: KObject): KObject {
  // Custom resources can be served at several versions of one storage; no conversion, only the apiVersion changes.
  const av = apiVersionOf(t);
  return o.apiVersion === av ? o : { ...o, apiVersion: av };
}

/** A well-formed, non-empty managedFields list: entries with a manager, an operation and a fieldsV1 trie. */
function givesManagedFields(obj: KObject): boolean {
  const mf: unknown = obj.metadata.managedFields;
  if (!Array.isArray(mf) || mf.length === 0) return false;
  const ok = mf.every(
    (e) =>
      isObject(e) &&
      typeof e.manager === 'string' &&
      (e.operation === 'Apply' || e.operation === 'Update') &&
      (e.fieldsV1 === undefined || isObject(e.fieldsV1)),
  );
  if (!ok) throw badRequest('metadata.managedFields: each entry needs manager, operation (Apply|Update) and fieldsV1');
  return true;
}

export class Resources {
  readonly store: Store;
  readonly registry: Registry;
  collector: Collector | undefined;
  /**
   * When set, deleting a pod bound to a node only marks it (deletionTimestamp = now + grace period), and a second
   * delete with gracePeriodSeconds=0 — what a kubelet sends once the containers are gone — removes it. Off by
   * default, because without a kubelet nothing would ever finish the deletion.
   */
  gracefulPods = false;

  constructor(store: Store, registry: Registry) {
    this.store = store;
    this.registry = registry;
  }

  get(t: Target): KObject {
    const o = this.store.get(storageKey(t.type), t.namespace, t.name ?? '');
    if (o === undefined) throw notFound(t.type.plural, t.type.group, t.name ?? '');
    return serve(t.type, o);
  }

  list(t: Target, labels: Matcher, fields: Matcher, limit: number, cont: string | null): JsonObject {
    let after = '';
    let rv = this.store.currentRv;
    if (cont !== null && cont !== '') {
      let token: { rv: number; after: string };
      try {
        token = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { rv: number; after: string };
      } catch {
        throw badRequest('invalid continue token');
      }
      // Without MVCC we cannot serve the old snapshot; a continuation older than the log's reach is expired, exactly
      // when a real server's etcd compaction would have made it so.
      if (token.rv < this.store.compactedRv)
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      after = token.after;
      rv = token.rv;
    }
    const items: KObject[] = [];
    let next: string | undefined;
    let remaining = 0;
    for (const o of this.store.list(storageKey(t.type), t.namespace)) {
      const k = `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
      if (after !== '' && k <= after) continue;
      if (!labels(o) || !fields(o)) continue;
      if (limit > 0 && items.length >= limit) {
        remaining++;
        continue;
      }
      items.push(serve(t.type, o));
      if (limit > 0 && items.length === limit) next = k;
    }
    const metadata: JsonObject = { resourceVersion: String(rv) };
    if (remaining > 0 && next !== undefined) {
      metadata.continue = Buffer.from(JSON.stringify({ rv, after: next })).toString('base64url');
      metadata.remainingItemCount = remaining;
    }
    return { kind: `${t.type.kind}List`, apiVersion: apiVersionOf(t.type), metadata, items };
  }

  private checkNamespace(t: Target): void {
    if (!t.type.namespaced) return;
    const ns = this.store.get('/namespaces', undefined, t.namespace ?? '');
    if (ns === undefined) throw notFound('namespaces', '', t.namespace ?? '');
    if (ns.metadata.deletionTimestamp !== undefined)
      throw new ApiError(
        403,
        'Forbidden',
        `${t.type.plural} "${t.name ?? ''}" is forbidden: unable to create new content in namespace ${t.namespace ?? ''} because it is being terminated`,
      );
  }

  create(t: Target, body: unknown, opts: WriteOptions): WriteResult {
    if (t.subresource !== undefined)
      throw new ApiError(405, 'MethodNotAllowed', `create is not supported on ${t.type.plural}/${t.subresource}`);
    const obj = checkIdentity(t.type, clone(body), t.namespace, undefined);
    this.checkNamespace({ ...t, name: obj.metadata.name });
    const { obj: admitted, warnings } = admitCreate(t.type, obj, opts.validation);
    const name = admitted.metadata.name ?? '';
    if (this.store.get(storageKey(t.type), t.namespace, name) !== undefined)
      throw alreadyExists(t.type.plural, t.type.group, name);
    Reflect.deleteProperty(admitted.metadata, 'managedFields');
    trackUpdate({ custom: t.type.crdName !== undefined }, undefined, admitted, opts.manager);
    return { obj: this.commitCreate(t.type, admitted, opts), created: true, warnings };
  }

  private commitCreate(type: ResourceType, obj: KObject, opts: WriteOptions): KObject {
    if (opts.dryRun) return obj;
    const stored = this.store.commit(storageKey(type), 'ADDED', obj, undefined);
    if (type.plural === 'customresourcedefinitions') this.registry.registerCrd(stored, makeSchemaChecker);
    return serve(type, stored);
  }

  /** The shared update path: admission, ownership, no-op detection, finalizer-driven removal, commit. */
  private write(t: Target, prev: KObject, incoming: KObject, opts: WriteOptions, track: boolean): WriteResult {
    // As the real field manager does: a non-empty managedFields sent on the main resource replaces ownership (how
    // client-go's csaupgrade moves Update entries to Apply); an absent or empty one keeps the stored ownership, so
    // clients that do not know the field cannot erase it. Apply has already computed its own.
    if (track && (t.subresource !== undefined || !givesManagedFields(incoming)))
      incoming.metadata.managedFields = prev.metadata.managedFields;
    const { obj, warnings } = admitUpdate(t.type, prev, incoming, t.subresource, opts.validation);
    if (track) trackUpdate({ custom: t.type.crdName !== undefined }, prev, obj, opts.manager, t.subresource);
    if (sameContent(prev, obj)) return { obj: serve(t.type, prev), created: false, warnings };
    if (opts.dryRun) return { obj, created: false, warnings };
    const key = storageKey(t.type);
    if (obj.metadata.deletionTimestamp !== undefined && (obj.metadata.finalizers ?? []).length === 0) {
      return { obj: serve(t.type, this.remove(t.type, obj, prev)), created: false, warnings };
    }
    const stored = this.store.commit(key, 'MODIFIED', obj, prev);
    if (t.type.plural === 'customresourcedefinitions') this.registry.registerCrd(stored, makeSchemaChecker);
    return { obj: serve(t.type, stored), created: false, warnings };
  }

  update(t: Target, body: unknown, opts: WriteOptions): WriteResult {
    const incoming = checkIdentity(t.type, clone(body), t.namespace, t.name);
    const prev = this.store.get(storageKey(t.type), t.namespace, t.name ?? '');
    if (prev === undefined) throw notFound(t.type.plural, t.type.group, t.name ?? '');
    checkPrecondition(t.type, prev, incoming.metadata.resourceVersion);
    return this.write(t, prev, incoming, opts, true);
  }

  patch(t: Target, body: Buffer, contentType: string, opts: WriteOptions): WriteResult {
    const ct = contentType.split(';')[0]?.trim() ?? '';
    const key = storageKey(t.type);
    const prev = this.store.get(key, t.namespace, t.name ?? '');
    if (ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+cbor')
      return this.apply(t, prev, body, opts);
    if (prev === undefined) throw notFound(t.type.plural, t.type.group, t.name ?? '');
    const patch = parseJson(body);
    const current = serve(t.type, prev);
    let patched: unknown;
    if (ct === 'application/merge-patch+json') patched = mergePatch(current, patch);
    else if (ct === 'application/json-patch+json') patched = jsonPatch(current, patch);
    else if (ct === 'application/strategic-merge-patch+json') {
      if (t.type.crdName !== undefined) throw unsupportedMediaType(ct);
      patched = strategicMergePatch(current, patch);
    } else throw unsupportedMediaType(ct);
    const incoming = checkIdentity(t.type, patched, t.namespace, t.name);
    // A resourceVersion inside the patch is an optimistic lock, as with PUT.
    if (incoming.metadata.resourceVersion !== prev.metadata.resourceVersion)
      checkPrecondition(t.type, prev, incoming.metadata.resourceVersion);
    return this.write(t, prev, incoming, opts, true);
  }

  private apply(t: Target, prev: KObject | undefined, body: Buffer, opts: WriteOptions): WriteResult {
    if (opts.manager === '' || opts.manager === 'unknown-apply')
      throw badRequest('PATCH /apply requires fieldManager to be set (missing fieldManager query parameter)');
    let applied: unknown;
    try {
      applied = parseYaml(body.toString('utf8'));
    } catch (e) {
      throw badRequest(`error decoding YAML: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!isObject(applied) || typeof applied.apiVersion !== 'string' || typeof applied.kind !== 'string')
      throw badRequest('apply requires apiVersion and kind in the body');
    const obj = checkIdentity(t.type, applied, t.namespace, t.name);
    if (isObject(obj.metadata) && obj.metadata.managedFields !== undefined)
      throw badRequest('metadata.managedFields must be nil');
    const ctx = { custom: t.type.crdName !== undefined };
    checkApplyKeys(ctx.custom, obj);
    if (prev === undefined) {
      if (t.subresource !== undefined) throw notFound(t.type.plural, t.type.group, t.name ?? '');
      this.checkNamespace(t);
      const merged = serverSideApply({
        ctx,
        live: undefined,
        applied: obj,
        manager: opts.manager,
        force: opts.force,
        subresource: undefined,
      });
      const mf = merged.metadata.managedFields;
      const { obj: admitted, warnings } = admitCreate(t.type, merged, opts.validation);
      admitted.metadata.managedFields = mf;
      return { obj: this.commitCreate(t.type, admitted, opts), created: true, warnings };
    }
    if (obj.metadata.resourceVersion !== undefined) checkPrecondition(t.type, prev, obj.metadata.resourceVersion);
    const merged = serverSideApply({
      ctx,
      live: clone(serve(t.type, prev)),
      applied: obj,
      manager: opts.manager,
      force: opts.force,
      subresource: t.subresource,
    });
    return this.write(t, prev, merged, opts, false);
  }

  delete(t: Target, body: unknown, propagation: string | null, opts: WriteOptions, graceQuery?: number): KObject {
    const key = storageKey(t.type);
    const prev = this.store.get(key, t.namespace, t.name ?? '');
    if (prev === undefined) throw notFound(t.type.plural, t.type.group, t.name ?? '');
    const options = isObject(body) ? body : {};
    const pre = isObject(options.preconditions) ? options.preconditions : {};
    if (typeof pre.uid === 'string' && pre.uid !== prev.metadata.uid)
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${prev.metadata.uid ?? ''}`,
      );
    if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== prev.metadata.resourceVersion)
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${prev.metadata.resourceVersion ?? ''}`,
      );
    const policy =
      typeof options.propagationPolicy === 'string' ? options.propagationPolicy : (propagation ?? 'Background');
    if (opts.dryRun) return serve(t.type, prev);
    this.collector?.deleting(t.type, prev, policy);
    const current = this.store.get(key, t.namespace, t.name ?? '') ?? prev;
    const grace = typeof options.gracePeriodSeconds === 'number' ? options.gracePeriodSeconds : graceQuery;
    const graceful = this.gracefulDelete(t.type, current, grace);
    if (graceful !== undefined) return serve(t.type, graceful);
    const waitsForFinalizers = (current.metadata.finalizers ?? []).length > 0 || t.type.plural === 'namespaces';
    if (waitsForFinalizers) {
      if (current.metadata.deletionTimestamp !== undefined) return serve(t.type, current);
      const marked = clone(current);
      marked.metadata.deletionTimestamp = nowIso();
      marked.metadata.deletionGracePeriodSeconds = 0;
      if (t.type.plural === 'namespaces') marked.status = { phase: 'Terminating' };
      const stored = this.store.commit(key, 'MODIFIED', marked, current);
      if (t.type.plural === 'namespaces') this.collector?.removed(t.type, stored);
      return serve(t.type, stored);
    }
    return serve(t.type, this.remove(t.type, clone(current), current));
  }

  /** Graceful pod deletion (see `gracefulPods`); undefined when the normal path applies. */
  private gracefulDelete(type: ResourceType, current: KObject, requested: number | undefined): KObject | undefined {
    if (!this.gracefulPods || type.plural !== 'pods') return undefined;
    const spec = isObject(current.spec) ? current.spec : {};
    if (typeof spec.nodeName !== 'string' || spec.nodeName === '') return undefined;
    const fallback = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
    const grace = requested ?? fallback;
    if (grace <= 0) return undefined;
    if (current.metadata.deletionTimestamp !== undefined) return current;
    const marked = clone(current);
    marked.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    marked.metadata.deletionGracePeriodSeconds = grace;
    return this.store.commit(storageKey(type), 'MODIFIED', marked, current);
  }

  /** Removes an object for good: a DELETED event carrying its last state, then garbage collection. */
  remove(type: ResourceType, obj: KObject, prev: KObject): KObject {
    const gone = this.store.commit(storageKey(type), 'DELETED', obj, prev);
    if (type.plural === 'customresourcedefinitions') this.registry.removeCrd(gone.metadata.name ?? '');
    this.collector?.removed(type, gone);
    return gone;
  }
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw badRequest(`error decoding JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}
