/**
 * `render` and `plan` for a VectorAggregator or ClusterVectorAggregator in the manifests (`--aggregator`, or the only
 * aggregator when there is no Vector): the config (`config.json` bytes) or every object the operator would publish,
 * and what it takes from the pipelines. Exit codes as for a Vector: 0, or 1 when a pipeline is rejected or the config fails the
 * structural check, each message naming the pipeline and the field.
 */
import { stringify } from 'yaml';
import { aggregatorObjects } from '../operator/aggregator-objects.ts';
import { buildAggregatorConfig, describeAggregator, type AggregatorBuild } from '../pipelines/aggregator-build.ts';
import type { Aggregator } from '../pipelines/aggregator-schemas.ts';
import { describeRef, describeRejection } from '../pipelines/pipeline.ts';
import type { Pipeline } from '../pipelines/schemas.ts';
import { serializeConfig } from '../pipelines/serialize.ts';
import { validateConfigGraph } from '../vector/graph.ts';
import type { Io } from './io.ts';

/** The build, with its notes and errors on stderr; undefined when it failed (reported). */
function checkedBuild(agg: Aggregator, pipelines: readonly Pipeline[], io: Io): AggregatorBuild | undefined {
  const built = buildAggregatorConfig(agg, pipelines);
  for (const s of built.skipped) io.err(`note: ${describeRef(s.pipeline)} skipped: ${s.why}\n`);
  let failed = false;
  for (const r of built.rejected) {
    io.err(`error: ${describeRejection(r)}\n`);
    failed = true;
  }
  for (const p of validateConfigGraph(built.config)) {
    io.err(`error: ${p.kind}.${p.component}: ${p.message}\n`);
    failed = true;
  }
  return failed ? undefined : built;
}

/** The config JSON, or with `objects` every object the operator would write, as multi-document YAML. */
export function renderAggregator(agg: Aggregator, pipelines: readonly Pipeline[], objects: boolean, io: Io): number {
  const built = checkedBuild(agg, pipelines, io);
  if (built === undefined) return 1;
  if (!objects) {
    io.out(serializeConfig(built.config) + '\n');
    return 0;
  }
  // As on a cluster where the PodMonitor kind exists.
  const desired = aggregatorObjects(agg, built, { podMonitor: true });
  if (!desired.ok) {
    for (const p of desired.problems) io.err(`error: ${describeAggregator(agg)}: ${p}\n`);
    return 1;
  }
  io.out(desired.objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join(''));
  return 0;
}

function formatAggregatorPlan(agg: Aggregator, built: AggregatorBuild): string {
  const out = [
    `${describeAggregator(agg)}: config optimization and checkpoint migration do not apply to aggregators`,
    '',
    `Pipelines used (${built.accepted.length}): ${built.accepted.map(describeRef).join(', ') || '(none)'}`,
    `Services from source addresses (${built.services.length}):`,
  ];
  for (const s of built.services) {
    const ports = s.ports.map(
      (p) => `${p.name} ${p.port}/${p.protocol}${p.kubernetesEvents === true ? ' (kubernetes_events)' : ''}`,
    );
    out.push(`  ${s.name}  ${ports.join(', ')}`);
  }
  return out.join('\n') + '\n';
}

export function planAggregator(agg: Aggregator, pipelines: readonly Pipeline[], json: boolean, io: Io): number {
  const built = checkedBuild(agg, pipelines, io);
  if (built === undefined) return 1;
  if (json) {
    const summary = {
      aggregator: describeAggregator(agg),
      accepted: built.accepted,
      skipped: built.skipped,
      services: built.services,
    };
    io.out(JSON.stringify(summary, null, 2) + '\n');
  } else io.out(formatAggregatorPlan(agg, built));
  return 0;
}
