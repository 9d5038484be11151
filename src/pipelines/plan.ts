/**
 * Legacy vs optimized, side by side: what switching `--enable-config-optimization` on would do to one agent.
 *
 * Invariants:
 * - Both configs come from the same build (build.ts) and both pass the structural check, or the plan says why not.
 * - Watches are counted as Vector opens them: 3 per `kubernetes_logs` source (pods, namespaces, nodes).
 * - Checkpoint seeding follows the merger's rule: the targets are the sources new in the config being switched to,
 *   seeded from the sources that retire (live before, gone after). Sources present in both are left alone.
 */
import { kubernetesLogsSources } from '../vector/config.ts';
import { validateConfigGraph, type GraphProblem } from '../vector/graph.ts';
import { buildAgentConfig, type BuildResult } from './build.ts';
import { compareCodePoints } from './gojson.ts';
import { defaultPolicy } from './policy.ts';
import { namespaceBucket, namespaceCondition } from './routing.ts';
import type { Pipeline, Vector } from './schemas.ts';

const watchesPerSource = 3;

export interface SeedPlan {
  /** Source dirs the merger creates/seeds, sorted. */
  targets: string[];
  /** Source dirs whose positions are carried over, sorted. */
  from: string[];
}

export interface GroupPlan {
  source: string;
  namespaces: number;
  members: string[];
  routing: 'flat' | 'two-level';
  buckets: number;
  /** Route conditions an event passes through, worst case: flat = n; two-level = non-empty buckets + largest bucket. */
  conditionsPerEvent: number;
  /** Per namespace, sorted: the conditions an event of it passes (L1 bucket, then namespace) and the output it reaches. */
  routes: { namespace: string; conditions: string[]; output: string }[];
}

export interface Plan {
  vector: string;
  optOut: boolean;
  legacy: BuildResult;
  optimized: BuildResult;
  problems: { legacy: GraphProblem[]; optimized: GraphProblem[] };
  kubernetesLogs: { legacy: number; optimized: number };
  watches: { legacy: number; optimized: number };
  groups: GroupPlan[];
  /** kubernetes_logs sources that stay as they are (opted out, unique settings, multi-namespace...). */
  unchanged: string[];
  enable: SeedPlan;
  rollback: SeedPlan;
}

export function planOptimization(vector: Vector, pipelines: readonly Pipeline[], policy = defaultPolicy): Plan {
  const legacy = buildAgentConfig(vector, pipelines, { optimize: false, policy });
  const optimized = buildAgentConfig(vector, pipelines, { optimize: true, policy });
  const before = kubernetesLogsSources(legacy.config);
  const after = kubernetesLogsSources(optimized.config);
  const beforeSet = new Set(before);
  const afterSet = new Set(after);
  const groups: GroupPlan[] = optimized.optimization.groups.map((g) => {
    const l1 = g.routing === 'flat' ? 0 : new Set(Object.values(g.outputs).map((o) => o.split('.')[0])).size;
    const routes = [...new Set(Object.values(g.outputs))]
      .map((output) => {
        const namespace = output.slice(output.indexOf('.') + 1);
        const bucket = g.routing === 'flat' ? [] : [`%bucket == ${namespaceBucket(namespace, g.buckets)}`];
        return { namespace, conditions: [...bucket, namespaceCondition(namespace, g.namespaceField)], output };
      })
      .sort((a, b) => compareCodePoints(a.namespace, b.namespace));
    return {
      source: g.source,
      namespaces: g.namespaces.length,
      members: g.members,
      routing: g.routing,
      buckets: g.buckets,
      conditionsPerEvent: g.routing === 'flat' ? g.namespaces.length : l1 + g.largestBucket,
      routes,
    };
  });
  return {
    vector: `${vector.metadata.namespace}/${vector.metadata.name}`,
    optOut: !optimized.optimized,
    legacy,
    optimized,
    problems: { legacy: validateConfigGraph(legacy.config), optimized: validateConfigGraph(optimized.config) },
    kubernetesLogs: { legacy: before.length, optimized: after.length },
    watches: { legacy: before.length * watchesPerSource, optimized: after.length * watchesPerSource },
    groups,
    unchanged: before.filter((s) => afterSet.has(s)),
    enable: { targets: after.filter((s) => !beforeSet.has(s)), from: before.filter((s) => !afterSet.has(s)) },
    rollback: { targets: before.filter((s) => !afterSet.has(s)), from: after.filter((s) => !beforeSet.has(s)) },
  };
}
