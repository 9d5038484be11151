/**
 * The lab report's rendering (lab/report/report.ts), pure: the agents' shutdown windows reach the text and the HTML,
 * so the same stuck sink with and without the grace fix can be compared, and scenarios that stopped no agent add no row.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderHtml, renderTable, type LabReport } from '../../lab/report/report.ts';
import type { ScenarioResult, ShutdownSummary } from '../../lab/scenarios/catalog.ts';

function scenario(name: string, shutdowns: ShutdownSummary, lost: number, duplicated: number): ScenarioResult {
  return {
    name,
    title: name,
    phases: [],
    pipelines: [],
    totals: { written: 100, delivered: 100 - lost, duplicated, lost },
    retainedAtSwitch: 0,
    lagging: [],
    backlog: { lines: 0, pipelines: [] },
    shutdowns,
    drained: true,
    durationMs: 1,
    server: { kube: 'stand-in', gitVersion: 'v1.32.0-lab' },
  };
}

const none: ShutdownSummary = {
  agents: 0,
  graceSecs: [],
  drained: 0,
  drainLimit: 0,
  killed: 0,
  lostEvents: 0,
  mappedAfterFinalWrite: 0,
  missingFinalWrites: 0,
  aggregators: 0,
  refusedBatches: 0,
  unansweredBatches: 0,
  resentDelivered: 0,
};

const report: LabReport = {
  size: { pipelines: 3, nodes: 3, podsPerNamespace: 2, seed: 1 },
  timing: {
    timeScale: 1 / 300,
    globCooldownMs: 200,
    checkpointFlushMs: 200,
    readIntervalMs: 10,
    sinkBufferEvents: 10,
    channelLines: 3,
    maxFileBytes: 1000,
    maxFiles: 2,
  },
  kube: { target: 'stand-in', gitVersion: 'v1.32.0-lab', description: 'the API server stand-in' },
  scenarios: [
    scenario('quiet', none, 0, 0),
    scenario('long-grace', { ...none, agents: 3, graceSecs: [70], drained: 3, mappedAfterFinalWrite: 6 }, 0, 6),
    scenario(
      'short-grace',
      { ...none, agents: 3, graceSecs: [30], drained: 1, killed: 2, lostEvents: 22, missingFinalWrites: 2 },
      22,
      0,
    ),
  ],
  durationMs: 1,
};

describe('the lab report (report.ts)', () => {
  it('prints each agent shutdown summary with its grace in the text', () => {
    const text = renderTable(report);
    assert.match(text, /pod shutdowns: 3, grace 70 s \(drained 3, Vector's drain limit 0, killed at the grace 0\)/);
    assert.match(
      text,
      /pod shutdowns: 3, grace 30 s \(drained 1, .*killed at the grace 2\); checkpointed but undelivered 22/,
    );
    assert.equal(text.match(/pod shutdowns:/g)?.length, 2, 'no line for a scenario that stopped no agent');
  });

  it("prints the aggregator roll and what the stopped aggregators' batches became", () => {
    const roll = {
      ...scenario(
        'aggregator-roll-stuck-sink',
        { ...none, aggregators: 2, graceSecs: [30], killed: 2, lostEvents: 20, unansweredBatches: 8 },
        20,
        0,
      ),
      aggregator: {
        stall: true,
        acknowledgements: false,
        replicas: 2,
        podsReplaced: 2,
        rolloutMs: 2400,
        settled: true,
        roundsDuringRoll: 13,
      },
    };
    const text = renderTable({ ...report, scenarios: [roll] });
    assert.match(text, /aggregator roll: 2 of 2 pods replaced in 2\.4 s, 13 rounds written meanwhile/);
    assert.match(
      text,
      /aggregator shutdowns: 2; batches refused while stopping 0, left unanswered 8 \(sent again; 0 of their events already delivered, so repeated\), answered and never delivered 20 \(lost\)/,
    );
    assert.match(text, /pod shutdowns: 2, grace 30 s \(drained 0, Vector's drain limit 0, killed at the grace 2\)/);
  });

  it('puts the shutdown windows side by side in the HTML, one row per scenario that stopped agents', () => {
    const html = renderHtml(report);
    const section = html.slice(
      html.indexOf('<h2>Pod shutdown windows (agents and aggregators)</h2>'),
      html.indexOf('<h2>Agent watch'),
    );
    const rows = section.match(/<tr><td>[^]*?<\/tr>/g) ?? [];
    const cells = rows.map((row) => [...row.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]));
    assert.deepEqual(cells, [
      ['long-grace', '70 s', '3', '3', '0', '0', '0', '6', '0', '6'],
      ['short-grace', '30 s', '3', '1', '0', '2', '22', '0', '22', '0'],
    ]);
  });
});
