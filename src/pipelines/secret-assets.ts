/**
 * The secret values of one agent build: which pipelines' references the shared assets Secret can serve, attributed
 * pipeline by pipeline in age order (the build's order), as kaasops attributes them (docs/secrets.md).
 *
 * Invariants:
 * - A flat key belongs to the first (oldest) pipeline that claims it. A younger pipeline that derives the same flat
 *   key from another Secret or key (`a`/`b-c` against `a-b`/`c`) is left out with a `secret flat key collision: `
 *   reason, so it can never read the older one's value; the same (namespace, Secret, key) twice is one key.
 * - A pipeline whose values would take the assets past the 1 MiB a Secret holds is left out with a
 *   `secret assets size limit: ` reason; one whose entries (key names and values) would take the whole object past
 *   the budget kaasops keeps for it (secret-object-size.ts) with a `secret assets object size limit: ` reason. The
 *   older pipelines keep theirs.
 * - A pipeline whose Secret or key cannot be read, or whose value is unsafe, is left out alone, naming the field:
 *   unlike kaasops, one tenant's missing Secret never fails the other pipelines' build.
 * - A rejected pipeline claims nothing, so it cannot knock out anyone else.
 */
import type { CompiledPipeline } from './pipeline.ts';
import { assetsObjectBudget, dataEntryBytes } from './secret-object-size.ts';
import { resolveSecretRefs, type SecretSource } from './secrets.ts';

/** What a Secret's data may hold in all (corev1.MaxSecretSize). */
const maxAssetBytes = 1024 * 1024;

interface Owner {
  pipeline: string;
  namespace: string;
  name: string;
  key: string;
}

export class SecretAssembly {
  /** Flat key -> value, for the accepted pipelines. */
  readonly assets = new Map<string, Uint8Array>();
  /** Whether an accepted pipeline references a Secret (the config then gets its `secret` block). */
  referenced = false;
  private readonly owners = new Map<string, Owner>();
  private committed = 0;
  /** The modelled size of the assets Secret holding the accepted entries (secret-object-size.ts). */
  private committedObject: number;
  /** `Vector <ns>/<name>`, as the reasons name the workload. */
  private readonly workload: string;
  private readonly source: SecretSource | undefined;

  /** `objectBytes`: the modelled size of the assets Secret without data (its metadata). */
  constructor(workload: string, source: SecretSource | undefined, objectBytes: number) {
    this.workload = workload;
    this.source = source;
    this.committedObject = objectBytes;
  }

  /** Undefined when `p` is in (its values recorded), else why it is left out. */
  admit(p: CompiledPipeline): { field: string; reason: string } | undefined {
    const refs = p.secretRefs;
    if (refs.length === 0) return undefined;
    for (const r of refs) {
      const o = this.owners.get(r.flat);
      if (o !== undefined && (o.namespace !== r.namespace || o.name !== r.name || o.key !== r.key))
        return {
          field: r.field,
          reason:
            `secret flat key collision: flat key "${r.flat}" collides with pipeline ${o.pipeline} on ` +
            `${this.workload}; rename one of them (or its secret backend alias/key) to change its flat key`,
        };
    }
    let values: ReadonlyMap<string, Uint8Array> = new Map();
    if (this.source !== undefined) {
      const resolved = resolveSecretRefs(refs, this.source);
      if (!resolved.ok) return { field: resolved.field, reason: resolved.reason };
      values = resolved.values;
      const tooBig = this.sizeProblem(values);
      if (tooBig !== undefined) return { field: 'spec.secret', reason: tooBig };
    }
    const id = p.ref.namespace === '' ? p.ref.name : `${p.ref.namespace}/${p.ref.name}`;
    for (const r of refs)
      if (!this.owners.has(r.flat))
        this.owners.set(r.flat, { pipeline: id, namespace: r.namespace, name: r.name, key: r.key });
    for (const [flat, v] of values) this.assets.set(flat, v);
    this.referenced = true;
    return undefined;
  }

  /** Why `values` do not fit beside the accepted ones (kaasops' texts), or undefined: then they are committed. */
  private sizeProblem(values: ReadonlyMap<string, Uint8Array>): string | undefined {
    let own = 0;
    let ownObject = 0;
    for (const [flat, v] of values) {
      if (this.assets.has(flat)) continue; // the same (namespace, Secret, key) as an older pipeline's: no cost
      own += v.byteLength;
      ownObject += dataEntryBytes(flat, v.byteLength);
    }
    const shared =
      `the secret-assets Secret is shared by every pipeline ${this.workload} selects, so older pipelines (by ` +
      'creation time) keep it and this one is excluded until the total fits';
    if (this.committed + own > maxAssetBytes)
      return (
        `secret assets size limit: adding this pipeline's secret values (${String(own)} bytes) to the ` +
        `${String(this.committed)} bytes already committed by older pipelines would exceed the ` +
        `${String(maxAssetBytes)} byte Kubernetes Secret limit; ${shared}`
      );
    if (this.committedObject + ownObject > assetsObjectBudget)
      return (
        `secret assets object size limit: adding this pipeline's ${String(ownObject)} bytes of secret entries (key ` +
        `names and values) to the ${String(this.committedObject)} bytes already committed by older pipelines would ` +
        `exceed the ${String(assetsObjectBudget)} byte budget the operator keeps for the whole secret-assets Secret ` +
        `object; the Secret is shared by every pipeline ${this.workload} selects, so older pipelines (by creation ` +
        'time) keep it and this one is excluded until the total fits - this limit accounts for the combined size of ' +
        'key names and values together, not values alone'
      );
    this.committed += own;
    this.committedObject += ownObject;
    return undefined;
  }
}
