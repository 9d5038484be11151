/**
 * What the operator's reconcilers share (the caches, the applier, the validator, flags, metrics, the log, Secrets and
 * the config checker), and the typed views of the raw objects its caches hold.
 *
 * Invariant: `toVector` and `toPipeline` are views, not validation: the API server has validated the objects
 * against the CRDs, and the reconcilers validate pipelines themselves (validate.ts).
 */
import type { Applier } from '../kube/apply.ts';
import type { KubeObject } from '../kube/client.ts';
import type { Aggregator } from '../pipelines/aggregator-schemas.ts';
import type { Metadata, Pipeline, Vector } from '../pipelines/schemas.ts';
import type { OperatorFlags } from './desired.ts';
import type { ConfigChecker } from './configcheck.ts';
import type { EventSink } from './events.ts';
import type { Caches, WrittenObjects } from './informers.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { PipelineValidator } from './validate.ts';
import type { SecretReader } from './secret-reader.ts';
import type { SecretAttribution } from './secret-attribution.ts';

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface ControllerContext {
  /** The informers, read-only: reconcilers read them; what triggers a reconcile is wired in event-routing.ts. */
  caches: Caches;
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
  /**
   * The aggregators in the caches, both kinds, when the operator runs the aggregator controller: aggregator pipelines
   * are checked on them.
   */
  aggregators?: () => Aggregator[];
  /** Pipelines a Vector build left out for a secret reason, and how to reconcile one again (secret-attribution.ts). */
  attribution?: { store: SecretAttribution; wake: (pipelineKey: string) => void };
}

/** A cached object's metadata as the pure layer types it; the API server guarantees a name. */
function metadataOf(obj: KubeObject): Metadata {
  const m = obj.metadata ?? {};
  return { ...m, name: m.name ?? '' };
}

export function toVector(obj: KubeObject): Vector {
  return {
    kind: 'Vector',
    metadata: { ...metadataOf(obj), namespace: obj.metadata?.namespace ?? '' },
    spec: obj.spec ?? {},
  };
}

export function toPipeline(obj: KubeObject): Pipeline {
  return {
    kind: obj.kind === 'ClusterVectorPipeline' ? 'ClusterVectorPipeline' : 'VectorPipeline',
    metadata: metadataOf(obj),
    spec: obj.spec ?? {},
  };
}
