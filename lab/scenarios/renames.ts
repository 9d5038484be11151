/**
 * Scenarios of renames within optimized mode: pipeline changes, not flag changes, that move a namespace's files to
 * another source id. With migration on the operator publishes each through a pod-template change (the agents roll,
 * the merger carries positions); without it they reach the agents by live reload, and the renamed sources re-read.
 *
 * Invariants:
 * - Every change is a user's edit of a VectorPipeline (a source option, an annotation); the lab never writes the
 *   agents' DaemonSet or Secrets.
 * - A signature of its own is an explicit default (`glob_minimum_cooldown_ms: 60000`): it changes the group, never
 *   what Vector reads.
 * - `retainedAtSwitch` is noted just before the first change: what a renamed source without checkpoints re-reads.
 */
import type { Flags, LabStand, StandSize } from './stand.ts';
import { reconfigure, retained, switchOperator, write, drain, type PhaseResult } from './steps.ts';

export interface RenameCtx {
  stand: LabStand;
  phases: PhaseResult[];
  retainedAtSwitch: number;
}

/** Source options that make a signature group of their own. */
const ownSignature = { glob_minimum_cooldown_ms: 60_000 };
const noOwnSignature = { glob_minimum_cooldown_ms: null };

export function nsName(i: number): string {
  return `ns-${String(i).padStart(4, '0')}`;
}

const sourcesPatch = (options: Record<string, unknown>): Record<string, unknown> => ({
  spec: { sources: { pods: options } },
});

/** The start (flags as given), logs written and drained, the retained volume noted. */
async function start(c: RenameCtx, flags: Flags): Promise<void> {
  c.phases.push(await switchOperator(c.stand, 'start', flags));
  write(c.stand, 4);
  await drain(c.stand);
  c.retainedAtSwitch = retained(c.stand);
}

/** `ns-0001/solo` alone in its group; `ns-0002/logs` joins it: a new collapsed source takes both namespaces. */
export function groupOneToTwo(flags: Flags) {
  return async (c: RenameCtx): Promise<void> => {
    await start(c, flags);
    const ns = nsName(2);
    const phase = await reconfigure(
      c.stand,
      `1 -> 2 (${ns}/logs joins ${nsName(1)}/solo)`,
      flags,
      () => c.stand.patchPipeline(ns, 'logs', sourcesPatch(ownSignature)),
      (ids) => !ids.includes(`${nsName(1)}-solo-pods`),
    );
    c.phases.push(phase);
    write(c.stand, 2);
  };
}

export const groupOneToTwoSize: Partial<StandSize> = {
  extraPipelines: [{ nsIndex: 1, name: 'solo', sourceOptions: ownSignature }],
};

/** `ns-0001/solo` and `ns-0002/logs` grouped; `ns-0002/logs` goes back to the big group: solo keeps its own name. */
export function groupTwoToOne(flags: Flags) {
  return async (c: RenameCtx): Promise<void> => {
    await start(c, flags);
    const phase = await reconfigure(
      c.stand,
      `2 -> 1 (${nsName(2)}/logs leaves ${nsName(1)}/solo)`,
      flags,
      () => c.stand.patchPipeline(nsName(2), 'logs', sourcesPatch(noOwnSignature)),
      (ids) => ids.includes(`${nsName(1)}-solo-pods`),
    );
    c.phases.push(phase);
    write(c.stand, 2);
  };
}

export const groupTwoToOneSize: Partial<StandSize> = {
  ...groupOneToTwoSize,
  pipelineOptions: { [`${nsName(2)}/logs`]: ownSignature },
};

const optOut = (value: string | null): Record<string, unknown> => ({
  metadata: { annotations: { 'vector-operator.kaasops.io/config-optimization': value } },
});

/** `ns-0000/audit` opts out of the group, which goes on; then opts back in. */
export function optOutToggled(flags: Flags) {
  return async (c: RenameCtx): Promise<void> => {
    await start(c, flags);
    const ns = nsName(0);
    const id = `${ns}-audit-pods`;
    const out = () => c.stand.patchPipeline(ns, 'audit', optOut('disabled'));
    c.phases.push(await reconfigure(c.stand, `${ns}/audit opts out`, flags, out, (ids) => ids.includes(id)));
    write(c.stand, 2);
    await drain(c.stand);
    const back = () => c.stand.patchPipeline(ns, 'audit', optOut(null));
    c.phases.push(await reconfigure(c.stand, `${ns}/audit opts back in`, flags, back, (ids) => !ids.includes(id)));
    write(c.stand, 2);
  };
}

/**
 * The last namespace's `logs` has a signature of its own; the big group holds exactly a chunk (the stand's chunk
 * size is the namespace count less one). When that pipeline rejoins, the group splits into chunks `-0` and `-1`.
 */
export function chunkBoundary(flags: Flags) {
  return async (c: RenameCtx): Promise<void> => {
    await start(c, flags);
    const ns = [...new Set(c.stand.pipelines.map((p) => p.ns))].sort().at(-1) ?? nsName(0);
    const phase = await reconfigure(
      c.stand,
      `${ns}/logs rejoins: the group crosses its chunk size`,
      flags,
      () => c.stand.patchPipeline(ns, 'logs', sourcesPatch(noOwnSignature)),
      (ids) => ids.some((id) => /^optimizedSource-[0-9a-f]+x*-1$/.test(id)),
    );
    c.phases.push(phase);
    write(c.stand, 2);
  };
}

export function chunkBoundarySize(size: StandSize): Partial<StandSize> {
  return {
    maxNamespacesPerSource: Math.max(1, size.pipelines - 1),
    pipelineOptions: { [`${nsName(size.pipelines - 1)}/logs`]: ownSignature },
  };
}
