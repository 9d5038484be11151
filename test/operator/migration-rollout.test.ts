/**
 * Optimization and checkpoint migration, driven the way a user drives them (operator flags, one restart per change),
 * against the API server stand-in. The DaemonSet controller is simulated by patching the DaemonSet status.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MERGER_VERSION } from '../../src/merger/version.ts';
import { defaultMergerImage } from '../../src/operator/merger-container.ts';
import {
  agentJson,
  completeRollout,
  dsPath,
  eventually,
  operator,
  secretPath,
  vectorObj,
  vectorPath,
  vpObj,
  vpPath,
  type Stand,
} from './stand.ts';
import { standSuite } from './stand-suite.ts';

interface Template {
  volumes: { name: string; secret?: { secretName: string } }[];
  initContainers?: {
    name: string;
    image: string;
    args: string[];
    volumeMounts: { name: string; readOnly?: boolean }[];
  }[];
}

async function template(stand: Stand, ns: string): Promise<Template> {
  const ds = await stand.get<{ spec: { template: { spec: Template } } }>(dsPath(ns, 'logs-agent'));
  assert.ok(ds, 'the DaemonSet exists');
  return ds.spec.template.spec;
}

const mounted = (t: Template): string | undefined => t.volumes.find((v) => v.name === 'config')?.secret?.secretName;
const standby = (t: Template): string | undefined =>
  t.volumes.find((v) => v.name === 'config-standby')?.secret?.secretName;

async function mode(stand: Stand, ns: string, name: string): Promise<string | undefined> {
  const s = await stand.get(secretPath(ns, name));
  if (s === undefined) return undefined;
  const cfg = agentJson(s);
  return Object.keys(cfg?.sources ?? {}).some((k) => k.startsWith('optimizedSource-')) ? 'optimized' : 'legacy';
}

type Flags = { optimize: boolean; migration: boolean };

/** Runs one operator with `flags` until `done` holds, then stops it (a flag change is an operator restart). */
async function withOperator(stand: Stand, flags: Flags, done: () => Promise<boolean>, what: string): Promise<void> {
  const op = operator(stand, { flags: { ...flags, mergerImage: defaultMergerImage } });
  await op.start();
  try {
    await eventually(what, done);
  } finally {
    await op.stop();
  }
}

async function setup(stand: Stand, ns: string): Promise<void> {
  await stand.create(vectorPath(ns), vectorObj('logs', ns));
  for (const team of ['team-a', 'team-b']) await stand.create(vpPath(team), vpObj(team, `app-${ns}`));
}

standSuite(
  'operator: optimization with checkpoint migration off',
  { namespaces: ['m-off', 'team-a', 'team-b'] },
  (stand) => {
    it('switches the config inside <v>-agent in place, and never touches the pod template', async () => {
      await setup(stand(), 'm-off');
      await withOperator(
        stand(),
        { optimize: false, migration: false },
        async () =>
          (await mode(stand(), 'm-off', 'logs-agent')) === 'legacy' &&
          (await stand().get(dsPath('m-off', 'logs-agent'))) !== undefined,
        'legacy',
      );
      const ds = await stand().get(dsPath('m-off', 'logs-agent'));
      const t = await template(stand(), 'm-off');
      assert.equal(mounted(t), 'logs-agent');
      assert.equal(t.initContainers, undefined);

      await withOperator(
        stand(),
        { optimize: true, migration: false },
        async () => (await mode(stand(), 'm-off', 'logs-agent')) === 'optimized',
        'optimized in place',
      );
      assert.equal(
        await stand().get(secretPath('m-off', 'logs-agent-opt')),
        undefined,
        'no -agent-opt with migration off',
      );
      const after = await stand().get(dsPath('m-off', 'logs-agent'));
      assert.equal(after?.metadata?.generation, ds?.metadata?.generation, 'the template did not change: no rollout');

      await withOperator(
        stand(),
        { optimize: false, migration: false },
        async () => (await mode(stand(), 'm-off', 'logs-agent')) === 'legacy',
        'back to legacy',
      );
      assert.equal((await stand().get(dsPath('m-off', 'logs-agent')))?.metadata?.generation, ds?.metadata?.generation);
    });
  },
);

standSuite(
  'operator: optimization with checkpoint migration on',
  { namespaces: ['m-on', 'm-late', 'team-a', 'team-b'] },
  (stand) => {
    it('keeps both Secrets current and rolls the template between them, with the merger in front', async () => {
      await setup(stand(), 'm-on');
      // migration on, optimization off: -agent mounted (legacy), -agent-opt standby (optimized).
      await withOperator(
        stand(),
        { optimize: false, migration: true },
        async () => (await mode(stand(), 'm-on', 'logs-agent-opt')) === 'optimized',
        'the standby',
      );
      let t = await template(stand(), 'm-on');
      assert.equal(mounted(t), 'logs-agent');
      assert.equal(standby(t), 'logs-agent-opt');
      assert.equal(await mode(stand(), 'm-on', 'logs-agent'), 'legacy');
      const merger = t.initContainers?.find((c) => c.name === 'checkpoint-merger');
      assert.ok(merger, 'the checkpoint-merger init container');
      assert.ok(
        merger.image.endsWith(`:${MERGER_VERSION}`),
        `the image tag follows the merger version: ${merger.image}`,
      );
      assert.deepEqual(
        merger.volumeMounts.map((m) => `${m.name}${m.readOnly === true ? ':ro' : ''}`),
        [
          'config:ro',
          'config-standby:ro',
          'data',
          'checkpoint-merger-var-log:ro',
          'checkpoint-merger-docker-containers:ro',
        ],
      );
      await completeRollout(stand(), 'm-on', 'logs-agent');

      // Optimization on: the template switches to -agent-opt; -agent keeps the legacy config for pods not rolled.
      await withOperator(
        stand(),
        { optimize: true, migration: true },
        async () => mounted(await template(stand(), 'm-on')) === 'logs-agent-opt',
        'the switch to -agent-opt',
      );
      t = await template(stand(), 'm-on');
      assert.equal(standby(t), 'logs-agent');
      assert.equal(await mode(stand(), 'm-on', 'logs-agent'), 'legacy');
      assert.equal(await mode(stand(), 'm-on', 'logs-agent-opt'), 'optimized');
      const events = await stand().get<{ items: { reason: string; message: string }[] }>(
        '/api/v1/namespaces/m-on/events',
      );
      assert.ok(events?.items.some((e) => e.reason === 'ConfigModeSwitch' && /legacy to optimized/.test(e.message)));
      await completeRollout(stand(), 'm-on', 'logs-agent');

      // And back: -agent mounted again, the optimized standby kept.
      await withOperator(
        stand(),
        { optimize: false, migration: true },
        async () => mounted(await template(stand(), 'm-on')) === 'logs-agent',
        'the switch back',
      );
      assert.equal(await mode(stand(), 'm-on', 'logs-agent'), 'legacy');
      assert.equal(await mode(stand(), 'm-on', 'logs-agent-opt'), 'optimized');
      await completeRollout(stand(), 'm-on', 'logs-agent');

      // Migration off: the merger goes, and -agent-opt is deleted once no pod can mount it.
      await withOperator(
        stand(),
        { optimize: false, migration: false },
        async () => (await stand().get(secretPath('m-on', 'logs-agent-opt'))) === undefined,
        '-agent-opt deleted',
      );
      t = await template(stand(), 'm-on');
      // Server-side apply drops the emptied list, as a real server does (Go's omitempty), rather than storing [].
      assert.equal('initContainers' in t, false, 'initContainers is dropped, not []');
      assert.equal(standby(t), undefined);
    });

    it('enabling migration while already optimized keeps -agent mounted and optimized: nothing renames', async () => {
      await setup(stand(), 'm-late');
      await withOperator(
        stand(),
        { optimize: true, migration: false },
        async () => (await mode(stand(), 'm-late', 'logs-agent')) === 'optimized',
        'optimized without migration',
      );
      await completeRollout(stand(), 'm-late', 'logs-agent');

      const op = operator(stand(), { flags: { optimize: true, migration: true, mergerImage: defaultMergerImage } });
      await op.start();
      try {
        // The template gains the merger and the legacy standby, and rolls for that; the mount stays.
        const t = await eventually('the merger in the template', async () => {
          const now = await template(stand(), 'm-late');
          return now.initContainers?.some((c) => c.name === 'checkpoint-merger') === true ? now : undefined;
        });
        assert.equal(mounted(t), 'logs-agent');
        assert.equal(standby(t), 'logs-agent-opt');
        assert.equal(await mode(stand(), 'm-late', 'logs-agent'), 'optimized');
        assert.equal(await mode(stand(), 'm-late', 'logs-agent-opt'), 'legacy');
        const rolling = await eventually('status Rolling', async () => {
          const v = await stand().get<{ status?: { migration?: { phase?: string } } }>(vectorPath('m-late', 'logs'));
          return v?.status?.migration?.phase === 'Rolling' ? v.status.migration : undefined;
        });
        assert.equal(rolling.phase, 'Rolling');
        // A pipeline change mid-rollout that renames nothing reaches the pods on -agent by live reload.
        await stand().create(
          vpPath('team-a'),
          vpObj('team-a', 'late-extra', {
            sources: { pods: { type: 'kubernetes_logs', extra_label_selector: 'app=x' } },
            sinks: { out: { type: 'blackhole', inputs: ['pods'] } },
          }),
        );
        await eventually(
          'the new pipeline in -agent',
          async () =>
            agentJson(await stand().get(secretPath('m-late', 'logs-agent')))?.sources?.['team-a-late-extra-pods'],
        );
        await completeRollout(stand(), 'm-late', 'logs-agent');
        await eventually('Steady once every pod rolled', async () => {
          const v = await stand().get<{ status?: { migration?: { phase?: string } } }>(vectorPath('m-late', 'logs'));
          return v?.status?.migration?.phase === 'Steady';
        });
        assert.equal(mounted(await template(stand(), 'm-late')), 'logs-agent');
        assert.equal(await mode(stand(), 'm-late', 'logs-agent'), 'optimized');
      } finally {
        await op.stop();
      }
    });

    it("shows each node's merger outcome on the Vector status", async () => {
      const labels = {
        'app.kubernetes.io/managed-by': 'vector-operator',
        'app.kubernetes.io/name': 'vector',
        'app.kubernetes.io/component': 'Agent',
        'app.kubernetes.io/instance': 'logs',
      };
      const messages = [
        JSON.stringify({ outcome: 'migrated', checkpointsCarried: 7 }),
        JSON.stringify({ outcome: 'failed', checkpointsCarried: 0, error: 'boom' }),
        undefined,
      ];
      for (const [i, message] of messages.entries()) {
        const name = `logs-agent-${i}`;
        await stand().create('/api/v1/namespaces/m-late/pods', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'm-late', labels },
          spec: { nodeName: `node-${i}`, containers: [{ name: 'logs-agent', image: 'vector' }] },
        });
        if (message !== undefined) {
          await stand().patch(`/api/v1/namespaces/m-late/pods/${name}/status`, {
            status: {
              initContainerStatuses: [{ name: 'checkpoint-merger', state: { terminated: { exitCode: 0, message } } }],
            },
          });
        }
      }
      const op = operator(stand(), { flags: { optimize: true, migration: true, mergerImage: defaultMergerImage } });
      await op.start();
      try {
        const m = await eventually('migration counts', async () => {
          const v = await stand().get<{ status?: { migration?: Record<string, unknown> } }>(
            vectorPath('m-late', 'logs'),
          );
          return v?.status?.migration?.nodesFailed === 1 ? v.status.migration : undefined;
        });
        assert.deepEqual([m.nodesMigrated, m.nodesPending, m.nodesFailed, m.checkpointsCarried], [1, 1, 1, 7]);
      } finally {
        await op.stop();
      }
    });
  },
);
