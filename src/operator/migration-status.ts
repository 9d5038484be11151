/**
 * Per-node checkpoint migration outcome, read back from the agent pods: the `checkpoint-merger` init container writes
 * a one-line JSON summary to its termination-message file, which the kubelet copies into
 * `status.initContainerStatuses[].state.terminated.message`.
 *
 * Invariants:
 * - One agent pod per node, so pods count nodes. A pod whose merger has not finished (or that runs a template without
 *   the merger yet) is pending; an outcome of `partial`, `failed` or `skipped`, or a message that is not a summary,
 *   is failed (the merger fails open, so its pod still starts: this status is where a failure shows).
 * - Pure: pods in, counts out.
 */
import { mergerContainerName } from './merger-container.ts';

export interface NodeMigration {
  node: string;
  pod: string;
  state: 'migrated' | 'pending' | 'failed';
  outcome?: string;
  checkpointsCarried: number;
}

export interface MigrationCounts {
  nodesMigrated: number;
  nodesPending: number;
  nodesFailed: number;
  checkpointsCarried: number;
  nodes: NodeMigration[];
}

/** The fields of a Pod read here, as plain JSON (timestamps stay strings). */
export interface AgentPod {
  metadata?: { name?: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    initContainerStatuses?: {
      name: string;
      state?: { terminated?: { message?: string } };
      lastState?: { terminated?: { message?: string } };
    }[];
  };
}

interface Summary {
  outcome?: unknown;
  checkpointsCarried?: unknown;
}

/** Per pod object: cached pods are immutable, and a Vector reconcile reads every agent pod's termination message. */
const readPods = new WeakMap<AgentPod, NodeMigration>();

export function nodeMigration(pod: AgentPod): NodeMigration {
  let read = readPods.get(pod);
  if (read === undefined) {
    read = readNodeMigration(pod);
    readPods.set(pod, read);
  }
  return read;
}

function readNodeMigration(pod: AgentPod): NodeMigration {
  const base = { node: pod.spec?.nodeName ?? '', pod: pod.metadata?.name ?? '', checkpointsCarried: 0 };
  const status = pod.status?.initContainerStatuses?.find((s) => s.name === mergerContainerName);
  const terminated = status?.state?.terminated ?? status?.lastState?.terminated;
  if (terminated === undefined) return { ...base, state: 'pending' };
  let summary: Summary;
  try {
    summary = JSON.parse(terminated.message ?? '') as Summary;
  } catch {
    return { ...base, state: 'failed', outcome: 'unreadable termination message' };
  }
  const outcome = typeof summary.outcome === 'string' ? summary.outcome : 'unknown';
  const carried = typeof summary.checkpointsCarried === 'number' ? summary.checkpointsCarried : 0;
  const ok = outcome === 'migrated' || outcome === 'unchanged';
  return { ...base, state: ok ? 'migrated' : 'failed', outcome, checkpointsCarried: carried };
}

export function migrationCounts(pods: readonly AgentPod[]): MigrationCounts {
  const nodes = pods.filter((p) => p.metadata?.deletionTimestamp === undefined).map(nodeMigration);
  nodes.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return {
    nodesMigrated: nodes.filter((n) => n.state === 'migrated').length,
    nodesPending: nodes.filter((n) => n.state === 'pending').length,
    nodesFailed: nodes.filter((n) => n.state === 'failed').length,
    checkpointsCarried: nodes.reduce((sum, n) => sum + n.checkpointsCarried, 0),
    nodes,
  };
}
