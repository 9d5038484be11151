/**
 * Plays the kubelet for configcheck pods where no node runs them (the operator tests on the stand-in, and the real
 * lane, which has no kubelet): each pod's config is checked by the stand's own `vector validate`
 * (lab/vector-sim/validate.ts, without VRL), and the pod status is written as a kubelet would, with Vector's output as
 * the termination message and its exit code.
 *
 * Invariants:
 * - Every configcheck pod in the watched namespaces is answered once; `seen` keeps each one's spec and config.
 * - `stop()` ends the loop; pods created afterwards stay unanswered (a check then times out).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../../src/kube/client.ts';
import type { VectorConfig } from '../../src/vector/config.ts';
import { validateConfigText, validateOutput } from '../../lab/vector-sim/validate.ts';

export interface CheckPodSpec {
  initContainers?: unknown[];
  volumes: { name: string; hostPath?: unknown; emptyDir?: unknown; secret?: { secretName: string } }[];
  containers: { image: string; args: string[]; volumeMounts: { name: string; readOnly?: boolean }[] }[];
}

export interface CheckedPod {
  name: string;
  namespace: string;
  metadata: NonNullable<KubeObject['metadata']>;
  spec: CheckPodSpec;
  /** When the pod was answered (ms since the epoch): the order and spacing of checks. */
  at: number;
  config: VectorConfig;
  valid: boolean;
}

interface Api {
  get<T>(path: string): Promise<T | undefined>;
  patch(path: string, body: unknown): Promise<unknown>;
}

const selector = '?labelSelector=app.kubernetes.io%2Fcomponent%3DConfigCheck';

export function configCheckKubelet(
  api: Api,
  namespaces: readonly string[] = ['vector'],
): { seen: CheckedPod[]; stop: () => Promise<void> } {
  const seen: CheckedPod[] = [];
  const state = { running: true };
  const done = new Set<string>();
  const answer = async (ns: string, pod: KubeObject & { spec: CheckPodSpec }): Promise<void> => {
    const name = pod.metadata?.name ?? '';
    const secretName = pod.spec.volumes.find((v) => v.name === 'config')?.secret?.secretName ?? '';
    const secret = await api.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${ns}/secrets/${secretName}`);
    const text = Buffer.from(secret?.data['config.json'] ?? '', 'base64').toString();
    const problems = validateConfigText(text, undefined);
    seen.push({
      name,
      namespace: ns,
      metadata: pod.metadata ?? {},
      spec: pod.spec,
      at: Date.now(),
      config: JSON.parse(text) as VectorConfig,
      valid: problems.length === 0,
    });
    const ok = problems.length === 0;
    await api.patch(`/api/v1/namespaces/${ns}/pods/${name}/status`, {
      status: {
        phase: ok ? 'Succeeded' : 'Failed',
        containerStatuses: [
          {
            name: 'configcheck',
            state: {
              terminated: { exitCode: ok ? 0 : 78, message: validateOutput(['/etc/vector/config.json'], problems) },
            },
          },
        ],
      },
    });
  };
  const loop = (async () => {
    while (state.running) {
      for (const ns of namespaces) {
        const list = await api.get<{ items: (KubeObject & { spec: CheckPodSpec })[] }>(
          `/api/v1/namespaces/${ns}/pods${selector}`,
        );
        for (const pod of list?.items ?? []) {
          const uid = pod.metadata?.uid ?? '';
          if (done.has(uid)) continue;
          done.add(uid);
          await answer(ns, pod).catch(() => undefined);
        }
      }
      await sleep(20);
    }
  })();
  return {
    seen,
    stop: async () => {
      state.running = false;
      await loop;
    },
  };
}
