/**
 * Cutover from kaasops/vector-operator: kaasops wrote the agent objects with Update under the field manager
 * `manager`. Our operator takes those fields over (client-go csaupgrade's move from Update to Apply), so a field the
 * user later removes from the Vector leaves the DaemonSet, and when the content is the same no agent rolls.
 * Assertions read API-visible state only (objects, managedFields, generation).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { request, ResourcePaths, type KubeObject } from '../../src/kube/client.ts';
import { desiredState } from '../../src/operator/desired.ts';
import type { Operator } from '../../src/operator/operator.ts';
import { toVector, type Logger } from '../../src/operator/controller-context.ts';
import {
  dsPath,
  eventually,
  operator,
  restartOperator,
  secretPath,
  vectorObj,
  vectorPath,
  type Stand,
} from './stand.ts';
import { standSuite } from './stand-suite.ts';

const flags = { optimize: false, migration: false, mergerImage: 'merger:test', podMonitor: false };

/** What kaasops wrote for the Vector: the same Secret, DaemonSet and ServiceAccount, created with Update. */
async function writeAsKaasops(stand: Stand, vector: KubeObject): Promise<void> {
  const desired = desiredState(toVector(vector), [], flags, { daemonSet: undefined, secrets: {} });
  const paths = new ResourcePaths(stand.kc);
  for (const o of desired.objects) {
    if (o.kind !== 'Secret' && o.kind !== 'DaemonSet' && o.kind !== 'ServiceAccount') continue;
    const obj = structuredClone(o) as KubeObject;
    // kaasops has no config-mode annotation (our reader falls back to the content).
    if (obj.metadata?.annotations !== undefined) Reflect.deleteProperty(obj.metadata, 'annotations');
    const path = await paths.objectPath(obj);
    const collection = path.slice(0, path.lastIndexOf('/'));
    await request(stand.kc, 'POST', collection, { query: { fieldManager: 'manager' }, body: obj });
  }
}

const managers = (o: KubeObject | undefined): string[] =>
  ((o?.metadata as { managedFields?: { manager: string; operation: string }[] } | undefined)?.managedFields ?? []).map(
    (e) => `${e.manager}/${e.operation}`,
  );

async function writes(op: Operator, verb?: string): Promise<number> {
  const m = await op.metrics.writes.get();
  return m.values.filter((v) => verb === undefined || v.labels.verb === verb).reduce((n, v) => n + v.value, 0);
}

standSuite('operator: cutover from kaasops', {}, (stand) => {
  it("takes over kaasops' fields without rolling agents; a field then removed from the Vector leaves", async () => {
    const agent = {
      labels: { team: 'payments' },
      tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }],
    };
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector', { agent }));
    const vector = await stand().get(vectorPath('vector', 'logs'));
    assert.ok(vector);
    await writeAsKaasops(stand(), vector);
    const before = await stand().get<V1DaemonSet>(dsPath('vector', 'logs-agent'));
    assert.deepEqual(managers(before as KubeObject), ['manager/Update']);

    const lines: string[] = [];
    const log: Logger = {
      info: (o, msg) => lines.push(`${msg} ${JSON.stringify(o)}`),
      warn() {},
      error() {},
      debug() {},
    };
    const op = operator(stand(), { log });
    await op.start();
    try {
      const ds = await eventually('the DaemonSet owned by our field manager alone', async () => {
        const d = await stand().get<V1DaemonSet>(dsPath('vector', 'logs-agent'));
        return managers(d as KubeObject).join() === 'vector-operator/Apply' ? d : undefined;
      });
      assert.equal(ds.metadata?.generation, before?.metadata?.generation, 'same content: no rollout');
      assert.deepEqual(ds.spec?.template, before?.spec?.template);
      const secret = await stand().get(secretPath('vector', 'logs-agent'));
      assert.deepEqual(managers(secret), ['vector-operator/Apply']);
      assert.ok(
        lines.some((l) => l.startsWith('took ownership') && l.includes('"kind":"DaemonSet"')),
        `a log line names the takeover: ${lines.join(' | ')}`,
      );
      // The objects are taken over one by one; the DaemonSet above need not be the last of them.
      await eventually('Secret, DaemonSet and ServiceAccount taken over', async () => (await writes(op, 'adopt')) >= 3);

      await stand().patch(vectorPath('vector', 'logs'), { spec: { agent: { labels: null, tolerations: null } } });
      const after = await eventually('the fields kaasops wrote gone after their removal from the Vector', async () => {
        const d = await stand().get<V1DaemonSet>(dsPath('vector', 'logs-agent'));
        return d?.spec?.template.spec?.tolerations === undefined && d?.metadata?.labels?.team === undefined
          ? d
          : undefined;
      });
      assert.equal(after.spec?.template.metadata?.labels?.team, undefined);
    } finally {
      await op.stop();
    }

    const again = await restartOperator(stand(), { vector: 1 });
    try {
      assert.equal(await writes(again), 0, 'after the cutover a reconcile that changes nothing writes nothing');
      assert.deepEqual(await stand().writes(), {}, 'the API server saw no write');
    } finally {
      await again.stop();
    }
  });
});
