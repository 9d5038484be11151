/**
 * The operator converges like a real controller: a field removed from a Vector leaves the DaemonSet, a reconcile that
 * changes nothing still writes nothing, and a user volume or mount named like a built-in one replaces it (kaasops
 * #203) instead of being sent twice, which a real API server rejects. Assertions read API-visible state only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { dsPath, eventually, operator, startStand, vectorObj, vectorPath, type Stand } from './stand.ts';

type Template = NonNullable<NonNullable<V1DaemonSet['spec']>['template']['spec']>;

async function template(stand: Stand, ns: string, name: string): Promise<Template | undefined> {
  const ds = await stand.get<V1DaemonSet>(dsPath(ns, name));
  return ds?.spec?.template.spec;
}

describe('operator: converging on removals and on user volumes', () => {
  let stand: Stand;
  before(async () => {
    stand = await startStand();
  });
  after(async () => {
    await stand.close();
  });

  it('a user volume and mount named like the built-in `data` replace it: one volume, one mount', async () => {
    const agent = {
      volumes: [{ name: 'data', hostPath: { path: '/srv/vector' } }],
      volumeMounts: [{ name: 'data', mountPath: '/vector-data-dir' }],
    };
    await stand.create(vectorPath('vector'), vectorObj('own-data', 'vector', { agent }));
    const op = operator(stand);
    await op.start();
    try {
      const spec = await eventually('the DaemonSet', async () => template(stand, 'vector', 'own-data-agent'));
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
});
