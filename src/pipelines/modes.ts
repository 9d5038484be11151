/**
 * Both modes' configs for one Vector, built and structurally checked together: the active one (the mode the operator
 * runs in) and the standby one (the other mode, which checkpoint migration publishes for pods that have not rolled).
 *
 * Invariant: each mode carries its own graph problems; the operator refuses to write a Secret whose mode has any.
 */
import { validateConfigGraph, type GraphProblem } from '../vector/graph.ts';
import type { BuildCache } from './build-cache.ts';
import { buildAgentConfigs, type BuildOptions, type BuildResult } from './build.ts';
import type { Pipeline, Vector } from './schemas.ts';
import { serializeConfig } from './serialize.ts';

export interface ModeBuild {
  result: BuildResult;
  /** agent.json bytes. */
  json: string;
  problems: GraphProblem[];
}

export interface ModeBuilds {
  active: ModeBuild;
  standby: ModeBuild;
}

function modeBuild(result: BuildResult, cache: BuildCache | undefined): ModeBuild {
  return { result, json: serializeConfig(result.config, cache), problems: validateConfigGraph(result.config) };
}

/**
 * `optimize` is the operator flag; a Vector annotated `config-optimization: disabled` makes both modes legacy.
 * `cache` is the Vector's own (build-cache.ts): a build with it returns what a build without it returns.
 */
export function buildModes(
  vector: Vector,
  pipelines: readonly Pipeline[],
  opts: BuildOptions,
  cache?: BuildCache,
): ModeBuilds {
  const [active, standby] = buildAgentConfigs(vector, pipelines, opts, [opts.optimize, !opts.optimize], cache);
  const modes = { active: modeBuild(active as BuildResult, cache), standby: modeBuild(standby as BuildResult, cache) };
  cache?.sweep();
  return modes;
}
