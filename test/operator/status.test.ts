/** Status built from a reconcile's outcome: per-node merger results, and conditions that only move on a change. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { migrationCounts, nodeMigration, type AgentPod } from '../../src/operator/migration-status.ts';
import { condition, pipelineStatus } from '../../src/operator/status.ts';

const pod = (node: string, message?: string, last = false): AgentPod => {
  const terminated = message === undefined ? undefined : { terminated: { message } };
  return {
    metadata: { name: `agent-${node}` },
    spec: { nodeName: node },
    status: {
      initContainerStatuses: [
        { name: 'checkpoint-merger', ...(last ? { lastState: terminated ?? {} } : { state: terminated ?? {} }) },
      ],
    },
  };
};

describe('migration status from agent pods', () => {
  it('counts migrated, pending and failed nodes and sums the checkpoints carried', () => {
    const counts = migrationCounts([
      pod('a', JSON.stringify({ outcome: 'migrated', checkpointsCarried: 40 })),
      pod('b', JSON.stringify({ outcome: 'unchanged', checkpointsCarried: 0 })),
      pod('c', JSON.stringify({ outcome: 'partial', checkpointsCarried: 3 })),
      pod('d'),
      pod('e', 'not json at all'),
      pod('f', JSON.stringify({ outcome: 'migrated', checkpointsCarried: 2 }), true),
    ]);
    assert.deepEqual(
      [counts.nodesMigrated, counts.nodesPending, counts.nodesFailed, counts.checkpointsCarried],
      [3, 1, 2, 45],
    );
    assert.equal(counts.nodes.find((n) => n.node === 'e')?.outcome, 'unreadable termination message');
  });

  it('treats a pod without the merger (an old template) as pending', () => {
    assert.equal(nodeMigration({ metadata: { name: 'x' }, spec: { nodeName: 'n' }, status: {} }).state, 'pending');
  });

  it('ignores pods being deleted', () => {
    const going = { ...pod('a'), metadata: { name: 'agent-a', deletionTimestamp: '2026-01-01T00:00:00Z' } };
    assert.equal(migrationCounts([going]).nodes.length, 0);
  });
});

describe('conditions', () => {
  it('keep their lastTransitionTime while the status stays, and move it when the status changes', () => {
    const first = condition(undefined, { type: 'Valid', status: 'True' }, 't1');
    assert.equal(first.lastTransitionTime, 't1');
    assert.equal(condition([first], { type: 'Valid', status: 'True', message: 'm' }, 't2').lastTransitionTime, 't1');
    assert.equal(condition([first], { type: 'Valid', status: 'False' }, 't3').lastTransitionTime, 't3');
  });

  it('a pipeline status carries kaasops fields and the Valid condition', () => {
    const s = pipelineStatus(
      { valid: false, role: undefined, reason: 'VectorPipeline a/b: spec.x: bad' },
      3,
      undefined,
      't',
    );
    assert.equal(s.configCheckResult, false);
    assert.equal(s.reason, 'VectorPipeline a/b: spec.x: bad');
    assert.deepEqual(s.conditions?.[0], {
      type: 'Valid',
      status: 'False',
      reason: 'Invalid',
      message: 'VectorPipeline a/b: spec.x: bad',
      observedGeneration: 3,
      lastTransitionTime: 't',
    });
  });
});
