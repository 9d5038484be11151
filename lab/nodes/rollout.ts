/**
 * The arithmetic of a Deployment's rolling update, as kube-controller-manager's deployment controller does it
 * (`pkg/controller/deployment/rolling.go`, `util/deployment_util.go`). Pure: counts in, replica counts out.
 *
 * Invariants:
 * - `maxSurge` rounds up and `maxUnavailable` rounds down (percentages of the desired replicas); when both resolve
 *   to 0, `maxUnavailable` is 1, as the real controller does, so a rollout always moves.
 * - The new ReplicaSet grows while the total of every ReplicaSet's replicas stays within `desired + maxSurge`; old
 *   ones shrink while the Ready pods stay at least `desired - maxUnavailable`, counting the new ReplicaSet's pods
 *   that are not Ready yet as already missing. So with 1 or 2 replicas (surge 1, unavailable 0), a new pod is Ready
 *   before an old one is asked to stop.
 * - `Recreate` scales every old ReplicaSet to 0 and starts the new one only once no old pod is left.
 */

export interface RolloutInput {
  desired: number;
  strategy: 'RollingUpdate' | 'Recreate';
  maxSurge: number | string | undefined;
  maxUnavailable: number | string | undefined;
  /** The current template's ReplicaSet: its replicas and its Ready pods. */
  current: { replicas: number; ready: number };
  /** Older ReplicaSets, oldest first: their replicas, Ready pods, and pods still present (terminating ones too). */
  old: { replicas: number; ready: number; pods: number }[];
}

export interface RolloutStep {
  current: number;
  old: number[];
}

/** An int-or-percent of `desired`, rounded up or down. */
export function scaled(v: number | string | undefined, desired: number, fallback: string, roundUp: boolean): number {
  const x = v ?? fallback;
  if (typeof x === 'number') return x;
  const pct = Number(x.replace(/%$/, ''));
  const raw = (pct * desired) / 100;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}

export function rolloutStep(r: RolloutInput): RolloutStep {
  const old = r.old.map((o) => o.replicas);
  if (r.strategy === 'Recreate') {
    const oldLeft = r.old.some((o) => o.pods > 0 || o.replicas > 0);
    return { current: oldLeft ? r.current.replicas : r.desired, old: old.map(() => 0) };
  }
  const surge = scaled(r.maxSurge, r.desired, '25%', true);
  let unavailable = scaled(r.maxUnavailable, r.desired, '25%', false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  let current = r.current.replicas;
  const total = current + old.reduce((s, n) => s + n, 0);
  if (current > r.desired) current = r.desired;
  else if (current < r.desired && total < r.desired + surge)
    current = Math.min(r.desired, current + r.desired + surge - total);
  // Scale down: first old pods that are not Ready (they serve nothing), then Ready ones within the budget.
  for (const [i, o] of r.old.entries()) old[i] = Math.min(o.replicas, o.ready);
  const all = r.current.replicas + old.reduce((s, n) => s + n, 0);
  const minAvailable = r.desired - unavailable;
  const currentMissing = r.current.replicas - Math.min(r.current.ready, r.current.replicas);
  let budget = Math.max(0, all - minAvailable - currentMissing);
  for (const [i, n] of old.entries()) {
    const cut = Math.min(n, budget);
    old[i] = n - cut;
    budget -= cut;
  }
  return { current, old };
}
