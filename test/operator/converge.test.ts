/**
 * The operator converges like a real controller: a field removed from a Vector leaves the DaemonSet, a reconcile that
 * changes nothing still writes nothing, and a user volume or mount named like a built-in one replaces it (an env variable gives way to the fixed one)
 * (kaasops #203) instead of being sent twice, which a real API server rejects. Assertions read API-visible state only.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1DaemonSet } from '@kubernetes/client-node';
import type { Operator } from '../../src/operator/operator.ts';
import { dsPath, eventually, operator, restartOperator, vectorObj, vectorPath, type Stand } from './stand.ts';
import { standSuite } from './stand-suite.ts';

type Template = NonNullable<NonNullable<V1DaemonSet['spec']>['template']['spec']>;

async function template(stand: Stand, ns: string, name: string): Promise<Template | undefined> {
  const ds = await stand.get<V1DaemonSet>(dsPath(ns, name));
  return ds?.spec?.template.spec;
}

async function settled(stand: Stand, ns: string, name: string): Promise<void> {
  await eventually(`status of ${ns}/${name} for its generation`, async () => {
    const v = await stand.get<{ metadata?: { generation?: number }; status?: { observedGeneration?: number } }>(
      vectorPath(ns, name),
    );
    return v?.status?.observedGeneration === v?.metadata?.generation;
  });
}

async function writes(op: Operator): Promise<number> {
  const m = await op.metrics.writes.get();
  return m.values.reduce((n, v) => n + v.value, 0);
}

/**
 * Waits until `op` has nothing queued and has written nothing over five polls in a row. A status that only follows
 * an event still in flight (the DaemonSet's own, on a real API server) is then written by this operator, not by the
 * next one, whose "a restart writes nothing" is the claim under test.
 */
async function idle(op: Operator): Promise<void> {
  let last = -1;
  let quiet = 0;
  await eventually(
    'the operator idle',
    async () => {
      const queued = Object.values(op.queueDepths()).reduce((a, b) => a + b, 0);
      const n = await writes(op);
      quiet = queued === 0 && n === last ? quiet + 1 : 0;
      last = n;
      return quiet >= 5;
    },
    { everyMs: 50 },
  );
}

standSuite('operator: converging on removals and on user volumes', {}, (stand) => {
  it('a user volume and mount named like the built-in `data` replace it: one volume, one mount', async () => {
    const agent = {
      volumes: [{ name: 'data', hostPath: { path: '/srv/vector' } }],
      volumeMounts: [{ name: 'data', mountPath: '/vector-data-dir' }],
    };
    await stand().create(vectorPath('vector'), vectorObj('own-data', 'vector', { agent }));
    const op = operator(stand());
    await op.start();
    try {
      const spec = await eventually('the DaemonSet', async () => template(stand(), 'vector', 'own-data-agent'));
      const data = spec.volumes?.filter((v) => v.name === 'data') ?? [];
      assert.deepEqual(
        data.map((v) => v.hostPath?.path),
        ['/srv/vector'],
        'the user volume wins',
      );
      const mounts = spec.containers[0]?.volumeMounts?.filter((m) => m.mountPath === '/vector-data-dir') ?? [];
      assert.deepEqual(
        mounts.map((m) => m.name),
        ['data'],
        'one mount at /vector-data-dir',
      );
      assert.ok(
        spec.containers[0]?.volumeMounts?.some((m) => m.mountPath === '/etc/vector'),
        'the other built-in mounts stay',
      );
    } finally {
      await op.stop();
    }
  });

  it('a user env variable named like a fixed one gives way to it, as in kaasops agents; one item per name', async () => {
    const agent = { env: [{ name: 'PROCFS_ROOT', value: '/node/proc' }] };
    await stand().create(vectorPath('vector'), vectorObj('own-env', 'vector', { agent }));
    const op = operator(stand());
    await op.start();
    try {
      const spec = await eventually('the DaemonSet', async () => template(stand(), 'vector', 'own-env-agent'));
      const env = spec.containers[0]?.env ?? [];
      assert.deepEqual(
        env.filter((e) => e.name === 'PROCFS_ROOT').map((e) => e.value),
        ['/host/proc'],
        'the fixed variable stays: a kaasops agent, given both, ran with the last one',
      );
      assert.deepEqual(
        env.map((e) => e.name),
        ['VECTOR_SELF_NODE_NAME', 'VECTOR_SELF_POD_NAME', 'VECTOR_SELF_POD_NAMESPACE', 'PROCFS_ROOT', 'SYSFS_ROOT'],
      );
    } finally {
      await op.stop();
    }
  });

  it('fields removed from a Vector leave the DaemonSet; then a restart writes nothing', async () => {
    const agent = {
      labels: { team: 'payments' },
      tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }],
      podSecurityContext: { runAsUser: 0 },
    };
    await stand().create(vectorPath('vector'), vectorObj('removals', 'vector', { agent }));
    const op = operator(stand());
    await op.start();
    try {
      await eventually('the DaemonSet with the fields', async () => {
        const ds = await stand().get<V1DaemonSet>(dsPath('vector', 'removals-agent'));
        const spec = ds?.spec?.template.spec;
        return ds?.metadata?.labels?.team === 'payments' && spec?.tolerations?.length === 1 && spec.securityContext
          ? true
          : undefined;
      });
      await stand().patch(vectorPath('vector', 'removals'), {
        spec: { agent: { labels: null, tolerations: null, podSecurityContext: null } },
      });
      const ds = await eventually('the fields gone from the DaemonSet', async () => {
        const d = await stand().get<V1DaemonSet>(dsPath('vector', 'removals-agent'));
        const spec = d?.spec?.template.spec;
        return d?.metadata?.labels?.team === undefined &&
          d?.spec?.template.metadata?.labels?.team === undefined &&
          spec?.tolerations === undefined &&
          // A real server defaults the pod securityContext to {}: what must go is runAsUser.
          spec?.securityContext?.runAsUser === undefined
          ? d
          : undefined;
      });
      assert.equal(ds.metadata?.labels?.['app.kubernetes.io/instance'], 'removals', 'the fixed labels stay');
      await settled(stand(), 'vector', 'removals');
      await idle(op);
    } finally {
      await op.stop();
    }
    const before = await stand().get<V1DaemonSet>(dsPath('vector', 'removals-agent'));
    const again = await restartOperator(stand(), { vector: 2 });
    try {
      assert.equal(await writes(again), 0, 'a reconcile that changes nothing writes nothing');
      assert.deepEqual(await stand().writes(), {}, 'the API server saw no write');
      const after = await stand().get<V1DaemonSet>(dsPath('vector', 'removals-agent'));
      assert.equal(after?.metadata?.resourceVersion, before?.metadata?.resourceVersion);
    } finally {
      await again.stop();
    }
  });

  it('empty and server-defaulted fields in the agent spec: a restart writes nothing', async () => {
    const agent = {
      tolerations: [],
      env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
      labels: {},
      podSecurityContext: {},
      volumes: [{ name: 'extra', secret: { secretName: 'extra' } }],
      volumeMounts: [{ name: 'extra', mountPath: '/extra' }],
      readinessProbe: { httpGet: { path: '/health', port: 8686 } },
      resources: { limits: { memory: '1024Mi', cpu: '1000m' } },
      api: { enabled: true },
    };
    await stand().create(vectorPath('vector'), vectorObj('defaulted', 'vector', { agent }));
    const op = operator(stand());
    await op.start();
    try {
      await eventually('the DaemonSet', async () => template(stand(), 'vector', 'defaulted-agent'));
      await settled(stand(), 'vector', 'defaulted');
      await idle(op);
    } finally {
      await op.stop();
    }
    const again = await restartOperator(stand(), { vector: 2 });
    try {
      assert.equal(await writes(again), 0);
      assert.deepEqual(await stand().writes(), {}, 'the API server saw no write');
    } finally {
      await again.stop();
    }
  });
});
