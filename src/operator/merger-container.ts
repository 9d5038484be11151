/**
 * The `checkpoint-merger` init container and its two extra volumes, added to the agent pod only when checkpoint
 * migration is on (operator flag `--enable-checkpoint-migration`).
 *
 * Invariants:
 * - The default image tag is the merger's own version (MERGER_VERSION), never the operator's and never empty: an
 *   operator upgrade that leaves the merger alone leaves the pod template, and so every agent, alone.
 * - Least privilege: the config and standby config are mounted read-only, `/var/log` read-only (for `--log-dir`),
 *   `/var/lib/docker/containers` read-only (on Docker nodes the pod logs are symlinks to Docker's json logs there, and
 *   the merger must fingerprint what Vector reads through its `/var/lib` mount), only the data dir is writable; read-only root filesystem, no privilege escalation, every capability dropped. It has
 *   requests and limits, so a namespace with a LimitRange or ResourceQuota admits the pod. Quantities are in the
 *   form a real API server stores, so a reconcile that changes nothing writes nothing.
 * - The merger always exits 0 and writes its one-line JSON summary to the termination-message file (the default
 *   path), which the operator reads back from the pod status (migration-status.ts).
 */
import type { V1Container, V1Volume } from '@kubernetes/client-node';
import { MERGER_VERSION } from '../merger/version.ts';
import type { AgentSpec } from '../pipelines/schemas.ts';

export const mergerContainerName = 'checkpoint-merger';
const defaultMergerImageRepository = 'ghcr.io/vector-operator/checkpoint-merger';
export const defaultMergerImage = `${defaultMergerImageRepository}:${MERGER_VERSION}`;
const standbyVolumeName = 'config-standby';
const standbyMountPath = '/etc/vector-standby';
const mergerLogVolumeName = 'checkpoint-merger-var-log';
const mergerDockerVolumeName = 'checkpoint-merger-docker-containers';
/** Where cri-dockerd's pod log symlinks point (Docker's default data root). */
const dockerContainersPath = '/var/lib/docker/containers';

/** What the DaemonSet builder needs to wire the merger. */
export interface MergerWiring {
  image: string;
  /** The other mode's config Secret, mounted at /etc/vector-standby. */
  standbySecretName: string;
  /**
   * The merger's `--position-policy` when sources disagree on a file. Only `max` adds an argument: the default (`min`)
   * leaves the template, and so every agent, as it was.
   */
  positionPolicy?: 'min' | 'max';
}

/** Validates `--checkpoint-merger-image`: an empty tag (`repo:`) would fail every agent pod with InvalidImageName. */
export function mergerImageProblem(image: string): string | undefined {
  if (image.trim() === '') return 'is empty';
  if (/\s/.test(image)) return 'contains whitespace';
  if (image.endsWith(':') || image.endsWith('@')) return 'ends with an empty tag or digest';
  return undefined;
}

export function mergerVolumes(wiring: MergerWiring): V1Volume[] {
  return [
    { name: standbyVolumeName, secret: { secretName: wiring.standbySecretName } },
    { name: mergerLogVolumeName, hostPath: { path: '/var/log' } },
    // No hostPath type, as for every other agent volume: on a node without Docker the runtime creates the (empty)
    // directory, and the merger finds no links into it anyway.
    { name: mergerDockerVolumeName, hostPath: { path: dockerContainersPath } },
  ];
}

export function mergerInitContainer(agent: AgentSpec, wiring: MergerWiring): V1Container {
  const c: V1Container = {
    name: mergerContainerName,
    image: wiring.image,
    args: [
      '--config',
      '/etc/vector/agent.json',
      '--standby-config',
      `${standbyMountPath}/agent.json`,
      '--data-dir',
      '/vector-data-dir',
      '--log-dir',
      '/var/log/pods',
      '--summary-file',
      '/dev/termination-log',
    ],
    // A limit of one CPU, the agent container's default: the merger needs ~90 ms of CPU at 1000 namespaces, and under
    // half a CPU the kernel's quota (50 ms per 100 ms period) stretched that to ~140 ms of wall time, against ~100.
    // The request stays small: a pod reserves the larger of its biggest init request and its containers' sum.
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } },
    securityContext: {
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'config', mountPath: '/etc/vector', readOnly: true },
      { name: standbyVolumeName, mountPath: standbyMountPath, readOnly: true },
      { name: 'data', mountPath: '/vector-data-dir' },
      { name: mergerLogVolumeName, mountPath: '/var/log', readOnly: true },
      { name: mergerDockerVolumeName, mountPath: dockerContainersPath, readOnly: true },
    ],
  };
  if (wiring.positionPolicy === 'max') c.args?.push('--position-policy', 'max');
  if (agent.imagePullPolicy !== undefined) c.imagePullPolicy = agent.imagePullPolicy;
  return c;
}
