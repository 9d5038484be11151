/**
 * Which config Secret the agent pods mount, and what each config Secret holds: a small pure state machine over what
 * the cluster shows (the live DaemonSet's mount and rollout status, each Secret's recorded mode, and whether writing
 * a config into a Secret would rename sources for the pods that read it; handover.ts).
 *
 * With migration on, the two Secrets are A/B slots. A fresh agent starts on the slot of its mode (`<v>-agent` for
 * legacy, `<v>-agent-opt` for optimized) and the other slot holds the other mode (the standby). From then on:
 * - A config change that renames no source reaches the pods by live reload: it is written into the mounted Secret.
 * - A change that renames a source (a mode switch, a signature group going 1 <-> 2, a pipeline opted out, a chunk
 *   boundary crossed: any consumer moving onto a source that did not read its namespaces) is written into the other
 *   slot, and the template switches to it. The DaemonSet rolls; each new pod runs checkpoint-merger, with the slot
 *   the pods ran before as its standby, before Vector sees the new ids.
 *
 * Invariants:
 * - A Secret pods may still mount never gets a config that renames a source for them. A Secret is "pinned" while
 *   the live template mounts it and, while a rollout is incomplete, so is every existing config Secret (pods of the
 *   previous template may mount either). A pinned Secret takes its own mode's build when that renames nothing for
 *   it (pipelines added or removed reach the pods that have not rolled), and otherwise keeps its content (`keep`).
 * - The template only switches to a Secret that is not pinned: a rename that arrives while a rollout is incomplete
 *   waits (`Waiting`) until it completes, then rolls.
 * - No rename, no roll: the mount changes only for a rename (or migration being turned off).
 * - `-agent-opt` is deleted only once nothing can mount it.
 * - With migration off there is one Secret; switching the mode rewrites it in place, as without the feature (the
 *   pods live-reload into the new source names and re-read; that is what migration exists to avoid).
 * - Pure and total: every input gives a plan; the same input gives the same plan.
 */
import type { ConfigMode } from '../pipelines/modes.ts';

/** `agent` is `<v>-agent`, `opt` is `<v>-agent-opt`. */
export type SecretSlot = 'agent' | 'opt';

export interface LiveRollout {
  /** The Secret the live DaemonSet template mounts. */
  mount: SecretSlot;
  /** Every scheduled pod runs the live template and is available (see rolloutComplete). */
  complete: boolean;
}

export interface MigrationInput {
  migration: boolean;
  target: ConfigMode;
  /** Undefined when there is no DaemonSet yet. */
  live: LiveRollout | undefined;
  /** The mode each existing Secret holds; absent = the Secret does not exist. */
  modes: Partial<Record<SecretSlot, ConfigMode>>;
  /**
   * Whether writing a mode's config into an existing Secret would rename sources for its pods; absent = never. Asked
   * only for the pairs the step needs (one in a steady state): each answer compares two source graphs.
   */
  renames?: (slot: SecretSlot, mode: ConfigMode) => boolean;
}

export type Phase = 'Steady' | 'Rolling' | 'Waiting';

export interface MigrationPlan {
  mount: SecretSlot;
  /**
   * The mode to write into each Secret; `keep` leaves a pinned Secret's content as it is (the new build would rename
   * sources for its pods); `delete` removes `-agent-opt`; `absent` leaves it absent.
   */
  agent: ConfigMode | 'keep';
  opt: ConfigMode | 'keep' | 'delete' | 'absent';
  /** The mode the mounted Secret holds after this step. */
  servedMode: ConfigMode;
  /** Set when this step switches the template to the other Secret because sources rename (a mode switch is one). */
  roll?: 'rename';
  phase: Phase;
  message: string;
}

function otherMode(m: ConfigMode): ConfigMode {
  return m === 'legacy' ? 'optimized' : 'legacy';
}

function slotFor(mode: ConfigMode): SecretSlot {
  return mode === 'optimized' ? 'opt' : 'agent';
}

function otherSlot(s: SecretSlot): SecretSlot {
  return s === 'agent' ? 'opt' : 'agent';
}

/** The DaemonSet status fields `kubectl rollout status` reads. */
export interface DaemonSetRolloutStatus {
  generation?: number;
  observedGeneration?: number;
  desiredNumberScheduled?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
}

/** Complete when the controller saw the live spec, and every scheduled pod is updated and available. */
export function rolloutComplete(s: DaemonSetRolloutStatus): boolean {
  if (s.generation === undefined || s.observedGeneration === undefined || s.observedGeneration < s.generation)
    return false;
  const desired = s.desiredNumberScheduled ?? 0;
  return (s.updatedNumberScheduled ?? 0) >= desired && (s.numberAvailable ?? 0) >= desired;
}

function pinned(input: MigrationInput, slot: SecretSlot): boolean {
  const live = input.live;
  if (live === undefined || input.modes[slot] === undefined) return false;
  return live.mount === slot || !live.complete;
}

function phaseOf(input: MigrationInput, mount: SecretSlot): Phase {
  const live = input.live;
  if (live === undefined) return 'Steady';
  return live.mount !== mount || !live.complete ? 'Rolling' : 'Steady';
}

function renames(input: MigrationInput, slot: SecretSlot, mode: ConfigMode): boolean {
  return input.modes[slot] !== undefined && input.renames?.(slot, mode) === true;
}

/** What a pinned Secret gets: its own mode's build when that renames nothing for its pods, else its content as is. */
function pinnedWrite(input: MigrationInput, slot: SecretSlot): ConfigMode | 'keep' {
  const mode = input.modes[slot] as ConfigMode;
  return renames(input, slot, mode) ? 'keep' : mode;
}

function slots(
  mount: SecretSlot,
  mounted: ConfigMode | 'keep',
  standby: ConfigMode | 'keep',
): Pick<MigrationPlan, 'mount' | 'agent' | 'opt'> {
  return mount === 'agent' ? { mount, agent: mounted, opt: standby } : { mount, agent: standby, opt: mounted };
}

export function planMigration(input: MigrationInput): MigrationPlan {
  const target = input.target;
  if (!input.migration) {
    // `-agent-opt` is kept, in its mode, while pods may still mount it (leaving migration mid-rollout).
    const optPinned = pinned(input, 'opt');
    const opt = optPinned ? (input.modes.opt as ConfigMode) : input.modes.opt === undefined ? 'absent' : 'delete';
    return {
      mount: 'agent',
      agent: target,
      opt,
      servedMode: target,
      phase: phaseOf(input, 'agent'),
      message: optPinned ? 'waiting for the rollout off <vector>-agent-opt before deleting it' : '',
    };
  }
  const live = input.live;
  if (live === undefined) {
    return { ...slots(slotFor(target), target, otherMode(target)), servedMode: target, phase: 'Steady', message: '' };
  }
  const mount = live.mount;
  const other = otherSlot(mount);
  const standby = (): ConfigMode | 'keep' => (pinned(input, other) ? pinnedWrite(input, other) : otherMode(target));
  if (input.modes[mount] === undefined || !renames(input, mount, target)) {
    // Nothing renames for the pods on the mounted Secret: a live reload.
    const phase = live.complete ? 'Steady' : 'Rolling';
    return {
      ...slots(mount, target, standby()),
      servedMode: target,
      phase,
      message: phase === 'Rolling' ? 'the agent DaemonSet is rolling out' : '',
    };
  }
  const modeSwitch = input.modes[mount] !== target;
  if (!pinned(input, other)) {
    return {
      ...slots(other, target, pinnedWrite(input, mount)),
      servedMode: target,
      roll: 'rename',
      phase: 'Rolling',
      message: modeSwitch ? `rolling to the ${target} config` : 'rolling to a config that renames sources',
    };
  }
  // Both Secrets are pinned: the rename waits for the rollout in progress; its pods keep what they run.
  const kept = pinnedWrite(input, mount);
  return {
    ...slots(mount, kept, pinnedWrite(input, other)),
    servedMode: input.modes[mount],
    phase: 'Waiting',
    message: 'a config that renames sources waits for the rollout in progress to complete',
  };
}
