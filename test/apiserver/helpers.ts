/** Shared set-up for the API server stand-in tests: a fresh server and a client-node KubeConfig that trusts it. */
import * as k8s from '@kubernetes/client-node';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../lab/apiserver/server.ts';
import { startControlPlane } from '../../lab/kube-real/control-plane.ts';
import type { KubeTarget } from '../helpers/kube-target.ts';

export interface Lab {
  server: ApiServer;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  objects: k8s.KubernetesObjectApi;
}

export async function startLab(options: ApiServerOptions = {}): Promise<Lab> {
  const server = await startApiServer(options);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(server.kubeconfig);
  return {
    server,
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
  };
}

/**
 * The same Lab on either target. On the real control plane `server` throws (its test hooks have no real
 * equivalent) and `close` stops etcd and the API server.
 */
export async function startLabOn(
  target: KubeTarget,
  options: ApiServerOptions = {},
): Promise<Lab & { target: KubeTarget['name']; close: () => Promise<void> }> {
  if (target.name === 'stand-in') {
    const lab = await startLab(options);
    return { ...lab, target: target.name, close: () => lab.server.close() };
  }
  const plane = await startControlPlane();
  const kc = new k8s.KubeConfig();
  kc.loadFromString(plane.kubeconfig);
  return {
    get server(): ApiServer {
      throw new Error('stand-in only: the real API server has no test hooks');
    },
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
    target: target.name,
    close: () => plane.stop(),
  };
}

export interface StatusBody {
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

/** Runs `fn`, expects it to fail with an ApiException, and returns the HTTP code with the parsed Status body. */
export async function failure(fn: () => Promise<unknown>): Promise<{ code: number; status: StatusBody }> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof k8s.ApiException) {
      const body: unknown = e.body;
      // A real API server answers a path it does not serve at all (a removed API group) with text/plain
      // "404 page not found", not a Status.
      let status: StatusBody;
      try {
        status = (typeof body === 'string' ? JSON.parse(body) : body) as StatusBody;
      } catch {
        status = { code: e.code, message: String(body) };
      }
      return { code: e.code, status };
    }
    throw e;
  }
  throw new Error('expected the call to fail, it succeeded');
}

export interface WatchEvent {
  type: string;
  object: k8s.KubernetesObject & { code?: number; reason?: string };
}

/** A client-node Watch that records its events; `done` resolves when the server closes the stream. */
export async function recordWatch(
  kc: k8s.KubeConfig,
  path: string,
  query: Record<string, string | number | boolean>,
): Promise<{
  events: WatchEvent[];
  done: Promise<unknown>;
  abort: () => void;
  until: (pred: (e: WatchEvent[]) => boolean) => Promise<void>;
}> {
  const events: WatchEvent[] = [];
  let resolveDone: (v: unknown) => void = () => undefined;
  const done = new Promise((r) => {
    resolveDone = r;
  });
  const waiters: (() => void)[] = [];
  const ctl = await new k8s.Watch(kc).watch(
    path,
    query,
    (type, object) => {
      events.push({ type, object: object as WatchEvent['object'] });
      for (const w of waiters.splice(0)) w();
    },
    (err) => {
      resolveDone(err);
      for (const w of waiters.splice(0)) w();
    },
  );
  const until = async (pred: (e: WatchEvent[]) => boolean): Promise<void> => {
    const state = { closed: false };
    void done.then(() => {
      state.closed = true;
    });
    // Bounded: each wait is woken by an event or the stream's end; a test fails rather than hangs past its timeout.
    for (let i = 0; i < 10_000 && !pred(events); i++) {
      if (state.closed)
        throw new Error(`watch ended before the expected events arrived: ${JSON.stringify(events.map((e) => e.type))}`);
      await new Promise<void>((r) => {
        waiters.push(r);
      });
    }
  };
  return {
    events,
    done,
    abort: () => {
      ctl.abort();
    },
    until,
  };
}

export function cm(
  name: string,
  labels: Record<string, string> = {},
  data: Record<string, string> = {},
): k8s.V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data };
}
