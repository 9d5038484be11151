/**
 * Set-up for the operator's integration tests, on either target (test/helpers/kube-target.ts): the API server
 * stand-in or the real control plane, each with our CRDs, plain-JSON helpers, and operators that log nowhere.
 * Waiting is by polling a condition (bounded), never by asserting on time.
 *
 * What only one target can do is explicit: `server` (the stand-in's test hooks) throws on the real target; `writes()`
 * counts write requests on both (the stand-in's request counts, or the real API server's `apiserver_request_total`).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startApiServer, type ApiServer } from '../../lab/apiserver/server.ts';
import { startControlPlane } from '../../lab/kube-real/control-plane.ts';
import { request, type KubeObject } from '../../src/kube/client.ts';
import { Operator, type OperatorOptions } from '../../src/operator/operator.ts';
import { defaultPolicy } from '../../src/pipelines/policy.ts';
import type { Logger } from '../../src/operator/controller-context.ts';
import type { KubeTarget, KubeTargetName } from '../helpers/kube-target.ts';
import { eventually } from '../helpers/eventually.ts';
import { requestCounts, writesSince } from '../helpers/real-metrics.ts';

// The operator suites import the one polling helper from here, with the rest of their stand.
export { eventually };

const crdDir = new URL('../../deploy/crds/', import.meta.url);
export const group = '/apis/observability.kaasops.io/v1alpha1';

export interface Stand {
  target: KubeTargetName;
  /** The stand-in's server with its test hooks; throws on the real target. */
  server: ApiServer;
  kc: KubeConfig;
  /** `gitVersion` of the API server (the stand-in's is made up). */
  version: string;
  get<T = KubeObject>(path: string): Promise<T | undefined>;
  create(path: string, obj: unknown): Promise<KubeObject>;
  patch(path: string, body: unknown, type?: string): Promise<KubeObject>;
  del(path: string): Promise<void>;
  writeKubeconfig(path: string): void;
  /** Starts counting write requests (create, update, patch, delete) from here. */
  resetCounts(): Promise<void>;
  /** Write requests since `resetCounts`, as `verb resource` → count, leaving out Leases and Events. */
  writes(): Promise<Record<string, number>>;
  /** The stand-in: resolves once its garbage collection has drained. The real one: at once (poll instead). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface StandOptions {
  /** Real target: start kube-controller-manager with the garbage collector and namespace controller. */
  gc?: boolean;
}

export const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };

const standInTarget: KubeTarget = { name: 'stand-in', skip: false };

/** POSTs our CRDs and waits until each is Established (the real server serves nothing before that). */
export async function installCrds(kc: KubeConfig): Promise<string[]> {
  const names: string[] = [];
  for (const f of readdirSync(crdDir).sort()) {
    const crd = parse(readFileSync(new URL(f, crdDir), 'utf8')) as KubeObject;
    await request(kc, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
    names.push(crd.metadata?.name ?? '');
  }
  for (const name of names)
    await eventually(`CRD ${name} Established`, async () => {
      const crd = await request<{ status?: { conditions?: { type: string; status: string }[] } }>(
        kc,
        'GET',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      );
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  return names;
}

export async function startStand(
  target: KubeTarget = standInTarget,
  namespaces: string[] = ['vector', 'team-a', 'team-b'],
  opts: StandOptions = {},
): Promise<Stand> {
  const kc = new KubeConfig();
  let server: ApiServer | undefined;
  let version: string;
  let kubeconfig: string;
  let counts: () => Promise<Record<string, number>>;
  let resetCounts: () => Promise<void>;
  let settled: () => Promise<void>;
  let close: () => Promise<void>;
  let afterCrds = (): Promise<void> => Promise.resolve();
  if (target.name === 'stand-in') {
    const s = await startApiServer({ bookmarkIntervalMs: 200 });
    server = s;
    kubeconfig = s.kubeconfig;
    version = 'stand-in';
    counts = () => {
      const writes = Object.entries(s.hooks.requestCounts()).filter(
        ([k]) => !/^(get|list|watch) /.test(k) && !/ (leases\.coordination\.k8s\.io|events)/.test(k),
      );
      return Promise.resolve(Object.fromEntries(writes));
    };
    resetCounts = () => {
      s.hooks.resetCounts();
      return Promise.resolve();
    };
    settled = () => s.settled();
    close = () => s.close();
  } else {
    const plane = await startControlPlane();
    kubeconfig = plane.kubeconfig;
    version = plane.gitVersion;
    let base = new Map<string, number>();
    counts = async () => writesSince(base, await requestCounts(plane));
    resetCounts = async () => {
      base = await requestCounts(plane);
    };
    settled = async () => {};
    close = () => plane.stop();
    if (opts.gc === true)
      // After the CRDs, so that the garbage collector discovers the Vector kind at once.
      afterCrds = () => plane.startControllerManager(['garbage-collector-controller', 'namespace-controller']);
  }
  kc.loadFromString(kubeconfig);
  try {
    await installCrds(kc);
    await afterCrds();
    for (const ns of namespaces) {
      await request(kc, 'POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    target: target.name,
    get server(): ApiServer {
      if (server === undefined) throw new Error('stand-in only: the real API server has no test hooks');
      return server;
    },
    kc,
    version,
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
    writeKubeconfig: (path) => {
      writeFileSync(path, kubeconfig, { mode: 0o600 });
    },
    resetCounts,
    writes: counts,
    settled,
    close,
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

/**
 * An operator that checks configs in pods (10 s each), under a policy that admits the `bogus_sink` type: only the
 * check (`vector validate`) can refuse a pipeline that uses it.
 */
export function checkingOperator(stand: Stand, opts: Partial<OperatorOptions> = {}): Operator {
  return operator(stand, {
    configCheckPods: { timeoutMs: 10_000 },
    flags: {
      optimize: false,
      migration: false,
      mergerImage: 'merger:test',
      policy: { ...defaultPolicy, allowTypes: new Set(['bogus_sink']) },
    },
    ...opts,
  });
}

/** How many reconciles of `controller` (vector, pipeline, aggregator) `op` has finished with success. */
export async function reconcileCount(op: Operator, controller: string): Promise<number> {
  const m = await op.metrics.reconciles.get();
  return m.values.find((v) => v.labels.controller === controller && v.labels.result === 'success')?.value ?? 0;
}

/**
 * Starts an operator again over the objects an earlier one wrote. Write requests are counted from here
 * (`Stand.writes()`), and it resolves once each controller in `reconciles` has succeeded at least that many times,
 * so the restart's initial reconciles have run. The caller stops it.
 */
export async function restartOperator(stand: Stand, reconciles: Record<string, number>): Promise<Operator> {
  await stand.resetCounts();
  const op = operator(stand);
  await op.start();
  try {
    await eventually(`the restarted operator's reconciles (${JSON.stringify(reconciles)})`, async () => {
      for (const [controller, n] of Object.entries(reconciles))
        if ((await reconcileCount(op, controller)) < n) return false;
      return true;
    });
  } catch (err) {
    await op.stop();
    throw err;
  }
  return op;
}

export const vectorPath = (ns: string, name = ''): string =>
  `${group}/namespaces/${ns}/vectors${name === '' ? '' : `/${name}`}`;
export const vpPath = (ns: string, name = ''): string =>
  `${group}/namespaces/${ns}/vectorpipelines${name === '' ? '' : `/${name}`}`;
export const cvpPath = (name = ''): string => `${group}/clustervectorpipelines${name === '' ? '' : `/${name}`}`;
export const vaPath = (ns: string, name = ''): string =>
  `${group}/namespaces/${ns}/vectoraggregators${name === '' ? '' : `/${name}`}`;
export const secretPath = (ns: string, name: string): string => `/api/v1/namespaces/${ns}/secrets/${name}`;
export const dsPath = (ns: string, name: string): string => `/apis/apps/v1/namespaces/${ns}/daemonsets/${name}`;

export type Fields = Record<string, unknown>;

/** One of our namespaced custom resources, as a user writes it. */
const resource = (kind: string, ns: string, name: string, spec: unknown, meta: Fields): unknown => ({
  apiVersion: 'observability.kaasops.io/v1alpha1',
  kind,
  metadata: { name, namespace: ns, ...meta },
  spec,
});

export const vectorObj = (name: string, ns: string, spec: Fields = {}, meta: Fields = {}): unknown =>
  resource('Vector', ns, name, spec, meta);

/** A VectorPipeline; by default one that reads the pods' logs into a blackhole. */
export const vpObj = (ns: string, name: string, spec?: Fields, meta: Fields = {}): unknown =>
  resource(
    'VectorPipeline',
    ns,
    name,
    spec ?? { sources: { pods: { type: 'kubernetes_logs' } }, sinks: { out: { type: 'blackhole', inputs: ['pods'] } } },
    meta,
  );

export const vaObj = (ns: string, name: string, spec: Fields = {}, meta: Fields = {}): unknown =>
  resource('VectorAggregator', ns, name, spec, meta);

/** Creates Secret `ns/name` with `data` (base64) or `stringData`, as a user writes it. */
export const createSecret = (
  stand: Stand,
  ns: string,
  name: string,
  content: { data?: Record<string, string>; stringData?: Record<string, string> },
): Promise<KubeObject> =>
  stand.create(`/api/v1/namespaces/${ns}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns },
    ...content,
  });

export function agentJson(secret: KubeObject | undefined): Record<string, Record<string, unknown>> | undefined {
  const data = (secret as { data?: Record<string, string> } | undefined)?.data?.['agent.json'];
  if (data === undefined) return undefined;
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as Record<string, Record<string, unknown>>;
}

/** A check for `eventually`: the agent config of Vector `vector/logs` has the source `id`. */
export const hasSource = (stand: Stand, id: string) => async (): Promise<boolean> =>
  agentJson(await stand.get(secretPath('vector', 'logs-agent')))?.sources?.[id] !== undefined;

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
