/**
 * Kubernetes manifests (already parsed YAML/JSON values) -> typed Vector and pipeline objects.
 *
 * Invariants:
 * - Never throws on bad input: each problem is reported with the object and the field path
 *   (`VectorPipeline team-a/logs: spec.sources.app: expected object, received string`).
 * - Objects of other kinds or API groups are ignored (a manifest directory may hold anything), and counted.
 * - An absent spec is an empty spec; null component maps are empty maps.
 */
import type { z } from 'zod';
import {
  apiVersion,
  metadataSchema,
  pipelineSpecSchema,
  vectorSpecSchema,
  type Pipeline,
  type Vector,
} from './schemas.ts';

export interface ManifestDoc {
  /** Where it came from, for messages: `path#index`. */
  origin: string;
  value: unknown;
}

export interface ParsedManifests {
  vectors: Vector[];
  pipelines: Pipeline[];
  errors: string[];
  ignored: number;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], root: string): string[] {
  return issues.map((i) => {
    const path = [root, ...i.path.map(String)].filter((s) => s !== '').join('.');
    return `${path}: ${i.message.replace(/^Invalid input: /, '')}`;
  });
}

const kinds = new Set(['Vector', 'VectorPipeline', 'ClusterVectorPipeline']);

export function parseManifests(docs: readonly ManifestDoc[]): ParsedManifests {
  const out: ParsedManifests = { vectors: [], pipelines: [], errors: [], ignored: 0 };
  for (const doc of docs) {
    const v = doc.value;
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || Array.isArray(v)) {
      out.errors.push(`${doc.origin}: not a Kubernetes object`);
      continue;
    }
    const obj = v as Record<string, unknown>;
    if (obj.kind === 'List' && Array.isArray(obj.items)) {
      const nested = parseManifests(
        (obj.items as unknown[]).map((item, i) => ({ origin: `${doc.origin}.items[${i}]`, value: item })),
      );
      out.vectors.push(...nested.vectors);
      out.pipelines.push(...nested.pipelines);
      out.errors.push(...nested.errors);
      out.ignored += nested.ignored;
      continue;
    }
    if (obj.apiVersion !== apiVersion || typeof obj.kind !== 'string' || !kinds.has(obj.kind)) {
      out.ignored++;
      continue;
    }
    const kind = obj.kind as 'Vector' | 'VectorPipeline' | 'ClusterVectorPipeline';
    const meta = metadataSchema.safeParse(obj.metadata ?? {});
    if (!meta.success) {
      out.errors.push(...formatIssues(meta.error.issues, 'metadata').map((m) => `${doc.origin}: ${kind}: ${m}`));
      continue;
    }
    const namespaced = kind !== 'ClusterVectorPipeline';
    const ns = meta.data.namespace;
    const who = namespaced ? `${kind} ${ns ?? '?'}/${meta.data.name}` : `${kind} ${meta.data.name}`;
    if (namespaced && (ns === undefined || ns === '')) {
      out.errors.push(`${who}: metadata.namespace: is required (render does not guess a default namespace)`);
      continue;
    }
    const specSchema = kind === 'Vector' ? vectorSpecSchema : pipelineSpecSchema;
    const spec = specSchema.safeParse(obj.spec ?? {});
    if (!spec.success) {
      out.errors.push(...formatIssues(spec.error.issues, 'spec').map((m) => `${who}: ${m}`));
      continue;
    }
    if (kind === 'Vector') {
      out.vectors.push({
        kind,
        metadata: { ...meta.data, namespace: ns as string },
        spec: spec.data as Vector['spec'],
      });
    } else {
      out.pipelines.push({ kind, metadata: meta.data, spec: spec.data as Pipeline['spec'] });
    }
  }
  return out;
}
