/**
 * `run --watch-namespace`: nothing outside the watched namespace is ever deleted or changed. Two operators, each
 * scoped to its own namespace, run side by side on one cluster; neither touches the other's objects, the
 * cluster-scoped RBAC included (a scoped operator used to delete every other Vector's ClusterRole and binding).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Operator } from '../../src/operator/operator.ts';
import type { Logger } from '../../src/operator/controller-context.ts';
import { inScope } from '../../src/operator/informers.ts';
import { createMetrics } from '../../src/operator/metrics.ts';
import { VectorReconciler } from '../../src/operator/vector-controller.ts';
import type { ControllerContext } from '../../src/operator/controller-context.ts';
import { dsPath, eventually, operator, secretPath, vectorObj, vectorPath, type Stand } from './stand.ts';
import { standSuite } from './stand-suite.ts';

const rbac = '/apis/rbac.authorization.k8s.io/v1';

/** uid and resourceVersion of each object: equal before and after means neither deleted nor changed. */
async function fingerprint(stand: Stand, paths: string[]): Promise<string[]> {
  return Promise.all(
    paths.map(async (p) => {
      const o = await stand.get(p);
      return `${p} ${o?.metadata?.uid ?? 'gone'} ${o?.metadata?.resourceVersion ?? ''}`;
    }),
  );
}

const objectsOf = (ns: string): string[] => [
  `${rbac}/clusterroles/${ns}.logs-agent`,
  `${rbac}/clusterrolebindings/${ns}.logs-agent`,
  dsPath(ns, 'logs-agent'),
  secretPath(ns, 'logs-agent'),
  `/api/v1/namespaces/${ns}/serviceaccounts/logs-agent`,
];

/** Waits until `op` has reconciled its Vectors `n` times (its first sync and resyncs): a bound, not a delay. */
async function resynced(op: Operator, n: number): Promise<void> {
  await eventually(`${n} reconciles`, async () => {
    const m = await op.metrics.reconciles.get();
    return m.values.filter((v) => v.labels.controller === 'vector').reduce((sum, v) => sum + v.value, 0) >= n;
  });
}

async function reconciled(stand: Stand, ns: string): Promise<void> {
  await eventually(`the Vector in ${ns} reconciled`, async () => {
    const v = await stand.get<{ status?: { configCheckResult?: boolean } }>(vectorPath(ns, 'logs'));
    const binding = await stand.get(`${rbac}/clusterrolebindings/${ns}.logs-agent`);
    return v?.status?.configCheckResult === true && binding !== undefined;
  });
}

describe('inScope', () => {
  it('keeps a key inside the watched namespace only, and every key without one', () => {
    assert.equal(inScope('team-a/logs', 'team-a'), true);
    assert.equal(inScope('team-b/logs', 'team-a'), false);
    assert.equal(inScope('team-ab/logs', 'team-a'), false, 'a namespace that only starts with the name is outside');
    assert.equal(inScope('team-b/logs', undefined), true);
    assert.equal(inScope('team-b/logs', ''), true);
  });
});

describe('VectorReconciler with --watch-namespace', () => {
  it('refuses a key outside the namespace before reading anything: one warning, every refusal counted', async () => {
    const warnings: string[] = [];
    const metrics = createMetrics(() => ({}));
    const untouchable = new Proxy(
      {},
      {
        get(_t, prop) {
          throw new Error(`touched ${String(prop)}`);
        },
      },
    );
    const ctx = {
      caches: untouchable,
      applier: untouchable,
      written: untouchable,
      events: untouchable,
      validator: untouchable,
      flags: untouchable,
      metrics,
      log: { info() {}, debug() {}, error() {}, warn: (_o: object, msg: string) => warnings.push(msg) },
      watchNamespace: 'team-a',
    } as unknown as ControllerContext;
    const r = new VectorReconciler(ctx);
    assert.equal(await r.reconcile('team-b/logs'), undefined);
    assert.equal(await r.reconcile('team-b/logs'), undefined);
    assert.deepEqual(warnings, ['Vector outside --watch-namespace: skipped, nothing of it is written or deleted']);
    const skipped = await metrics.skipped.get();
    assert.deepEqual(
      skipped.values.map((v) => [v.labels.reason, v.value]),
      [['out-of-scope', 2]],
    );
  });
});

standSuite('operator: --watch-namespace keeps to its namespace', {}, (stand) => {
  it("two operators scoped to two namespaces never touch each other's objects", async () => {
    await stand().create(vectorPath('team-a'), vectorObj('logs', 'team-a'));
    await stand().create(vectorPath('team-b'), vectorObj('logs', 'team-b'));
    const warnings: string[] = [];
    const log: Logger = { info() {}, debug() {}, error() {}, warn: (_o, msg) => warnings.push(msg) };
    const b = operator(stand(), { watchNamespace: 'team-b', resyncMs: 200 });
    await b.start();
    const a = operator(stand(), { watchNamespace: 'team-a', resyncMs: 200, log });
    try {
      await reconciled(stand(), 'team-b');
      const before = await fingerprint(stand(), objectsOf('team-b'));
      await a.start();
      await reconciled(stand(), 'team-a');
      // A's caches have listed and resynced everything it can see several times over by now.
      await resynced(a, 5);
      assert.deepEqual(await fingerprint(stand(), objectsOf('team-b')), before, "team-b's objects untouched by team-a");
      const aObjects = await fingerprint(stand(), objectsOf('team-a'));
      assert.ok(
        aObjects.every((l) => !l.includes(' gone ')),
        `team-a converged: ${aObjects.join(', ')}`,
      );
      assert.deepEqual(warnings, [], 'nothing outside the scope was even seen');
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a scoped operator leaves the RBAC of a Vector outside its namespace alone, even with no operator there', async () => {
    // team-b's Vector was set up by a cluster-wide operator that is gone now (an upgrade to scoped operators).
    const wide = operator(stand());
    await wide.start();
    await reconciled(stand(), 'team-b');
    await wide.stop();
    const before = await fingerprint(stand(), objectsOf('team-b'));
    const a = operator(stand(), { watchNamespace: 'team-a', resyncMs: 200 });
    await a.start();
    try {
      await reconciled(stand(), 'team-a');
      await resynced(a, 5);
      assert.deepEqual(await fingerprint(stand(), objectsOf('team-b')), before);
    } finally {
      await a.stop();
    }
  });
});
