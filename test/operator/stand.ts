/**
 * Set-up for the operator's integration tests: the API server stand-in with our CRDs, plain-JSON helpers, and
 * operators that log nowhere. Waiting is by polling a condition (bounded), never by asserting on time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startApiServer, type ApiServer } from '../../lab/apiserver/server.ts';
import { request, type KubeObject } from '../../src/kube/client.ts';
import { Operator, type OperatorOptions } from '../../src/operator/operator.ts';
import type { Logger } from '../../src/operator/vector-controller.ts';

const crdDir = new URL('../../deploy/crds/', import.meta.url);
export const group = '/apis/observability.kaasops.io/v1alpha1';

export interface Stand {
  server: ApiServer;
  kc: KubeConfig;
  get<T = KubeObject>(path: string): Promise<T | undefined>;
  create(path: string, obj: unknown): Promise<KubeObject>;
  patch(path: string, body: unknown, type?: string): Promise<KubeObject>;
  del(path: string): Promise<void>;
  close(): Promise<void>;
}

export const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };

export async function startStand(namespaces: string[] = ['vector', 'team-a', 'team-b']): Promise<Stand> {
  const server = await startApiServer({ bookmarkIntervalMs: 200 });
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig);
  for (const f of readdirSync(crdDir).sort()) {
    const crd = parse(readFileSync(new URL(f, crdDir), 'utf8')) as unknown;
    await request(kc, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
  }
  for (const ns of namespaces) {
    await request(kc, 'POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    });
  }
  return {
    server,
    kc,
    async get<T>(path: string): Promise<T | undefined> {
      try {
        return await request<T>(kc, 'GET', path);
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
    create: (path, obj) => request<KubeObject>(kc, 'POST', path, { body: obj }),
    patch: (path, body, type = 'application/merge-patch+json') =>
      request<KubeObject>(kc, 'PATCH', path, { body, contentType: type }),
    async del(path) {
      await request(kc, 'DELETE', path);
    },
    close: () => server.close(),
  };
}

export function operator(stand: Stand, opts: Partial<OperatorOptions> = {}): Operator {
  return new Operator({
    kc: stand.kc,
    flags: { optimize: false, migration: false, mergerImage: 'merger:test' },
    log: silent,
    resyncMs: 0,
    ...opts,
  });
}

/** Polls `check` until it returns a value other than undefined/false; fails with its last problem after ~15 s. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 750; i++) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await sleep(20);
  }
  throw new Error(
    `timed out waiting for ${what}${last === undefined ? '' : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`}`,
  );
}

export const vectorPath = (ns: string, name = ''): string =>
  `${group}/namespaces/${ns}/vectors${name === '' ? '' : `/${name}`}`;
export const vpPath = (ns: string, name = ''): string =>
  `${group}/namespaces/${ns}/vectorpipelines${name === '' ? '' : `/${name}`}`;
export const cvpPath = (name = ''): string => `${group}/clustervectorpipelines${name === '' ? '' : `/${name}`}`;
export const secretPath = (ns: string, name: string): string => `/api/v1/namespaces/${ns}/secrets/${name}`;
export const dsPath = (ns: string, name: string): string => `/apis/apps/v1/namespaces/${ns}/daemonsets/${name}`;

export function vectorObj(
  name: string,
  ns: string,
  spec: Record<string, unknown> = {},
  meta: Record<string, unknown> = {},
): unknown {
  return {
    apiVersion: 'observability.kaasops.io/v1alpha1',
    kind: 'Vector',
    metadata: { name, namespace: ns, ...meta },
    spec,
  };
}

export function vpObj(
  ns: string,
  name: string,
  spec?: Record<string, unknown>,
  meta: Record<string, unknown> = {},
): unknown {
  return {
    apiVersion: 'observability.kaasops.io/v1alpha1',
    kind: 'VectorPipeline',
    metadata: { name, namespace: ns, ...meta },
    spec: spec ?? {
      sources: { pods: { type: 'kubernetes_logs' } },
      sinks: { out: { type: 'blackhole', inputs: ['pods'] } },
    },
  };
}

export function agentJson(secret: KubeObject | undefined): Record<string, Record<string, unknown>> | undefined {
  const data = (secret as { data?: Record<string, string> } | undefined)?.data?.['agent.json'];
  if (data === undefined) return undefined;
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as Record<string, Record<string, unknown>>;
}

/** Marks the DaemonSet's current generation as fully rolled out on `nodes` nodes (what the DaemonSet controller does). */
export async function completeRollout(stand: Stand, ns: string, name: string, nodes = 2): Promise<void> {
  const ds = await stand.get(dsPath(ns, name));
  const generation = ds?.metadata?.generation ?? 1;
  await stand.patch(`${dsPath(ns, name)}/status`, {
    status: {
      observedGeneration: generation,
      desiredNumberScheduled: nodes,
      currentNumberScheduled: nodes,
      updatedNumberScheduled: nodes,
      numberAvailable: nodes,
      numberReady: nodes,
    },
  });
}
