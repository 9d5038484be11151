/** Desired agent objects: the pod template must match kaasops' exactly, or an operator cutover rolls every agent. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { agentDaemonSet, agentObjects, configSecret } from '../../src/operator/objects.ts';
import { isSubset } from '../../src/kube/diff.ts';
import { canonicalPodSpec } from '../../src/kube/quantity.ts';
import { assertGolden } from '../helpers/golden.ts';
import { vector } from '../helpers/fixtures.ts';

const config = '{"api":{"address":"[::]:8686"}}';

describe('agent objects', () => {
  it('match the golden YAML for a Vector with defaults, and for one with API, metrics and user settings', () => {
    const plain = vector({}, { uid: '11111111-2222-3333-4444-555555555555' });
    const rich = vector(
      {
        agent: {
          image: 'timberio/vector:0.48.0-debian',
          labels: { team: 'obs', 'app.kubernetes.io/name': 'not-allowed' },
          annotations: { owner: 'obs' },
          env: [{ name: 'LOG', value: 'info' }],
          api: { enabled: true, healthcheck: true },
          internalMetrics: true,
          scrapeInterval: '30s',
          dataDir: '/mnt/vector',
          tolerations: [{ operator: 'Exists' }],
          volumes: [{ name: 'var-log', hostPath: { path: '/var/log/' } }],
          volumeMounts: [{ name: 'var-log', mountPath: '/var/log/', readOnly: true }],
        },
      },
      { name: 'rich', namespace: 'obs' },
    );
    const yaml = [plain, rich]
      .flatMap((v) => agentObjects(v, config))
      .map((o) => `---\n${stringify(o, { lineWidth: 0 })}`);
    assertGolden('objects/agent-objects.yaml', yaml.join(''));
  });

  it('orders volumes user-first then config, data, procfs, sysfs, and env user-first then the 5 fixed vars', () => {
    const ds = agentDaemonSet(vector({ agent: { env: [{ name: 'A', value: '1' }] } }));
    const pod = ds.spec?.template.spec;
    assert.deepEqual(
      pod?.volumes?.map((v) => v.name),
      ['var-log', 'journal', 'var-lib', 'config', 'data', 'procfs', 'sysfs'],
    );
    assert.deepEqual(
      pod.containers.at(0)?.env?.map((e) => e.name),
      ['A', 'VECTOR_SELF_NODE_NAME', 'VECTOR_SELF_POD_NAME', 'VECTOR_SELF_POD_NAMESPACE', 'PROCFS_ROOT', 'SYSFS_ROOT'],
    );
    assert.deepEqual(pod.containers.at(0)?.args, ['--config-dir', '/etc/vector', '--watch-config']);
    assert.deepEqual(pod.volumes.find((v) => v.name === 'data')?.hostPath, { path: '/var/lib/vector' });
  });

  it('lets a user volume of the same name win over the operator one', () => {
    const ds = agentDaemonSet(vector({ agent: { volumes: [{ name: 'sysfs', emptyDir: {} }] } }));
    const sysfs = ds.spec?.template.spec?.volumes?.filter((v) => v.name === 'sysfs');
    assert.deepEqual(sysfs, [{ name: 'sysfs', emptyDir: {} }]);
  });

  it('adds /health probes only when the API is enabled with healthcheck and no probe was given', () => {
    const probe = (agent: object) =>
      agentDaemonSet(vector({ agent })).spec?.template.spec?.containers.at(0)?.readinessProbe;
    assert.equal(probe({ api: { enabled: true } }), undefined);
    assert.deepEqual(probe({ api: { enabled: true, healthcheck: true } }), {
      httpGet: { path: '/health', port: 8686 },
      initialDelaySeconds: 15,
      periodSeconds: 20,
      timeoutSeconds: 3,
    });
    assert.deepEqual(
      probe({ api: { enabled: true, healthcheck: true }, readinessProbe: { exec: { command: ['true'] } } }),
      { exec: { command: ['true'] } },
    );
  });

  it('keeps the fixed labels authoritative: a user label cannot change the immutable selector', () => {
    const ds = agentDaemonSet(vector({ agent: { labels: { 'app.kubernetes.io/instance': 'x', extra: 'y' } } }));
    assert.equal(ds.metadata?.labels?.['app.kubernetes.io/instance'], 'logs');
    assert.equal(ds.spec?.template.metadata?.labels?.extra, 'y');
    assert.equal(ds.spec.selector.matchLabels?.extra, undefined);
  });

  it('names cluster-scoped RBAC per namespace, so equally named Vectors do not share a ClusterRole', () => {
    const names = (ns: string) =>
      agentObjects(vector({}, { namespace: ns }), config)
        .filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')
        .map((o) => o.metadata?.name);
    assert.deepEqual(names('a'), ['a.logs-agent', 'a.logs-agent']);
    assert.deepEqual(names('b'), ['b.logs-agent', 'b.logs-agent']);
    const clash = (ns: string, name: string) =>
      agentObjects(vector({}, { namespace: ns, name }), config)[3]?.metadata?.name;
    assert.notEqual(clash('a-b', 'c'), clash('a', 'b-c'));
  });

  it('creates the Service only when the API is enabled', () => {
    const kinds = (agent: object) => agentObjects(vector({ agent }), config).map((o) => o.kind);
    assert.deepEqual(kinds({}), ['Secret', 'DaemonSet', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding']);
    assert.ok(kinds({ api: { enabled: true } }).includes('Service'));
  });

  it('stores agent.json in the <vector>-agent Secret, gzipped when compressConfigFile is set', () => {
    const plain = configSecret(vector(), config);
    assert.equal(plain.metadata?.name, 'logs-agent');
    assert.equal(Buffer.from(plain.data?.['agent.json'] ?? '', 'base64').toString(), config);
    const zipped = configSecret(vector({ agent: { compressConfigFile: true } }), config);
    assert.equal(gunzipSync(Buffer.from(zipped.data?.['agent.json'] ?? '', 'base64')).toString(), config);
    const ds = agentDaemonSet(vector({ agent: { compressConfigFile: true } }));
    assert.deepEqual(
      ds.spec?.template.spec?.initContainers?.map((c) => c.name),
      ['init-config-reloader'],
    );
    assert.deepEqual(
      ds.spec.template.spec.containers.map((c) => c.name),
      ['logs-agent', 'config-reloader'],
    );
  });

  it('writes resource quantities as a real server stores them, so the live template equals the desired one', () => {
    const v = vector({
      agent: {
        compressConfigFile: true,
        resources: { limits: { cpu: '1500m', memory: '2048Mi' } },
        configReloaderResources: { requests: { cpu: '0.1', memory: '1.5Gi' } },
        volumes: [{ name: 'buf', emptyDir: { sizeLimit: '1024Mi' } }],
      },
    });
    const before = JSON.stringify(v);
    const ds = agentDaemonSet(v, 'logs-agent', { image: 'merger:1', standbySecretName: 'logs-agent-opt' });
    const spec = ds.spec?.template.spec;
    const resources = (name: string) =>
      [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].find((c) => c.name === name)?.resources;
    // kaasops' defaults 1000m/1024Mi are stored by a real server as 1/1Gi; 100m/200Mi are canonical already.
    assert.deepEqual(resources('logs-agent'), {
      limits: { cpu: '1500m', memory: '2Gi' },
      requests: { cpu: '100m', memory: '200Mi' },
    });
    assert.deepEqual(resources('config-reloader'), {
      requests: { cpu: '100m', memory: '1536Mi' },
      limits: { cpu: '1', memory: '1Gi' },
    });
    assert.deepEqual(resources('checkpoint-merger'), {
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '1', memory: '256Mi' },
    });
    assert.equal(spec?.volumes?.find((x) => x.name === 'buf')?.emptyDir?.sizeLimit, '1Gi');
    // Whatever a server would store (canonicalPodSpec, strict as the stand-in runs it) changes nothing.
    const stored = canonicalPodSpec(structuredClone(spec), 'spec', true);
    assert.ok(isSubset(spec, stored) && isSubset(stored, spec), 'desired and stored templates are equal');
    assert.equal(JSON.stringify(v), before, 'the Vector (an informer cache object) is not modified');
  });

  it('builds the same objects every time (no timestamps, no randomness)', () => {
    const v = vector({ agent: { api: { enabled: true } } });
    assert.equal(stringify(agentObjects(v, config)), stringify(agentObjects(v, config)));
  });
});

describe('agent pod least privilege', () => {
  const merger = { image: 'merger:1', standbySecretName: 'logs-agent-opt' };
  const mounts = (ds: ReturnType<typeof agentDaemonSet>, container = 'logs-agent') =>
    Object.fromEntries(
      (ds.spec?.template.spec?.containers.find((c) => c.name === container)?.volumeMounts ?? []).map((m) => [
        m.name,
        m.readOnly === true,
      ]),
    );
  const agentContext = (ds: ReturnType<typeof agentDaemonSet>) =>
    ds.spec?.template.spec?.containers.find((c) => c.name === 'logs-agent')?.securityContext;

  it('leaves the template as it is today with migration off and no opt-in (no agent rolls at upgrade)', () => {
    const ds = agentDaemonSet(vector());
    assert.ok(Object.values(mounts(ds)).every((ro) => !ro));
    assert.equal(agentContext(ds), undefined);
    assert.equal(stringify(ds), stringify(agentDaemonSet(vector(), 'logs-agent', undefined, false)));
  });

  for (const [why, ds] of [
    [
      'with checkpoint migration, whose cutover rolls the agents anyway',
      agentDaemonSet(vector(), 'logs-agent', merger),
    ],
    ['with --agent-least-privilege', agentDaemonSet(vector(), 'logs-agent', undefined, true)],
  ] as const) {
    it(`mounts the host read-only except the data dir, and forbids privilege escalation, ${why}`, () => {
      assert.deepEqual(mounts(ds), {
        'var-log': true,
        journal: true,
        'var-lib': true,
        config: false,
        data: false,
        procfs: true,
        sysfs: true,
      });
      assert.deepEqual(agentContext(ds), { allowPrivilegeEscalation: false });
    });
  }

  it("keeps the Vector's own mounts and securityContext choices, and never pairs privileged with the setting", () => {
    const own = vector({
      agent: {
        volumeMounts: [{ name: 'var-log', mountPath: '/var/log/' }],
        containerSecurityContext: { privileged: true },
        compressConfigFile: true,
      },
    });
    const ds = agentDaemonSet(own, 'logs-agent', undefined, true);
    assert.equal(mounts(ds)['var-log'], false);
    assert.deepEqual(agentContext(ds), { privileged: true });
    const reader = vector({ agent: { containerSecurityContext: { runAsUser: 0 }, compressConfigFile: true } });
    const hardened = agentDaemonSet(reader, 'logs-agent', undefined, true);
    assert.deepEqual(agentContext(hardened), { runAsUser: 0, allowPrivilegeEscalation: false });
    assert.deepEqual(hardened.spec?.template.spec?.initContainers?.[0]?.securityContext, {
      runAsUser: 0,
      allowPrivilegeEscalation: false,
    });
  });
});
