/**
 * `vector-operator render -f PATH... [--enable-config-optimization] [--objects] [--vector ns/name] [--namespace NS]
 *   [--pipeline-policy...]`
 *
 * Prints the agent config JSON (agent.json bytes) the operator would publish for the Vector in the manifests, or with
 * `--objects` every object it would write, as multi-document YAML. Objects and fields it ignores are warned about on
 * stderr. Exit 0 on success; 1 when a pipeline is rejected or the config fails the structural check (each message
 * names the pipeline and the field); 2 on usage errors.
 *
 * Must stay fast: it never imports @kubernetes/client-node (objects.ts only uses its types).
 */
import { stringify } from 'yaml';
import { desiredState } from '../operator/desired.ts';
import { assetsObjectBytes } from '../operator/secret-assets.ts';
import { renderAggregator } from './aggregator-preview.ts';
import type { Io } from './io.ts';
import { buildAgentConfig } from '../pipelines/build.ts';
import { describeRef, describeRejection } from '../pipelines/pipeline.ts';
import { secretSourceOf } from '../pipelines/secrets.ts';
import { serializeConfig } from '../pipelines/serialize.ts';
import { validateConfigGraph } from '../vector/graph.ts';
import {
  InputError,
  loadManifests,
  namespaceOption,
  parseCommandArgs,
  pickAggregator,
  pickVector,
  warnTo,
} from './manifest-input.ts';
import { objectFlagOptions, objectFlagUsage, operatorFlagsFrom } from './object-flags.ts';
import { policyFromFlags, policyOptions, policyUsage } from './policy-flags.ts';

const usage = `usage: vector-operator render -f PATH... [--enable-config-optimization] [--objects] [--vector ns/name]
                               [--aggregator ns/name] [--namespace NS]

Prints the agent config (agent.json) for the Vector in the given manifests, or the config (config.json) of an
aggregator: the one --aggregator names, or the only one when there is no Vector.
  -f, --filename PATH            a YAML/JSON file or a directory of them (repeatable)
      --enable-config-optimization  collapse per-namespace kubernetes_logs sources (the operator flag)
      --objects                  print every object the operator would apply instead, as multi-document YAML
      --vector NS/NAME           which Vector, when the manifests hold several
      --aggregator NS/NAME       a VectorAggregator (a ClusterVectorAggregator: NAME) instead of the Vector
  -n, --namespace NS             the namespace of Vectors and VectorPipelines that carry none
Secrets (v1) in the inputs give the values of pipeline secrets (spec.secret), as the cluster's would.
${objectFlagUsage}The operator's tenant policy flags, so the preview matches what it publishes:
${policyUsage}`;

export function main(args: string[], io: Io): Promise<number> {
  return Promise.resolve(run(args, io));
}

function run(args: string[], io: Io): number {
  const values = parseCommandArgs('render', usage, args, io, {
    'enable-config-optimization': { type: 'boolean', default: false },
    objects: { type: 'boolean', default: false },
    ...objectFlagOptions,
    ...policyOptions,
  });
  if (typeof values === 'number') return values;
  const policy = policyFromFlags(values);
  const flags = typeof policy === 'string' ? policy : operatorFlagsFrom(values, policy);
  if (typeof flags === 'string') {
    io.err(`vector-operator render: ${flags}\n`);
    return 2;
  }
  try {
    const parsed = loadManifests(values.filename, namespaceOption(values.namespace), warnTo(io));
    const aggregator = pickAggregator(parsed, values.aggregator, values.vector);
    if (aggregator !== undefined) return renderAggregator(aggregator, parsed.pipelines, values.objects, io);
    const vector = pickVector(parsed.vectors, values.vector);
    // The Secrets the pipelines reference come from the inputs: render has no cluster to read them from.
    const secretValues = secretSourceOf(parsed.secrets);
    const built = buildAgentConfig(vector, parsed.pipelines, {
      optimize: values['enable-config-optimization'],
      policy: flags.policy,
      secrets: secretValues,
      assetsObjectBytes: assetsObjectBytes(vector, flags.migration),
    });
    for (const s of built.skipped) io.err(`note: ${describeRef(s.pipeline)} skipped: ${s.why}\n`);
    for (const t of built.tolerated) io.err(`warning: ${describeRejection(t)} (kept: policy in warn mode)\n`);
    if (built.rejected.length > 0) {
      for (const r of built.rejected) io.err(`error: ${describeRejection(r)}\n`);
      if (built.rejected.some((r) => r.reason.includes(': failed to get secret ')))
        io.err('note: render reads the Secrets pipelines reference from its inputs: pass their manifests with -f\n');
      return 1;
    }
    const problems = validateConfigGraph(built.config);
    if (problems.length > 0) {
      for (const p of problems) io.err(`error: ${p.kind}.${p.component}: ${p.message}\n`);
      return 1;
    }
    const json = serializeConfig(built.config);
    if (!values.objects) {
      io.out(json + '\n');
      return 0;
    }
    // The operator's own builder, as on a cluster where none of the Vector's objects exist yet.
    const desired = desiredState(
      vector,
      parsed.pipelines,
      { ...flags, podMonitor: true },
      { daemonSet: undefined, secrets: {}, secretValues },
    );
    if (!desired.ok) {
      for (const p of desired.problems) io.err(`error: ${p}\n`);
      return 1;
    }
    const objects = [...desired.assets, ...desired.objects];
    io.out(objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join(''));
    return 0;
  } catch (err) {
    if (err instanceof InputError) {
      io.err(`vector-operator render: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
