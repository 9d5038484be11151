/**
 * A user changes `spec.agent.expireMetricsSecs`: Vector does not live-reload global options, so the agents roll once.
 * After that, reconciling again, restarting the operator, or taking over from kaasops (its DaemonSet and status,
 * globals unchanged) write nothing to the pod template. Assertions read API-visible state: the template, the
 * DaemonSet's generation, the Vector's status, and the write requests the API server saw.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { request, ResourcePaths, type KubeObject } from '../../src/kube/client.ts';
import { desiredState } from '../../src/operator/desired.ts';
import { restartedAtAnnotation } from '../../src/operator/globals.ts';
import type { Operator } from '../../src/operator/operator.ts';
import { toVector } from '../../src/operator/controller-context.ts';
import { dsPath, eventually, operator, restartOperator, vectorObj, vectorPath, type Stand } from './stand.ts';
import { standSuite } from './stand-suite.ts';

interface VectorWithStatus {
  metadata?: { generation?: number };
  status?: { LastAppliedGlobalConfigHash?: number; observedGeneration?: number };
}

async function reconciles(op: Operator): Promise<number> {
  const m = await op.metrics.reconciles.get();
  return m.values
    .filter((v) => v.labels.controller === 'vector' && v.labels.result === 'success')
    .reduce((n, v) => n + v.value, 0);
}

/** Waits for one more successful Vector reconcile than `since`. */
async function reconciledAfter(op: Operator, since: number): Promise<void> {
  await eventually('another Vector reconcile', async () => (await reconciles(op)) > since);
}

const stampOf = (d: V1DaemonSet | undefined): string | undefined =>
  d?.spec?.template.metadata?.annotations?.[restartedAtAnnotation];

/** kaasops' objects and status for a Vector: written with Update by its field manager `manager`. */
async function writeAsKaasops(stand: Stand, vector: KubeObject, stamp: string): Promise<void> {
  const flags = { optimize: false, migration: false, mergerImage: 'merger:test', podMonitor: false };
  const desired = desiredState(toVector(vector), [], flags, { daemonSet: undefined, secrets: {} });
  const paths = new ResourcePaths(stand.kc);
  for (const o of desired.objects) {
    if (o.kind !== 'Secret' && o.kind !== 'DaemonSet' && o.kind !== 'ServiceAccount') continue;
    const obj = structuredClone(o) as KubeObject & V1DaemonSet;
    if (obj.metadata?.annotations !== undefined) Reflect.deleteProperty(obj.metadata, 'annotations');
    // kaasops stamped a time when the globals last changed; with spec.agent.annotations set it leaked onto the
    // DaemonSet's own metadata too.
    if (o.kind === 'DaemonSet' && obj.spec !== undefined && obj.metadata !== undefined) {
      const template = obj.spec.template.metadata ?? {};
      template.annotations = { team: 'obs', [restartedAtAnnotation]: stamp };
      obj.spec.template.metadata = template;
      obj.metadata.annotations = { team: 'obs', [restartedAtAnnotation]: stamp };
    }
    const path = await paths.objectPath(obj);
    await request(stand.kc, 'POST', path.slice(0, path.lastIndexOf('/')), {
      query: { fieldManager: 'manager' },
      body: obj,
    });
  }
}

standSuite('operator: a change of the global options rolls the agents once', {}, (stand) => {
  it('expireMetricsSecs changed: one template change; reconciling again or restarting writes nothing', async () => {
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector', { agent: { expireMetricsSecs: 300 } }));
    const op = operator(stand());
    await op.start();
    let generation: number | undefined;
    try {
      await eventually('the status records the globals', async () => {
        const v = await stand().get<VectorWithStatus>(vectorPath('vector', 'logs'));
        return v?.status?.LastAppliedGlobalConfigHash === 3540258862;
      });
      const first = await stand().get<V1DaemonSet>(dsPath('vector', 'logs-agent'));
      assert.equal(stampOf(first), undefined, 'a new agent is not stamped');

      await stand().patch(vectorPath('vector', 'logs'), { spec: { agent: { expireMetricsSecs: 60 } } });
      await eventually('the new globals recorded', async () => {
        const v = await stand().get<VectorWithStatus>(vectorPath('vector', 'logs'));
        return v?.status?.LastAppliedGlobalConfigHash === 3542637306;
      });
      const stamped = await stand().get<V1DaemonSet>(dsPath('vector', 'logs-agent'));
      assert.equal(stampOf(stamped), 'globals-3542637306');
      assert.equal(stamped?.metadata?.generation, (first?.metadata?.generation ?? 0) + 1, 'exactly one change');
      assert.equal(stamped.metadata.annotations?.[restartedAtAnnotation], undefined, 'not on the DaemonSet');
      generation = stamped.metadata.generation;

      // Reconcile again (an annotation the operator does not read).
      await stand().resetCounts();
      const since = await reconciles(op);
      await stand().patch(vectorPath('vector', 'logs'), { metadata: { annotations: { note: 'touched' } } });
      await reconciledAfter(op, since);
      const writes = await stand().writes();
      assert.deepEqual(
        Object.keys(writes).filter((k) => !k.includes('vectors')),
        [],
        'no write besides our own patch of the Vector',
      );
      const again = await stand().get<V1DaemonSet>(dsPath('vector', 'logs-agent'));
      assert.equal(again?.metadata?.generation, generation, 'no second rollout');
    } finally {
      await op.stop();
    }

    const restarted = await restartOperator(stand(), { vector: 1 });
    try {
      assert.deepEqual(await stand().writes(), {}, 'an operator restart writes nothing');
      const ds = await stand().get<V1DaemonSet>(dsPath('vector', 'logs-agent'));
      assert.equal(ds?.metadata?.generation, generation);
      assert.equal(stampOf(ds), 'globals-3542637306');
    } finally {
      await restarted.stop();
    }
  });

  it("cutover from kaasops with the globals unchanged keeps kaasops' template and status hash", async () => {
    const kaasopsStamp = '2026-08-21T10:04:31Z';
    const spec = { agent: { expireMetricsSecs: 300, annotations: { team: 'obs' } } };
    await stand().create(vectorPath('vector'), vectorObj('kaasops', 'vector', spec));
    const vector = await stand().get(vectorPath('vector', 'kaasops'));
    assert.ok(vector);
    await writeAsKaasops(stand(), vector, kaasopsStamp);
    await stand().patch(`${vectorPath('vector', 'kaasops')}/status`, {
      status: { configCheckResult: true, reason: '', LastAppliedGlobalConfigHash: 3540258862 },
    });
    const before = await stand().get<V1DaemonSet>(dsPath('vector', 'kaasops-agent'));

    const op = operator(stand());
    await op.start();
    try {
      await eventually('our operator reconciled the Vector', async () => {
        const v = await stand().get<VectorWithStatus>(vectorPath('vector', 'kaasops'));
        return v?.status?.observedGeneration !== undefined;
      });
      const ds = await stand().get<V1DaemonSet>(dsPath('vector', 'kaasops-agent'));
      assert.equal(ds?.metadata?.generation, before?.metadata?.generation, 'no agent rolls');
      assert.deepEqual(ds?.spec?.template, before?.spec?.template);
      assert.equal(stampOf(ds), kaasopsStamp, "kaasops' stamp is kept, not replaced");
      const v = await stand().get<VectorWithStatus>(vectorPath('vector', 'kaasops'));
      assert.equal(v?.status?.LastAppliedGlobalConfigHash, 3540258862);
    } finally {
      await op.stop();
    }
  });
});
