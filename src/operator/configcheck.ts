/**
 * Config check in a pod: `vector validate` with the workload's image, on a config before it is published (a Vector's,
 * an aggregator's, or one pipeline's alone: pipeline-checks.ts), as kaasops does. On by default; `--enable-configcheck-pods=false` leaves
 * only the in-process structural check (validate.ts, modes.ts).
 *
 * Invariants:
 * - The check pod never mounts the data dir read-write (its `data` is an emptyDir), never mounts host paths, and never
 *   runs the merger (no init containers). Its config comes from its own Secret, not from the agent's.
 * - One budget, `--configcheck-timeout`, counted from the start of the check (not per pod event, kaasops #284).
 *   A pod that cannot start (`CreateContainerConfigError`, `InvalidImageName`, `ErrImagePull`) fails at once; a pod
 *   that disappears is an error (never a pass, kaasops #285).
 * - Cleaned up afterwards whatever happens: the Secret is deleted and the pod, owned by it, goes with it.
 * - The failure reason comes from the container's termination message with `FallbackToLogsOnError`, so the operator
 *   needs no `pods/log` permission.
 * - Outcomes of a Vector's checks are memoised by the config's sha256: an unchanged config is never checked twice. A
 *   pipeline's check always runs its pod: it runs only when asked for (a change, force-configcheck, a retry).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Applier } from '../kube/apply.ts';
import { objectKey, type KubeObject } from '../kube/client.ts';
import { Reflector } from '../kube/reflector.ts';
import type { AgentSpec, Vector } from '../pipelines/schemas.ts';
import { defaultAgentImage, defaultResources, env, securityContext } from './objects.ts';

export type CheckOutcome =
  { result: 'valid' } | { result: 'invalid'; reason: string } | { result: 'error'; reason: string };

const configCheckLabels = {
  'app.kubernetes.io/managed-by': 'vector-operator',
  'app.kubernetes.io/name': 'vector-configcheck',
  'app.kubernetes.io/component': 'ConfigCheck',
};

/**
 * With pipeline secrets, the check's one Secret also holds their values (secret-assets.ts), projected under
 * `secrets/` where the config's `k8s` backend reads them (`/etc/vector/secrets`); without, the volume is as before.
 */
function secretItems(assets: Readonly<Record<string, string>>): { items?: { key: string; path: string }[] } {
  const keys = Object.keys(assets).sort();
  if (keys.length === 0) return {};
  return {
    items: [{ key: 'config.json', path: 'config.json' }, ...keys.map((k) => ({ key: k, path: `secrets/${k}` }))],
  };
}

/**
 * Whose config a pod checks: a Vector's agent or an aggregator, by the settings kaasops' `VectorCommon` gives both
 * (image, env, resources, security contexts, pull secrets, tolerations, `configCheck.*`). `name` is the CR's name
 * (`configcheck-<name>-<rand>`), `namespace` where the pod runs (a ClusterVectorAggregator's `resourceNamespace`).
 */
export interface CheckSubject {
  name: string;
  namespace: string;
  spec: AgentSpec;
}

export function vectorSubject(vector: Vector): CheckSubject {
  return { name: vector.metadata.name, namespace: vector.metadata.namespace, spec: vector.spec.agent ?? {} };
}

/** The check's Secret and Pod (the pod's owner reference is added once the Secret has a uid). */
function configCheckObjects(
  subject: CheckSubject,
  configJson: string,
  suffix: string,
  assets: Readonly<Record<string, string>>,
): { secret: KubeObject; pod: KubeObject } {
  const agent = subject.spec;
  const check = agent.configCheck ?? {};
  const name = `configcheck-${subject.name}-${suffix}`;
  const namespace = subject.namespace;
  const labels = { ...(check.labels ?? {}), ...configCheckLabels, 'app.kubernetes.io/instance': subject.name };
  const container: Record<string, unknown> = {
    name: 'configcheck',
    image: check.image ?? agent.image ?? defaultAgentImage,
    args: ['--require-healthy=false', 'validate', '/etc/vector/config.json'],
    // As the workload's vector container has them.
    env: env(agent),
    resources: check.resources ?? defaultResources(agent.resources),
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [
      { name: 'config', mountPath: '/etc/vector', readOnly: true },
      { name: 'data', mountPath: '/vector-data-dir' },
    ],
  };
  if (agent.envFrom !== undefined && agent.envFrom.length > 0) container.envFrom = agent.envFrom;
  if (agent.imagePullPolicy !== undefined) container.imagePullPolicy = agent.imagePullPolicy;
  const sc = securityContext(agent, false);
  if (sc !== undefined) container.securityContext = sc;
  const spec: Record<string, unknown> = {
    restartPolicy: 'Never',
    containers: [container],
    volumes: [
      { name: 'config', secret: { secretName: name, ...secretItems(assets) } },
      { name: 'data', emptyDir: {} },
    ],
  };
  const tolerations = check.tolerations ?? agent.tolerations;
  if (tolerations !== undefined) spec.tolerations = tolerations;
  if (agent.imagePullSecrets !== undefined) spec.imagePullSecrets = agent.imagePullSecrets;
  if (agent.podSecurityContext !== undefined) spec.securityContext = agent.podSecurityContext;
  const meta = (extra: Record<string, unknown> = {}) => ({ name, namespace, labels, ...extra });
  return {
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(),
      data: { ...assets, 'config.json': Buffer.from(configJson, 'utf8').toString('base64') },
    },
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(check.annotations === undefined ? {} : { annotations: check.annotations }),
      spec,
    },
  };
}

interface PodStatus {
  phase?: string;
  containerStatuses?: {
    state?: { waiting?: { reason?: string; message?: string }; terminated?: { message?: string; exitCode?: number } };
  }[];
}

const cannotStart = new Set(['CreateContainerConfigError', 'InvalidImageName', 'ErrImagePull', 'ImagePullBackOff']);

/** What a pod's status says about the check, or undefined while it runs. */
function podVerdict(status: PodStatus | undefined): CheckOutcome | undefined {
  const state = status?.containerStatuses?.[0]?.state;
  if (status?.phase === 'Succeeded') return { result: 'valid' };
  if (status?.phase === 'Failed') {
    const msg = state?.terminated?.message?.trim();
    return { result: 'invalid', reason: msg === undefined || msg === '' ? 'vector validate failed' : msg };
  }
  const waiting = state?.waiting?.reason;
  if (waiting !== undefined && cannotStart.has(waiting)) {
    return {
      result: 'invalid',
      reason: `the configcheck pod cannot start: ${waiting}: ${state?.waiting?.message ?? ''}`.trim(),
    };
  }
  return undefined;
}

export class ConfigChecker {
  private readonly applier: Applier;
  private readonly timeoutMs: number;
  private readonly memo = new Map<string, CheckOutcome>();
  /** Set by `cancel()`: outcomes from then on say nothing about the config. */
  cancelled = false;
  /** Checks in flight, ended by `cancel()`. */
  private readonly inFlight = new Set<(o: CheckOutcome) => void>();
  /**
   * One watch on every configcheck pod (by their labels), started with the operator's caches, rather than kaasops'
   * name-scoped watch per check: one connection whatever the number of checks in flight. With a watch per check the
   * stand's scenarios saw a watch outlive its check now and then, until the server's watch timeout (minutes).
   */
  private readonly pods: Reflector<KubeObject>;
  /** The check waiting on each pod, by "ns/name". */
  private readonly waiting = new Map<string, (event: string, obj: KubeObject) => void>();

  constructor(kc: KubeConfig, applier: Applier, timeoutMs: number, watchNamespace?: string) {
    this.applier = applier;
    this.timeoutMs = timeoutMs;
    const ns =
      watchNamespace === undefined || watchNamespace === '' ? '' : `/namespaces/${encodeURIComponent(watchNamespace)}`;
    this.pods = new Reflector<KubeObject>({
      kc,
      listPath: `/api/v1${ns}/pods`,
      labelSelector: Object.entries(configCheckLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    });
    this.pods.on((event, obj) => {
      this.waiting.get(objectKey(obj))?.(event, obj);
    });
  }

  /** Resolves once the pod watch has its first list. */
  start(): Promise<void> {
    return this.pods.start();
  }

  async stop(): Promise<void> {
    await this.pods.stop();
  }

  /** Ends every check in flight as an error (the operator stops): never a pass (kaasops #285). */
  cancel(): void {
    this.cancelled = true;
    for (const settle of this.inFlight)
      settle({ result: 'error', reason: 'configcheck cancelled: the operator stops' });
  }

  /**
   * `assets`: the pipeline secrets' values the config references (flat key -> base64), mounted beside it. `fresh`
   * runs a pod even when this config's outcome is known (a pipeline's forced or repeated check).
   */
  async check(
    subject: CheckSubject,
    configJson: string,
    assets: Readonly<Record<string, string>> = {},
    fresh = false,
  ): Promise<CheckOutcome> {
    if (this.cancelled) return { result: 'error', reason: 'configcheck cancelled: the operator stops' };
    if (fresh) return this.run(subject, configJson, assets);
    const hash = createHash('sha256')
      .update(subject.spec.configCheck?.image ?? subject.spec.image ?? '')
      .update('\0')
      .update(configJson)
      .update('\0')
      .update(JSON.stringify(Object.entries(assets).sort()))
      .digest('hex');
    const known = this.memo.get(hash);
    if (known !== undefined) return known;
    const outcome = await this.run(subject, configJson, assets);
    if (outcome.result !== 'error') {
      if (this.memo.size >= 256) this.memo.delete(this.memo.keys().next().value as string);
      this.memo.set(hash, outcome);
    }
    return outcome;
  }

  private async run(
    subject: CheckSubject,
    configJson: string,
    assets: Readonly<Record<string, string>>,
  ): Promise<CheckOutcome> {
    const suffix = randomBytes(3).toString('hex').slice(0, 5);
    const { secret, pod } = configCheckObjects(subject, configJson, suffix, assets);
    const key = objectKey(pod);
    const deadline = Date.now() + this.timeoutMs;
    let settle: (o: CheckOutcome) => void = () => undefined;
    const settled = new Promise<CheckOutcome>((resolve) => {
      settle = resolve;
    });
    this.inFlight.add(settle);
    this.waiting.set(key, (event, obj) => {
      if (event === 'delete') settle({ result: 'error', reason: 'the configcheck pod was deleted before it finished' });
      else {
        const v = podVerdict(obj.status as PodStatus | undefined);
        if (v !== undefined) settle(v);
      }
    });
    let stored: KubeObject | undefined;
    const timer = setTimeout(() => {
      // kaasops' text, which a pipeline's status carries as is.
      settle({ result: 'error', reason: 'timeout waiting configcheck pod result' });
    }, this.timeoutMs);
    try {
      stored = await this.applier.apply(secret);
      const uid = stored.metadata?.uid ?? '';
      const meta = pod.metadata ?? {};
      meta.ownerReferences = [{ apiVersion: 'v1', kind: 'Secret', name: meta.name ?? '', uid }];
      if (Date.now() < deadline) await this.applier.apply(pod);
      return await settled;
    } finally {
      this.waiting.delete(key);
      this.inFlight.delete(settle);
      clearTimeout(timer);
      await this.applier.delete(stored ?? secret).catch(() => undefined);
      await this.applier.delete(pod).catch(() => undefined);
    }
  }
}
