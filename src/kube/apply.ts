/**
 * Applier: every write the operator makes.
 *
 * Invariants:
 * - Objects are written by server-side apply under one field manager with force=true: the operator owns the fields
 *   it sets, takes them back from anyone who changed them, and leaves everyone else's fields alone. Applying the same
 *   object twice changes nothing on the server (its resourceVersion stays).
 * - Status goes through a JSON merge patch on the /status subresource, so a status write cannot touch the spec and a
 *   spec write cannot touch the status.
 * - Finalizer edits carry the resourceVersion we read as an optimistic lock: a concurrent change gives a 409, which
 *   the controller retries from fresh state, instead of one writer's list clobbering the other's.
 * - Nothing here retries: errors (KubeError with the HTTP code) go back to the controller, whose queue backs off.
 * - Calls that would change nothing (adding a finalizer already present, removing an absent one) send no request.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { isNotFound, request, ResourcePaths, type KubeObject } from './client.ts';

const SERVER_METADATA = [
  'managedFields',
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
];

export class Applier {
  readonly fieldManager: string;
  private readonly kc: KubeConfig;
  private readonly paths: ResourcePaths;

  constructor(kc: KubeConfig, fieldManager: string) {
    if (fieldManager === '') throw new Error('Applier needs a field manager name');
    this.kc = kc;
    this.fieldManager = fieldManager;
    this.paths = new ResourcePaths(kc);
  }

  /** Server-side apply; returns the object as stored. */
  async apply<T extends KubeObject>(obj: T): Promise<T> {
    const path = await this.paths.objectPath(obj);
    // Server-managed metadata must not be part of an apply request (managedFields is rejected outright).
    const metadata: Record<string, unknown> = { ...obj.metadata };
    for (const k of SERVER_METADATA) Reflect.deleteProperty(metadata, k);
    // Status is written through patchStatus; an apply must not claim status fields.
    const body: Record<string, unknown> = { ...obj, metadata };
    Reflect.deleteProperty(body, 'status');
    return request<T>(this.kc, 'PATCH', path, {
      query: { fieldManager: this.fieldManager, force: true },
      body,
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** Replaces the fields given in `status` (JSON merge patch on /status; null deletes a field). */
  async patchStatus(obj: KubeObject, status: unknown): Promise<void> {
    const path = await this.paths.objectPath(obj, 'status');
    await request(this.kc, 'PATCH', path, {
      query: { fieldManager: this.fieldManager },
      body: { status },
      contentType: 'application/merge-patch+json',
    });
  }

  /**
   * A JSON patch (RFC 6902) on the main resource; returns the object as stored. Used for what apply cannot say,
   * such as replacing `metadata.managedFields` (csa-upgrade.ts); the ops should carry the resourceVersion read.
   */
  async jsonPatch<T extends KubeObject>(obj: KubeObject, ops: readonly unknown[]): Promise<T> {
    const path = await this.paths.objectPath(obj);
    return request<T>(this.kc, 'PATCH', path, {
      query: { fieldManager: this.fieldManager },
      body: ops,
      contentType: 'application/json-patch+json',
    });
  }

  /** Deletes the object (background propagation); false when it was already gone. */
  async delete(obj: KubeObject): Promise<boolean> {
    const path = await this.paths.objectPath(obj);
    const uid = obj.metadata?.uid;
    // With a uid, only that incarnation is deleted, never a namesake created since.
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' };
    if (uid !== undefined && uid !== '') body.preconditions = { uid };
    try {
      await request(this.kc, 'DELETE', path, { body });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async addFinalizer(obj: KubeObject, finalizer: string): Promise<void> {
    const current = obj.metadata?.finalizers ?? [];
    if (current.includes(finalizer)) return;
    await this.patchFinalizers(obj, [...current, finalizer]);
  }

  /** Removes the finalizer; an object already gone counts as done. */
  async removeFinalizer(obj: KubeObject, finalizer: string): Promise<void> {
    const current = obj.metadata?.finalizers ?? [];
    if (!current.includes(finalizer)) return;
    try {
      await this.patchFinalizers(
        obj,
        current.filter((f) => f !== finalizer),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async patchFinalizers(obj: KubeObject, finalizers: string[]): Promise<void> {
    const path = await this.paths.objectPath(obj);
    const metadata: Record<string, unknown> = { finalizers };
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '') metadata.resourceVersion = rv;
    await request(this.kc, 'PATCH', path, {
      query: { fieldManager: this.fieldManager },
      body: { metadata },
      contentType: 'application/merge-patch+json',
    });
  }
}
