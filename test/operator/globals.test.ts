/**
 * Global options (`expire_metrics_secs`): kaasops' status hash, and the one restart a change of them needs, without
 * kaasops' second rollout, re-stamp on retry or stamp leaking into metadata.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { desiredState, type Observed, type OperatorFlags } from '../../src/operator/desired.ts';
import { globalConfigHash, globalsStep, restartedAtAnnotation, restartStamp } from '../../src/operator/globals.ts';
import { vectorStatus } from '../../src/operator/status.ts';
import { logsToSink, vector } from '../helpers/fixtures.ts';

const off: OperatorFlags = { optimize: false, migration: false, mergerImage: 'merger:test', podMonitor: false };
const ds = (objs: { kind?: string }[]): V1DaemonSet => objs.find((o) => o.kind === 'DaemonSet') as V1DaemonSet;
const stampOf = (d: V1DaemonSet | undefined): string | undefined =>
  d?.spec?.template.metadata?.annotations?.[restartedAtAnnotation];

/** The live DaemonSet after the operator applied `d`, rolled out. */
function applied(d: V1DaemonSet): V1DaemonSet {
  const live = structuredClone(d);
  live.metadata = Object.assign({}, d.metadata, { generation: 1 });
  live.status = {
    observedGeneration: 1,
    desiredNumberScheduled: 2,
    updatedNumberScheduled: 2,
    numberAvailable: 2,
    currentNumberScheduled: 2,
    numberMisscheduled: 0,
    numberReady: 2,
  };
  return live;
}

/** What the cluster shows after `d` is applied: its Secrets and DaemonSet, the rollout complete or not. */
function observe(d: ReturnType<typeof desiredState>, complete: boolean): Observed {
  const secrets: Observed['secrets'] = {};
  for (const o of d.objects) if (o.kind === 'Secret') secrets[o.metadata?.name === 'logs-agent' ? 'agent' : 'opt'] = o;
  const live = applied(ds(d.objects));
  if (!complete) live.metadata = Object.assign({}, live.metadata, { generation: 2 });
  return { daemonSet: live, secrets };
}

describe('global options: hash and restart stamp', () => {
  it("hashes exactly as kaasops' GetGlobalConfigHash (its test vectors)", () => {
    assert.equal(globalConfigHash(undefined), 2055584866);
    assert.equal(globalConfigHash({}), 2055584866);
    assert.equal(globalConfigHash({ expireMetricsSecs: 300 }), 3540258862);
    assert.equal(globalConfigHash({ expireMetricsSecs: 60 }), 3542637306);
  });

  it('stamps from the hash only when a recorded hash differs; otherwise keeps what the template has', () => {
    const h = globalConfigHash({ expireMetricsSecs: 300 });
    assert.equal(restartStamp({ hash: h, applied: undefined, liveStamp: undefined }), undefined, 'nothing recorded');
    assert.equal(restartStamp({ hash: h, applied: h, liveStamp: undefined }), undefined, 'unchanged');
    assert.equal(restartStamp({ hash: h, applied: 2055584866, liveStamp: undefined }), `globals-${h}`);
    // kaasops' time stamp survives a cutover with equal globals: removing it would roll every agent.
    const kaasops = '2026-08-21T10:04:31Z';
    assert.equal(restartStamp({ hash: h, applied: h, liveStamp: kaasops }), kaasops);
    assert.equal(restartStamp({ hash: h, applied: 2055584866, liveStamp: kaasops }), `globals-${h}`);
  });

  it('holds the stamp and the record while the mounted Secret keeps its content (nothing new reaches the pods)', () => {
    const step = globalsStep({ expireMetricsSecs: 60 }, 2055584866, undefined, false);
    assert.deepEqual(step, { stamp: undefined, record: 2055584866 });
  });

  it('one change of expireMetricsSecs changes the template once: retries and later reconciles write the same', () => {
    const before = vector({ agent: { expireMetricsSecs: 300 } });
    const first = desiredState(before, [logsToSink('team-a')], off, { daemonSet: undefined, secrets: {} });
    assert.equal(stampOf(ds(first.objects)), undefined, 'a new agent needs no restart');
    assert.equal(first.globalConfigHash, 3540258862);
    const live = applied(ds(first.objects));

    const changed = vector({ agent: { expireMetricsSecs: 60 } });
    const observed: Observed = { daemonSet: live, secrets: {}, globalConfigHash: 3540258862 };
    const step = desiredState(changed, [logsToSink('team-a')], off, observed);
    const stamped = ds(step.objects);
    assert.equal(stampOf(stamped), 'globals-3542637306');
    assert.equal(step.globalConfigHash, 3542637306);
    // Only the template's annotation differs from before the change.
    const withoutStamp = structuredClone(stamped);
    Reflect.deleteProperty(withoutStamp.spec?.template.metadata ?? {}, 'annotations');
    assert.equal(stringify(withoutStamp), stringify(ds(first.objects)));

    // A retry whose status write failed (the record is still the old hash) writes the same stamp: no new rollout.
    const retry = desiredState(changed, [logsToSink('team-a')], off, { ...observed, daemonSet: applied(stamped) });
    assert.equal(stringify(ds(retry.objects)), stringify(stamped));
    // Once recorded, the stamp stays as the template has it: no second rollout.
    const later = desiredState(changed, [logsToSink('team-a')], off, {
      daemonSet: applied(stamped),
      secrets: {},
      globalConfigHash: 3542637306,
    });
    assert.equal(stringify(ds(later.objects)), stringify(stamped));
  });

  it('puts the stamp on the pod template only, never on the DaemonSet or other objects', () => {
    const v = vector({ agent: { expireMetricsSecs: 60, annotations: { team: 'platform' } } });
    const d = desiredState(v, [], off, { daemonSet: undefined, secrets: {}, globalConfigHash: 2055584866 });
    const set = ds(d.objects);
    assert.deepEqual(set.spec?.template.metadata?.annotations, {
      team: 'platform',
      [restartedAtAnnotation]: 'globals-3542637306',
    });
    for (const o of d.objects) assert.equal(o.metadata?.annotations?.[restartedAtAnnotation], undefined, o.kind);
    assert.deepEqual(v.spec.agent?.annotations, { team: 'platform' }, "the Vector's map is not touched");
  });

  it('with checkpoint migration, a globals change stamps without moving the mount', () => {
    const flags = { ...off, migration: true, optimize: true };
    const v = vector({ agent: { expireMetricsSecs: 300 } });
    const first = desiredState(v, [logsToSink('team-a')], flags, { daemonSet: undefined, secrets: {} });
    const live = applied(ds(first.objects));
    const changed = vector({ agent: { expireMetricsSecs: 60 } });
    const step = desiredState(changed, [logsToSink('team-a')], flags, {
      daemonSet: live,
      secrets: {},
      globalConfigHash: 3540258862,
    });
    assert.equal(step.plan.mount, first.plan.mount);
    assert.equal(step.plan.roll, undefined, 'no rename: the stamp is the only template change');
    assert.equal(stampOf(ds(step.objects)), 'globals-3542637306');
  });

  it('while a rename waits for a rollout, the globals wait with it; then both go in one template change', () => {
    const flags = { ...off, migration: true, optimize: true };
    const solo = { glob_minimum_cooldown_ms: 60_000 };
    const base = [logsToSink('a'), logsToSink('b'), logsToSink('c', 'solo', solo)];
    const v300 = vector({ agent: { expireMetricsSecs: 300 } });
    const v60 = vector({ agent: { expireMetricsSecs: 60 } });
    let seen: Observed = { daemonSet: undefined, secrets: {} };
    for (let i = 0; i < 3; i++) seen = observe(desiredState(v300, base, flags, seen), true);
    // A group going 1 -> 2 renames: the template switches Secrets, and the rollout has not completed yet.
    const renaming = desiredState(v300, [...base, logsToSink('d', 'solo', solo)], flags, seen);
    assert.equal(renaming.plan.roll, 'rename');
    const rolling = { ...observe(renaming, false), globalConfigHash: 3540258862 };
    // Back to one member (renames again) and a new expireMetricsSecs: the pods' Secret keeps its content.
    const waiting = desiredState(v60, base, flags, rolling);
    assert.equal(waiting.plan.phase, 'Waiting');
    assert.equal(stampOf(ds(waiting.objects)), undefined, 'no restart into a config without the new globals');
    assert.equal(waiting.globalConfigHash, 3540258862, 'the record stays until the globals reach the pods');
    const done = desiredState(v60, base, flags, { ...observe(waiting, true), globalConfigHash: 3540258862 });
    assert.equal(done.plan.roll, 'rename');
    assert.equal(stampOf(ds(done.objects)), 'globals-3542637306');
    assert.equal(done.globalConfigHash, 3542637306);
  });

  it('records the hash in status only when the objects were applied', () => {
    const v = vector({ agent: { expireMetricsSecs: 60 } });
    const d = desiredState(v, [], off, { daemonSet: undefined, secrets: {}, globalConfigHash: 2055584866 });
    const outcome = { desired: d, generation: 1, migrationFlag: false, counts: undefined, published: true };
    const now = '2026-12-07T00:00:00Z';
    const ok = vectorStatus({ ...outcome, mountedJson: undefined }, undefined, now);
    assert.equal(ok.LastAppliedGlobalConfigHash, 3542637306);
    const refused = vectorStatus(
      { ...outcome, mountedJson: undefined, checkFailure: 'logs-agent: bad sink' },
      { LastAppliedGlobalConfigHash: 2055584866 },
      now,
    );
    assert.equal(refused.LastAppliedGlobalConfigHash, 2055584866, 'held back: the change still stamps later');
  });
});
