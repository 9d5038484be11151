/**
 * `vector-operator plan -f PATH... [--vector ns/name] [--namespace NS] [--json] [--all] [--enable-checkpoint-migration]`
 *
 * Shows what `--enable-config-optimization` does to the Vector in the manifests: sources collapsed and renamed, watch
 * connections before and after, route conditions per event, and which checkpoint dirs the checkpoint merger will seed
 * (both directions); with --enable-checkpoint-migration, the migration Secrets and the rollouts (plan-migration.ts).
 * Objects and fields it ignores are warned about on stderr. Exit 0 when both configs are valid, 1 otherwise
 * (rejections and graph problems are listed), 2 on usage errors. Like `render`, it never loads the Kubernetes client.
 */
import { describeRef, describeRejection } from '../pipelines/pipeline.ts';
import { planOptimization, type Plan, type SeedPlan } from '../pipelines/plan.ts';
import {
  InputError,
  loadManifests,
  namespaceOption,
  parseCommandArgs,
  pickAggregator,
  pickVector,
  warnTo,
} from './manifest-input.ts';
import { defaultMergerImage } from '../operator/merger-container.ts';
import { planAggregator } from './aggregator-preview.ts';
import type { Io } from './io.ts';
import { objectFlagOptions, operatorFlagsFrom } from './object-flags.ts';
import { formatMigration, previewMigration } from './plan-migration.ts';
import { policyFromFlags, policyOptions, policyUsage } from './policy-flags.ts';

const usage = `usage: vector-operator plan -f PATH... [--vector ns/name] [--aggregator ns/name] [--namespace NS] [--json]
                             [--all] [--enable-checkpoint-migration]

Compares the legacy and the optimized agent config for the Vector in the given manifests. For an aggregator (the
one --aggregator names, or the only one when there is no Vector): the pipelines it uses and the Services its
sources listen on.
  -f, --filename PATH   a YAML/JSON file or a directory of them (repeatable)
      --vector NS/NAME  which Vector, when the manifests hold several
      --aggregator NS/NAME  a VectorAggregator (a ClusterVectorAggregator: NAME) instead of the Vector
  -n, --namespace NS    the namespace of Vectors and VectorPipelines that carry none
      --json            machine-readable output (everything, untruncated)
      --all             do not truncate long lists in the text output
      --enable-checkpoint-migration          also show the migration Secrets and what enabling optimization and
                                             rolling it back do to the agents (as the operator would, step by step)
      --checkpoint-merger-image IMAGE        (default ${defaultMergerImage})
      --checkpoint-merger-position-policy P  min (default) or max
The operator's tenant policy flags, so the plan matches what it publishes:
${policyUsage}`;

export function main(args: string[], io: Io): Promise<number> {
  return Promise.resolve(run(args, io));
}

function list(items: readonly string[], all: boolean, max = 6): string {
  if (items.length === 0) return '(none)';
  if (all || items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')}, … ${items.length - max} more`;
}

function pct(before: number, after: number): string {
  if (before === 0) return '';
  return ` (${after < before ? '-' : '+'}${Math.round((Math.abs(before - after) / before) * 100)}%)`;
}

function seedLines(title: string, seed: SeedPlan, all: boolean): string[] {
  if (seed.targets.length === 0) return [`${title}: nothing to seed`];
  return [
    `${title}: ${seed.targets.length} new source dir(s) seeded from ${seed.from.length} retiring dir(s)`,
    `  seed:  ${list(seed.targets, all)}`,
    `  from:  ${list(seed.from, all)}`,
  ];
}

export function formatPlan(plan: Plan, all: boolean): string {
  const out: string[] = [`Vector ${plan.vector}: legacy vs optimized`];
  if (plan.optOut) {
    out.push(`  optimization is disabled on this Vector by its annotation; both configs are the legacy one`);
  }
  const { legacy, optimized } = plan.kubernetesLogs;
  out.push(
    '',
    '                           legacy   optimized',
    `  kubernetes_logs sources  ${String(legacy).padStart(6)}   ${String(optimized).padStart(9)}`,
    `  watch connections        ${String(plan.watches.legacy).padStart(6)}   ${String(plan.watches.optimized).padStart(9)}${pct(plan.watches.legacy, plan.watches.optimized)}`,
    `  components               ${String(count(plan, 'legacy')).padStart(6)}   ${String(count(plan, 'optimized')).padStart(9)}`,
  );
  out.push('', `Collapsed sources (${plan.groups.length}):`);
  if (plan.groups.length === 0) out.push('  (none: no two sources share settings on single namespaces)');
  for (const g of plan.groups) {
    const routing =
      g.routing === 'flat'
        ? `flat router, ${g.conditionsPerEvent} condition(s) per event`
        : `${g.buckets} md5 buckets, ≤ ${g.conditionsPerEvent} condition(s) per event`;
    out.push(
      `  ${g.source}  ← ${g.members.length} source(s), ${g.namespaces} namespace(s); ${routing}`,
      `    replaces: ${list(g.members, all)}`,
    );
    const shown = all ? g.routes : g.routes.slice(0, 4);
    for (const r of shown) {
      out.push(`    ${r.conditions.join('  →  ')}  →  ${r.output}`);
    }
    if (shown.length < g.routes.length) out.push(`    … ${g.routes.length - shown.length} more route(s)`);
  }
  out.push('', `Unchanged kubernetes_logs sources: ${list(plan.unchanged, all)}`, '');
  out.push(...seedLines('Checkpoints when enabling', plan.enable, all));
  out.push(...seedLines('Checkpoints when rolling back', plan.rollback, all));
  return out.join('\n') + '\n';
}

function count(plan: Plan, which: 'legacy' | 'optimized'): number {
  const c = plan[which].config;
  return Object.keys(c.sources).length + Object.keys(c.transforms).length + Object.keys(c.sinks).length;
}

function run(args: string[], io: Io): number {
  const values = parseCommandArgs('plan', usage, args, io, {
    json: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    'enable-checkpoint-migration': objectFlagOptions['enable-checkpoint-migration'],
    'checkpoint-merger-image': objectFlagOptions['checkpoint-merger-image'],
    'checkpoint-merger-position-policy': objectFlagOptions['checkpoint-merger-position-policy'],
    ...policyOptions,
  });
  if (typeof values === 'number') return values;
  const policy = policyFromFlags(values);
  const flags =
    typeof policy === 'string'
      ? policy
      : operatorFlagsFrom(
          {
            ...values,
            'enable-config-optimization': false,
            'agent-least-privilege': false,
            'agent-termination-grace-period-seconds': '',
          },
          policy,
        );
  if (typeof flags === 'string') {
    io.err(`vector-operator plan: ${flags}\n`);
    return 2;
  }
  try {
    const parsed = loadManifests(values.filename, namespaceOption(values.namespace), warnTo(io));
    const aggregator = pickAggregator(parsed, values.aggregator, values.vector);
    if (aggregator !== undefined) return planAggregator(aggregator, parsed.pipelines, values.json, io);
    const vector = pickVector(parsed.vectors, values.vector);
    const plan = planOptimization(vector, parsed.pipelines, flags.policy);
    for (const s of plan.legacy.skipped) io.err(`note: ${describeRef(s.pipeline)} skipped: ${s.why}\n`);
    for (const t of plan.legacy.tolerated) {
      io.err(`warning: ${describeRejection(t)} (kept: policy in warn mode)\n`);
    }
    let failed = false;
    for (const r of plan.legacy.rejected) {
      io.err(`error: ${describeRejection(r)}\n`);
      failed = true;
    }
    for (const mode of ['legacy', 'optimized'] as const) {
      for (const p of plan.problems[mode]) {
        io.err(`error: ${mode} config: ${p.kind}.${p.component}: ${p.message}\n`);
        failed = true;
      }
    }
    const migration = flags.migration && !failed ? previewMigration(vector, parsed.pipelines, flags) : undefined;
    if (migration !== undefined && 'problems' in migration) {
      for (const p of migration.problems) io.err(`error: ${p}\n`);
      return 1;
    }
    if (values.json) {
      // The two full configs are left out: `render` prints them.
      const summary = {
        vector: plan.vector,
        optOut: plan.optOut,
        rejected: plan.legacy.rejected,
        skipped: plan.legacy.skipped,
        problems: plan.problems,
        kubernetesLogs: plan.kubernetesLogs,
        watches: plan.watches,
        groups: plan.groups,
        unchanged: plan.unchanged,
        enable: plan.enable,
        rollback: plan.rollback,
        ...(migration === undefined ? {} : { migration }),
      };
      io.out(JSON.stringify(summary, null, 2) + '\n');
    } else io.out(formatPlan(plan, values.all) + (migration === undefined ? '' : formatMigration(migration)));
    return failed ? 1 : 0;
  } catch (err) {
    if (err instanceof InputError) {
      io.err(`vector-operator plan: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
