/** Small builders for Vector and pipeline objects, as a user would write them in manifests. */
import type { Pipeline, PipelineSpec, Vector, VectorSpec } from '../../src/pipelines/schemas.ts';

export const optOutAnnotations = { 'vector-operator.kaasops.io/config-optimization': 'disabled' };

export function vector(spec: VectorSpec = {}, meta: Partial<Vector['metadata']> = {}): Vector {
  return { kind: 'Vector', metadata: { name: 'logs', namespace: 'vector', ...meta }, spec };
}

export function vp(
  namespace: string,
  name: string,
  spec: PipelineSpec,
  meta: Partial<Pipeline['metadata']> = {},
): Pipeline {
  return { kind: 'VectorPipeline', metadata: { name, namespace, ...meta }, spec };
}

export function cvp(name: string, spec: PipelineSpec, meta: Partial<Pipeline['metadata']> = {}): Pipeline {
  return { kind: 'ClusterVectorPipeline', metadata: { name, ...meta }, spec };
}

/** The usual team pipeline: one kubernetes_logs source `pods` into one sink `out`. */
export function logsToSink(
  namespace: string,
  name = 'logs',
  source: Record<string, unknown> = {},
  meta: Partial<Pipeline['metadata']> = {},
): Pipeline {
  return vp(
    namespace,
    name,
    {
      sources: { pods: { type: 'kubernetes_logs', ...source } },
      sinks: { out: { type: 'blackhole', inputs: ['pods'] } },
    },
    meta,
  );
}

export function namespaces(n: number, prefix = 'ns'): string[] {
  const width = String(n - 1).length;
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(width, '0')}`);
}
