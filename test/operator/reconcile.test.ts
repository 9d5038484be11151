/**
 * The operator against the API server stand-in, over HTTP: a user creates a Vector and pipelines and gets an agent;
 * a broken pipeline stays isolated; a restart with nothing changed writes nothing; deleting the Vector removes
 * everything, cluster-scoped RBAC included.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import {
  agentJson,
  cvpPath,
  dsPath,
  eventually,
  operator,
  restartOperator,
  secretPath,
  vectorObj,
  vectorPath,
  vpObj,
  vpPath,
} from './stand.ts';
import { standSuite } from './stand-suite.ts';

const rbac = '/apis/rbac.authorization.k8s.io/v1';

standSuite('operator: a Vector and its pipelines', { stand: { gc: true } }, (stand) => {
  it('creates every agent object, owned by the Vector, and reports valid pipelines', async () => {
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector', { agent: { api: { enabled: true } } }));
    await stand().create(vpPath('team-a'), vpObj('team-a', 'app'));
    await stand().create(vpPath('team-b'), vpObj('team-b', 'app'));
    const op = operator(stand());
    await op.start();
    try {
      const secret = await eventually('the config Secret with both pipelines', async () => {
        const s = await stand().get(secretPath('vector', 'logs-agent'));
        const cfg = agentJson(s);
        return cfg?.sources?.['team-a-app-pods'] !== undefined && cfg.sources['team-b-app-pods'] !== undefined
          ? s
          : undefined;
      });
      // The Service is written last; once it is there, everything before it is too.
      await eventually('the Service', async () => stand().get(`/api/v1/namespaces/vector/services/logs-agent`));
      const vector = await stand().get(vectorPath('vector', 'logs'));
      const uid = vector?.metadata?.uid;
      assert.deepEqual(
        secret.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
        [['Vector', 'logs', uid, true]],
      );
      const ds = await stand().get(dsPath('vector', 'logs-agent'));
      const tmpl = (
        ds?.spec as {
          template: {
            spec: { volumes: { name: string; secret?: { secretName: string } }[]; initContainers?: unknown };
          };
        }
      ).template.spec;
      assert.equal(tmpl.volumes.find((v) => v.name === 'config')?.secret?.secretName, 'logs-agent');
      assert.equal(tmpl.initContainers, undefined, 'no merger with migration off');
      assert.ok(await stand().get(`/api/v1/namespaces/vector/serviceaccounts/logs-agent`));
      const role = await stand().get(`${rbac}/clusterroles/vector.logs-agent`);
      assert.equal(role?.metadata?.ownerReferences, undefined, 'cluster-scoped: no unresolvable ownerRef');
      const binding = await stand().get<{ subjects: { name: string; namespace: string }[] }>(
        `${rbac}/clusterrolebindings/vector.logs-agent`,
      );
      assert.deepEqual(
        binding?.subjects.map((s) => `${s.namespace}/${s.name}`),
        ['vector/logs-agent'],
      );
      assert.deepEqual(vector?.metadata?.finalizers, ['vector-operator.kaasops.io/cleanup']);
      const status = await eventually('Vector status', async () => {
        const v = await stand().get<{
          status?: { configCheckResult?: boolean; conditions?: { type: string; status: string }[] };
        }>(vectorPath('vector', 'logs'));
        return v?.status?.configCheckResult === true ? v.status : undefined;
      });
      assert.equal(status.conditions?.find((c) => c.type === 'ConfigValid')?.status, 'True');
      const vp = await eventually('pipeline status', async () => {
        const p = await stand().get<{ status?: { configCheckResult?: boolean; role?: string } }>(
          vpPath('team-a', 'app'),
        );
        return p?.status?.configCheckResult === true ? p.status : undefined;
      });
      assert.equal(vp.role, 'agent');
    } finally {
      await op.stop();
    }
  });

  it('isolates an invalid pipeline: it is marked invalid and left out, the others keep flowing', async () => {
    const op = operator(stand());
    await op.start();
    try {
      // A sink reading a component that does not exist: compiles, but its graph is broken.
      await stand().create(
        vpPath('team-a'),
        vpObj('team-a', 'broken', {
          sources: { pods: { type: 'kubernetes_logs' } },
          sinks: { out: { type: 'blackhole', inputs: ['nope'] } },
        }),
      );
      // A VectorPipeline reading another namespace: rejected by kaasops' rule.
      await stand().create(
        vpPath('team-b'),
        vpObj('team-b', 'sneaky', {
          sources: {
            pods: { type: 'kubernetes_logs', extra_namespace_label_selector: 'kubernetes.io/metadata.name=team-a' },
          },
          sinks: { out: { type: 'blackhole', inputs: ['pods'] } },
        }),
      );
      await stand().create(vpPath('team-b'), vpObj('team-b', 'fine'));
      const broken = await eventually('the broken pipeline marked invalid', async () => {
        const p = await stand().get<{
          status?: { configCheckResult?: boolean; reason?: string; conditions?: { type: string; status: string }[] };
        }>(vpPath('team-a', 'broken'));
        return p?.status?.configCheckResult === false ? p.status : undefined;
      });
      assert.match(broken.reason ?? '', /spec\.sinks\.out/);
      assert.equal(broken.conditions?.find((c) => c.type === 'Valid')?.status, 'False');
      const sneaky = await eventually('the cross-namespace pipeline marked invalid', async () => {
        const p = await stand().get<{ status?: { configCheckResult?: boolean; reason?: string } }>(
          vpPath('team-b', 'sneaky'),
        );
        return p?.status?.configCheckResult === false ? p.status : undefined;
      });
      assert.match(sneaky.reason ?? '', /external namespace not allowed/);
      const cfg = await eventually('the good new pipeline in the config', async () => {
        const c = agentJson(await stand().get(secretPath('vector', 'logs-agent')));
        return c?.sources?.['team-b-fine-pods'] !== undefined ? c : undefined;
      });
      assert.equal(cfg.sources?.['team-a-broken-pods'], undefined);
      assert.equal(cfg.sources?.['team-b-sneaky-pods'], undefined);
      assert.ok(cfg.sources?.['team-a-app-pods'], 'older pipelines are untouched');
      const vector = await stand().get<{ status?: { configCheckResult?: boolean } }>(vectorPath('vector', 'logs'));
      assert.equal(vector?.status?.configCheckResult, true);
    } finally {
      await op.stop();
    }
  });

  it('respects spec.selector and wakes only the Vectors a pipeline change concerns', async () => {
    await stand().create(
      vectorPath('vector'),
      vectorObj('team', 'vector', { selector: { matchLabels: { team: 'b' } } }),
    );
    const op = operator(stand());
    await op.start();
    try {
      await stand().create(vpPath('team-b'), vpObj('team-b', 'labelled', undefined, { labels: { team: 'b' } }));
      const cfg = await eventually('the labelled pipeline in the selecting Vector', async () => {
        const c = agentJson(await stand().get(secretPath('vector', 'team-agent')));
        return c?.sources?.['team-b-labelled-pods'] !== undefined ? c : undefined;
      });
      assert.deepEqual(Object.keys(cfg.sources ?? {}), ['team-b-labelled-pods']);
      // Both Vectors run it (logs selects everything); now change a pipeline only `logs` selects.
      await eventually(
        'logs has it too',
        async () => agentJson(await stand().get(secretPath('vector', 'logs-agent')))?.sources?.['team-b-labelled-pods'],
      );
      const teamSecret = await stand().get(secretPath('vector', 'team-agent'));
      await stand().create(cvpPath(), {
        apiVersion: 'observability.kaasops.io/v1alpha1',
        kind: 'ClusterVectorPipeline',
        metadata: { name: 'cluster' },
        spec: {
          sources: { journal: { type: 'journald' } },
          sinks: { out: { type: 'blackhole', inputs: ['journal'] } },
        },
      });
      await eventually(
        'the CVP in logs',
        async () => agentJson(await stand().get(secretPath('vector', 'logs-agent')))?.sources?.['cluster-journal'],
      );
      const after = await stand().get(secretPath('vector', 'team-agent'));
      assert.equal(after?.metadata?.resourceVersion, teamSecret?.metadata?.resourceVersion, 'team-agent untouched');
    } finally {
      await op.stop();
    }
  });

  it('restarting the operator with nothing changed writes nothing', async () => {
    const first = operator(stand());
    await first.start();
    await eventually('a settled world', async () => {
      const v = await stand().get<{ status?: { configCheckResult?: boolean } }>(vectorPath('vector', 'team'));
      return v?.status?.configCheckResult === true;
    });
    await first.stop();
    const ds = await stand().get(dsPath('vector', 'logs-agent'));
    // Every reconcile of the initial list has run once the queues are empty and nothing is in flight.
    const second = await restartOperator(stand(), { vector: 2, pipeline: 5 });
    try {
      assert.deepEqual(await stand().writes(), {}, 'no create, patch, update or delete');
      // Every reconcile is timed: the histogram counts as many as the reconciles counter, per controller.
      const runs = await second.metrics.reconciles.get();
      const timed = await second.metrics.reconcileSeconds.get();
      for (const controller of ['vector', 'pipeline']) {
        const counted = runs.values.filter((v) => v.labels.controller === controller).reduce((n, v) => n + v.value, 0);
        const count = timed.values.find(
          (v) =>
            v.metricName === 'vector_operator_reconcile_duration_seconds_count' && v.labels.controller === controller,
        );
        assert.equal(count?.value, counted, `${controller} reconciles timed`);
      }
      const after = await stand().get(dsPath('vector', 'logs-agent'));
      assert.equal(after?.metadata?.resourceVersion, ds?.metadata?.resourceVersion, 'the template did not change');
    } finally {
      await second.stop();
    }
  });

  it('with --watch-namespace, reconciles only the Vectors of that namespace', async () => {
    // Created before the operator starts, so a cluster-wide operator would reconcile it from its first list.
    await stand().create(vectorPath('vector'), vectorObj('elsewhere', 'vector'));
    await stand().create(vectorPath('team-a'), vectorObj('scoped', 'team-a'));
    const op = operator(stand(), { watchNamespace: 'team-a' });
    await op.start();
    try {
      await eventually('the scoped Vector reconciled', async () => stand().get(secretPath('team-a', 'scoped-agent')));
      await eventually('its status', async () => {
        const v = await stand().get<{ status?: { configCheckResult?: boolean } }>(vectorPath('team-a', 'scoped'));
        return v?.status?.configCheckResult === true;
      });
      assert.equal(await stand().get(secretPath('vector', 'elsewhere-agent')), undefined);
      const other = await stand().get<{ metadata?: { finalizers?: string[] } }>(vectorPath('vector', 'elsewhere'));
      assert.equal(other?.metadata?.finalizers, undefined, 'not even a finalizer outside the watched namespace');
    } finally {
      await op.stop();
    }
    await stand().del(vectorPath('vector', 'elsewhere'));
    await stand().del(vectorPath('team-a', 'scoped'));
  });

  it('deleting a Vector removes its objects, the cluster-scoped RBAC included', async () => {
    const op = operator(stand());
    await op.start();
    try {
      await stand().del(vectorPath('vector', 'logs'));
      await eventually('the Vector gone', async () => (await stand().get(vectorPath('vector', 'logs'))) === undefined);
      await stand().settled();
      for (const path of [
        secretPath('vector', 'logs-agent'),
        dsPath('vector', 'logs-agent'),
        '/api/v1/namespaces/vector/serviceaccounts/logs-agent',
        '/api/v1/namespaces/vector/services/logs-agent',
        `${rbac}/clusterroles/vector.logs-agent`,
        `${rbac}/clusterrolebindings/vector.logs-agent`,
      ]) {
        await eventually(`${path} deleted`, async () => (await stand().get(path)) === undefined);
      }
      assert.ok(await stand().get(`${rbac}/clusterroles/vector.team-agent`), 'the other Vector keeps its RBAC');
    } finally {
      await op.stop();
    }
  });
});
