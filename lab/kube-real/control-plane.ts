/**
 * A real Kubernetes control plane on loopback: etcd and kube-apiserver (plus kube-controller-manager and
 * kube-scheduler when asked), from the binaries `npm run build:kube` builds. For tests (node:test `before`/`after`)
 * and, later, the stand.
 *
 * Invariants:
 * - Everything listens on 127.0.0.1 only, on ports picked free at start; a start that loses a port race is retried.
 * - TLS everywhere the API server is concerned: clients verify the server against the CA in the kubeconfig, and the
 *   server authenticates clients by certificate and authorises them with RBAC (`admin` is in `system:masters`).
 * - `start` resolves only once `/readyz` is 200 and Namespace `default` and Service `default/kubernetes` exist (what
 *   a client needs, and the last writes the server makes by itself);
 *   `stop` ends every process (SIGTERM, then SIGKILL) and removes the temporary directory.
 * - etcd runs with --unsafe-no-fsync: its data is thrown away at stop, so durability buys nothing here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { stringify as toYaml } from 'yaml';
import { kubeBinary, kubeBinDir, missingKubeBinaries } from './binaries.ts';
import { makePki, type ClientCert, type Pki } from './pki.ts';
import { freePorts, KubeProcess, onAbnormalExit, probeOnce, waitFor } from './process.ts';

export interface ControlPlaneOptions {
  /** Where the binaries are (default: `kubeBinDir()`). */
  binDir?: string;
  /** Start kube-controller-manager with these controllers (e.g. `['garbage-collector-controller']`). */
  controllers?: string[];
  /** Start kube-scheduler. */
  scheduler?: boolean;
  /**
   * Keep the ServiceAccount admission plugin (default false, as envtest): with it a pod needs its ServiceAccount to
   * exist, and `default` only exists once the controller manager's serviceaccount-controller runs.
   */
  serviceAccountAdmission?: boolean;
  /** Extra kube-apiserver flags, appended last (so they win). */
  apiServerFlags?: string[];
  /** Per-process readiness timeout (default 60 s: a loaded 2-core machine is slow to start an API server). */
  timeoutMs?: number;
  /** Show the processes' output on this process's stdout/stderr (default: `VECTOR_OPERATOR_KUBE_LOGS=1`). */
  attachOutput?: boolean;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** `gitVersion` from the API server's `/version`, e.g. `v1.36.3`. */
  readonly gitVersion: string;
  readonly caPem: string;
  /** Admin kubeconfig YAML (user `admin` in `system:masters`; cluster, user and context named `kube-real`). */
  readonly kubeconfig: string;
  /** The same kubeconfig, written in the temporary directory (for kubectl and child processes). */
  readonly kubeconfigPath: string;
  readonly dir: string;
  /** Milliseconds each step of `start` took. */
  readonly timings: Record<string, number>;
  /** A GET as admin, answered as text (for `/metrics`, `/version`, …); a refused connection is status 0. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** Starts kube-controller-manager (if not running), e.g. after CRDs are installed, so it discovers them at once. */
  startControllerManager(controllers: string[]): Promise<void>;
  startScheduler(): Promise<void>;
  stop(): Promise<void>;
}

export class KubeBinariesMissing extends Error {}

function kubeconfigYaml(url: string, caPem: string, user: ClientCert): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kube-real', cluster: { server: url, 'certificate-authority-data': b64(caPem) } }],
    users: [
      { name: 'kube-real', user: { 'client-certificate-data': b64(user.cert), 'client-key-data': b64(user.key) } },
    ],
    contexts: [{ name: 'kube-real', context: { cluster: 'kube-real', user: 'kube-real', namespace: 'default' } }],
    'current-context': 'kube-real',
  });
}

const portInUse = (p: KubeProcess) => /address already in use/i.test(p.tail(60));

async function startEtcd(bin: string, dir: string, attach: boolean, timeoutMs: number) {
  for (let attempt = 1; ; attempt++) {
    const [client, peer] = (await freePorts(2)) as [number, number];
    const url = `http://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    const proc = new KubeProcess(
      'etcd',
      kubeBinary('etcd', bin),
      [
        '--name=kube-real',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=kube-real=${peerUrl}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      join(dir, `etcd-${attempt}.log`),
      attach,
    );
    try {
      await waitFor(proc, '/health', { url: `${url}/health` }, (s) => s === 200, timeoutMs);
      return { proc, url };
    } catch (err) {
      await proc.stop();
      if (attempt < 3 && portInUse(proc)) continue;
      throw err;
    }
  }
}

async function startApiServer(
  bin: string,
  pki: Pki,
  etcdUrl: string,
  extra: string[],
  attach: boolean,
  timeoutMs: number,
) {
  for (let attempt = 1; ; attempt++) {
    const [port] = (await freePorts(1)) as [number];
    const proc = new KubeProcess(
      'kube-apiserver',
      kubeBinary('kube-apiserver', bin),
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${port}`,
        `--tls-cert-file=${pki.servingCertPath}`,
        `--tls-private-key-file=${pki.servingKeyPath}`,
        `--client-ca-file=${pki.caPath}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.saPubPath}`,
        `--service-account-signing-key-file=${pki.saKeyPath}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=RBAC',
        '--allow-privileged=true',
        // Only loopback here, and Endpoints refuse loopback addresses: reconcile no endpoints for `kubernetes`.
        '--endpoint-reconciler-type=none',
        // Tests send bursts; no client should be throttled or queued by the server.
        '--enable-priority-and-fairness=false',
        '--max-requests-inflight=0',
        '--max-mutating-requests-inflight=0',
        '--profiling=false',
        ...extra,
      ],
      join(pki.dir, `kube-apiserver-${attempt}.log`),
      attach,
    );
    const url = `https://127.0.0.1:${port}`;
    const auth = { ca: pki.caPem, cert: pki.admin.cert, key: pki.admin.key };
    try {
      await waitFor(proc, '/readyz', { url: `${url}/readyz`, ...auth }, (s) => s === 200, timeoutMs);
      await waitFor(
        proc,
        'Namespace default',
        { url: `${url}/api/v1/namespaces/default`, ...auth },
        (s) => s === 200,
        timeoutMs,
      );
      // The server creates Service default/kubernetes (and its ClusterIP) itself, just after it is ready. Wait for it,
      // so that a test counting writes from here on never counts those.
      await waitFor(
        proc,
        'Service default/kubernetes',
        { url: `${url}/api/v1/namespaces/default/services/kubernetes`, ...auth },
        (s) => s === 200,
        timeoutMs,
      );
      const version = await probeOnce({ url: `${url}/version`, ...auth });
      const gitVersion = (JSON.parse(version.body) as { gitVersion?: string }).gitVersion ?? 'unknown';
      return { proc, url, gitVersion };
    } catch (err) {
      await proc.stop();
      if (attempt < 3 && portInUse(proc)) continue;
      throw err;
    }
  }
}

/** kube-controller-manager or kube-scheduler: a kubeconfig of its own, a /healthz on a free port. */
async function startComponent(
  name: 'kube-controller-manager' | 'kube-scheduler',
  bin: string,
  pki: Pki,
  url: string,
  args: string[],
  attach: boolean,
  timeoutMs: number,
): Promise<KubeProcess> {
  const user = name === 'kube-controller-manager' ? pki.controllerManager : pki.scheduler;
  const kubeconfig = join(pki.dir, `${name}.kubeconfig`);
  writeFileSync(kubeconfig, kubeconfigYaml(url, pki.caPem, user), { mode: 0o600 });
  for (let attempt = 1; ; attempt++) {
    const [port] = (await freePorts(1)) as [number];
    const proc = new KubeProcess(
      name,
      kubeBinary(name, bin),
      [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${port}`,
        ...args,
      ],
      join(pki.dir, `${name}-${attempt}.log`),
      attach,
    );
    try {
      await waitFor(
        proc,
        '/healthz',
        { url: `https://127.0.0.1:${port}/healthz`, insecure: true },
        (s) => s === 200,
        timeoutMs,
      );
      return proc;
    } catch (err) {
      await proc.stop();
      if (attempt < 3 && portInUse(proc)) continue;
      throw err;
    }
  }
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const bin = opts.binDir ?? kubeBinDir();
  const needed = ['etcd', 'kube-apiserver'];
  if (opts.controllers !== undefined) needed.push('kube-controller-manager');
  if (opts.scheduler === true) needed.push('kube-scheduler');
  const missing = missingKubeBinaries(bin).filter((b) => needed.includes(b));
  if (missing.length > 0)
    throw new KubeBinariesMissing(`${missing.join(', ')} not built in ${bin}: run \`npm run build:kube\``);
  const attach = opts.attachOutput ?? process.env.VECTOR_OPERATOR_KUBE_LOGS === '1';
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const timings: Record<string, number> = {};
  const dir = mkdtempSync(join(tmpdir(), 'kube-real-'));
  const procs: KubeProcess[] = [];
  const removeDir = () => {
    rmSync(dir, { recursive: true, force: true });
  };
  const cleanup = onAbnormalExit(removeDir);
  const stop = async () => {
    // Dependents first: controllers, then the API server, then etcd.
    for (const p of procs.reverse()) await p.stop();
    procs.length = 0;
    removeDir();
    cleanup.dispose();
  };
  const step = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    const v = await f();
    timings[name] = Math.round(performance.now() - t);
    return v;
  };
  try {
    const pki = await step('pki', () => makePki(dir));
    const etcd = await step('etcd', () => startEtcd(bin, dir, attach, timeoutMs));
    procs.push(etcd.proc);
    const api = await step('kube-apiserver', () =>
      startApiServer(
        bin,
        pki,
        etcd.url,
        [
          ...(opts.serviceAccountAdmission === true ? [] : ['--disable-admission-plugins=ServiceAccount']),
          ...(opts.apiServerFlags ?? []),
        ],
        attach,
        timeoutMs,
      ),
    );
    procs.push(api.proc);
    const kubeconfig = kubeconfigYaml(api.url, pki.caPem, pki.admin);
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });
    let kcm: KubeProcess | undefined;
    let scheduler: KubeProcess | undefined;
    const plane: ControlPlane = {
      url: api.url,
      gitVersion: api.gitVersion,
      caPem: pki.caPem,
      kubeconfig,
      kubeconfigPath,
      dir,
      timings,
      get: (path) => probeOnce({ url: api.url + path, ca: pki.caPem, cert: pki.admin.cert, key: pki.admin.key }),
      async startControllerManager(controllers) {
        if (kcm?.alive === true) return;
        kcm = await step('kube-controller-manager', () =>
          startComponent(
            'kube-controller-manager',
            bin,
            pki,
            api.url,
            [
              `--controllers=${controllers.join(',')}`,
              '--use-service-account-credentials=true',
              `--service-account-private-key-file=${pki.saKeyPath}`,
              `--root-ca-file=${pki.caPath}`,
              '--kube-api-qps=100',
              '--kube-api-burst=200',
            ],
            attach,
            timeoutMs,
          ),
        );
        procs.push(kcm);
      },
      async startScheduler() {
        if (scheduler?.alive === true) return;
        scheduler = await step('kube-scheduler', () =>
          startComponent('kube-scheduler', bin, pki, api.url, [], attach, timeoutMs),
        );
        procs.push(scheduler);
      },
      stop,
    };
    if (opts.controllers !== undefined) await plane.startControllerManager(opts.controllers);
    if (opts.scheduler === true) await plane.startScheduler();
    return plane;
  } catch (err) {
    await stop();
    throw err;
  }
}
