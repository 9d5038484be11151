/**
 * Tenant policy cost: what the policy check (policy.ts, with its VRL lexer) adds to a build of 10 000 namespaced
 * pipelines, each with a multi-line remap program, a route and two sinks with auth and tls options.
 *
 * The policy runs inside `buildAgentConfig`, so it is timed twice in alternating rounds within one process: the
 * whole build (build + optimize + validate + serialize, policy included) and the policy check alone over the same
 * pipelines. Alternating rounds share the machine's drift, which a before/after pair of processes does not.
 *
 * Times are CPU time of this process (user + system, `process.cpuUsage`): on a machine shared with other work, wall
 * time mostly measures the other work.
 *
 * Run: `npm run bench -- policy [--runs 9]`. Prints a markdown table of medians.
 */
import { argv, stdout } from 'node:process';
import { parseArgs } from 'node:util';
import { buildAgentConfig } from '../src/pipelines/build.ts';
import { parseManifests } from '../src/pipelines/manifests.ts';
import { defaultPolicy, policyViolations } from '../src/pipelines/policy.ts';
import { serializeConfig } from '../src/pipelines/serialize.ts';
import { validateConfigGraph } from '../src/vector/graph.ts';

const api = 'observability.kaasops.io/v1alpha1';
const program = [
  '# parse the body; keep the raw line when it is not JSON',
  '. = merge(., object!(parse_json(.message) ?? {}))',
  '.level = downcase(string(.level) ?? "info")',
  'if match(string!(.message), r\'^\\d{4}-\') { .ts = parse_timestamp(slice!(.message, 0, 19), "%Y-%m-%dT%H:%M:%S") ?? now() }',
  'del(.kubernetes.pod_labels."pod-template-hash")',
].join('\n');

/** `lexed`: each program also names get_env_var in a comment, so every program goes through the lexer. */
function docs(n: number, lexed: boolean): unknown[] {
  const width = String(n - 1).length;
  const out: unknown[] = [
    { apiVersion: api, kind: 'Vector', metadata: { name: 'logs', namespace: 'vector' }, spec: {} },
  ];
  for (let i = 0; i < n; i++) {
    const ns = `team-${String(i).padStart(width, '0')}`;
    out.push({
      apiVersion: api,
      kind: 'VectorPipeline',
      metadata: { name: 'app', namespace: ns, creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: {
        sources: { pods: { type: 'kubernetes_logs' } },
        transforms: {
          parse: { type: 'remap', inputs: ['pods'], source: lexed ? `# never get_env_var()\n${program}` : program },
          split: { type: 'route', inputs: ['parse'], route: { errors: '.level == "error"' } },
        },
        sinks: {
          es: {
            type: 'elasticsearch',
            inputs: ['split.errors'],
            endpoints: ['https://es.logging:9200'],
            auth: { strategy: 'basic', user: ns, password: 'secret' },
            tls: { verify_certificate: true },
            buffer: { type: 'memory', max_events: 1000 },
          },
          loki: {
            type: 'loki',
            inputs: ['parse'],
            endpoint: 'http://loki:3100',
            labels: { ns: '{{ kubernetes.pod_namespace }}' },
            encoding: { codec: 'json' },
          },
        },
      },
    });
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

/** Table rows for one workload: the build (policy included) and the policy check alone, alternating. */
function measure(n: number, lexed: boolean, runs: number): string[] {
  const parsed = parseManifests(docs(n, lexed).map((value, i) => ({ origin: `#${i}`, value })));
  const vector = parsed.vectors[0];
  if (vector === undefined) throw new Error('no vector');
  const build = (optimize: boolean): number => {
    const t0 = process.cpuUsage();
    const built = buildAgentConfig(vector, parsed.pipelines, { optimize, policy: defaultPolicy });
    if (built.rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(built.rejected[0])}`);
    if (validateConfigGraph(built.config).length > 0) throw new Error('invalid graph');
    serializeConfig(built.config);
    return cpuMs(t0);
  };
  const policy = (): number => {
    const t0 = process.cpuUsage();
    let found = 0;
    for (const p of parsed.pipelines) found += policyViolations(p.kind, p.spec, defaultPolicy).length;
    if (found > 0) throw new Error('violations in a clean workload');
    return cpuMs(t0);
  };
  build(false); // warm-up: JIT
  policy();
  const rows: string[] = [];
  for (const optimize of [false, true]) {
    const b: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < runs; i++) {
      b.push(build(optimize));
      p.push(policy());
    }
    const mb = median(b);
    const mp = median(p);
    const workload = lexed ? 'every program lexed' : 'no program lexed';
    rows.push(
      `| ${n} | ${workload} | ${optimize ? 'optimized' : 'legacy'} | ${mb.toFixed(1)} | ${mp.toFixed(1)} | ${((mp / mb) * 100).toFixed(1)} % |`,
    );
  }
  return rows;
}

function main(): void {
  const { values } = parseArgs({ args: argv.slice(2), options: { runs: { type: 'string', default: '9' } } });
  const runs = Math.max(5, Number(values.runs));
  const rows = [
    '| pipelines | workload | mode | build, policy included (CPU ms) | policy check alone (CPU ms) | policy share of the build |',
    '|---:|---|---|---:|---:|---:|',
    ...measure(10_000, false, runs),
    ...measure(10_000, true, runs),
  ];
  stdout.write(
    `Medians of ${runs} alternating rounds (after one warm-up), node ${process.version}.\n\n${rows.join('\n')}\n`,
  );
}

main();
