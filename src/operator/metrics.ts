/**
 * The operator's Prometheus metrics (prom-client), in their own registry so tests can run several operators in one
 * process.
 *
 * Invariants:
 * - Names carry the `vector_operator_` prefix; labels are bounded by the number of controllers and Vectors.
 * - Queue depth is read at scrape time (a collect callback), never pushed from the hot path.
 * - A Vector's optimization gauges are removed when the Vector is, so a deleted Vector does not linger in /metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  reconciles: Counter<'controller' | 'result'>;
  /** Wall time of each reconcile, queue wait excluded, as controller-runtime's `reconcile_time_seconds`. */
  reconcileSeconds: Histogram<'controller'>;
  errors: Counter<'controller'>;
  queueDepth: Gauge<'controller'>;
  writes: Counter<'kind' | 'verb'>;
  collapsedSources: Gauge<'namespace' | 'vector'>;
  optimizedSources: Gauge<'namespace' | 'vector'>;
  nodes: Gauge<'namespace' | 'vector' | 'state'>;
  /** Reconciles refused before reading anything, by reason (`out-of-scope`: a Vector outside --watch-namespace). */
  skipped: Counter<'reason'>;
  dropVector(namespace: string, vector: string): void;
}

export function createMetrics(queues: () => Record<string, number>, defaults = false): OperatorMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry });
  const reconciles = new Counter({
    name: 'vector_operator_reconciles_total',
    help: 'Reconciles run, by controller and result (success, error).',
    labelNames: ['controller', 'result'] as const,
    registers: [registry],
  });
  const reconcileSeconds = new Histogram({
    name: 'vector_operator_reconcile_duration_seconds',
    help: 'Wall time of each reconcile, from its start to its end (queue wait excluded), by controller.',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'vector_operator_reconcile_errors_total',
    help: 'Reconciles that failed and were requeued with backoff.',
    labelNames: ['controller'] as const,
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: 'vector_operator_workqueue_depth',
    help: 'Keys waiting in each controller work queue.',
    labelNames: ['controller'] as const,
    registers: [registry],
    collect() {
      for (const [controller, depth] of Object.entries(queues())) this.set({ controller }, depth);
    },
  });
  const writes = new Counter({
    name: 'vector_operator_api_writes_total',
    help: 'Writes sent to the API server (apply, delete, status), by kind.',
    labelNames: ['kind', 'verb'] as const,
    registers: [registry],
  });
  const collapsedSources = new Gauge({
    name: 'vector_operator_optimization_collapsed_sources',
    help: 'kubernetes_logs sources collapsed by config optimization in the mounted config.',
    labelNames: ['namespace', 'vector'] as const,
    registers: [registry],
  });
  const optimizedSources = new Gauge({
    name: 'vector_operator_optimization_optimized_sources',
    help: 'Shared optimizedSource-* sources that replace them.',
    labelNames: ['namespace', 'vector'] as const,
    registers: [registry],
  });
  const nodes = new Gauge({
    name: 'vector_operator_migration_nodes',
    help: 'Agent pods by checkpoint-merger outcome (migrated, pending, failed).',
    labelNames: ['namespace', 'vector', 'state'] as const,
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'vector_operator_reconciles_skipped_total',
    help: 'Reconciles refused without reading or writing anything, by reason (out-of-scope).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return {
    registry,
    skipped,
    reconciles,
    reconcileSeconds,
    errors,
    queueDepth,
    writes,
    collapsedSources,
    optimizedSources,
    nodes,
    dropVector(namespace, vector) {
      collapsedSources.remove({ namespace, vector });
      optimizedSources.remove({ namespace, vector });
      for (const state of ['migrated', 'pending', 'failed']) nodes.remove({ namespace, vector, state });
    },
  };
}
