/**
 * The lab report: runs the chosen scenarios one after another, then renders the figures as a terminal table, JSON,
 * and a self-contained HTML page with SVG bars.
 *
 * Invariants:
 * - The report only formats what the scenarios measured; it computes percentages, never figures.
 * - The HTML has no external assets (no scripts, fonts or stylesheets fetched): it opens offline, from a CI artefact.
 * - The time settings the simulators ran with (scaled cooldown and flush, read interval, timeScale) are part of it.
 * - So is the API server, as each stand's `/version` reported it: the real control plane's `gitVersion`, or the
 *   stand-in's, said to be the stand-in.
 */
import { defaultTiming, type SimTiming } from '../vector-sim/sim.ts';
import { runScenario, type ScenarioResult } from '../scenarios/catalog.ts';
import { standClock, type StandSize } from '../scenarios/stand.ts';
import type { KubeKind } from '../scenarios/kube.ts';

export interface LabReport {
  size: { pipelines: number; nodes: number; podsPerNamespace: number; seed: number };
  timing: {
    timeScale: number;
    globCooldownMs: number;
    checkpointFlushMs: number;
    readIntervalMs: number;
    sinkBufferEvents: number;
    channelLines: number;
    maxFileBytes: number;
    maxFiles: number;
  };
  /** The API server every scenario ran on. */
  kube: { target: KubeKind; gitVersion: string; description: string };
  scenarios: ScenarioResult[];
  durationMs: number;
}

/** What the report says the API server was, from the versions the scenarios' servers reported. */
function describeKube(target: KubeKind, scenarios: ScenarioResult[]): LabReport['kube'] {
  const versions = [...new Set(scenarios.map((s) => s.server.gitVersion))];
  const gitVersion = versions.join(', ') || 'unknown';
  const description =
    target === 'real'
      ? `kube-apiserver ${gitVersion} on etcd, with kube-controller-manager and kube-scheduler (npm run build:kube)`
      : `the API server stand-in (lab/apiserver), not a Kubernetes build; its /version says ${gitVersion}`;
  return { target, gitVersion, description };
}

export async function runLab(
  names: readonly string[],
  size: StandSize,
  progress: (line: string) => void = () => undefined,
): Promise<LabReport> {
  const timing: SimTiming = { ...defaultTiming, ...standClock(size).timing };
  const started = Date.now();
  const scenarios: ScenarioResult[] = [];
  for (const name of names) {
    progress(`running ${name} ...`);
    const r = await runScenario(name, size);
    progress(`  ${name}: ${summaryLine(r)} (${(r.durationMs / 1000).toFixed(1)} s)`);
    scenarios.push(r);
  }
  const cooldown = 60_000 * timing.timeScale;
  return {
    size: { pipelines: size.pipelines, nodes: size.nodes, podsPerNamespace: size.podsPerNamespace, seed: size.seed },
    kube: describeKube(size.kube ?? 'stand-in', scenarios),
    timing: {
      timeScale: timing.timeScale,
      globCooldownMs: cooldown,
      checkpointFlushMs: cooldown,
      readIntervalMs: timing.readIntervalMs,
      sinkBufferEvents: timing.sinkBufferEvents,
      channelLines: timing.channelLines,
      maxFileBytes: size.maxFileBytes,
      maxFiles: size.maxFiles,
    },
    scenarios,
    durationMs: Date.now() - started,
  };
}

function pct(n: number, of: number): string {
  return of === 0 ? '-' : `${((100 * n) / of).toFixed(1)} %`;
}

function summaryLine(r: ScenarioResult): string {
  const t = r.totals;
  return `written ${t.written}, duplicated ${t.duplicated}, lost ${t.lost}`;
}

function pad(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '))
    .join('\n');
}

/** A status or summary field as text: numbers and strings as they are, anything else as JSON. */
function show(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

function mergerLine(s: ScenarioResult['phases'][number]['mergers'][number]['summary']): string {
  if (s === undefined) return 'no merger';
  if (typeof s === 'string') return `unreadable: ${s.slice(0, 60)}`;
  const f = (k: string): string => show(s[k] ?? 0);
  return `${show(s.outcome)} (targets ${f('targets')}, seeded ${f('seeded')}, advanced ${f('advanced')}, unchanged ${f('unchanged')}, carried ${f('checkpointsCarried')})`;
}

export function renderTable(r: LabReport): string {
  const out: string[] = [];
  const t = r.timing;
  out.push(
    `vector-operator lab: ${r.size.pipelines} namespaces, ${r.size.nodes} nodes, ${r.size.podsPerNamespace} pods per namespace, seed ${r.size.seed}`,
    `API server: ${r.kube.description}`,
    `time: timeScale ${t.timeScale.toPrecision(3)} (Vector's 60 s -> ${t.globCooldownMs.toFixed(0)} ms glob cooldown and checkpoint flush), read every ${t.readIntervalMs} ms; log files rotate at ${t.maxFileBytes} B, ${t.maxFiles} files kept`,
    `buffers: ${t.sinkBufferEvents} events per sink (Vector: 500), ${t.channelLines} lines per source channel; the checkpoint moves when a line is mapped, before it is buffered`,
    '',
  );
  const rows = [
    [
      'scenario',
      'pipelines',
      'written',
      'retained@switch',
      'delivered',
      'duplicated',
      'dup %',
      'lost',
      'watches',
      'rollout',
    ],
  ];
  for (const s of r.scenarios) {
    const watches = s.phases.map((p) => String(p.agentWatches)).join(' -> ');
    const rollout = s.phases
      .slice(1)
      .map((p) => `${(p.rolloutMs / 1000).toFixed(1)} s`)
      .join(', ');
    rows.push([
      s.name,
      String(s.pipelines.length),
      String(s.totals.written),
      String(s.retainedAtSwitch),
      String(s.totals.delivered),
      String(s.totals.duplicated),
      pct(s.totals.duplicated, s.retainedAtSwitch),
      String(s.totals.lost),
      watches,
      rollout,
    ]);
  }
  out.push(
    pad(rows),
    '',
    'dup % is duplicates over the lines still in plain files at the switch (what a source without checkpoints re-reads).',
    '',
  );
  for (const s of r.scenarios) {
    out.push(`${s.name}: ${s.title}${s.drained ? '' : ' (lines still missing when deliveries went quiet)'}`);
    for (const p of s.phases) {
      const flags = `optimize=${String(p.flags.optimize)} migration=${String(p.flags.migration)}${p.flags.policy === undefined ? '' : ` policy=${p.flags.policy}`}${p.flags.grace === undefined ? '' : ` grace=${p.flags.grace}s`}`;
      out.push(
        `  ${p.label} [${flags}, ${p.operator}]: rollout ${(p.rolloutMs / 1000).toFixed(1)} s${p.settled ? '' : ' (did not settle)'}, ${p.sources} kubernetes_logs sources, agent watches ${p.agentWatches} (3 x sources x nodes = ${p.expectedWatches}${p.watchesOpened === undefined ? '' : `; ${p.watchesOpened} opened in the phase`}), agent restarts ${p.agentRestarts}`,
      );
      const m = p.migrationStatus;
      if (m !== undefined) {
        out.push(
          `    Vector status.migration: mode ${show(m.mode)}, phase ${show(m.phase)}, nodes migrated ${show(m.nodesMigrated ?? '-')}, pending ${show(m.nodesPending ?? '-')}, failed ${show(m.nodesFailed ?? '-')}, checkpoints carried ${show(m.checkpointsCarried ?? '-')}`,
        );
        for (const n of p.mergers) out.push(`    ${n.node}: ${mergerLine(n.summary)}`);
      }
    }
    const affected = s.pipelines.filter((p) => p.duplicated > 0 || p.lost > 0);
    if (s.lagging.length > 0) {
      out.push(`  lagging at the switch: ${s.lagging.join(', ')}; backlog ${s.backlog.lines} lines`);
      for (const b of s.backlog.pipelines)
        out.push(`    ${b.pipeline}: backlog lost ${b.lost}, re-delivered ${b.redelivered}`);
    }
    const sd = s.shutdowns;
    const agg = s.aggregator;
    if (agg !== undefined)
      out.push(
        `  aggregator roll: ${agg.podsReplaced} of ${agg.replicas} pods replaced in ${(agg.rolloutMs / 1000).toFixed(1)} s${agg.settled ? '' : ' (NOT SETTLED)'}, ${agg.roundsDuringRoll} rounds written meanwhile`,
      );
    if (sd.aggregators > 0)
      out.push(
        `  aggregator shutdowns: ${sd.aggregators}; batches refused while stopping ${sd.refusedBatches}, left unanswered ${sd.unansweredBatches} (sent again; ${sd.resentDelivered} of their events already delivered, so repeated), answered and never delivered ${sd.lostEvents} (lost)`,
      );
    if (sd.agents + sd.aggregators > 0)
      out.push(
        `  pod shutdowns: ${sd.agents + sd.aggregators}, grace ${sd.graceSecs.join(', ')} s (drained ${sd.drained}, Vector's drain limit ${sd.drainLimit}, killed at the grace ${sd.killed}); checkpointed but undelivered ${sd.lostEvents}, mapped after the final checkpoint write ${sd.mappedAfterFinalWrite}, final writes missed ${sd.missingFinalWrites}`,
      );
    out.push(
      `  pipelines with duplicates or losses: ${affected.length} of ${s.pipelines.length}${affected.length > 0 && affected.length <= 6 ? `: ${affected.map((p) => `${p.ns}/${p.pipeline} dup ${p.duplicated} lost ${p.lost}`).join('; ')}` : ''}`,
      '',
    );
  }
  out.push(`total ${(r.durationMs / 1000).toFixed(1)} s`);
  return out.join('\n');
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Horizontal bars per scenario: duplicates and losses as a share of the lines written. */
function barsSvg(r: LabReport): string {
  const rowH = 34;
  const left = 230;
  const width = 460;
  const h = 30 + rowH * r.scenarios.length;
  const max = Math.max(1, ...r.scenarios.map((s) => Math.max(s.totals.duplicated, s.totals.lost, s.retainedAtSwitch)));
  const parts = r.scenarios.map((s, i) => {
    const y = 20 + i * rowH;
    const w = (n: number): number => (n === 0 ? 0 : Math.max(2, (width * n) / max));
    return [
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(s.name)}</text>`,
      `<rect x="${left}" y="${y}" width="${w(s.retainedAtSwitch)}" height="8" fill="#ccc"><title>retained at the switch: ${s.retainedAtSwitch}</title></rect>`,
      `<rect x="${left}" y="${y + 9}" width="${w(s.totals.duplicated)}" height="8" fill="#e69f00"><title>duplicated: ${s.totals.duplicated}</title></rect>`,
      `<rect x="${left}" y="${y + 18}" width="${w(s.totals.lost)}" height="8" fill="#d55e00"><title>lost: ${s.totals.lost}</title></rect>`,
      `<text x="${left + width + 8}" y="${y + 16}">dup ${s.totals.duplicated} / lost ${s.totals.lost}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 150}" height="${h}" font-family="sans-serif" font-size="12">${parts.join('')}</svg>`;
}

/** Watch connections the agents held, per phase (legacy vs optimized), from the stand-in's counter. */
function watchesSvg(r: LabReport): string {
  const phases = r.scenarios.flatMap((s) => s.phases.map((p) => ({ s: s.name, p })));
  const max = Math.max(1, ...phases.map((x) => x.p.agentWatches));
  const left = 330;
  const width = 360;
  const rows = phases.map(({ s, p }, i) => {
    const y = 10 + i * 18;
    const w = Math.max(1, (width * p.agentWatches) / max);
    const fill = p.flags.optimize ? '#0072b2' : '#999';
    return `<text x="${left - 8}" y="${y + 11}" text-anchor="end">${esc(`${s} / ${p.label}`)}</text><rect x="${left}" y="${y}" width="${w}" height="13" fill="${fill}"/><text x="${left + w + 6}" y="${y + 11}">${p.agentWatches}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 80}" height="${20 + 18 * phases.length}" font-family="sans-serif" font-size="11">${rows.join('')}</svg>`;
}

/**
 * The pods' shutdown windows (agents, and aggregators in their scenarios), per scenario that stopped any: a row per
 * scenario, so that the same stuck sink with and without the grace fix sit side by side. Lost and repeated are the
 * ledger's figures, not the pods' own.
 */
function shutdownsHtml(r: LabReport): string {
  const rows = r.scenarios
    .filter((s) => s.shutdowns.agents + s.shutdowns.aggregators > 0)
    .map((s) => {
      const sd = s.shutdowns;
      const cells = [
        s.name,
        sd.graceSecs.map((g) => `${g} s`).join(', '),
        sd.agents + sd.aggregators,
        sd.drained,
        sd.drainLimit,
        sd.killed,
        sd.lostEvents,
        sd.mappedAfterFinalWrite,
        s.totals.lost,
        s.totals.duplicated,
      ];
      return `<tr>${cells.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`;
    });
  const head = [
    'scenario',
    'grace',
    'pods stopped',
    'drained',
    "Vector's drain limit",
    'killed at the grace',
    'checkpointed, undelivered',
    'mapped after the final write',
    'lost',
    'duplicated',
  ];
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.join('')}</table>`;
}

export function renderHtml(r: LabReport): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vector-operator lab</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}
.k span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}</style></head>
<body><h1>vector-operator lab</h1>
<p>API server: ${esc(r.kube.description)}.</p>
<p>${r.size.pipelines} namespaces, ${r.size.nodes} nodes; timeScale ${r.timing.timeScale.toPrecision(3)} (glob cooldown and checkpoint flush ${r.timing.globCooldownMs.toFixed(0)} ms, read interval ${r.timing.readIntervalMs} ms). Every figure is measured from the workload's ledger and the simulators' delivery records.</p>
<h2>Duplicates and losses per scenario</h2>
<p class="k"><span style="background:#ccc"></span>retained at the switch<span style="background:#e69f00"></span>duplicated<span style="background:#d55e00"></span>lost</p>
${barsSvg(r)}
<h2>Pod shutdown windows (agents and aggregators)</h2>
<p>Vector checkpoints a line before it is buffered: what a window leaves buffered is lost, and the lines mapped after a source's final checkpoint write are read again (docs/checkpoint-merger.md).</p>
${shutdownsHtml(r)}
<h2>Agent watch connections per phase</h2>
<p class="k"><span style="background:#999"></span>legacy config<span style="background:#0072b2"></span>optimized config</p>
${watchesSvg(r)}
<h2>Details</h2>
<pre>${esc(renderTable(r))}</pre>
</body></html>
`;
}
