/**
 * Which pipelines a workload's build left out for a reason only the whole workload can see: a flat key another
 * pipeline already owns, or the assets Secret's size (a Vector's or an aggregator's); and, for an aggregator, any
 * rejection of its build (a port, a Service name, a component id another pipeline holds). kaasops writes the secret
 * ones onto the losing pipeline with four frozen reason prefixes; so does this operator (the pipeline reconcile reads
 * them from here), so the pipeline says why it does not flow, and tools matching kaasops' prefixes keep working.
 *
 * Invariants:
 * - One record per (pipeline, workload); a pipeline is a victim while any workload says so, with the reason of the
 *   first workload by key, so the text is stable whatever the reconcile order.
 * - `record` returns the pipelines whose reason changed, to be reconciled again; nothing else.
 */
import type { Rejection } from '../pipelines/pipeline.ts';

/** kaasops' frozen prefixes: a persistent contract, matched by tools and by kaasops itself after a rollback. */
const frozenPrefixes = [
  'secret flat key collision: ',
  'secret assets size limit: ',
  'secret assets object size limit: ',
  'secret assets waiting for room: ',
] as const;

/**
 * Whether `reason` is a workload's attribution (one of the frozen prefixes), not a verdict on the pipeline itself: such
 * a pipeline re-enters every build, where the attribution is decided again (kaasops' pool rule). A status kaasops
 * wrote before a cutover carries no condition to say so; its reason does.
 */
export function attributedReason(reason: string | undefined): boolean {
  return reason !== undefined && frozenPrefixes.some((p) => reason.startsWith(p));
}

function pipelineKey(r: Pick<Rejection, 'pipeline'>): string {
  return r.pipeline.namespace === '' ? r.pipeline.name : `${r.pipeline.namespace}/${r.pipeline.name}`;
}

export class SecretAttribution {
  /** Pipeline key -> Vector key -> reason. */
  private readonly victims = new Map<string, Map<string, string>>();

  /** What `vector`'s build rejected for a secret reason; returns the keys of pipelines whose reason changed. */
  record(vector: string, rejected: readonly Rejection[]): string[] {
    return this.recordVictims(
      vector,
      rejected.filter((r) => attributedReason(r.reason)),
    );
  }

  /** Every pipeline `workload`'s build left out, with the reason to write on it; returns those whose reason changed. */
  recordVictims(workload: string, victims: readonly Pick<Rejection, 'pipeline' | 'reason'>[]): string[] {
    const now = new Map<string, string>();
    for (const r of victims) now.set(pipelineKey(r), r.reason);
    const changed: string[] = [];
    for (const [p, byVector] of this.victims) {
      if (now.has(p) || !byVector.has(workload)) continue;
      const before = this.reason(p);
      byVector.delete(workload);
      if (byVector.size === 0) this.victims.delete(p);
      if (this.reason(p) !== before) changed.push(p);
    }
    for (const [p, reason] of now) {
      const before = this.reason(p);
      let byVector = this.victims.get(p);
      if (byVector === undefined) {
        byVector = new Map();
        this.victims.set(p, byVector);
      }
      byVector.set(workload, reason);
      if (this.reason(p) !== before) changed.push(p);
    }
    return changed;
  }

  /** The reason to write on pipeline `key` (its `objectKey`), if some Vector left it out for one. */
  reason(key: string): string | undefined {
    const byVector = this.victims.get(key);
    if (byVector === undefined) return undefined;
    const first = [...byVector.keys()].sort()[0] as string;
    return byVector.get(first);
  }
}
