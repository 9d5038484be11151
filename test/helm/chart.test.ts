/**
 * The Helm chart (deploy/helm/vector-operator) with the real helm (`npm run build:helm`): it lints, renders what the
 * committed goldens hold, takes kaasops' values keys with kaasops' meaning, and grants exactly deploy/'s RBAC.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { chartCopies, chartDir } from '../../scripts/chart-copies.ts';
import { assertGolden } from '../helpers/golden.ts';
import { chartPath, helm, helmSkip, HELM_VERSION } from '../helpers/helm.ts';
import { grants, only, repoRoot, type Obj, type Rule } from '../deploy/manifests.ts';
import { kaasopsValues, manager, objectsOf, template } from './render.ts';

const NS = 'vector-operator-system';
const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

describe('the chart: sources and versions (no helm needed)', () => {
  it('holds byte-identical copies of deploy/crds and deploy/rbac (npm run sync:chart)', () => {
    const copies = chartCopies();
    assert.ok(copies.filter((c) => c.to.includes('/crds/')).length >= 3);
    for (const { from, to } of copies) assert.equal(read(to), read(from), `${to} differs: run npm run sync:chart`);
  });

  it("versions the chart and its appVersion with the operator's package version", () => {
    const chart = parseYaml(read(`${chartDir}/Chart.yaml`)) as { version: string; appVersion: string };
    const pkg = JSON.parse(read('package.json')) as { version: string };
    assert.equal(chart.version, pkg.version);
    assert.equal(chart.appVersion, pkg.version);
  });

  it('pins the helm version the tests look for (tools/helm/go.mod)', () => {
    assert.match(read('tools/helm/go.mod'), new RegExp(`^require helm\\.sh/helm/v4 ${HELM_VERSION}$`, 'm'));
  });
});

describe('the chart, rendered by the real helm', { skip: helmSkip }, () => {
  it(`runs helm ${HELM_VERSION}`, async () => {
    const r = await helm(['version', '--template', '{{ .Version }}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), HELM_VERSION);
  });

  it('passes helm lint --strict, with the default values and with a kaasops values file', async () => {
    for (const extra of [[], ['-f', kaasopsValues]]) {
      const r = await helm(['lint', '--strict', chartPath, '--namespace', NS, ...extra]);
      assert.equal(r.code, 0, `${extra.join(' ')}\n${r.stdout}${r.stderr}`);
    }
  });

  it('renders the committed goldens (UPDATE_GOLDEN=1 to accept a change)', async () => {
    assertGolden('helm/default.yaml', await template('vector-operator', NS));
    assertGolden('helm/kaasops-values.yaml', await template('vector-operator', 'vector', ['-f', kaasopsValues]));
  });

  it("names objects by kaasops' rules, and selects the pods by name and instance only", async () => {
    const name = async (release: string, extra: string[] = []): Promise<string> =>
      only(await objectsOf(release, NS, extra), 'Deployment').metadata.name;
    assert.equal(await name('vector-operator'), 'vector-operator');
    assert.equal(await name('prod-vector-operator-1'), 'prod-vector-operator-1');
    assert.equal(await name('logs'), 'logs-vector-operator');
    assert.equal(await name('logs', ['--set', 'nameOverride=vo']), 'logs-vo');
    assert.equal(await name('logs', ['--set', 'fullnameOverride=operator']), 'operator');
    const objects = await objectsOf('logs', NS, ['--set', 'nameOverride=vo']);
    const spec = only(objects, 'Deployment').spec as { selector: { matchLabels: Record<string, string> } };
    assert.deepEqual(spec.selector.matchLabels, {
      'app.kubernetes.io/name': 'vo',
      'app.kubernetes.io/instance': 'logs',
    });
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
      [
        'ClusterRole/logs-vo-clusterrole',
        'ClusterRoleBinding/logs-vo-clusterrolebinding',
        'Deployment/logs-vo',
        'Role/logs-vo-leader-election',
        'RoleBinding/logs-vo-leader-election',
        'ServiceAccount/logs-vo',
      ],
      'the default install',
    );
    for (const o of objects)
      assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm', `${o.kind}/${o.metadata.name}`);
  });

  it('passes args verbatim after its own flags, and the metrics flags last, so that metrics.* wins', async () => {
    const args = async (extra: string[]): Promise<string[] | undefined> =>
      manager(await objectsOf('vector-operator', NS, extra)).args;
    assert.deepEqual(await args([]), ['run', '--leader-elect', '--health-probe-bind-address=:8081']);
    assert.deepEqual(await args(['--set', 'leaderElection.enabled=false']), [
      'run',
      '--health-probe-bind-address=:8081',
    ]);
    const user = [
      '--set-json',
      'args=["-watch-namespace=vector","-metrics-bind-address=:9090","-enable-config-optimization"]',
    ];
    assert.deepEqual(await args([...user, '--set', 'metrics.enabled=true']), [
      'run',
      '--leader-elect',
      '--health-probe-bind-address=:8081',
      '-watch-namespace=vector',
      '-metrics-bind-address=:9090',
      '-enable-config-optimization',
      '--metrics-bind-address=:8080',
      '--metrics-secure=false',
    ]);
    const secure = manager(
      await objectsOf('vector-operator', NS, ['--set', 'metrics.enabled=true,metrics.secure=true']),
    );
    assert.deepEqual(secure.args?.slice(-2), ['--metrics-bind-address=:8443', '--metrics-secure=true']);
    assert.deepEqual(
      secure.ports?.map((p) => `${p.name}:${p.containerPort}`),
      ['health:8081', 'metrics:8443'],
    );
  });

  it('grants what deploy/rbac grants: the secure-metrics rules apart, in <fullname>-metrics-auth', async () => {
    const base = parseYaml(read('deploy/rbac/cluster-role.yaml')) as { rules: Rule[] };
    const lease = parseYaml(read('deploy/rbac/leader-election-role.yaml')) as { rules: Rule[] };
    const sorted = (rules: Rule[]): string[] => [...grants(rules)].sort();
    const plain = await objectsOf('vector-operator', NS);
    const main = only(plain, 'ClusterRole', 'vector-operator-clusterrole').rules ?? [];
    const auth = ['authentication.k8s.io/tokenreviews:create', 'authorization.k8s.io/subjectaccessreviews:create'];
    assert.deepEqual(
      sorted(main),
      sorted(base.rules).filter((g) => !auth.includes(g)),
    );
    assert.equal(plain.filter((o) => o.metadata.name === 'vector-operator-metrics-auth').length, 0);
    const secure = await objectsOf('vector-operator', NS, ['--set', 'metrics.enabled=true,metrics.secure=true']);
    assert.deepEqual(sorted(only(secure, 'ClusterRole', 'vector-operator-metrics-auth').rules ?? []), auth.sort());
    assert.deepEqual(only(secure, 'ClusterRoleBinding', 'vector-operator-metrics-auth').subjects, [
      { kind: 'ServiceAccount', name: 'vector-operator', namespace: NS },
    ]);
    assert.deepEqual(only(plain, 'Role').rules, lease.rules);
    assert.equal(only(plain, 'Role').metadata.namespace, NS);
    const none = await objectsOf('vector-operator', NS, ['--set', 'rbac.create=false,serviceAccount.create=false']);
    assert.deepEqual(
      none.map((o) => o.kind),
      ['Deployment'],
    );
    assert.equal(
      (only(none, 'Deployment').spec as { template: { spec: { serviceAccountName: string } } }).template.spec
        .serviceAccountName,
      'default',
    );
  });

  it("refuses a secure monitor without a bearer token, and kaasops' own image", async () => {
    const pm = ['--set', 'metrics.enabled=true,metrics.secure=true,metrics.podMonitor.enabled=true'];
    const r = await helm(['template', 'vo', chartPath, ...pm]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /metrics\.secure=true: the PodMonitor \(or ServiceMonitor\) needs a bearer token/);
    const sm = ['--set', 'metrics.enabled=true,metrics.secure=true,metrics.serviceMonitor.enabled=true'];
    assert.notEqual((await helm(['template', 'vo', chartPath, ...sm])).code, 0);
    const named = await objectsOf('vo', NS, [...pm, '--set', 'metrics.podMonitor.bearerTokenSecret.name=prom-token']);
    const ep = (only(named, 'PodMonitor').spec as { podMetricsEndpoints: Record<string, unknown>[] })
      .podMetricsEndpoints[0];
    assert.deepEqual(ep?.authorization, { type: 'Bearer', credentials: { name: 'prom-token', key: 'token' } });
    const kaasops = await helm([
      'template',
      'vo',
      chartPath,
      '--set',
      'image.repository=docker.io/kaasops/vector-operator',
    ]);
    assert.notEqual(kaasops.code, 0);
    assert.match(kaasops.stderr, /kaasops' Go operator/);
  });
});

/** The kaasops values file's objects, by kind/name. */
async function kaasopsObjects(extra: string[] = []): Promise<Map<string, Obj>> {
  const objects = await objectsOf('vector-operator', 'vector', ['-f', kaasopsValues, ...extra]);
  return new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
}

describe('the chart with a kaasops values file', { skip: helmSkip }, () => {
  it('scrapes securely through a PodMonitor with the scrape identity it creates', async () => {
    const o = await kaasopsObjects();
    const pm = o.get('PodMonitor/vector-operator');
    assert.ok(pm);
    assert.equal(pm.metadata.labels?.release, 'prometheus');
    assert.deepEqual(pm.spec?.namespaceSelector, { matchNames: ['vector'] });
    assert.deepEqual(pm.spec.podMetricsEndpoints, [
      {
        port: 'metrics',
        path: '/metrics',
        interval: '30s',
        scheme: 'https',
        tlsConfig: { insecureSkipVerify: true },
        authorization: { type: 'Bearer', credentials: { name: 'vector-operator-metrics-reader-token', key: 'token' } },
      },
    ]);
    const token = o.get('Secret/vector-operator-metrics-reader-token') as Obj & {
      type: string;
      metadata: { annotations: Record<string, string> };
    };
    assert.equal(token.type, 'kubernetes.io/service-account-token');
    assert.equal(token.metadata.annotations['kubernetes.io/service-account.name'], 'vector-operator-metrics-reader');
    assert.deepEqual(o.get('ClusterRole/vector-operator-metrics-reader')?.rules, [
      { nonResourceURLs: ['/metrics'], verbs: ['get'] },
    ]);
    assert.ok(o.has('ServiceAccount/vector-operator-metrics-reader'));
  });

  it('renders the Vector, the Secrets and the ClusterVectorPipelines of the values', async () => {
    const o = await kaasopsObjects();
    assert.deepEqual(o.get('Vector/vector')?.spec, {
      useApiServerCache: true,
      agent: { image: 'timberio/vector:0.48.0-distroless-libc', internalMetrics: true },
    });
    const secret = o.get('Secret/loki-credentials') as Obj & { data: Record<string, string> };
    const decoded = Object.fromEntries(
      Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    assert.deepEqual(decoded, { username: 'vector', password: 's3cr3t', config: '{"retries":3}' });
    const cvp = o.get('ClusterVectorPipeline/kubelet-logs');
    assert.ok(cvp);
    assert.deepEqual(Object.keys(cvp.spec ?? {}), ['sources', 'sinks'], 'no `transforms: null`');
  });

  it("keeps kaasops' Deployment fields: extraLabels and annotations on the object, strategy, tolerations, pull secrets", async () => {
    const d = (await kaasopsObjects()).get('Deployment/vector-operator') as Obj & {
      metadata: { annotations: Record<string, string> };
      spec: {
        strategy: unknown;
        template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> };
      };
    };
    assert.equal(d.metadata.labels?.team, 'platform');
    assert.equal(d.metadata.annotations.owner, 'platform@example.com');
    assert.equal(d.spec.template.metadata.labels.team, undefined, 'pods do not get extraLabels, as in kaasops');
    assert.deepEqual(d.spec.strategy, { type: 'Recreate' });
    assert.deepEqual(d.spec.template.spec.imagePullSecrets, [{ name: 'registry-pull' }]);
    assert.equal((d.spec.template.spec.tolerations as unknown[]).length, 1);
  });

  it('alerts on stalled shared sources and failing sinks, with the window and lookback of the values', async () => {
    const rule = (await kaasopsObjects(['--set', 'prometheusRule.window=5m,prometheusRule.lookback=2h'])).get(
      'PrometheusRule/vector-operator-agent',
    ) as Obj & { spec: { groups: { name: string; rules: { alert: string; expr: string; for: string }[] }[] } };
    const [group] = rule.spec.groups;
    assert.equal(group?.name, 'vector-agent-config-optimization');
    assert.deepEqual(
      group.rules.map((r) => [r.alert, r.for]),
      [
        ['VectorOptimizedSourceStalled', '5m'],
        ['VectorSinkFailing', '5m'],
      ],
    );
    const stalled = group.rules[0]?.expr ?? '';
    assert.match(stalled, /\[5m\]\)\) == 0\nand\n.*\[2h\]\)\) > 0$/);
    // The selector matches the shared sources the optimizer names (PromQL regexes are anchored).
    const re = new RegExp(`^(?:${/component_id=~"([^"]+)"/.exec(stalled)?.[1] ?? '$^'})$`);
    const optimized = JSON.parse(read('test/golden/config/3ns-optimized.json')) as { sources: object };
    const ids = Object.keys(optimized.sources);
    assert.ok(ids.length > 0 && ids.every((id) => re.test(id)), ids.join());
    assert.ok(!re.test('optimizedRouter-b8c6f0ff') && !re.test('pipeline-a-logs'));
  });

  it('adds an OpenShift SCC for either spelling, bound to the agent and configcheck ServiceAccounts', async () => {
    for (const key of ['openshift.enabled', 'openshift.enable']) {
      const o = await kaasopsObjects(['--set', `${key}=true`]);
      assert.ok(o.has('SecurityContextConstraints/vector-operator-ocp-scc'), key);
      assert.deepEqual(
        o.get('RoleBinding/vector-operator-ocp-scc-binding')?.subjects?.map((s) => s.name),
        ['vector-agent', 'vector-configcheck'],
      );
    }
    assert.ok(!(await kaasopsObjects()).has('SecurityContextConstraints/vector-operator-ocp-scc'));
  });

  it('adds a metrics Service and a ServiceMonitor on request, scraped like the PodMonitor', async () => {
    const o = await kaasopsObjects(['--set', 'metrics.serviceMonitor.enabled=true']);
    const sm = o.get('ServiceMonitor/vector-operator');
    assert.deepEqual(
      (sm?.spec as { endpoints: unknown[] }).endpoints,
      (o.get('PodMonitor/vector-operator')?.spec as { podMetricsEndpoints: unknown[] }).podMetricsEndpoints,
    );
    const svc = o.get('Service/vector-operator-metrics')?.spec as { ports: { port: number; targetPort: string }[] };
    assert.deepEqual(svc.ports[0], { name: 'metrics', port: 8443, targetPort: 'metrics', protocol: 'TCP' });
  });
});
