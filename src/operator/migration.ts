/**
 * Which config Secret the agent pods mount, and which mode each config Secret holds: a small pure state machine over
 * what the cluster shows (the live DaemonSet's mount and rollout status, each Secret's recorded mode).
 *
 * The binding table (DESIGN.md, "Migration wiring in the operator"), reached in steady state:
 *
 * | migration | target mode | mounted Secret   | standby Secret                 |
 * |-----------|-------------|------------------|--------------------------------|
 * | off       | any         | `<v>-agent`      | none (`<v>-agent-opt` removed) |
 * | on        | legacy      | `<v>-agent`      | `<v>-agent-opt` (optimized)    |
 * | on        | optimized   | `<v>-agent-opt`  | `<v>-agent` (legacy)           |
 *
 * Invariants:
 * - With migration on, the mode inside a Secret that pods may still mount never changes. A Secret is "pinned" while
 *   the live template mounts it, and, while a rollout is incomplete, so is every existing config Secret (pods of the
 *   previous template may mount either). A pinned Secret keeps its mode; its content still follows pipeline changes,
 *   built in that mode, so pods that have not rolled keep live-reloading what they already run.
 * - The template only switches to a Secret that holds (or may be given) the target mode. When the target Secret is
 *   pinned in the other mode (e.g. migration enabled while already optimized: running pods mount `-agent` holding the
 *   optimized config), the plan first moves to the row of the pinned mode, and reaches the table once the rollout
 *   has completed and the Secret is free. When no step is possible, it holds (keeps the live mount) and waits.
 * - `-agent-opt` is deleted only once nothing can mount it.
 * - With migration off there is one Secret; switching the mode rewrites it in place, as without the feature (the
 *   pods live-reload into the new source names and re-read; that is what migration exists to avoid).
 * - Pure and total: every input gives a plan; the same input gives the same plan.
 */

export type ConfigMode = 'legacy' | 'optimized';
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
}

export type Phase = 'Steady' | 'Rolling' | 'Waiting';

export interface MigrationPlan {
  mount: SecretSlot;
  /** The mode to write into each Secret; `delete` removes `-agent-opt`; `absent` leaves it absent. */
  agent: ConfigMode;
  opt: ConfigMode | 'delete' | 'absent';
  /** The mode the mounted Secret holds after this step. */
  servedMode: ConfigMode;
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

/** One step towards mounting `mode` under migration, or undefined when the Secret for it is pinned in the other mode. */
function stepTo(input: MigrationInput, mode: ConfigMode): Omit<MigrationPlan, 'phase' | 'message'> | undefined {
  const mount = slotFor(mode);
  const standby = otherSlot(mount);
  const current = input.modes[mount];
  if (pinned(input, mount) && current !== mode) return undefined;
  const standbyMode = pinned(input, standby) ? (input.modes[standby] as ConfigMode) : otherMode(mode);
  const modes: Record<SecretSlot, ConfigMode> = { [mount]: mode, [standby]: standbyMode } as Record<
    SecretSlot,
    ConfigMode
  >;
  return { mount, agent: modes.agent, opt: modes.opt, servedMode: mode };
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
  const direct = stepTo(input, target);
  if (direct !== undefined) {
    const phase = phaseOf(input, direct.mount);
    return { ...direct, phase, message: phase === 'Rolling' ? `rolling to the ${target} config` : '' };
  }
  const blocked = slotFor(target) === 'agent' ? '<vector>-agent' : '<vector>-agent-opt';
  const why = `${blocked} still holds the ${otherMode(target)} config for pods that have not rolled`;
  const detour = stepTo(input, otherMode(target));
  if (detour !== undefined) {
    return { ...detour, phase: 'Waiting', message: `${why}; first rolling to the ${otherMode(target)} config` };
  }
  // Unreachable in practice (both Secrets pinned in the wrong modes needs an incomplete rollout, which ends); hold.
  const live = input.live as LiveRollout;
  const agent = input.modes.agent ?? target;
  return {
    mount: live.mount,
    agent,
    opt: input.modes.opt ?? 'absent',
    servedMode: live.mount === 'agent' ? agent : (input.modes.opt ?? target),
    phase: 'Waiting',
    message: `${why}; holding until the rollout completes`,
  };
}
