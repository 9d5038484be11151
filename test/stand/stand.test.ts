/**
 * The stand end to end, without the operator: the DaemonSet controller and kubelets roll agent pods across nodes,
 * the real checkpoint-merger runs as an init container, Vector simulators open their watches against the stand-in,
 * tail the workload's rotated files, and deliver to counting sinks. Every figure is measured from delivery records.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseCheckpoints } from '../../src/vector/checkpoints.ts';
import { standReflector } from '../../lab/common/reflector.ts';
import { revisionLabel } from '../../lab/nodes/daemonset-controller.ts';
import { Workload } from '../../lab/workload/workload.ts';
import {
  agentDs,
  applyDs,
  configs,
  putSecret,
  rolledOut,
  settled,
  sinkOf,
  startStand,
  tally,
  type Stand,
} from './helpers.ts';
import { eventually } from '../helpers/eventually.ts';

const NAMESPACES = ['team-a', 'team-b', 'team-c'];

async function workload(stand: Stand, seed: number): Promise<Workload> {
  return Workload.create(stand.core, {
    seed,
    namespaces: NAMESPACES,
    podsPerNamespace: 2,
    nodes: stand.nodes.nodes.map((n) => ({ name: n.name, root: n.root })),
    maxFileBytes: 4096,
    maxFiles: 4,
  });
}

function writtenBySink(w: Workload): Map<string, string[]> {
  return new Map(NAMESPACES.map((ns) => [sinkOf(ns), w.written(ns)]));
}

/** Writes in rounds so that files rotate (renamed, gzipped, deleted) while the agents tail them. */
function writeRounds(w: Workload, rounds: number): void {
  for (let i = 0; i < rounds; i++) w.write((p) => 20 + (p.name.length % 3) * 5);
}

describe('the stand: nodes, kubelets, DaemonSet rollout, Vector simulator', () => {
  it('rolls a DaemonSet across 3 nodes one node at a time, each new pod Ready before the next node', async () => {
    const stand = await startStand(3);
    try {
      await putSecret(stand.core, 'agent', '{}');
      const ds = agentDs('agent');
      // A no-op image: this scenario is about the controller, not the agent.
      const spec = ds.spec?.template.spec as k8s.V1PodSpec;
      spec.containers = [{ name: 'app', image: 'lab/pause:1' }];
      await applyDs(stand.apps, ds);
      const first = await rolledOut(stand.apps, 'agent-agent', 3);
      const pods = standReflector<k8s.V1Pod>({
        kc: stand.nodes.kc,
        path: '/api/v1/namespaces/vector/pods',
      });
      let worst = 0;
      const unavailableNodes = (): number => {
        let n = 0;
        for (const node of ['node-0', 'node-1', 'node-2']) {
          const ok = pods
            .list()
            .some(
              (p) =>
                p.spec?.nodeName === node &&
                p.metadata?.deletionTimestamp === undefined &&
                (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
            );
          if (!ok) n++;
        }
        return n;
      };
      await pods.start();
      const timer = setInterval(() => {
        worst = Math.max(worst, unavailableNodes());
      }, 1);
      spec.containers = [{ name: 'app', image: 'lab/pause:2' }];
      await applyDs(stand.apps, ds);
      const done = await rolledOut(stand.apps, 'agent-agent', 3);
      clearInterval(timer);
      await pods.stop();
      assert.ok((done.metadata?.generation ?? 0) > (first.metadata?.generation ?? 0));
      assert.equal(done.status?.numberAvailable, 3);
      assert.equal(worst, 1, 'exactly one node at a time was without a ready agent');
      const live = (await stand.core.listNamespacedPod({ namespace: 'vector' })).items.filter(
        (p) => p.metadata?.deletionTimestamp === undefined,
      );
      assert.equal(live.length, 3);
      assert.equal(new Set(live.map((p) => p.spec?.nodeName)).size, 3);
      assert.equal(new Set(live.map((p) => p.metadata?.labels?.[revisionLabel])).size, 1);
    } finally {
      await stand.stop();
    }
  });

  it('legacy config: 3 watches per kubernetes_logs source, every line exactly once per pipeline; a live switch to optimized without migration re-delivers the retained lines', async () => {
    const stand = await startStand(2);
    try {
      const cfg = configs(NAMESPACES);
      await putSecret(stand.core, 'agent-agent', cfg.legacy);
      const w = await workload(stand, 7);
      writeRounds(w, 3);
      const baseline = stand.server.openWatches();
      await applyDs(stand.apps, agentDs('agent-agent'));
      await rolledOut(stand.apps, 'agent-agent', 2);
      // 3 sources (one per namespace) x 3 watches x 2 nodes.
      await eventually('18 agent watches', () => (stand.server.openWatches() - baseline === 18 ? true : undefined));
      writeRounds(w, 3);
      const legacy = await settled(stand.nodes, writtenBySink(w));
      for (const ns of NAMESPACES) {
        assert.deepEqual(tally(legacy, sinkOf(ns), w.written(ns)), {
          distinct: w.written(ns).length,
          duplicates: 0,
          missing: 0,
        });
      }
      assert.ok(
        w.pods.some((p) => p.segments.some((s) => s.state === 'gz')),
        'files were rotated and gzipped',
      );

      // Migration off: the operator rewrites the same Secret; Vector live-reloads into the renamed source.
      const retained = new Map(NAMESPACES.map((ns) => [ns, w.retained(ns).length]));
      await putSecret(stand.core, 'agent-agent', cfg.optimized);
      await eventually('6 agent watches (one optimized source per node)', () =>
        stand.server.openWatches() - baseline === 6 ? true : undefined,
      );
      writeRounds(w, 1);
      const after = await settled(stand.nodes, writtenBySink(w));
      for (const ns of NAMESPACES) {
        const t = tally(after, sinkOf(ns), w.written(ns));
        assert.equal(t.missing, 0, `${ns}: nothing lost`);
        assert.equal(t.duplicates, retained.get(ns), `${ns}: every retained (plain) line re-delivered once`);
        assert.ok(t.duplicates > 0);
      }
    } finally {
      await stand.stop();
    }
  });

  it('legacy -> optimized with the checkpoint merger: the merger runs for real, reports in the init status, and nothing is re-delivered or lost', async () => {
    const stand = await startStand(2);
    try {
      const cfg = configs(NAMESPACES);
      // Migration on, optimization off: `-agent` (legacy) mounted, `-agent-opt` (optimized) as standby.
      await putSecret(stand.core, 'agent-agent', cfg.legacy);
      await putSecret(stand.core, 'agent-agent-opt', cfg.optimized);
      const w = await workload(stand, 11);
      writeRounds(w, 3);
      await applyDs(stand.apps, agentDs('agent-agent', 'agent-agent-opt'));
      await rolledOut(stand.apps, 'agent-agent', 2);
      writeRounds(w, 2);
      await settled(stand.nodes, writtenBySink(w));

      // The switch: the template now mounts `-agent-opt`, which rolls the DaemonSet.
      await applyDs(stand.apps, agentDs('agent-agent-opt', 'agent-agent'));
      await rolledOut(stand.apps, 'agent-agent', 2);
      writeRounds(w, 2);
      const d = await settled(stand.nodes, writtenBySink(w));
      for (const ns of NAMESPACES) {
        assert.deepEqual(tally(d, sinkOf(ns), w.written(ns)), {
          distinct: w.written(ns).length,
          duplicates: 0,
          missing: 0,
        });
      }
      const pods = (await stand.core.listNamespacedPod({ namespace: 'vector' })).items;
      assert.equal(pods.length, 2);
      for (const p of pods) {
        const init = p.status?.initContainerStatuses?.[0];
        assert.ok(init !== undefined);
        assert.equal(init.name, 'checkpoint-merger');
        const terminated = init.state?.terminated;
        assert.ok(terminated !== undefined);
        assert.equal(terminated.exitCode, 0);
        const message = terminated.message ?? '{}';
        const summary = JSON.parse(message) as Record<string, unknown>;
        assert.equal(summary.outcome, 'migrated', `merger summary on ${p.spec?.nodeName ?? '?'}: ${message}`);
        assert.equal(summary.seeded, 1);
      }
    } finally {
      await stand.stop();
    }
  });

  it('stopping an agent pod (SIGTERM) writes its final checkpoints: every file read to its end', async () => {
    // Vector's 60 s flush interval unscaled: no periodic write can happen during this test, only the shutdown one.
    const stand = await startStand(1, { timeScale: 1 });
    try {
      await putSecret(stand.core, 'agent-agent', configs(['team-a']).legacy);
      const w = await Workload.create(stand.core, {
        seed: 3,
        namespaces: ['team-a'],
        podsPerNamespace: 2,
        nodes: stand.nodes.nodes.map((n) => ({ name: n.name, root: n.root })),
      });
      w.write(50);
      await applyDs(stand.apps, agentDs('agent-agent'));
      await rolledOut(stand.apps, 'agent-agent', 1);
      await settled(stand.nodes, new Map([[sinkOf('team-a'), w.written('team-a')]]));
      const dir = join(stand.nodes.nodes[0]?.root ?? '', 'var/lib/vector/team-a-logs-pods');
      assert.deepEqual(readdirSync(dir), [], 'no periodic flush yet');
      await stand.apps.deleteNamespacedDaemonSet({ name: 'agent-agent', namespace: 'vector' });
      await eventually('the agent pod gone', async () =>
        (await stand.core.listNamespacedPod({ namespace: 'vector' })).items.length === 0 ? true : undefined,
      );
      const parsed = parseCheckpoints(readFileSync(join(dir, 'checkpoints.json'), 'utf8'));
      assert.ok(parsed.kind === 'ok');
      const sizes = w.pods.map((p) => BigInt(statSync(p.log.path).size)).sort();
      assert.deepEqual(parsed.checkpoints.map((c) => c.position).sort(), sizes);
    } finally {
      await stand.stop();
    }
  });
});
