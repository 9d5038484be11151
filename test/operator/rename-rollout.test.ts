/**
 * Renames within optimized mode, with checkpoint migration on: the pod template changes exactly when a pipeline
 * change moves a namespace's files to another source id (a group going 1 -> 2 and back, a pipeline opting out), and
 * never for a change that only adds or removes. Pods not yet rolled keep a config without the rename. The DaemonSet
 * controller is simulated by patching the DaemonSet status.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultMergerImage } from '../../src/operator/merger-container.ts';
import { optimizationAnnotation } from '../../src/pipelines/pipeline.ts';
import type { Operator } from '../../src/operator/operator.ts';
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
} from './stand.ts';
import { standSuite } from './stand-suite.ts';

const ns = 'r-on';
/** A signature of its own: a pipeline with it alone keeps its own source; two of them collapse. */
const solo = {
  sources: { pods: { type: 'kubernetes_logs', extra_label_selector: 'app=solo' } },
  sinks: { out: { type: 'blackhole', inputs: ['pods'] } },
};

interface Ds {
  metadata?: { generation?: number };
  spec: { template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } } };
}

standSuite(
  'operator: renames within optimized mode roll the agents',
  { namespaces: [ns, 'team-a', 'team-b', 'team-c'] },
  (stand) => {
    let op: Operator;
    before(async () => {
      op = operator(stand(), { flags: { optimize: true, migration: true, mergerImage: defaultMergerImage } });
      await op.start();
    });
    after(async () => {
      await op.stop();
    });

    const ds = async (): Promise<{ generation: number; mount: string }> => {
      const d = await stand().get<Ds>(dsPath(ns, 'logs-agent'));
      const mount = d?.spec.template.spec.volumes.find((v) => v.name === 'config')?.secret?.secretName ?? '';
      return { generation: d?.metadata?.generation ?? 0, mount };
    };
    const sources = async (secret: string): Promise<string[]> =>
      Object.keys(agentJson(await stand().get(secretPath(ns, secret)))?.sources ?? {}).sort();
    const migration = async (): Promise<{ phase?: string; message?: string } | undefined> =>
      (await stand().get<{ status?: { migration?: { phase?: string; message?: string } } }>(vectorPath(ns, 'logs')))
        ?.status?.migration;
    const events = async (reason: string): Promise<string[]> =>
      (
        (await stand().get<{ items: { reason: string; message: string }[] }>(`/api/v1/namespaces/${ns}/events`))
          ?.items ?? []
      )
        .filter((e) => e.reason === reason)
        .map((e) => e.message);
    /** Waits until the operator has published `check` into the mounted Secret and the status is Steady. */
    const steady = async (what: string, check: (ids: string[]) => boolean): Promise<void> => {
      await eventually(what, async () => {
        const { mount } = await ds();
        return check(await sources(mount)) && (await migration())?.phase === 'Steady';
      });
    };

    it('rolls for 1 -> 2 and 2 -> 1 and an opt-out, and only for them', async () => {
      // Pipelines first: the Vector's first config already holds them all.
      for (const team of ['team-a', 'team-b']) await stand().create(vpPath(team), vpObj(team, 'app'));
      await stand().create(vpPath('team-c'), vpObj('team-c', 'solo', solo));
      await stand().create(vectorPath(ns), vectorObj('logs', ns));
      await eventually('the first template', async () => (await ds()).mount === 'logs-agent-opt');
      await completeRollout(stand(), ns, 'logs-agent');
      await steady('the first config', (ids) => ids.includes('team-c-solo-pods'));
      const first = await ds();

      // An addition: team-c joins the group's selector. Nothing renames: a live reload, the template is untouched.
      await stand().create(vpPath('team-c'), vpObj('team-c', 'app'));
      await steady('team-c in the group', (ids) => ids.length === 2);
      const grouped = await sources(first.mount);
      assert.equal((await ds()).generation, first.generation, 'no roll for an addition');

      // 1 -> 2: a second pipeline of the solo signature collapses both into a new source; team-c's files move.
      await stand().create(vpPath('team-a'), vpObj('team-a', 'solo', solo));
      const rolled = await eventually('the switch to -agent', async () => {
        const now = await ds();
        return now.mount === 'logs-agent' ? now : undefined;
      });
      assert.ok(rolled.generation > first.generation);
      assert.deepEqual(await sources('logs-agent-opt'), grouped, 'pods not yet rolled keep the config they run');
      assert.equal((await sources('logs-agent')).filter((id) => id.startsWith('optimizedSource-')).length, 2);
      const renamed = await eventually('the SourcesRenamed Event', async () => (await events('SourcesRenamed'))[0]);
      assert.match(renamed, /1 source rename\(s\) over 1 namespace\(s\) \(team-c-solo-pods -> optimizedSource-/);
      assert.match((await migration())?.message ?? '', /team-c-solo-pods -> optimizedSource-/);
      await completeRollout(stand(), ns, 'logs-agent');
      await steady('1 -> 2 settled', (ids) => !ids.includes('team-c-solo-pods'));
      assert.equal((await ds()).mount, 'logs-agent');

      // A removal that renames nothing (team-b leaves the big group): no roll.
      const beforeRemoval = await ds();
      await stand().del(vpPath('team-b', 'app'));
      await steady('team-b gone', (ids) => ids.length === 2);
      assert.equal((await ds()).generation, beforeRemoval.generation, 'no roll for a removal');

      // 2 -> 1: team-c's solo pipeline is alone again and gets its own source back.
      await stand().del(vpPath('team-a', 'solo'));
      await eventually('the switch back to -agent-opt', async () => (await ds()).mount === 'logs-agent-opt');
      await completeRollout(stand(), ns, 'logs-agent');
      await steady('2 -> 1 settled', (ids) => ids.includes('team-c-solo-pods'));

      // An opt-out from a group that goes on: team-c's app pipeline gets a source of its own.
      await stand().patch(
        vpPath('team-c', 'app'),
        { metadata: { annotations: { [optimizationAnnotation]: 'disabled' } } },
        'application/merge-patch+json',
      );
      await eventually('the switch for the opt-out', async () => (await ds()).mount === 'logs-agent');
      // Events are posted after the write that they report, not with it: wait for the third.
      await eventually('the third SourcesRenamed Event', async () => (await events('SourcesRenamed')).length === 3);
    });
  },
);
