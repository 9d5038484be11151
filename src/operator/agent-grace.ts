/**
 * The agent pod's termination grace. Vector drains its buffers for up to its graceful shutdown limit after SIGTERM
 * (src/vector/shutdown.ts, 60 s by default), and `kubernetes_logs` has already checkpointed every buffered line
 * (docs/checkpoint-merger.md, "What Vector itself loses or repeats at a restart"). Kubernetes' default grace of 30 s
 * cuts that drain short: a SIGKILL drops what is still buffered.
 *
 * Invariants:
 * - An explicit `--agent-termination-grace-period-seconds` is used as given, in every mode.
 * - Otherwise, with checkpoint migration on (whose cutover rolls the agents anyway), the grace is Vector's drain
 *   limit, as the agent container's environment sets it, plus `graceMarginSecs` for Vector to exit; with no limit
 *   (`VECTOR_NO_GRACEFUL_SHUTDOWN_LIMIT`), the default limit's.
 * - With migration off and no flag: undefined, so the pod template stays byte-identical to kaasops' and an operator
 *   upgrade rolls no agent.
 */
import type { V1EnvVar } from '@kubernetes/client-node';
import type { AgentSpec } from '../pipelines/schemas.ts';
import { drainLimitSecs, vectorDrainLimitSecs } from '../vector/shutdown.ts';

/** Time for Vector to stop its components and exit once its drain limit has passed. */
const graceMarginSecs = 10;

export function agentTerminationGrace(
  agent: AgentSpec,
  migration: boolean,
  flagSecs: number | undefined,
): number | undefined {
  if (flagSecs !== undefined) return flagSecs;
  if (!migration) return undefined;
  // Only literal values: a value from a ConfigMap or Secret is not known here.
  const env: Record<string, string> = {};
  for (const e of (agent.env as V1EnvVar[] | undefined) ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
  return (drainLimitSecs([], env) ?? vectorDrainLimitSecs) + graceMarginSecs;
}
