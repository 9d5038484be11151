/**
 * The tenant policy flags, shared by `run`, `render` and `plan` so that a preview applies exactly the policy the
 * operator enforces. Lists take comma-separated names and may be repeated.
 *
 * Invariant: a name in both an allow and a deny list is a usage error, never resolved silently one way.
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import { defaultPolicy, policyFlags, type PipelinePolicy } from '../pipelines/policy.ts';

export const policyOptions = {
  [policyFlags.mode]: { type: 'string', default: defaultPolicy.mode },
  [policyFlags.allowTypes]: { type: 'string', multiple: true, default: [] },
  [policyFlags.denyTypes]: { type: 'string', multiple: true, default: [] },
  [policyFlags.allowFunctions]: { type: 'string', multiple: true, default: [] },
  [policyFlags.denyFunctions]: { type: 'string', multiple: true, default: [] },
  [policyFlags.allowPaths]: { type: 'string', multiple: true, default: [] },
  [policyFlags.clusterPipelines]: { type: 'boolean', default: false },
} as const satisfies ParseArgsOptionsConfig;

export const policyUsage = `  --${policyFlags.mode} enforce|warn
                                      namespaced pipelines that break the tenant policy: enforce refuses them, warn
                                      keeps them flowing, flagged (kaasops compatibility) (default enforce)
  --${policyFlags.allowTypes} T,...
                                      transform/sink types namespaced pipelines may use beyond the allow-list
  --${policyFlags.denyTypes} T,...
                                      types they may not use, even on the allow-list
  --${policyFlags.allowFunctions} F,...
                                      VRL functions allowed although denied by default (get_env_var, ...)
  --${policyFlags.denyFunctions} F,...
                                      VRL functions denied beyond the default list
  --${policyFlags.allowPaths} DIR,...
                                      directories a path option (tls.ca_file, ...) may name
  --${policyFlags.clusterPipelines}
                                      apply the policy to ClusterVectorPipelines too (default false)
`;

export type PolicyValues = {
  [K in keyof typeof policyOptions]: (typeof policyOptions)[K]['default'] extends boolean
    ? boolean
    : (typeof policyOptions)[K]['default'] extends string
      ? string
      : string[];
};

function names(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** The policy the flags describe, or a usage error that names the flag. */
export function policyFromFlags(values: PolicyValues): PipelinePolicy | string {
  const mode = values[policyFlags.mode];
  if (mode !== 'enforce' && mode !== 'warn') return `--${policyFlags.mode} '${mode}' must be enforce or warn`;
  const policy: PipelinePolicy = {
    mode,
    allowTypes: new Set(names(values[policyFlags.allowTypes])),
    denyTypes: new Set(names(values[policyFlags.denyTypes])),
    allowFunctions: new Set(names(values[policyFlags.allowFunctions])),
    denyFunctions: new Set(names(values[policyFlags.denyFunctions])),
    allowPaths: names(values[policyFlags.allowPaths]),
    clusterPipelines: values[policyFlags.clusterPipelines],
  };
  for (const [allow, deny, what] of [
    [policy.allowTypes, policy.denyTypes, 'types'],
    [policy.allowFunctions, policy.denyFunctions, 'vrl-functions'],
  ] as const) {
    const both = [...allow].filter((x) => deny.has(x));
    if (both.length > 0) {
      return `${both.join(', ')} is in both --pipeline-policy-allow-${what} and --pipeline-policy-deny-${what}; keep one`;
    }
  }
  const relative = policy.allowPaths.find((p) => !p.startsWith('/') || p.split('/').includes('..'));
  if (relative !== undefined) {
    return `--${policyFlags.allowPaths} '${relative}' must be an absolute directory without '..'`;
  }
  return policy;
}
