/**
 * Config generation benchmark: N single-namespace VectorPipelines (1 000 and 10 000) through
 * parse (zod) + build + optimize + validate (both modes' graphs) + serialize, in process, and the `render` CLI end to
 * end on the same manifests written as YAML.
 *
 * Run: `npm run build && node bench/config.bench.ts [--runs 5]`. Prints a markdown table of medians over the runs.
 * Each in-process scenario runs in its own child process, so its peak RSS (process.resourceUsage().maxRSS) is its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { argv, execPath, resourceUsage, stdout } from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { buildAgentConfig } from '../src/pipelines/build.ts';
import { parseManifests } from '../src/pipelines/manifests.ts';
import { serializeConfig } from '../src/pipelines/serialize.ts';
import { validateConfigGraph } from '../src/vector/graph.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const api = 'observability.kaasops.io/v1alpha1';

function manifests(n: number): unknown[] {
  const width = String(n - 1).length;
  const docs: unknown[] = [
    {
      apiVersion: api,
      kind: 'Vector',
      metadata: { name: 'logs', namespace: 'vector' },
      spec: { agent: { api: { enabled: true } } },
    },
  ];
  for (let i = 0; i < n; i++) {
    const ns = `team-${String(i).padStart(width, '0')}`;
    docs.push({
      apiVersion: api,
      kind: 'VectorPipeline',
      metadata: { name: 'app-logs', namespace: ns, creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: {
        sources: { pods: { type: 'kubernetes_logs' } },
        transforms: { parse: { type: 'remap', inputs: ['pods'], source: '. = parse_json(.message) ?? .' } },
        sinks: { loki: { type: 'loki', inputs: ['parse'], endpoint: 'http://loki:3100', encoding: { codec: 'json' } } },
      },
    });
  }
  return docs;
}

/** One in-process pipeline run; returns ms per phase. */
function once(docs: unknown[], optimize: boolean): { parse: number; build: number; total: number; bytes: number } {
  const t0 = performance.now();
  const parsed = parseManifests(docs.map((value, i) => ({ origin: `#${i}`, value })));
  const t1 = performance.now();
  const vector = parsed.vectors[0];
  if (vector === undefined) throw new Error('no vector');
  const built = buildAgentConfig(vector, parsed.pipelines, { optimize });
  if (built.rejected.length > 0) throw new Error('rejected pipelines');
  if (validateConfigGraph(built.config).length > 0) throw new Error('invalid graph');
  const json = serializeConfig(built.config);
  const t2 = performance.now();
  return { parse: t1 - t0, build: t2 - t1, total: t2 - t0, bytes: json.length };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function child(n: number, optimize: boolean, runs: number): void {
  const docs = manifests(n);
  once(docs, optimize); // warm-up: JIT and zod's lazy schema compilation
  const rs = Array.from({ length: runs }, () => once(docs, optimize));
  stdout.write(
    JSON.stringify({
      parse: median(rs.map((r) => r.parse)),
      build: median(rs.map((r) => r.build)),
      total: median(rs.map((r) => r.total)),
      bytes: rs[0]?.bytes ?? 0,
      maxRssMiB: resourceUsage().maxRSS / 1024,
    }),
  );
}

const rssHook =
  'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nmaxrss="+process.resourceUsage().maxRSS+"\\n"))';

function renderCli(n: number, runs: number, format: 'yaml' | 'json'): { ms: number; maxRssMiB: number } {
  const bin = `${root}dist/src/cli/vector-operator.js`;
  if (!existsSync(bin)) throw new Error('dist/ is missing: run npm run build first');
  const dir = `${root}.bench-work/config-${n}-${format}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (format === 'yaml')
    writeFileSync(
      `${dir}/manifests.yaml`,
      manifests(n)
        .map((d) => stringify(d))
        .join('---\n'),
    );
  // What `kubectl get vector,vp,cvp -A -o json` gives: one List.
  else writeFileSync(`${dir}/manifests.json`, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests(n) }));
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(execPath, ['--import', rssHook, bin, 'render', '-f', dir, '--enable-config-optimization'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`render failed: ${r.stderr}`);
    rss.push(Number(/maxrss=(\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024);
  }
  return { ms: median(times), maxRssMiB: median(rss) };
}

function main(): void {
  const { values } = parseArgs({
    args: argv.slice(2),
    options: {
      runs: { type: 'string', default: '5' },
      child: { type: 'string' },
      optimize: { type: 'boolean', default: false },
    },
  });
  const runs = Math.max(5, Number(values.runs));
  if (values.child !== undefined) {
    child(Number(values.child), values.optimize, runs);
    return;
  }
  const rows: string[] = [
    `Medians of ${runs} runs (after one warm-up), node ${process.version}. In-process = parse + build + optimize + validate + serialize.`,
    '',
    '| pipelines | mode | parse (zod) ms | build+optimize+validate+serialize ms | in-process total ms | agent.json KiB | peak RSS MiB | render CLI, JSON input ms | RSS MiB | render CLI, YAML input ms | RSS MiB |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const n of [1000, 10000]) {
    for (const optimize of [false, true]) {
      const r = spawnSync(
        execPath,
        [
          fileURLToPath(import.meta.url),
          '--child',
          String(n),
          '--runs',
          String(runs),
          ...(optimize ? ['--optimize'] : []),
        ],
        {
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(r.stderr);
      const m = JSON.parse(r.stdout) as {
        parse: number;
        build: number;
        total: number;
        bytes: number;
        maxRssMiB: number;
      };
      const json = optimize ? renderCli(n, runs, 'json') : undefined;
      const yaml = optimize ? renderCli(n, runs, 'yaml') : undefined;
      const cell = (c: { ms: number; maxRssMiB: number } | undefined) =>
        c ? `${c.ms.toFixed(0)} | ${c.maxRssMiB.toFixed(0)}` : '– | –';
      rows.push(
        `| ${n} | ${optimize ? 'optimized' : 'legacy'} | ${m.parse.toFixed(1)} | ${m.build.toFixed(1)} | ${m.total.toFixed(1)} | ${(m.bytes / 1024).toFixed(0)} | ${m.maxRssMiB.toFixed(0)} | ${cell(json)} | ${cell(yaml)} |`,
      );
    }
  }
  stdout.write(rows.join('\n') + '\n');
}

main();
