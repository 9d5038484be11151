/**
 * What the live agent objects say: the mode a config Secret holds and where the DaemonSet's rollout stands. Read
 * from the cluster's objects only, never from flags, so a restarted operator sees what its predecessor left.
 */
import type { V1DaemonSet, V1Secret } from '@kubernetes/client-node';
import type { Vector } from '../pipelines/schemas.ts';
import { configPayloadText } from '../vector/config-payload.ts';
import { configKey } from './objects.ts';
import { rolloutComplete, type LiveRollout, type SecretSlot } from './migration.ts';
import type { ConfigMode } from '../pipelines/modes.ts';
import { slotSecretName } from './secret-assets.ts';

/** The annotation recording which mode a config Secret holds. */
export const configModeAnnotation = 'vector-operator.kaasops.io/config-mode';

/** The mode a live config Secret holds: its annotation, else (written before the annotation existed) its content. */
export function secretMode(secret: V1Secret | undefined): ConfigMode | undefined {
  if (secret === undefined) return undefined;
  const recorded = secret.metadata?.annotations?.[configModeAnnotation];
  if (recorded === 'legacy' || recorded === 'optimized') return recorded;
  const b64 = secret.data?.[configKey];
  if (b64 === undefined) return 'legacy';
  // A collapsed source is the only thing that tells the modes apart; without one both modes are the same bytes.
  return configPayloadText(Buffer.from(b64, 'base64')).includes('"optimizedSource-') ? 'optimized' : 'legacy';
}

export function liveRollout(vector: Vector, ds: V1DaemonSet | undefined): LiveRollout | undefined {
  if (ds === undefined) return undefined;
  const volumes = ds.spec?.template.spec?.volumes ?? [];
  const volumeName = vector.spec.agent?.compressConfigFile === true ? 'app-config-compress' : 'config';
  const mounted = volumes.find((v) => v.name === volumeName)?.secret?.secretName;
  const mount: SecretSlot = mounted === slotSecretName(vector, 'opt') ? 'opt' : 'agent';
  const status = ds.status;
  return {
    mount,
    complete: rolloutComplete({
      generation: ds.metadata?.generation,
      observedGeneration: status?.observedGeneration,
      desiredNumberScheduled: status?.desiredNumberScheduled,
      updatedNumberScheduled: status?.updatedNumberScheduled,
      numberAvailable: status?.numberAvailable,
    }),
  };
}
