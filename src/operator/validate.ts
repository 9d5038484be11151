/**
 * Validate one pipeline alone: compile it (kaasops' rules: types, role, selectors, ids), apply the tenant policy
 * (policy.ts; in warn mode its violations are `tolerated`, not refused), and structurally check a
 * config holding just that pipeline (every input resolves, no cycle). This is the operator's configcheck in the stand
 * and by default; see docs/operator.md for what `vector validate` in a pod would add on a real cluster.
 *
 * Invariants:
 * - The verdict depends only on the pipeline's kind, namespace, name, spec and annotations, so it is memoised by those
 *   (keyed by uid and generation plus annotations): a Vector reconcile over 1000 pipelines re-validates only the ones
 *   that changed.
 * - A pipeline that fails alone is left out of every Vector's config, so it never breaks the others; a pipeline that
 *   passes alone can still be rejected by a Vector build (an id clash with an older pipeline), which the Vector's
 *   status reports.
 */
import { buildAgentConfig } from '../pipelines/build.ts';
import { describeRejection, pipelineRefOf } from '../pipelines/pipeline.ts';
import { defaultPolicy, type PipelinePolicy } from '../pipelines/policy.ts';
import { pipelineRole } from '../pipelines/roles.ts';
import type { Pipeline, Vector } from '../pipelines/schemas.ts';
import { validateConfigGraph } from '../vector/graph.ts';

export type Role = 'agent' | 'aggregator';

export interface PipelineVerdict {
  valid: boolean;
  role: Role | undefined;
  /** Empty when valid; else what is wrong and where (the pipeline, the field, what to do). */
  reason: string;
  /** Set when the tenant policy refused the pipeline (enforce mode). */
  policyRefused?: true;
  /** Policy violations kept flowing in warn mode, each naming the pipeline, the field and why it is unsafe. */
  tolerated?: string[];
}

const probe: Vector = { kind: 'Vector', metadata: { name: 'configcheck', namespace: 'configcheck' }, spec: {} };

export function validatePipeline(p: Pipeline, policy: PipelinePolicy = defaultPolicy): PipelineVerdict {
  const built = buildAgentConfig(probe, [p], { optimize: false, policy });
  const rejection = built.rejected[0];
  if (rejection !== undefined) {
    const verdict: PipelineVerdict = { valid: false, role: undefined, reason: describeRejection(rejection) };
    if (rejection.policy === true) verdict.policyRefused = true;
    return verdict;
  }
  const tolerated = built.tolerated.length > 0 ? { tolerated: built.tolerated.map(describeRejection) } : {};
  if (built.skipped.length > 0) return { valid: true, role: 'aggregator', reason: '' };
  const problems = validateConfigGraph(built.config);
  if (problems.length > 0) {
    const ref = pipelineRefOf(p);
    const prefix = ref.namespace === '' ? `${ref.name}-` : `${ref.namespace}-${ref.name}-`;
    const what = problems.map((x) => `spec.${x.kind}.${x.component.replace(prefix, '')}: ${x.message}`).join('; ');
    return {
      valid: false,
      role: 'agent',
      reason: describeRejection({ pipeline: ref, field: 'config', reason: what }),
    };
  }
  const role = pipelineRole(Object.entries(p.spec.sources ?? {}).map(([k, s]) => [k, String(s.type)] as const));
  return { valid: true, role: role.role === 'aggregator' ? 'aggregator' : 'agent', reason: '', ...tolerated };
}

/** Memoises validatePipeline; `prune` drops entries of pipelines that no longer exist. */
export class PipelineValidator {
  private readonly memo = new Map<string, { stamp: string; verdict: PipelineVerdict }>();
  private readonly seen = new WeakMap<object, { kind: string; spec: object; verdict: PipelineVerdict }>();
  private readonly policy: PipelinePolicy;

  /** The policy is fixed for the validator's life (the operator's flags), so it is not part of the memo key. */
  constructor(policy: PipelinePolicy = defaultPolicy) {
    this.policy = policy;
  }

  private static identity(p: Pipeline): string {
    return `${p.kind}/${p.metadata.namespace ?? ''}/${p.metadata.name}`;
  }

  private static stamp(p: Pipeline): string {
    // generation alone misses annotation changes (the opt-out annotation), and objects built in tests have none.
    const gen = (p.metadata as { generation?: number }).generation;
    const uid = p.metadata.uid;
    if (gen !== undefined && uid !== undefined) return `${uid}/${gen}/${JSON.stringify(p.metadata.annotations ?? {})}`;
    return JSON.stringify([p.spec, p.metadata.annotations ?? {}]);
  }

  verdict(p: Pipeline): PipelineVerdict {
    // A Vector reconcile asks for every pipeline it selects: the cached objects are immutable, so one lookup by the
    // metadata object answers until the pipeline changes, without building its stamp again.
    const seen = this.seen.get(p.metadata);
    if (seen !== undefined && seen.spec === p.spec && seen.kind === p.kind) return seen.verdict;
    const verdict = this.byStamp(p);
    this.seen.set(p.metadata, { kind: p.kind, spec: p.spec, verdict });
    return verdict;
  }

  private byStamp(p: Pipeline): PipelineVerdict {
    const id = PipelineValidator.identity(p);
    const stamp = PipelineValidator.stamp(p);
    const hit = this.memo.get(id);
    if (hit?.stamp === stamp) return hit.verdict;
    const verdict = validatePipeline(p, this.policy);
    this.memo.set(id, { stamp, verdict });
    return verdict;
  }

  forget(p: Pipeline): void {
    this.memo.delete(PipelineValidator.identity(p));
  }
}
