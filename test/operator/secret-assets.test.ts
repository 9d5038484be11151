/**
 * The assets Secrets in the desired state: named after the config Secret they serve (`-opt` too under checkpoint
 * migration, deleted with migration off), the config Secret's metadata, mounted only while the mounted slot has
 * values, authoritative over a user's volume or mount of the same name or path, and absent for users without secrets.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import type { V1DaemonSet, V1PodSpec, V1Secret, V1VolumeMount } from '@kubernetes/client-node';
import { desiredState, type Observed, type OperatorFlags } from '../../src/operator/desired.ts';
import { assetsObjectBytes } from '../../src/operator/secret-assets.ts';
import { secretObjectBytes } from '../../src/pipelines/secret-object-size.ts';
import { defaultMergerImage } from '../../src/operator/merger-container.ts';
import type { Pipeline } from '../../src/pipelines/schemas.ts';
import { secretSourceOf } from '../../src/pipelines/secrets.ts';
import { logsToSink, vector, vp } from '../helpers/fixtures.ts';

const flags: OperatorFlags = { optimize: false, migration: false, mergerImage: defaultMergerImage, podMonitor: false };
const withSecret: Pipeline = vp('team-a', 'es', {
  sources: { pods: { type: 'kubernetes_logs' } },
  sinks: { out: { type: 'http', inputs: ['pods'], uri: 'https://x', auth: { token: 'SECRET[t.token]' } } },
  secret: { t: { type: 'kubernetes_secret', name: 'tok' } },
});
const observed: Observed = {
  daemonSet: undefined,
  secrets: {},
  secretValues: secretSourceOf([
    { metadata: { namespace: 'team-a', name: 'tok' }, data: { token: Buffer.from('abc').toString('base64') } },
  ]),
};
const v = vector({ agent: { annotations: { team: 'obs' } } }, { uid: 'u-1' });
const ds = (d: ReturnType<typeof desiredState>): V1DaemonSet =>
  d.objects.find((o) => o.kind === 'DaemonSet') as V1DaemonSet;
const mountsOf = (pod: V1PodSpec | undefined): V1VolumeMount[] => (pod?.containers ?? [])[0]?.volumeMounts ?? [];
const names = (xs: readonly { metadata?: { name?: string } }[]) => xs.map((x) => x.metadata?.name);

describe('secret-assets Secrets in the desired state', () => {
  it('writes <config Secret>-secret-assets with the config Secret metadata, and mounts it last', () => {
    const d = desiredState(v, [withSecret], flags, observed);
    assert.deepEqual(names(d.assets), ['logs-agent-secret-assets']);
    const a = d.assets[0] as V1Secret;
    const config = d.objects[0] as V1Secret;
    assert.deepEqual(a.data, { team_a_es_t_token: Buffer.from('abc').toString('base64') });
    assert.deepEqual(a.metadata?.labels, config.metadata?.labels);
    assert.deepEqual(a.metadata?.ownerReferences, config.metadata?.ownerReferences);
    assert.equal(a.metadata?.annotations?.team, 'obs');
    const pod = ds(d).spec?.template.spec;
    assert.deepEqual(pod?.volumes?.at(-1), {
      name: 'secret-assets',
      secret: { secretName: 'logs-agent-secret-assets' },
    });
    assert.deepEqual(mountsOf(pod).at(-1), {
      name: 'secret-assets',
      mountPath: '/etc/vector/secrets',
    });
    assert.ok(!d.deletions.some((x) => x.name === 'logs-agent-secret-assets'));
    assert.ok(
      d.deletions.some((x) => x.name === 'logs-agent-opt-secret-assets'),
      'no -opt variant without migration',
    );
  });

  it('keeps the template of a Vector without secrets as it was, and deletes both assets Secrets', () => {
    const plain = [logsToSink('team-a')];
    const before = desiredState(v, plain, flags, { daemonSet: undefined, secrets: {} });
    const after = desiredState(v, plain, flags, observed);
    assert.equal(stringify(ds(after)), stringify(ds(before)));
    assert.deepEqual(after.assets, []);
    assert.ok(!JSON.stringify(ds(after)).includes('secret-assets'));
  });

  it('under checkpoint migration, writes the -opt variant too and mounts the slot the template mounts', () => {
    for (const optimize of [false, true]) {
      const d = desiredState(v, [withSecret], { ...flags, migration: true, optimize }, observed);
      assert.deepEqual(names(d.assets), ['logs-agent-secret-assets', 'logs-agent-opt-secret-assets']);
      const mounted = optimize ? 'logs-agent-opt-secret-assets' : 'logs-agent-secret-assets';
      const vol = ds(d).spec?.template.spec?.volumes?.find((x) => x.name === 'secret-assets');
      assert.equal(vol?.secret?.secretName, mounted);
      assert.equal(d.objects[0]?.metadata?.name, optimize ? 'logs-agent-opt' : 'logs-agent');
    }
  });

  it("replaces a user's volume named secret-assets and a user mount at /etc/vector/secrets (authoritative)", () => {
    const user = vector({
      agent: {
        volumes: [
          { name: 'secret-assets', emptyDir: {} },
          { name: 'mine', emptyDir: {} },
        ],
        volumeMounts: [{ name: 'mine', mountPath: '/etc/vector/secrets' }],
      },
    });
    const pod = ds(desiredState(user, [withSecret], flags, observed)).spec?.template.spec;
    assert.deepEqual(
      pod?.volumes?.filter((x) => x.name === 'secret-assets'),
      [{ name: 'secret-assets', secret: { secretName: 'logs-agent-secret-assets' } }],
    );
    assert.deepEqual(
      mountsOf(pod).filter((m) => m.mountPath === '/etc/vector/secrets'),
      [{ name: 'secret-assets', mountPath: '/etc/vector/secrets' }],
    );
  });

  it('leaves the pipeline out, and writes no assets, when its Secret is not found', () => {
    const d = desiredState(v, [withSecret], flags, { daemonSet: undefined, secrets: {} });
    assert.deepEqual(d.assets, []);
    assert.match(d.served.rejected[0]?.reason ?? '', /failed to get secret team-a\/tok: secrets "tok" not found/);
  });

  describe('write safety: the bridge and the prune grace', () => {
    const enc = (x: string) => Buffer.from(x).toString('base64');
    const oldKeys = { team_a_old_t_token: enc('old'), team_a_es_t_token: enc('before') };
    /** The step with the live config Secret as `configured` (the same config: nothing published this round). */
    const step = (live: Partial<Observed>, configured: boolean) => {
      const first = desiredState(v, [withSecret], flags, { ...observed, ...live });
      const secrets = configured ? { agent: first.objects[0] as V1Secret } : {};
      return desiredState(v, [withSecret], flags, { ...observed, ...live, secrets });
    };
    const agentData = (d: ReturnType<typeof desiredState>) =>
      d.assets.find((a) => a.metadata?.name === 'logs-agent-secret-assets')?.data;

    it('writes a rotation at once, never delayed', () => {
      const d = step({ assets: { agent: { team_a_es_t_token: enc('before') } } }, true);
      assert.deepEqual(agentData(d), { team_a_es_t_token: enc('abc') });
      assert.equal(d.requeueAfterMs, undefined);
    });

    it('keeps the keys the new config drops while that config is being published, new values winning', () => {
      const d = step({ assets: { agent: oldKeys } }, false);
      assert.deepEqual(agentData(d), { team_a_es_t_token: enc('abc'), team_a_old_t_token: enc('old') });
      assert.equal(d.requeueAfterMs, undefined, 'the config write wakes the next reconcile');
    });

    it('prunes 90 s after the publish, anchored to lastConfigPublishedAt, and not before', () => {
      const none = step({ assets: { agent: oldKeys } }, true);
      assert.equal(none.requeueAfterMs, 90_000, 'no timestamp: a full grace');
      assert.ok(agentData(none)?.team_a_old_t_token !== undefined);
      const within = step({ assets: { agent: oldKeys }, sincePublishedMs: 30_000 }, true);
      assert.equal(within.requeueAfterMs, 60_000);
      assert.ok(agentData(within)?.team_a_old_t_token !== undefined);
      const past = step({ assets: { agent: oldKeys }, sincePublishedMs: 90_000 }, true);
      assert.deepEqual(agentData(past), { team_a_es_t_token: enc('abc') });
      assert.equal(past.requeueAfterMs, undefined);
    });

    it('keeps the mount and the old values while the last reference goes, then deletes both', () => {
      const plain = [logsToSink('team-a')];
      const first = desiredState(v, plain, flags, observed);
      const live = { ...observed, assets: { agent: oldKeys }, secrets: { agent: first.objects[0] as V1Secret } };
      const bridging = desiredState(v, plain, flags, { ...live, sincePublishedMs: 10_000 });
      assert.deepEqual(agentData(bridging), oldKeys);
      assert.ok(JSON.stringify(ds(bridging)).includes('secret-assets'));
      const pruned = desiredState(v, plain, flags, { ...live, sincePublishedMs: 95_000 });
      assert.deepEqual(pruned.assets, []);
      assert.ok(pruned.deletions.some((x) => x.name === 'logs-agent-secret-assets'));
      assert.ok(!JSON.stringify(ds(pruned)).includes('secret-assets'));
    });

    it('prunes early rather than write a union a Secret cannot hold (it would hold back the config for good)', () => {
      const big = { team_a_gone_t_token: Buffer.alloc(1024 * 1024).toString('base64') };
      const d = step({ assets: { agent: big } }, false);
      assert.deepEqual(agentData(d), { team_a_es_t_token: enc('abc') });
      // Not kaasops' `secret assets waiting for room: `: the new pipeline is published this very round.
      assert.deepEqual(d.served.rejected, []);
      const config = Buffer.from((d.objects[0] as V1Secret).data?.['agent.json'] ?? '', 'base64').toString();
      assert.ok(config.includes('"team-a-es-out"'));
      // The object budget too: 1 700 old keys of 199 characters hold 1 700 bytes of values but 354 kB of object;
      // with 900 kB of new values the union passes kaasops' object budget, not the values limit.
      const many = Object.fromEntries(
        Array.from({ length: 1700 }, (_, i) => [
          `team_a_gone_${String(i).padStart(4, '0')}${'k'.repeat(183)}`,
          enc('x'),
        ]),
      );
      const wide = desiredState(v, [withSecret], flags, {
        ...observed,
        assets: { agent: many },
        secretValues: secretSourceOf([
          { metadata: { namespace: 'team-a', name: 'tok' }, data: { token: enc('v'.repeat(900_000)) } },
        ]),
      });
      assert.deepEqual(Object.keys(agentData(wide) ?? {}), ['team_a_es_t_token']);
    });

    it('deletes the -opt assets at once when migration is off, whatever they held', () => {
      const d = step({ assets: { agent: { team_a_es_t_token: enc('abc') }, opt: oldKeys } }, true);
      assert.ok(d.deletions.some((x) => x.name === 'logs-agent-opt-secret-assets'));
      assert.ok(!d.assets.some((a) => a.metadata?.name === 'logs-agent-opt-secret-assets'));
    });
  });

  it("models the object budget's start from the assets Secret's own metadata, the -opt name under migration", () => {
    const d = desiredState(v, [withSecret], flags, observed);
    const meta = (d.assets[0] as V1Secret).metadata ?? {};
    const owner = meta.ownerReferences?.[0];
    assert.ok(owner !== undefined && meta.annotations !== undefined && meta.labels !== undefined);
    assert.equal(
      assetsObjectBytes(v, false),
      secretObjectBytes({
        name: 'logs-agent-secret-assets',
        namespace: 'vector',
        labels: meta.labels,
        annotations: meta.annotations,
        ownerReferences: [owner],
      }),
    );
    assert.equal(assetsObjectBytes(v, true), assetsObjectBytes(v, false) + '-opt'.length);
  });
});
