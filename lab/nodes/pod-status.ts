/**
 * A pod's status as the kubelet reports it, from what the node knows of the pod: pure, written by the pod worker
 * through `pods/status`.
 *
 * Invariants:
 * - The conditions are the kubelet's five: PodScheduled, PodReadyToStartContainers, Initialized, ContainersReady and
 *   Ready. A condition's `lastTransitionTime` changes only when its status does (`ConditionClock`).
 * - Initialized is True once every init container terminated with exit code 0; Ready and ContainersReady once every
 *   main container is ready; nothing is Ready in a terminal phase.
 * - `hostIP`/`hostIPs` are the node's InternalIP; `podIP`/`podIPs` the pod's address (the node's for a
 *   `hostNetwork` pod), `podIPs[0]` equal to `podIP` as validation requires. `startTime` is when the node took the pod.
 * - The status is complete: a merge patch replaces every list it carries, so no list is sent half.
 */
import type * as k8s from '@kubernetes/client-node';
import { rfc3339 } from './node-object.ts';

export interface PodState {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  init: k8s.V1ContainerStatus[];
  main: k8s.V1ContainerStatus[];
  hostIP: string;
  podIP: string;
  /** RFC 3339. */
  startTime: string;
}

/** Remembers when each condition last changed status. */
export class ConditionClock {
  private readonly seen = new Map<string, { status: string; at: string }>();

  at(type: string, status: string, now: Date): string {
    const prev = this.seen.get(type);
    if (prev?.status === status) return prev.at;
    const at = rfc3339(now);
    this.seen.set(type, { status, at });
    return at;
  }
}

const terminal = (phase: PodState['phase']): boolean => phase === 'Succeeded' || phase === 'Failed';

export function podStatus(s: PodState, clock: ConditionClock, now: Date) {
  const live = !terminal(s.phase);
  const ready = live && s.main.length > 0 && s.main.every((c) => c.ready);
  const initialized = s.init.every((c) => c.state?.terminated?.exitCode === 0);
  const cond = (type: string, ok: boolean) => {
    const status = ok ? 'True' : 'False';
    return { type, status, lastTransitionTime: clock.at(type, status, now) };
  };
  return {
    phase: s.phase,
    conditions: [
      cond('PodReadyToStartContainers', live),
      cond('Initialized', initialized),
      cond('Ready', ready),
      cond('ContainersReady', ready),
      cond('PodScheduled', true),
    ],
    hostIP: s.hostIP,
    hostIPs: [{ ip: s.hostIP }],
    podIP: s.podIP,
    podIPs: [{ ip: s.podIP }],
    startTime: s.startTime,
    initContainerStatuses: s.init.map((c) => structuredClone(c)),
    containerStatuses: s.main.map((c) => structuredClone(c)),
  };
}
