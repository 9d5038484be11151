/**
 * A real control plane set up for measuring the operator: an audit log of the operator's own requests, and the
 * operator's identity and RBAC as `deploy/` installs them (a ServiceAccount token, not the admin certificate), so
 * the requests it sends are told apart from the bench's and are allowed exactly by the shipped ClusterRole.
 *
 * The audit policy records one line per finished request (`ResponseComplete`) of the operator's ServiceAccount and
 * nothing else; a watch is recorded when it ends.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startControlPlane, type ControlPlane } from '../lab/kube-real/control-plane.ts';
import { standControllers } from '../lab/scenarios/kube.ts';
import { request, type KubeObject } from '../src/kube/client.ts';

export const OPERATOR_NS = 'vector-operator-system';
const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NS}:vector-operator`;

export interface AuditEvent {
  verb: string;
  /** Milliseconds since the epoch. */
  at: number;
  resource: string;
}

export interface RealCluster {
  plane: ControlPlane;
  /** Admin access, for the bench's own requests (not audited). */
  admin: KubeConfig;
  /** A kubeconfig file with the operator's ServiceAccount token. */
  operatorKubeconfig: string;
  /** The operator's requests finished so far. */
  audit(): AuditEvent[];
}

function auditPolicy(): string {
  return JSON.stringify({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived', 'ResponseStarted'],
    rules: [
      { level: 'Metadata', users: [OPERATOR_USER] },
      { level: 'None', users: [] },
    ],
  });
}

function yamlDocs(path: string): KubeObject[] {
  return readFileSync(path, 'utf8')
    .split(/^---$/m)
    .map((d) => parse(d) as KubeObject | null)
    .filter((d): d is KubeObject => d !== null);
}

/** POST each object to `base`. */
async function create(kc: KubeConfig, base: string, objects: KubeObject[]): Promise<void> {
  for (const o of objects) await request(kc, 'POST', base, { body: o });
}

/** The operator's ServiceAccount, its ClusterRole and binding from deploy/rbac, and a token for it. */
async function operatorIdentity(plane: ControlPlane, admin: KubeConfig): Promise<string> {
  const rbac = new URL('../deploy/rbac/', import.meta.url);
  await create(admin, '/api/v1/namespaces', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NS } }]);
  await create(
    admin,
    `/api/v1/namespaces/${OPERATOR_NS}/serviceaccounts`,
    yamlDocs(join(rbac.pathname, 'service-account.yaml')),
  );
  await create(
    admin,
    '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    yamlDocs(join(rbac.pathname, 'cluster-role.yaml')),
  );
  const binding = yamlDocs(join(rbac.pathname, 'cluster-role-binding.yaml')).map((b) => ({
    ...b,
    subjects: [{ kind: 'ServiceAccount', name: 'vector-operator', namespace: OPERATOR_NS }],
  }));
  await create(admin, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', binding);
  const tr = await request<{ status: { token: string } }>(
    admin,
    'POST',
    `/api/v1/namespaces/${OPERATOR_NS}/serviceaccounts/vector-operator/token`,
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 86_400 } } },
  );
  const path = join(plane.dir, 'operator.kubeconfig');
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'real',
        cluster: { server: plane.url, 'certificate-authority-data': Buffer.from(plane.caPem).toString('base64') },
      },
    ],
    users: [{ name: 'vector-operator', user: { token: tr.status.token } }],
    contexts: [{ name: 'real', context: { cluster: 'real', user: 'vector-operator' } }],
    'current-context': 'real',
  };
  writeFileSync(path, JSON.stringify(kubeconfig), { mode: 0o600 });
  return path;
}

/**
 * Starts etcd + kube-apiserver with the audit log, the controllers and scheduler a stand needs (DaemonSets placed
 * by the real DaemonSet controller and scheduler, Nodes kept by the lifecycle controller), and the operator's
 * identity.
 */
export async function startRealCluster(): Promise<RealCluster> {
  // The policy must exist before the API server starts, whose own directory the harness makes: use one beside it.
  const dir = mkdtempSync(join(tmpdir(), 'real-scale-'));
  const policyPath = join(dir, 'audit-policy.json');
  const logPath = join(dir, 'audit.log');
  writeFileSync(policyPath, auditPolicy());
  const plane = await startControlPlane({
    serviceAccountAdmission: false,
    controllers: standControllers,
    scheduler: true,
    apiServerFlags: [`--audit-policy-file=${policyPath}`, `--audit-log-path=${logPath}`, '--audit-log-maxsize=0'],
  });
  const admin = new KubeConfig();
  admin.loadFromString(plane.kubeconfig);
  const operatorKubeconfig = await operatorIdentity(plane, admin);
  const stop = plane.stop.bind(plane);
  Object.assign(plane, {
    async stop() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
  return {
    plane,
    admin,
    operatorKubeconfig,
    audit() {
      if (!existsSync(logPath)) return [];
      // The API server may be writing the last line: only whole lines count.
      return readFileSync(logPath, 'utf8')
        .split('\n')
        .slice(0, -1)
        .map((l) => {
          const e = JSON.parse(l) as {
            verb: string;
            requestReceivedTimestamp: string;
            objectRef?: { resource?: string; subresource?: string };
          };
          const r = e.objectRef;
          return {
            verb: e.verb,
            at: Date.parse(e.requestReceivedTimestamp),
            resource: `${r?.resource ?? ''}${r?.subresource === undefined ? '' : `/${r.subresource}`}`,
          };
        });
    },
  };
}
