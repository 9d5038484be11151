/**
 * The tenant policy through the operator, against the API server stand-in: a team's lua pipeline is refused with a
 * status naming the component and the field while its neighbours and an admin's ClusterVectorPipeline with the same
 * lua keep flowing; under the compatibility setting (warn mode) it keeps flowing with a condition and an Event.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPolicy } from '../../src/pipelines/policy.ts';
import {
  agentJson,
  cvpPath,
  eventually,
  operator,
  secretPath,
  startStand,
  vectorObj,
  vectorPath,
  vpObj,
  vpPath,
  type Stand,
} from './stand.ts';

const luaSpec = {
  sources: { pods: { type: 'kubernetes_logs' } },
  transforms: {
    steal: {
      type: 'lua',
      inputs: ['pods'],
      version: '2',
      hooks: { process: 'process' },
      source:
        "function process(e, emit) e.log.k = io.open('/var/lib/kubelet/pki/kubelet-client-current.pem'):read('*a') emit(e) end",
    },
  },
  sinks: { out: { type: 'blackhole', inputs: ['steal'] } },
};

interface Status {
  configCheckResult?: boolean;
  reason?: string;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

async function setUp(stand: Stand): Promise<void> {
  await stand.create(vectorPath('vector'), vectorObj('logs', 'vector'));
  await stand.create(vpPath('team-a'), vpObj('team-a', 'steal', luaSpec));
  await stand.create(vpPath('team-a'), vpObj('team-a', 'app'));
  await stand.create(vpPath('team-b'), vpObj('team-b', 'app'));
  await stand.create(cvpPath(), {
    apiVersion: 'observability.kaasops.io/v1alpha1',
    kind: 'ClusterVectorPipeline',
    metadata: { name: 'admin-lua' },
    spec: luaSpec,
  });
}

const statusOf = (stand: Stand, ns: string, name: string) =>
  eventually(`status of ${ns}/${name}`, async () => {
    const p = await stand.get<{ status?: Status }>(vpPath(ns, name));
    return p?.status?.configCheckResult === undefined ? undefined : p.status;
  });

describe('operator: tenant policy, enforced (the default)', () => {
  let stand: Stand;
  before(async () => {
    stand = await startStand();
  });
  after(async () => {
    await stand.close();
  });

  it('refuses the lua pipeline by name and field; its neighbours and the admin pipeline keep flowing', async () => {
    await setUp(stand);
    const op = operator(stand);
    await op.start();
    try {
      const cfg = await eventually('the config with the neighbours and the admin pipeline', async () => {
        const c = agentJson(await stand.get(secretPath('vector', 'logs-agent')));
        const ok = ['team-a-app-pods', 'team-b-app-pods', 'admin-lua-pods'].every((id) => c?.sources?.[id]);
        return ok ? c : undefined;
      });
      assert.equal(cfg.sources?.['team-a-steal-pods'], undefined);
      assert.equal((cfg.transforms?.['admin-lua-steal'] as { type?: string } | undefined)?.type, 'lua');
      const st = await statusOf(stand, 'team-a', 'steal');
      assert.equal(st.configCheckResult, false);
      assert.match(st.reason ?? '', /VectorPipeline team-a\/steal: spec\.transforms\.steal\.type: type 'lua'/);
      assert.match(st.reason ?? '', /--pipeline-policy=warn/);
      const valid = st.conditions?.find((c) => c.type === 'Valid');
      assert.deepEqual([valid?.status, valid?.reason], ['False', 'PolicyViolation']);
      assert.equal((await statusOf(stand, 'team-b', 'app')).configCheckResult, true);
    } finally {
      await op.stop();
    }
  });
});

describe('operator: tenant policy in warn mode (kaasops compatibility)', () => {
  let stand: Stand;
  before(async () => {
    stand = await startStand();
  });
  after(async () => {
    await stand.close();
  });

  it('keeps the lua pipeline flowing, with a PolicyCompliant=False condition and a Warning Event', async () => {
    await setUp(stand);
    const op = operator(stand, {
      flags: {
        optimize: false,
        migration: false,
        mergerImage: 'merger:test',
        policy: { ...defaultPolicy, mode: 'warn' },
      },
    });
    await op.start();
    try {
      await eventually('the lua pipeline in the config', async () => {
        const c = agentJson(await stand.get(secretPath('vector', 'logs-agent')));
        return c?.transforms?.['team-a-steal-steal'] !== undefined;
      });
      const st = await statusOf(stand, 'team-a', 'steal');
      assert.equal(st.configCheckResult, true);
      const flagged = st.conditions?.find((c) => c.type === 'PolicyCompliant');
      assert.deepEqual([flagged?.status, flagged?.reason], ['False', 'Tolerated']);
      assert.match(flagged?.message ?? '', /--pipeline-policy=warn.*spec\.transforms\.steal\.type.*io and os/);
      const neighbour = await statusOf(stand, 'team-a', 'app');
      assert.equal(
        neighbour.conditions?.find((c) => c.type === 'PolicyCompliant'),
        undefined,
      );
      const events = await eventually('the Warning Event on the pipeline', async () => {
        const list = await stand.get<{
          items: { type: string; reason: string; message: string; involvedObject: { kind: string; name: string } }[];
        }>('/api/v1/namespaces/team-a/events');
        const mine = list?.items.filter((e) => e.involvedObject.kind === 'VectorPipeline');
        return mine !== undefined && mine.length > 0 ? mine : undefined;
      });
      assert.deepEqual(
        events.map((e) => [e.type, e.reason, e.involvedObject.name]),
        [['Warning', 'UnsafePipelineTolerated', 'steal']],
      );
      assert.match(events[0]?.message ?? '', /spec\.transforms\.steal\.type/);
    } finally {
      await op.stop();
    }
  });
});
