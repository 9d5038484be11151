/**
 * `vector-operator lab [--pipelines N] [--nodes N] [--kube standin|real] [--json F] [--html F] [--scenario S]...`: runs
 * the stand's scenarios and prints the report; `--json` and `--html` also write it to files.
 *
 * Invariants:
 * - Exit 0 when every scenario ran, whatever its figures (the report is the product); 1 when a scenario could not run,
 *   or `--kube real` finds the control plane's binaries missing (the message names `npm run build:kube`); 2 on a
 *   usage error.
 * - `--help` and flag errors import nothing of the stand (only node: modules and the scenario names).
 * - Progress goes to stderr, the report to stdout, so `--json -` style piping never mixes them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stderr, stdout } from 'node:process';
import { parseArgs } from 'node:util';
import { scenarioNames } from '../scenarios/names.ts';
import { kubeBinDir, missingKubeBinaries } from '../kube-real/binaries.ts';

/** `standin` (the design's spelling), `stand-in` (the glossary's) or `real`. */
function kubeKind(v: string | undefined): 'stand-in' | 'real' | undefined {
  if (v === undefined || v === 'standin' || v === 'stand-in') return 'stand-in';
  return v === 'real' ? 'real' : undefined;
}

export const labUsage = `usage: vector-operator lab [flags]
       vector-operator lab apiserver --kubeconfig F [--port N]

Runs the stand (an API server, simulated nodes, Vector simulators, the real operator and checkpoint-merger)
through the scenarios and reports duplicates and losses per pipeline, watch connections and rollout times.

  --pipelines N   namespaces, each with a VectorPipeline (every 4th also an 'audit' one) (default 24)
  --nodes N       simulated nodes (default 3)
  --pods N        workload pods per namespace (default 2)
  --kube K        the API server: standin (the built-in stand-in, default) or real (etcd, kube-apiserver,
                  kube-controller-manager and kube-scheduler built by \`npm run build:kube\`)
  --scenario S    run only S (repeatable); one of: ${scenarioNames.join(', ')}
  --json F        also write the report as JSON to F
  --html F        also write a self-contained HTML/SVG report to F
  --seed N        workload seed (default 1)
`;

function positive(v: string | undefined, d: number): number | undefined {
  if (v === undefined) return d;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        pipelines: { type: 'string' },
        nodes: { type: 'string' },
        pods: { type: 'string' },
        seed: { type: 'string' },
        kube: { type: 'string' },
        scenario: { type: 'string', multiple: true },
        json: { type: 'string' },
        html: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    stderr.write(`vector-operator lab: ${(err as Error).message}\n\n${labUsage}`);
    return 2;
  }
  if (values.help === true) {
    stdout.write(labUsage);
    return 0;
  }
  const pipelines = positive(values.pipelines, 24);
  const nodes = positive(values.nodes, 3);
  const pods = positive(values.pods, 2);
  const seed = positive(values.seed, 1);
  if (pipelines === undefined || nodes === undefined || pods === undefined || seed === undefined) {
    stderr.write(`vector-operator lab: --pipelines, --nodes, --pods and --seed take a positive integer\n`);
    return 2;
  }
  const kube = kubeKind(values.kube);
  if (kube === undefined) {
    stderr.write(`vector-operator lab: --kube takes standin or real, not '${values.kube ?? ''}'\n`);
    return 2;
  }
  const names = values.scenario ?? scenarioNames;
  const unknown = names.filter((n) => !(scenarioNames as readonly string[]).includes(n));
  if (unknown.length > 0) {
    stderr.write(`vector-operator lab: unknown scenario ${unknown.join(', ')} (known: ${scenarioNames.join(', ')})\n`);
    return 2;
  }
  if (kube === 'real') {
    const missing = missingKubeBinaries();
    if (missing.length > 0) {
      stderr.write(
        `vector-operator lab --kube real: ${missing.join(', ')} not built in ${kubeBinDir()}; run \`npm run build:kube\` (Go >= 1.26 and the Go module proxy)\n`,
      );
      return 1;
    }
  }
  // The stand itself is loaded only now, after the flags are checked: `lab --help` and usage errors load nothing heavy.
  const [{ renderHtml, renderTable, runLab }, { describeError }] = await Promise.all([
    import('./report.ts'),
    import('../common/kube-http.ts'),
  ]);
  let report;
  try {
    report = await runLab(
      names,
      { pipelines, nodes, podsPerNamespace: pods, seed, maxFileBytes: 4096, maxFiles: 4, kube },
      (line) => stderr.write(`${line}\n`),
    );
  } catch (err) {
    // The cause first (undici's `fetch failed` hides the socket error there), then where it was thrown.
    const stack = err instanceof Error ? `\n${err.stack ?? ''}` : '';
    stderr.write(`vector-operator lab: ${describeError(err)}${stack}\n`);
    return 1;
  }
  stdout.write(`${renderTable(report)}\n`);
  const save = (file: string, text: string): void => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    stderr.write(`wrote ${file}\n`);
  };
  if (values.json !== undefined) save(values.json, `${JSON.stringify(report, null, 2)}\n`);
  if (values.html !== undefined) save(values.html, renderHtml(report));
  return 0;
}
