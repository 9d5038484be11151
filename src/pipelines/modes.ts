/**
 * Both modes' configs for one Vector, built and structurally checked together: whichever is the target mode, the
 * other is the standby config checkpoint migration publishes for pods that have not rolled.
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

/** The shape of an agent config (docs/glossary.md): one source per pipeline, or sources grouped. */
export type ConfigMode = 'legacy' | 'optimized';

export type ModeBuilds = Record<ConfigMode, ModeBuild>;

function modeBuild(result: BuildResult, cache: BuildCache | undefined): ModeBuild {
  return { result, json: serializeConfig(result.config, cache), problems: validateConfigGraph(result.config) };
}

/**
 * Both modes, whatever `opts.optimize` says. A Vector annotated `config-optimization: disabled` gets a legacy config
 * in both (the operator strips the annotation first where it needs the optimized one).
 * `cache` is the Vector's own (build-cache.ts): a build with it returns what a build without it returns.
 */
export function buildModes(
  vector: Vector,
  pipelines: readonly Pipeline[],
  opts: BuildOptions,
  cache?: BuildCache,
): ModeBuilds {
  const [optimized, legacy] = buildAgentConfigs(vector, pipelines, opts, [true, false], cache);
  const modes = {
    optimized: modeBuild(optimized as BuildResult, cache),
    legacy: modeBuild(legacy as BuildResult, cache),
  };
  cache?.sweep();
  return modes;
}
