/**
 * Reads the user Secrets that pipelines reference: their identity from a metadata-only cache, their values through
 * the API, once per resourceVersion.
 *
 * Why not kaasops' way: kaasops caches every Secret of the cluster with its data (its `Owns(&Secret{})` cache) and
 * reads referenced ones again uncached on every reconcile. Here the cache keeps each Secret's metadata only (the data
 * is dropped as each object arrives), so memory does not grow with the cluster's Secrets, yet a rotation is seen at
 * once through the watch (its resourceVersion changes); values are read with one GET per referenced Secret and
 * version, and kept for the referenced Secrets only. Helm release Secrets, the largest in most clusters, are not even
 * listed (`type!=helm.sh/release.v1`).
 *
 * Invariants:
 * - A Secret the cache holds is read at most once per resourceVersion; one it does not hold (another namespace than
 *   `--watch-namespace`, named by a ClusterVectorPipeline) is read on each reconcile that needs it.
 * - A Secret that does not exist, or that the operator may not read (403), is an error of the pipelines that
 *   reference it (they are left out); any other failure throws, so the reconcile retries and nothing is published
 *   from a partial view.
 * - Values are never logged.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { errorCode, request, type KubeObject } from '../kube/client.ts';
import type { Reflector } from '../kube/reflector.ts';
import type { Pipeline } from '../pipelines/schemas.ts';
import {
  declaredSecrets,
  notFoundError,
  rotationPollMs,
  type SecretIdentity,
  type SecretRead,
  type SecretSource,
} from '../pipelines/secrets.ts';

/** The cache's form of a Secret: metadata only (identity and the resourceVersion that says it changed). */
export function secretMetadataOnly(o: KubeObject): KubeObject {
  const m = o.metadata ?? {};
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      ...(m.deletionTimestamp === undefined ? {} : { deletionTimestamp: m.deletionTimestamp }),
    },
  };
}

interface Known {
  rv: string;
  read: SecretRead;
}

export class SecretReader {
  private readonly kc: KubeConfig;
  private readonly cache: Reflector<KubeObject>;
  private readonly watchNamespace: string | undefined;
  private readonly known = new Map<string, Known>();
  private readonly pollMs: number | undefined;

  /** `pollMs`: the poll interval for every object (tests); default kaasops' per object (`rotationPollMs`). */
  constructor(kc: KubeConfig, cache: Reflector<KubeObject>, watchNamespace: string | undefined, pollMs?: number) {
    this.kc = kc;
    this.cache = cache;
    this.watchNamespace = watchNamespace === '' ? undefined : watchNamespace;
    this.pollMs = pollMs;
  }

  private cached(namespace: string): boolean {
    return this.watchNamespace === undefined || this.watchNamespace === namespace;
  }

  /** uid and resourceVersion of a Secret, for `relatedSecretsHash`; undefined when it does not exist. */
  async identity(namespace: string, name: string): Promise<SecretIdentity | undefined> {
    const m = this.cached(namespace)
      ? this.cache.get(`${namespace}/${name}`)?.metadata
      : (await this.fetch(namespace, name)).meta;
    if (m === undefined) return undefined;
    return { namespace, name, uid: m.uid ?? '', resourceVersion: m.resourceVersion ?? '' };
  }

  /**
   * When to read `wanted` again because no watch covers some of them (another namespace than `--watch-namespace`):
   * kaasops' poll interval for `namespace/name` (the reconciled object); undefined when the watch covers them all.
   */
  pollAfterMs(wanted: readonly { namespace: string }[], namespace: string, name: string): number | undefined {
    if (wanted.every((w) => this.cached(w.namespace))) return undefined;
    return this.pollMs ?? rotationPollMs(namespace, name);
  }

  /** Forget the values of a Secret that is gone (the cache's delete event). */
  forget(namespace: string, name: string): void {
    this.known.delete(`${namespace}/${name}`);
  }

  /** A source serving `wanted` (each `{namespace, name}`), read now; its stamp is their resourceVersions. */
  async source(wanted: readonly { namespace: string; name: string }[]): Promise<SecretSource> {
    const reads = new Map<string, SecretRead>();
    const stamp: string[] = [];
    for (const { namespace, name } of wanted) {
      const key = `${namespace}/${name}`;
      if (reads.has(key)) continue;
      const k = await this.read(namespace, name);
      reads.set(key, k.read);
      stamp.push(`${key}@${k.rv}`);
    }
    return {
      stamp: stamp.sort().join(','),
      get: (namespace, name) => reads.get(`${namespace}/${name}`) ?? { ok: false, error: notFoundError(name) },
    };
  }

  private async read(namespace: string, name: string): Promise<Known> {
    const key = `${namespace}/${name}`;
    if (this.cached(namespace)) {
      const rv = this.cache.get(key)?.metadata?.resourceVersion;
      if (rv === undefined) {
        this.known.delete(key);
        return { rv: '', read: { ok: false, error: notFoundError(name) } };
      }
      const hit = this.known.get(key);
      if (hit?.rv === rv) return hit;
    }
    const got = await this.fetch(namespace, name);
    const k: Known = { rv: got.meta?.resourceVersion ?? '', read: got.read };
    if (got.meta !== undefined) this.known.set(key, k);
    return k;
  }

  private async fetch(
    namespace: string,
    name: string,
  ): Promise<{ meta: KubeObject['metadata'] | undefined; read: SecretRead }> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;
    try {
      const s = await request<KubeObject & { data?: Record<string, string> }>(this.kc, 'GET', path);
      const data: Record<string, Uint8Array> = {};
      for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64');
      return { meta: s.metadata, read: { ok: true, data } };
    } catch (err) {
      const code = errorCode(err);
      if (code === 404) return { meta: undefined, read: { ok: false, error: notFoundError(name) } };
      if (code === 403) return { meta: undefined, read: { ok: false, error: (err as Error).message } };
      throw err;
    }
  }
}

/** The values of the Secrets `pipelines` declare, as `Observed.secretValues`; nothing when none declares one. */
export async function secretValuesFor(
  reader: SecretReader | undefined,
  pipelines: readonly Pipeline[],
  vector: { namespace: string; name: string },
): Promise<{ secretValues?: SecretSource; pollAfterMs?: number }> {
  const wanted = pipelines.flatMap(declaredSecrets);
  if (wanted.length === 0 || reader === undefined) return {};
  const poll = reader.pollAfterMs(wanted, vector.namespace, vector.name);
  return { secretValues: await reader.source(wanted), ...(poll === undefined ? {} : { pollAfterMs: poll }) };
}
