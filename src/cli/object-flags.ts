/**
 * The operator flags that shape the objects of a Vector: one definition and one check, shared by `run` and by
 * `render --objects`, so that the preview is what `run` with the same flags would apply (`desiredState`, the
 * operator's one builder).
 */
import type { OperatorFlags } from '../operator/desired.ts';
import { defaultMergerImage, mergerImageProblem } from '../operator/merger-container.ts';
import type { PipelinePolicy } from '../pipelines/policy.ts';

export const objectFlagOptions = {
  'enable-checkpoint-migration': { type: 'boolean', default: false },
  'checkpoint-merger-image': { type: 'string', default: '' },
  'checkpoint-merger-position-policy': { type: 'string', default: 'min' },
  'agent-least-privilege': { type: 'boolean', default: false },
  'agent-termination-grace-period-seconds': { type: 'string', default: '' },
} as const;

export const objectFlagUsage = `With --objects, the operator flags that change its objects (as for run):
      --enable-checkpoint-migration          the standby Secret and the checkpoint-merger init container
      --checkpoint-merger-image IMAGE        (default ${defaultMergerImage})
      --checkpoint-merger-position-policy P  min (default) or max
      --agent-least-privilege                the hardened agent pod
      --agent-termination-grace-period-seconds N
                                             the agent pod's grace (default: Vector's drain + 10 s with migration)
`;

interface ObjectFlagValues {
  'enable-config-optimization': boolean;
  'enable-checkpoint-migration': boolean;
  'checkpoint-merger-image': string;
  'checkpoint-merger-position-policy': string;
  'agent-least-privilege': boolean;
  'agent-termination-grace-period-seconds': string;
}

/** The operator's flags, or a usage error naming the flag. Whether the PodMonitor CRD is served is the caller's. */
export function operatorFlagsFrom(
  values: ObjectFlagValues,
  policy: PipelinePolicy,
): Omit<OperatorFlags, 'podMonitor'> | string {
  // kaasops' default is "" meaning "<repo>:<operator version>"; ours is the merger's own version, never empty.
  const image = values['checkpoint-merger-image'] === '' ? defaultMergerImage : values['checkpoint-merger-image'];
  const problem = mergerImageProblem(image);
  if (problem !== undefined) return `--checkpoint-merger-image '${image}' ${problem}`;
  const position = values['checkpoint-merger-position-policy'];
  if (position !== 'min' && position !== 'max')
    return `--checkpoint-merger-position-policy '${position}' must be min or max`;
  const grace = values['agent-termination-grace-period-seconds'];
  if (grace !== '' && !/^\d{1,9}$/.test(grace))
    return `--agent-termination-grace-period-seconds '${grace}' must be a whole number of seconds`;
  return {
    optimize: values['enable-config-optimization'],
    migration: values['enable-checkpoint-migration'],
    mergerImage: image,
    mergerPositionPolicy: position,
    policy,
    leastPrivilege: values['agent-least-privilege'],
    ...(grace === '' ? {} : { terminationGraceSeconds: Number(grace) }),
  };
}
