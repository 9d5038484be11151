/**
 * Pipeline secrets end to end, on the stand-in and the real API server: a team's Elasticsearch credentials reach the
 * agent through the assets Secret and its mount, never through the config; a rotation rewrites the assets only (no
 * agent roll) and moves `relatedSecretsHash`; a missing Secret is reported on the pipeline, which is left out alone;
 * dropping the references removes the mount and the assets once the prune grace has passed; under checkpoint
 * migration each config Secret has its assets, the served one is mounted, and `-opt` goes with migration.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../../src/kube/client.ts';
import { relatedSecretsToken } from '../../src/pipelines/secrets.ts';
import type { Operator } from '../../src/operator/operator.ts';
import {
  agentJson,
  completeRollout,
  createSecret,
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

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The object at `path` as the API server's JSON text (no JSON.parse: int64 digits intact). */
async function rawGet(kc: KubeConfig, path: string): Promise<string> {
  const url = new URL(`${kc.getCurrentCluster()?.server ?? ''}${path}`);
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
    });
    req.on('error', reject);
    req.end();
  });
}
const esSpec = {
  sources: { pods: { type: 'kubernetes_logs' } },
  sinks: {
    es: {
      type: 'elasticsearch',
      inputs: ['pods'],
      endpoints: ['https://es:9200'],
      auth: { strategy: 'basic', user: 'SECRET[es.username]', password: 'SECRET[es.password]' },
    },
  },
  secret: { es: { type: 'kubernetes_secret', name: 'creds' } },
};

type Ds = KubeObject & {
  metadata: { generation?: number };
  spec: {
    template: {
      spec: {
        volumes?: { name: string; secret?: { secretName: string } }[];
        containers: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
      };
    };
  };
};
type Secret = KubeObject & { data?: Record<string, string> };
type PipelineStatus = { configCheckResult?: boolean; reason?: string; relatedSecretsHash?: number };

standSuite('pipeline secrets', {}, (stand, target) => {
  let op: Operator | undefined;
  const assets = () => stand().get<Secret>(secretPath('vector', 'logs-agent-secret-assets'));
  const ds = () => stand().get<Ds>(dsPath('vector', 'logs-agent'));
  const pipelineStatus = async (name: string) =>
    (await stand().get<{ status?: PipelineStatus }>(vpPath('team-a', name)))?.status;
  after(async () => {
    await op?.stop();
  });

  it('publishes references in the config, values in the assets Secret, mounted in the vector container', async () => {
    await createSecret(stand(), 'team-a', 'creds', { data: { username: b64('elastic'), password: b64('s3cr3t') } });
    await stand().create(vpPath('team-a'), vpObj('team-a', 'es-pipeline', esSpec));
    await stand().create(vpPath('team-b'), vpObj('team-b', 'plain'));
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector'));
    // A short prune grace (90 s in the product): the last test waits for it.
    op = operator(stand(), {
      flags: { optimize: false, migration: false, mergerImage: 'merger:test', assetsPruneGraceMs: 1000 },
    });
    await op.start();
    const data = await eventually('the assets Secret', async () => (await assets())?.data);
    assert.deepEqual(data, {
      team_a_es_pipeline_es_password: b64('s3cr3t'),
      team_a_es_pipeline_es_username: b64('elastic'),
    });
    const config = await eventually('the config', async () =>
      agentJson(await stand().get(secretPath('vector', 'logs-agent'))),
    );
    const sink = config.sinks?.['team-a-es-pipeline-es'] as { auth: Record<string, string> };
    assert.equal(sink.auth.password, 'SECRET[k8s.team_a_es_pipeline_es_password]');
    assert.deepEqual(config.secret, { k8s: { path: '/etc/vector/secrets', type: 'directory' } });
    assert.ok(!JSON.stringify(config).includes('s3cr3t'));
    const pod = await eventually('the mount', async () => {
      const spec = (await ds())?.spec.template.spec;
      return spec?.volumes?.some((v) => v.name === 'secret-assets') === true ? spec : undefined;
    });
    const last = pod.volumes?.at(-1);
    assert.equal(last?.name, 'secret-assets', 'the volume goes last');
    assert.equal(last.secret?.secretName, 'logs-agent-secret-assets');
    assert.deepEqual(pod.containers[0]?.volumeMounts?.at(-1), {
      name: 'secret-assets',
      mountPath: '/etc/vector/secrets',
    });
    const status = await eventually('relatedSecretsHash', async () => {
      const s = await pipelineStatus('es-pipeline');
      return s?.relatedSecretsHash === undefined ? undefined : s;
    });
    assert.equal(status.configCheckResult, true);
  });

  it("writes relatedSecretsHash as kaasops' exact int64, past 2^53", async () => {
    const meta = (await stand().get(secretPath('team-a', 'creds')))?.metadata ?? {};
    const token = relatedSecretsToken([
      { namespace: 'team-a', name: 'creds', uid: meta.uid ?? '', resourceVersion: meta.resourceVersion ?? '' },
    ]);
    const text = await rawGet(stand().kc, vpPath('team-a', 'es-pipeline'));
    const stored = /"relatedSecretsHash":(-?\d+)/.exec(text)?.[1];
    // The real API server keeps int64 digits; the stand-in holds JSON numbers as JS numbers (rounded).
    if (target.name === 'real') assert.equal(stored, String(token));
    else assert.equal(Number(stored), Number(token));
  });

  it('a rotation rewrites the assets only: the agents do not roll, and relatedSecretsHash moves', async () => {
    const generation = (await ds())?.metadata.generation;
    const before = (await pipelineStatus('es-pipeline'))?.relatedSecretsHash;
    const configBefore = (await stand().get<Secret>(secretPath('vector', 'logs-agent')))?.data;
    await stand().patch(
      secretPath('team-a', 'creds'),
      { data: { password: b64('rotated') } },
      'application/merge-patch+json',
    );
    await eventually('the rotated value', async () =>
      (await assets())?.data?.team_a_es_pipeline_es_password === b64('rotated') ? true : undefined,
    );
    await eventually('relatedSecretsHash follows', async () => {
      const h = (await pipelineStatus('es-pipeline'))?.relatedSecretsHash;
      return h !== undefined && h !== before ? true : undefined;
    });
    assert.equal((await ds())?.metadata.generation, generation, 'no agent roll');
    assert.deepEqual((await stand().get<Secret>(secretPath('vector', 'logs-agent')))?.data, configBefore);
  });

  it('a pipeline whose Secret is missing is invalid and left out alone, naming the field', async () => {
    await stand().create(
      vpPath('team-a'),
      vpObj('team-a', 'broken', { ...esSpec, secret: { es: { type: 'kubernetes_secret', name: 'nope' } } }),
    );
    const status = await eventually('the pipeline reports it', async () => {
      const s = await pipelineStatus('broken');
      return s?.configCheckResult === false ? s : undefined;
    });
    assert.equal(
      status.reason,
      'VectorPipeline team-a/broken: spec.secret.es: secret backend "es": failed to get secret team-a/nope: secrets "nope" not found',
    );
    const config = agentJson(await stand().get(secretPath('vector', 'logs-agent')));
    assert.ok(config?.sinks?.['team-a-es-pipeline-es'] !== undefined && config.sinks['team-a-broken-es'] === undefined);
    // Creating the Secret heals it: the pipeline is re-checked on the Secret's event.
    await createSecret(stand(), 'team-a', 'nope', { stringData: { username: 'u', password: 'p' } });
    await eventually('valid once the Secret exists', async () =>
      (await pipelineStatus('broken'))?.configCheckResult === true ? true : undefined,
    );
    await eventually('its values published', async () =>
      (await assets())?.data?.team_a_broken_es_password === b64('p') ? true : undefined,
    );
  });

  it("writes a lost flat-key collision onto the younger pipeline with kaasops' frozen prefix, and heals it", async () => {
    const httpTo = (alias: string, secret: string) => ({
      sources: { pods: { type: 'kubernetes_logs' } },
      sinks: { out: { type: 'http', inputs: ['pods'], uri: `SECRET[${alias}.url]`, encoding: { codec: 'json' } } },
      secret: { [alias]: { type: 'kubernetes_secret', name: secret } },
    });
    for (const name of ['one', 'two'])
      await createSecret(stand(), 'team-a', name, { stringData: { url: `https://${name}` } });
    // Created first, so older (a tie of the second-resolution timestamps goes to the smaller name, `b` too).
    await stand().create(vpPath('team-a'), vpObj('team-a', 'b', httpTo('c_es', 'one')));
    await eventually('the older one published', async () =>
      (await assets())?.data?.team_a_b_c_es_url === b64('https://one') ? true : undefined,
    );
    await stand().create(vpPath('team-a'), vpObj('team-a', 'b-c', httpTo('es', 'two')));
    const status = await eventually('the younger one told', async () => {
      const s = await pipelineStatus('b-c');
      return s?.reason?.startsWith('secret flat key collision: ') === true ? s : undefined;
    });
    assert.equal(status.configCheckResult, false);
    assert.equal(
      status.reason,
      'secret flat key collision: flat key "team_a_b_c_es_url" collides with pipeline team-a/b on Vector ' +
        'vector/logs; rename one of them (or its secret backend alias/key) to change its flat key',
    );
    assert.equal((await assets())?.data?.team_a_b_c_es_url, b64('https://one'), 'the older keeps its value');
    await stand().del(vpPath('team-a', 'b'));
    await eventually('the younger one flows', async () =>
      (await pipelineStatus('b-c'))?.configCheckResult === true ? true : undefined,
    );
    await eventually('with its own value', async () =>
      (await assets())?.data?.team_a_b_c_es_url === b64('https://two') ? true : undefined,
    );
    await stand().del(vpPath('team-a', 'b-c'));
  });

  it('without references, the mount and the assets Secret go once the prune grace has passed', async () => {
    await stand().del(vpPath('team-a', 'es-pipeline'));
    await stand().del(vpPath('team-a', 'broken'));
    await eventually('no assets Secret', async () => ((await assets()) === undefined ? true : undefined));
    const pod = (await ds())?.spec.template.spec;
    assert.ok(!(pod?.volumes ?? []).some((v) => v.name === 'secret-assets'));
    assert.ok(!(pod?.containers[0]?.volumeMounts ?? []).some((m) => m.name === 'secret-assets'));
    const config = agentJson(await stand().get(secretPath('vector', 'logs-agent')));
    assert.equal(config?.secret, undefined);
  });
});

standSuite('pipeline secrets under checkpoint migration', {}, (stand) => {
  let op: Operator | undefined;
  const flags = { optimize: true, mergerImage: 'merger:test', assetsPruneGraceMs: 1000 };
  after(async () => {
    await op?.stop();
  });

  it('keeps an assets Secret per config Secret, mounts the served one, and deletes -opt when migration goes', async () => {
    await createSecret(stand(), 'team-a', 'creds', { stringData: { username: 'u', password: 'p' } });
    await stand().create(vpPath('team-a'), vpObj('team-a', 'es-pipeline', esSpec));
    await stand().create(vectorPath('vector'), vectorObj('logs', 'vector'));
    op = operator(stand(), { flags: { ...flags, migration: true } });
    await op.start();
    for (const name of ['logs-agent-secret-assets', 'logs-agent-opt-secret-assets'])
      await eventually(name, () => stand().get(secretPath('vector', name)));
    const mounted = await eventually('the served slot mounted', async () => {
      const vols = (await stand().get<Ds>(dsPath('vector', 'logs-agent')))?.spec.template.spec.volumes ?? [];
      return vols.find((v) => v.name === 'secret-assets')?.secret?.secretName;
    });
    assert.equal(mounted, 'logs-agent-opt-secret-assets', 'optimized: the -opt config Secret, and its assets');
    await completeRollout(stand(), 'vector', 'logs-agent');
    await op.stop();

    op = operator(stand(), { flags: { ...flags, optimize: false, migration: false } });
    await op.start();
    await eventually('the template mounts logs-agent-secret-assets', async () => {
      const vols = (await stand().get<Ds>(dsPath('vector', 'logs-agent')))?.spec.template.spec.volumes ?? [];
      return vols.some((v) => v.secret?.secretName === 'logs-agent-secret-assets') ? true : undefined;
    });
    await completeRollout(stand(), 'vector', 'logs-agent');
    await eventually('-opt config and assets gone', async () =>
      (await stand().get(secretPath('vector', 'logs-agent-opt'))) === undefined &&
      (await stand().get(secretPath('vector', 'logs-agent-opt-secret-assets'))) === undefined
        ? true
        : undefined,
    );
    assert.ok(await stand().get(secretPath('vector', 'logs-agent-secret-assets')));
  });
});
