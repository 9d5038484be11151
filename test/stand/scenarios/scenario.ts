/**
 * Shared by the stand scenario tests (one scenario per file in this directory): the small stand they run on and the
 * assertions every scenario makes. Each scenario runs through the real operator (flag changes are restarts), the
 * real merger CLI and the Vector simulators; every figure asserted is measured by the scenario (ledger vs delivery
 * records, the stand-in's watch counter, pod statuses). Needs `npm run build` (the merger and the operator run
 * compiled), which `npm test` does first.
 */
import assert from 'node:assert/strict';
import type { ScenarioResult } from '../../../lab/scenarios/catalog.ts';
import type { StandSize } from '../../../lab/scenarios/stand.ts';

export const size: StandSize = {
  pipelines: 4,
  nodes: 2,
  podsPerNamespace: 2,
  seed: 5,
  maxFileBytes: 4096,
  maxFiles: 4,
};
/** 4 namespaces: `logs` in each and `audit` in the first: 5 pipelines, one kubernetes_logs source each. */
export const pipelines = 5;

export function noLossNoDuplicate(r: ScenarioResult): void {
  assert.equal(r.drained, true, `${r.name}: every line delivered`);
  for (const p of r.pipelines) {
    assert.equal(p.lost, 0, `${r.name}: ${p.ns}/${p.pipeline} lost lines`);
    assert.equal(p.duplicated, 0, `${r.name}: ${p.ns}/${p.pipeline} duplicated lines`);
    assert.ok(p.written > 0);
  }
}

export function settledWithWatches(r: ScenarioResult): void {
  for (const ph of r.phases) {
    assert.equal(ph.settled, true, `${r.name}/${ph.label} settled`);
    assert.equal(ph.agentWatches, 3 * ph.sources * size.nodes, `${r.name}/${ph.label}: 3 watches per source per node`);
  }
}

/** The restart scenarios: an operator restart, then an upgrade (a new process), restart no agent and lose nothing. */
export function restartChangesNothing(r: ScenarioResult): void {
  settledWithWatches(r);
  noLossNoDuplicate(r);
  assert.equal(r.phases.length, 3);
  for (const ph of r.phases.slice(1)) assert.equal(ph.agentRestarts, 0, `${ph.label}: agent restarts`);
  assert.equal(r.phases[2]?.operator, 'process');
}
