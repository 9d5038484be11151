/**
 * Both modes' configs for one Vector, built and structurally checked together: the active one (the mode the operator
 * runs in) and the standby one (the other mode, which checkpoint migration publishes for pods that have not rolled).
 *
 * Invariant: each mode carries its own graph problems; the operator refuses to write a Secret whose mode has any.
 */
import { validateConfigGraph, type GraphProblem } from '../vector/graph.ts';
import { buildAgentConfig, type BuildOptions, type BuildResult } from './build.ts';
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

function buildMode(
  vector: Vector,
  pipelines: readonly Pipeline[],
  optimize: boolean,
  opts: Omit<BuildOptions, 'optimize'>,
): ModeBuild {
  const result = buildAgentConfig(vector, pipelines, { ...opts, optimize });
  return { result, json: serializeConfig(result.config), problems: validateConfigGraph(result.config) };
}

/** `optimize` is the operator flag; a Vector annotated `config-optimization: disabled` makes both modes legacy. */
export function buildModes(vector: Vector, pipelines: readonly Pipeline[], opts: BuildOptions): ModeBuilds {
  const { optimize, ...rest } = opts;
  const active = buildMode(vector, pipelines, optimize, rest);
  const standby = buildMode(vector, pipelines, !optimize, rest);
  return { active, standby };
}
