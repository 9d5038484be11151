/** Reflector scenarios against the API server stand-in, over real HTTPS with the real client. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { cm, startLab, type Lab } from '../apiserver/helpers.ts';
import { ManualClock } from '../../src/kube/clock.ts';
import { errorCode, type KubeObject } from '../../src/kube/client.ts';
import { Reflector, type ReflectorOptions } from '../../src/kube/reflector.ts';
import { record } from './helpers.ts';
import { eventually } from '../helpers/eventually.ts';

const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('reflector', () => {
  let lab: Lab;
  const running: Reflector<KubeObject>[] = [];
  let nsCount = 0;

  before(async () => {
    lab = await startLab({ bookmarkIntervalMs: 60_000 });
  });
  after(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await lab.server.close();
  });

  /** A fresh namespace per scenario, so scenarios share one server without seeing each other's objects. */
  async function namespace(): Promise<string> {
    const ns = `r${++nsCount}`;
    await lab.core.createNamespace({ body: { metadata: { name: ns } } });
    return ns;
  }

  function reflector(ns: string, opts: Partial<ReflectorOptions> = {}): Reflector<KubeObject> {
    const r = new Reflector<KubeObject>({
      kc: lab.kc,
      listPath: `/api/v1/namespaces/${ns}/configmaps`,
      watchTimeoutSeconds: 30,
      ...opts,
    });
    running.push(r);
    return r;
  }

  const create = (ns: string, name: string, data: Record<string, string> = {}) =>
    lab.core.createNamespacedConfigMap({ namespace: ns, body: cm(name, {}, data) });
  const patch = (ns: string, name: string, data: Record<string, string>) =>
    lab.core.patchNamespacedConfigMap({ name, namespace: ns, body: { data } }, merge);
  const remove = (ns: string, name: string) => lab.core.deleteNamespacedConfigMap({ name, namespace: ns });

  it('lists, then reports each create, update and delete once, and none for a write that changed nothing', async () => {
    const ns = await namespace();
    await create(ns, 'before');
    const r = reflector(ns, { pageSize: 1 });
    const seen = record(r);
    await r.start();
    assert.ok(r.hasSynced());
    assert.deepEqual(seen, ['add before']);
    // List items arrive without apiVersion/kind on a real server; the store has them either way.
    assert.equal(r.get(`${ns}/before`)?.kind, 'ConfigMap');
    await eventually('the watch is open', () => lab.server.openWatches('configmaps') === 1);

    await create(ns, 'a');
    await patch(ns, 'a', { k: 'v' });
    await patch(ns, 'a', { k: 'v' }); // the server sees no change and keeps the resourceVersion
    await remove(ns, 'a');
    await create(ns, 'b');
    await eventually('the last event', () => seen.includes('add b'));
    assert.deepEqual(seen, ['add before', 'add a', 'update a', 'delete a', 'add b']);
    assert.equal(r.get(`${ns}/a`), undefined);
    assert.deepEqual(
      r
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
      ['b', 'before'],
    );
    await r.stop();
    await eventually('the watch is closed after stop()', () => lab.server.openWatches('configmaps') === 0);
  });

  it('stores and emits the transformed object, from the list and from watch events alike', async () => {
    const ns = await namespace();
    await create(ns, 'listed', { k: 'v' });
    const r = reflector(ns, {
      transform: (o) => ({ ...o, metadata: { ...o.metadata, labels: { seen: 'yes' } } }),
    });
    const emitted: KubeObject[] = [];
    r.on((_e, o) => emitted.push(o));
    await r.start();
    await create(ns, 'watched');
    await eventually('the watched object', () => emitted.length === 2);
    for (const name of ['listed', 'watched'])
      assert.deepEqual(r.get(`${ns}/${name}`)?.metadata?.labels, { seen: 'yes' });
    assert.deepEqual(
      emitted.map((o) => o.metadata?.labels),
      [{ seen: 'yes' }, { seen: 'yes' }],
    );
    await r.stop();
  });

  it('resumes after a dropped watch with no event lost or repeated, and without relisting', async () => {
    const ns = await namespace();
    const r = reflector(ns);
    const seen = record(r);
    lab.server.hooks.resetCounts();
    await r.start();
    await eventually('the watch is open', () => lab.server.openWatches('configmaps') === 1);
    await create(ns, 'x1');
    await eventually('x1', () => seen.length === 1);
    // The connection is cut (a load balancer, an API server restart) while writes go on.
    lab.server.dropWatches();
    await create(ns, 'x2');
    await patch(ns, 'x1', { changed: 'yes' });
    await remove(ns, 'x2');
    await create(ns, 'x3');
    await eventually('the writes made during the drop', () => seen.length === 5);
    assert.deepEqual(seen, ['add x1', 'add x2', 'update x1', 'delete x2', 'add x3']);
    assert.equal(lab.server.hooks.count('list', 'configmaps'), 1, 'no relist');
    assert.ok(lab.server.hooks.count('watch', 'configmaps') >= 2, 're-watched');
    assert.equal(r.get(`${ns}/x1`)?.data && (r.get(`${ns}/x1`)?.data as Record<string, string>).changed, 'yes');
    await r.stop();
  });

  it('relists after a 410 Expired and emits the delete of an object removed while it was away', async () => {
    const ns = await namespace();
    await create(ns, 'stays');
    await create(ns, 'goes');
    await create(ns, 'changes');
    const clock = new ManualClock();
    const r = reflector(ns, { clock, random: () => 1 });
    const seen = record(r);
    await r.start();
    await eventually('the watch is open', () => lab.server.openWatches('configmaps') === 1);
    lab.server.hooks.resetCounts();
    // A drop right after connecting, with nothing received, looks like a flapping server: the reflector backs off.
    // Its clock stands still, so it stays away while the world moves on and the history it needs is compacted.
    lab.server.dropWatches();
    await eventually('the reflector waits', () => lab.server.openWatches('configmaps') === 0 && clock.timers() === 1);
    await remove(ns, 'goes');
    await patch(ns, 'changes', { v: '2' });
    await create(ns, 'new');
    lab.server.compact();
    clock.advance(clock.delays()[0] ?? 0);
    await eventually('the relist diff', () => seen.length === 6);
    assert.deepEqual(seen.slice(3).sort(), ['add new', 'delete goes', 'update changes']);
    assert.equal(lab.server.hooks.count('list', 'configmaps'), 1, 'one relist');
    assert.deepEqual(
      r
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
      ['changes', 'new', 'stays'],
    );
    // And it keeps watching from the relist.
    await create(ns, 'later');
    await eventually('an event after the relist', () => seen.includes('add later'));
    await r.stop();
  });

  it('relists at once when the watch request itself is refused with HTTP 410', async () => {
    const ns = await namespace();
    await create(ns, 'kept');
    const errors: unknown[] = [];
    const r = reflector(ns, { onError: (e) => errors.push(e) });
    const seen = record(r);
    await r.start();
    await eventually('the watch is open', () => lab.server.openWatches('configmaps') === 1);
    await create(ns, 'seen');
    await eventually('seen', () => seen.includes('add seen'));
    lab.server.hooks.resetCounts();
    lab.server.inject({ verb: 'watch', resource: 'configmaps', namespace: ns, code: 410 });
    lab.server.dropWatches();
    await eventually('the relist', () => lab.server.hooks.count('list', 'configmaps') === 1);
    await eventually('watching again', () => lab.server.openWatches('configmaps') === 1);
    await create(ns, 'next');
    await eventually('an event after the relist', () => seen.includes('add next'));
    assert.deepEqual(seen, ['add kept', 'add seen', 'add next'], 'the relist found nothing new to report');
    assert.deepEqual(errors, []);
    await r.stop();
  });

  it('backs off exponentially with jitter on failures, then lists and watches again', async () => {
    const ns = await namespace();
    await create(ns, 'one');
    const clock = new ManualClock();
    const errors: (number | undefined)[] = [];
    const r = reflector(ns, {
      clock,
      random: () => 1, // the top of the jitter range: delays are the nominal ones
      onError: (err) => errors.push(errorCode(err)),
    });
    const seen = record(r);
    lab.server.hooks.resetCounts();
    lab.server.inject({ verb: 'list', resource: 'configmaps', namespace: ns, code: 500, times: 3 });
    let synced = false;
    const started = r.start().then(() => (synced = true));
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await eventually(`backoff ${i + 1}`, () => clock.timers() === 1);
      const d = clock.delays()[0] ?? 0;
      delays.push(d);
      assert.equal(synced, false);
      clock.advance(d);
    }
    await started;
    assert.deepEqual(delays, [500, 1000, 2000]);
    assert.deepEqual(errors, [500, 500, 500]);
    assert.equal(lab.server.hooks.count('list', 'configmaps'), 4);
    assert.deepEqual(seen, ['add one']);

    // A watch that fails (here: the re-watch after a drop gets a 500) is also retried after a backoff, by a relist.
    await eventually('the watch is open', () => lab.server.openWatches('configmaps') === 1);
    lab.server.inject({ verb: 'watch', resource: 'configmaps', namespace: ns, code: 500 });
    await create(ns, 'two');
    await eventually('two', () => seen.includes('add two'));
    lab.server.dropWatches();
    await eventually('the backoff after the failed watch', () => clock.timers() === 1 && errors.length === 4);
    assert.equal(errors[3], 500);
    // The watch had delivered an event before the drop, so the failure count started over.
    assert.deepEqual(clock.delays(), [500]);
    await remove(ns, 'one');
    clock.advance(500);
    await eventually('the relist after the failed watch', () => seen.includes('delete one'));
    assert.equal(lab.server.hooks.count('list', 'configmaps'), 5);
    await r.stop();
  });

  it('re-emits every cached object on resync, without any request', async () => {
    const ns = await namespace();
    await create(ns, 'p');
    await create(ns, 'q');
    const clock = new ManualClock();
    const r = reflector(ns, { clock, resyncMs: 60_000, watchTimeoutSeconds: 3600 });
    const seen = record(r);
    await r.start();
    await eventually('the watch is open', () => lab.server.openWatches('configmaps') === 1);
    lab.server.hooks.resetCounts();
    clock.advance(60_000);
    assert.deepEqual(seen.slice(2).sort(), ['resync p', 'resync q']);
    clock.advance(60_000);
    assert.equal(seen.filter((s) => s === 'resync p').length, 2);
    assert.deepEqual(lab.server.hooks.requestCounts(), {});
    await r.stop();
  });

  it('aborts a watch silent past timeoutSeconds plus the margin, and watches again from where it was', async () => {
    const ns = await namespace();
    const clock = new ManualClock();
    const r = reflector(ns, { clock, watchTimeoutSeconds: 300, watchdogMarginMs: 5_000 });
    const seen = record(r);
    lab.server.hooks.resetCounts();
    await r.start();
    await eventually('the watch is open', () => lab.server.openWatches('configmaps') === 1);
    clock.advance(304_999);
    assert.equal(lab.server.hooks.count('watch', 'configmaps'), 1, 'not yet');
    clock.advance(1);
    await eventually('a second watch', () => lab.server.hooks.count('watch', 'configmaps') === 2);
    await eventually('only the new watch is open', () => lab.server.openWatches('configmaps') === 1);
    await create(ns, 'after');
    await eventually('an event on the new watch', () => seen.includes('add after'));
    assert.equal(lab.server.hooks.count('list', 'configmaps'), 1, 'no relist');
    await r.stop();
  });

  it('stops cleanly while backing off, and start() resolves unsynced', async () => {
    const ns = await namespace();
    const clock = new ManualClock();
    const r = reflector(ns, { clock });
    lab.server.inject({ verb: 'list', resource: 'configmaps', namespace: ns, code: 403, times: 1 });
    const started = r.start();
    await eventually('the backoff', () => clock.timers() === 1);
    await r.stop();
    await started;
    assert.equal(r.hasSynced(), false);
    assert.equal(clock.timers(), 0, 'no timer left behind');
  });
});
