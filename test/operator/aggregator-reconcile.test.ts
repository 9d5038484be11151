/**
 * The aggregator controller, on the stand-in and the real control plane: a VectorAggregator and its pipeline become
 * a config Secret, a Deployment and a Service per listening pipeline; the status carries kaasops' hashes; a restart with nothing changed writes nothing; a removed
 * pipeline takes its Service with it; deleting the aggregator removes its cluster-scoped RBAC. And a cutover: objects
 * as kaasops writes them (created with its field manager, `manager`) are taken over without a change to the pod
 * template, so no aggregator pod rolls.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { request, type KubeObject } from '../../src/kube/client.ts';
import { aggregatorObjects } from '../../src/operator/aggregator-objects.ts';
import { buildAggregatorConfig } from '../../src/pipelines/aggregator-build.ts';
import type { Aggregator } from '../../src/pipelines/aggregator-schemas.ts';
import type { Operator } from '../../src/operator/operator.ts';
import {
  createSecret,
  eventually,
  group,
  operator,
  reconcileCount,
  restartOperator,
  vaObj,
  vaPath,
  vpObj,
  vpPath,
  type Fields,
  type Stand,
} from './stand.ts';
import { standSuite } from './stand-suite.ts';

const svc = (ns: string, name: string) => `/api/v1/namespaces/${ns}/services/${name}`;
const deploy = (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
// Deletes the operator sends: not the garbage collector's (ReplicaSets, Pods) or the API server's (Service IPs).
const deleteOfOurs = (k: string): boolean => k.startsWith('delete ') && !/ (replicasets|pods|ipaddresses)/.test(k);
const role = (name: string) => `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`;

/** A VectorAggregator `name` in `logs`, and the pipeline `pipeline` it selects (labelled `to: <name>`). */
async function aggregatorWithPipeline(stand: Stand, name: string, pipeline: string, spec: Fields): Promise<void> {
  await stand.create(vaPath('logs'), vaObj('logs', name, { selector: { matchLabels: { to: name } } }));
  await stand.create(vpPath('logs'), vpObj('logs', pipeline, spec, { labels: { to: name } }));
}

/** A pipeline that posts what it receives on `port` to an HTTP sink, with the password of Secret `secret` as `alias`. */
const httpWithSecret = (alias: string, secret: string, port: number): Fields => ({
  secret: { [alias]: { type: 'kubernetes_secret', name: secret } },
  sources: { in: { type: 'http_server', address: `0.0.0.0:${port}` } },
  sinks: {
    out: {
      type: 'http',
      inputs: ['in'],
      uri: 'https://example.org',
      encoding: { codec: 'json' },
      auth: { strategy: 'basic', user: 'u', password: `SECRET[${alias}.password]` },
    },
  },
});

/** Annotates the object at `path` and waits for the aggregator controller's next successful reconcile. */
async function touch(stand: Stand, op: Operator, path: string): Promise<void> {
  const before = await reconcileCount(op, 'aggregator');
  await stand.patch(path, { metadata: { annotations: { touched: 'yes' } } });
  await eventually('a reconcile after the touch', async () => (await reconcileCount(op, 'aggregator')) > before);
}

interface AggStatus {
  configCheckResult?: boolean;
  reason?: string;
  LastAppliedConfigHash?: number;
  LastAppliedGlobalConfigHash?: number;
  lastConfigPublishedAt?: string;
}

standSuite('aggregator controller', { namespaces: ['logs', 'obs-a', 'obs-b'] }, (stand, target) => {
  it('converges a VectorAggregator, writes nothing on a restart, sweeps a removed Service, cleans up RBAC', async () => {
    await stand().create(vaPath('logs'), vaObj('logs', 'agg', { api: { enabled: true } }));
    await stand().create(
      vpPath('logs'),
      vpObj('logs', 'ingest', {
        sources: { in: { type: 'http_server', address: '0.0.0.0:8080' } },
        sinks: { out: { type: 'blackhole', inputs: ['in'] } },
      }),
    );
    const first = operator(stand());
    await first.start();
    let status: AggStatus;
    try {
      const service: KubeObject = await eventually('the pipeline Service', () =>
        stand().get(svc('logs', 'agg-aggregator-ingest')),
      );
      assert.deepEqual((service.spec as { ports: unknown[] }).ports, [
        { name: 'in', protocol: 'TCP', port: 8080, targetPort: 8080 },
      ]);
      const d: KubeObject = await eventually('the Deployment', () => stand().get(deploy('logs', 'agg-aggregator')));
      assert.equal(d.metadata?.ownerReferences?.[0]?.kind, 'VectorAggregator');
      const secret = await eventually('the config Secret', () =>
        stand().get<{ data: Record<string, string> }>('/api/v1/namespaces/logs/secrets/agg-aggregator'),
      );
      const json = Buffer.from(secret.data['config.json'] ?? '', 'base64').toString();
      assert.match(json, /"logs-ingest-in":\{"address":"0\.0\.0\.0:8080","type":"http_server"\}/);
      status = await eventually('the status', async () => {
        const va = await stand().get<{ status?: AggStatus }>(vaPath('logs', 'agg'));
        return va?.status?.configCheckResult === true ? va.status : undefined;
      });
      assert.equal(status.LastAppliedConfigHash, crc32(json));
      assert.equal(status.LastAppliedGlobalConfigHash, 2055584866, "kaasops' hash of unset globals");
      assert.ok(await stand().get(role('logs.agg-aggregator')));
    } finally {
      await first.stop();
    }

    const second = await restartOperator(stand(), { aggregator: 1 });
    try {
      assert.deepEqual(await stand().writes(), {}, 'no create, patch, update or delete');

      await stand().del(vpPath('logs', 'ingest'));
      await eventually('the Service of the removed pipeline gone', async () =>
        (await stand().get(svc('logs', 'agg-aggregator-ingest'))) === undefined ? true : undefined,
      );
      assert.ok(await stand().get(svc('logs', 'agg-aggregator-default-pipeline')), 'the default pipeline Service');

      await stand().del(vaPath('logs', 'agg'));
      await eventually('the cluster RBAC deleted and the aggregator gone', async () =>
        (await stand().get(role('logs.agg-aggregator'))) === undefined &&
        (await stand().get(vaPath('logs', 'agg'))) === undefined
          ? true
          : undefined,
      );
    } finally {
      await second.stop();
    }
  });

  it('runs an event collector while a pipeline has kubernetes_events, and deletes only what exists after', async () => {
    const ec = (kind: string, ns = 'logs') =>
      kind === 'ClusterRole' || kind === 'ClusterRoleBinding'
        ? `/apis/rbac.authorization.k8s.io/v1/${kind.toLowerCase()}s/logs.evs-event-collector`
        : kind === 'Deployment'
          ? deploy(ns, 'evs-event-collector')
          : `/api/v1/namespaces/${ns}/${kind.toLowerCase()}s/evs-event-collector`;
    const kinds = ['ConfigMap', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Service', 'Deployment'];
    await aggregatorWithPipeline(stand(), 'evs', 'kube', {
      sources: { ev: { type: 'kubernetes_events' } },
      sinks: { out: { type: 'blackhole', inputs: ['ev'] } },
    });
    const op = operator(stand());
    await op.start();
    try {
      const all = async () => await Promise.all(kinds.map((k) => stand().get(ec(k))));
      await eventually('the six event-collector objects', async () =>
        (await all()).every((o) => o !== undefined) ? true : undefined,
      );
      const cm = await stand().get<{ data: Record<string, string> }>(ec('ConfigMap'));
      assert.equal(
        cm?.data['config.json'],
        '{"MaxBatchSize":250,"Receivers":[{"ServiceName":"evs-aggregator-kube","ServiceNamespace":"logs","Port":"42000","WatchedNamespace":"logs"}]}',
      );
      const d = await stand().get<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
        ec('Deployment'),
      );
      assert.equal(d?.spec.template.spec.containers[0]?.image, 'kaasops/event-collector:v0.5.0');

      await stand().resetCounts();
      await stand().patch(vpPath('logs', 'kube'), { metadata: { labels: { to: 'elsewhere' } } });
      await eventually('every event-collector object deleted', async () =>
        (await all()).every((o) => o === undefined) ? true : undefined,
      );
      const deletes = Object.entries(await stand().writes()).filter(([k]) => deleteOfOurs(k));
      // The six objects once each, and the pipeline's Service; nothing that did not exist.
      assert.deepEqual(Object.fromEntries(deletes), {
        'delete configmaps': 1,
        'delete serviceaccounts': 1,
        'delete clusterroles.rbac.authorization.k8s.io': 1,
        'delete clusterrolebindings.rbac.authorization.k8s.io': 1,
        'delete services': 2,
        'delete deployments.apps': 1,
      });
      // A reconcile with no kubernetes_events pipeline deletes nothing more (kaasops: 6 DELETEs each time).
      await stand().resetCounts();
      await touch(stand(), op, vaPath('logs', 'evs'));
      assert.deepEqual(Object.keys(await stand().writes()).filter(deleteOfOurs), []);
    } finally {
      await op.stop();
    }
  });

  it('publishes pipeline secrets: the assets Secret before the config, mounted; gone with the last reference', async () => {
    await createSecret(stand(), 'logs', 'es-creds', { stringData: { password: 's3cret' } });
    await aggregatorWithPipeline(stand(), 'sec', 'es', httpWithSecret('creds', 'es-creds', 8080));
    const op = operator(stand(), {
      flags: { optimize: false, migration: false, mergerImage: 'merger:test', assetsPruneGraceMs: 500 },
    });
    await op.start();
    const assetsPath = '/api/v1/namespaces/logs/secrets/sec-aggregator-secret-assets';
    type Template = {
      spec: { template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } } };
    };
    try {
      const assets = await eventually('the assets Secret', () =>
        stand().get<{ data: Record<string, string> }>(assetsPath),
      );
      assert.deepEqual(assets.data, { logs_es_creds_password: Buffer.from('s3cret').toString('base64') });
      const secret = await stand().get<{ data: Record<string, string> }>(
        '/api/v1/namespaces/logs/secrets/sec-aggregator',
      );
      assert.match(
        Buffer.from(secret?.data['config.json'] ?? '', 'base64').toString(),
        /"password":"SECRET\[k8s\.logs_es_creds_password\]"/,
      );
      const mounted = await eventually('the Deployment mounting it', async () => {
        const d = await stand().get<Template>(deploy('logs', 'sec-aggregator'));
        return d?.spec.template.spec.volumes.find((v) => v.name === 'secret-assets');
      });
      // The real API server defaults the volume's mode; the stand-in does not default pod templates.
      assert.deepEqual(mounted, {
        name: 'secret-assets',
        secret: {
          secretName: 'sec-aggregator-secret-assets',
          ...(target.name === 'real' ? { defaultMode: 420 } : {}),
        },
      });

      await stand().del(vpPath('logs', 'es'));
      await eventually('the assets Secret deleted after the grace', async () =>
        (await stand().get(assetsPath)) === undefined ? true : undefined,
      );
      const after = await stand().get<Template>(deploy('logs', 'sec-aggregator'));
      assert.ok(!after?.spec.template.spec.volumes.some((v) => v.name === 'secret-assets'), 'the mount is gone');
    } finally {
      await op.stop();
    }
  });

  it('writes a secret flat-key collision on the younger pipeline, naming the aggregator', async () => {
    for (const name of ['c1', 'c2']) await createSecret(stand(), 'logs', name, { stringData: { password: name } });
    await stand().create(vaPath('logs'), vaObj('logs', 'col', { selector: { matchLabels: { to: 'col' } } }));
    const pipeline = (name: string, alias: string, secret: string, port: number) =>
      vpObj('logs', name, httpWithSecret(alias, secret, port), { labels: { to: 'col' } });
    // logs-a + x_y + password and logs-a-x + y + password: both flat keys are logs_a_x_y_password.
    await stand().create(vpPath('logs'), pipeline('a', 'x_y', 'c1', 8100));
    await stand().create(vpPath('logs'), pipeline('a-x', 'y', 'c2', 8101));
    const op = operator(stand());
    await op.start();
    try {
      const status = await eventually('the collision on the younger pipeline', async () => {
        const p = await stand().get<{ status?: AggStatus }>(vpPath('logs', 'a-x'));
        return p?.status?.configCheckResult === false ? p.status : undefined;
      });
      assert.match(
        status.reason ?? '',
        /^secret flat key collision: flat key "logs_a_x_y_password" collides with pipeline logs\/a on VectorAggregator logs\/col;/,
      );
      const assetsPath = '/api/v1/namespaces/logs/secrets/col-aggregator-secret-assets';
      const assets = await eventually('the assets Secret', () =>
        stand().get<{ data: Record<string, string> }>(assetsPath),
      );
      assert.deepEqual(
        assets.data,
        { logs_a_x_y_password: Buffer.from('c1').toString('base64') },
        "the older one's value",
      );
    } finally {
      await op.stop();
      for (const name of ['a', 'a-x']) await stand().del(vpPath('logs', name));
    }
  });

  // Whether a takeover rolls pods is decided by the real server's defaulting of the template: real lane only.
  it(
    'takes over objects kaasops wrote: its leftover fields go, the pod template stays (no pod rolls)',
    { skip: target.name === 'real' ? false : 'the stand-in does not default pod templates' },
    async () => {
      const va = await stand().create(vaPath('logs'), vaObj('logs', 'cut', { replicas: 2, labels: { team: 'obs' } }));
      const agg: Aggregator = {
        kind: 'VectorAggregator',
        metadata: va.metadata as Aggregator['metadata'],
        spec: va.spec as Aggregator['spec'],
      };
      const built = aggregatorObjects(agg, buildAggregatorConfig(agg, []), { podMonitor: false });
      assert.ok(built.ok);
      // kaasops creates with controller-runtime's client: POST, field manager `manager`.
      for (const o of built.objects.filter((x) => x.kind === 'Deployment' || x.kind === 'Secret')) {
        // A key an older kaasops wrote, which we do not write: the takeover must remove it.
        if (o.kind === 'Secret') (o as { data: Record<string, string> }).data.stale = 'e30=';
        const plural =
          o.kind === 'Deployment' ? '/apis/apps/v1/namespaces/logs/deployments' : '/api/v1/namespaces/logs/secrets';
        await request(stand().kc, 'POST', plural, { body: o, query: { fieldManager: 'manager' } });
      }
      const before = await stand().get(deploy('logs', 'cut-aggregator'));
      const op = operator(stand());
      await op.start();
      try {
        await eventually('the status', async () => {
          const v = await stand().get<{ status?: AggStatus }>(vaPath('logs', 'cut'));
          return v?.status?.configCheckResult === true ? true : undefined;
        });
        await eventually('the stale Secret key removed', async () => {
          const secret = await stand().get<{ data: Record<string, string> }>(
            '/api/v1/namespaces/logs/secrets/cut-aggregator',
          );
          return secret !== undefined && !('stale' in secret.data) ? true : undefined;
        });
        const afterwards = await stand().get(deploy('logs', 'cut-aggregator'));
        assert.equal(afterwards?.metadata?.generation, before?.metadata?.generation, 'the template did not change');
        assert.deepEqual(
          (afterwards?.spec as { template: unknown }).template,
          (before?.spec as { template: unknown }).template,
        );
      } finally {
        await op.stop();
      }
    },
  );

  it('moves a ClusterVectorAggregator to its new resourceNamespace and deletes what it left in the old one', async () => {
    const path = `${group}/clustervectoraggregators`;
    await stand().create(path, {
      apiVersion: 'observability.kaasops.io/v1alpha1',
      kind: 'ClusterVectorAggregator',
      metadata: { name: 'wide' },
      spec: { resourceNamespace: 'obs-a', api: { enabled: true } },
    });
    const op = operator(stand());
    await op.start();
    try {
      await eventually('the Deployment in obs-a', () => stand().get(deploy('obs-a', 'wide-aggregator')));
      await stand().patch(`${path}/wide`, { spec: { resourceNamespace: 'obs-b' } });
      await eventually('the Deployment in obs-b', () => stand().get(deploy('obs-b', 'wide-aggregator')));
      await eventually('nothing left in obs-a', async () => {
        const gone = await Promise.all([
          stand().get(deploy('obs-a', 'wide-aggregator')),
          stand().get(svc('obs-a', 'wide-aggregator')),
          stand().get('/api/v1/namespaces/obs-a/secrets/wide-aggregator'),
          stand().get('/api/v1/namespaces/obs-a/serviceaccounts/wide-aggregator'),
        ]);
        return gone.every((o) => o === undefined) ? true : undefined;
      });
      const crb = await stand().get<{ subjects: { namespace: string }[] }>(
        '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/wide-aggregator',
      );
      assert.equal(crb?.subjects[0]?.namespace, 'obs-b');
    } finally {
      await op.stop();
    }
  });

  it('restarts the pods once when expireMetricsSecs changes (restartedAt from the globals hash)', async () => {
    await stand().create(vaPath('logs'), vaObj('logs', 'glob', { expireMetricsSecs: 60 }));
    const op = operator(stand());
    await op.start();
    const template = async () =>
      await stand().get<{
        metadata: { generation: number };
        spec: { template: { metadata: { annotations?: Record<string, string> } } };
      }>(deploy('logs', 'glob-aggregator'));
    const recorded = async (hash: number) => {
      const v = await stand().get<{ status?: AggStatus }>(vaPath('logs', 'glob'));
      return v?.status?.LastAppliedGlobalConfigHash === hash ? true : undefined;
    };
    try {
      await eventually('the first status', () => recorded(3542637306));
      assert.equal((await template())?.spec.template.metadata.annotations, undefined, 'no stamp at creation');
      await stand().patch(vaPath('logs', 'glob'), { spec: { expireMetricsSecs: 300 } });
      await eventually('the new globals recorded', () => recorded(3540258862));
      const stamped = await template();
      assert.equal(
        stamped?.spec.template.metadata.annotations?.['vector-operator.kaasops.io/restartedAt'],
        'globals-3540258862',
      );
      // Another reconcile (an annotation on the aggregator) keeps the stamp: no second rollout.
      await touch(stand(), op, vaPath('logs', 'glob'));
      const after = await template();
      assert.equal(after?.metadata.generation, stamped.metadata.generation);
      assert.equal(
        after.spec.template.metadata.annotations?.['vector-operator.kaasops.io/restartedAt'],
        'globals-3540258862',
      );
    } finally {
      await op.stop();
    }
  });
});
