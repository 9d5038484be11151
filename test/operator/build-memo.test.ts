/**
 * The per-Vector build memo: a reconcile whose inputs are the same objects builds nothing, any change builds again,
 * and desired state is the same with or without it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { BuildMemo } from '../../src/operator/build-memo.ts';
import { desiredState, type OperatorFlags } from '../../src/operator/desired.ts';
import { defaultMergerImage } from '../../src/operator/merger-container.ts';
import { encodePayload } from '../../src/operator/objects.ts';
import { logsToSink, namespaces, vector } from '../helpers/fixtures.ts';

const flags: OperatorFlags = { optimize: true, migration: true, mergerImage: defaultMergerImage, podMonitor: false };
const empty = { daemonSet: undefined, secrets: {} };
const opts = { optimize: true };

describe('build memo', () => {
  it('reuses the build while the Vector and every pipeline object are the same', () => {
    const memo = new BuildMemo();
    const pipelines = namespaces(5).map((ns) => logsToSink(ns));
    const a = memo.modes('vector/logs', vector(), pipelines, opts);
    // A new list and new wrappers around the same cached metadata and spec: what pipelinesFor returns each time.
    const again = pipelines.map((p) => ({ ...p }));
    assert.equal(memo.modes('vector/logs', vector(), again, opts), a);
    assert.deepEqual(memo.counts, { built: 1, reused: 1 });
  });

  it('builds again when a pipeline, the Vector, the options or the list change', () => {
    const memo = new BuildMemo();
    const pipelines = namespaces(3).map((ns) => logsToSink(ns));
    const first = memo.modes('vector/logs', vector(), pipelines, opts);
    const edited = [...pipelines];
    edited[1] = logsToSink('ns-1', 'logs', { exclude_paths_glob_patterns: ['*.gz'] });
    const second = memo.modes('vector/logs', vector(), edited, opts);
    assert.notEqual(second, first);
    assert.notEqual(second.optimized.json, first.optimized.json);
    const third = memo.modes('vector/logs', vector({ agent: { compressConfigFile: true } }), edited, opts);
    assert.notEqual(third, second);
    const fourth = memo.modes('vector/logs', vector({ agent: { compressConfigFile: true } }), edited, {
      ...opts,
      maxNamespacesPerSource: 2,
    });
    assert.notEqual(fourth, third);
    const fifth = memo.modes('vector/logs', vector({ agent: { compressConfigFile: true } }), edited.slice(1), {
      ...opts,
      maxNamespacesPerSource: 2,
    });
    assert.notEqual(fifth, fourth);
    // Another Vector never gets this one's build.
    memo.modes('other/logs', vector({}, { namespace: 'other' }), edited.slice(1), opts);
    assert.deepEqual(memo.counts, { built: 6, reused: 0 });
  });

  it('reuses the build across a status write, and builds again on a new generation or new labels', () => {
    const memo = new BuildMemo();
    const versioned = (gen: number, rv: string, labels: Record<string, string> = {}) =>
      namespaces(3).map((ns) =>
        logsToSink(ns, 'logs', {}, { uid: `u-${ns}`, generation: gen, resourceVersion: rv, labels }),
      );
    const first = memo.modes('vector/logs', vector(), versioned(1, '10'), opts);
    // What the watch delivers after a status write: new objects, a new resourceVersion, the same generation.
    assert.equal(memo.modes('vector/logs', vector(), versioned(1, '11'), opts), first);
    assert.notEqual(memo.modes('vector/logs', vector(), versioned(2, '12'), opts), first);
    memo.modes('vector/logs', vector(), versioned(2, '13', { team: 'a' }), opts);
    assert.deepEqual(memo.counts, { built: 3, reused: 1 });
  });

  it('forgets a Vector', () => {
    const memo = new BuildMemo();
    const pipelines = [logsToSink('a')];
    memo.modes('vector/logs', vector(), pipelines, opts);
    memo.forget('vector/logs');
    memo.modes('vector/logs', vector(), pipelines, opts);
    assert.deepEqual(memo.counts, { built: 2, reused: 0 });
  });

  it('encodes payloads as the Secret holds them, gzip or plain', () => {
    const memo = new BuildMemo();
    const json = '{"sources":{}}';
    assert.equal(memo.payload(json, false), Buffer.from(json).toString('base64'));
    assert.equal(gunzipSync(Buffer.from(memo.payload(json, true), 'base64')).toString(), json);
    assert.equal(memo.payload(json, true), encodePayload(json, true));
  });

  it('gives desired state equal to the one built without it, on a miss and on a hit', () => {
    const memo = new BuildMemo();
    const v = vector({ agent: { compressConfigFile: true } }, { uid: 'u1' });
    const pipelines = namespaces(4).map((ns) => logsToSink(ns));
    const plain = desiredState(v, pipelines, flags, empty);
    assert.deepEqual(desiredState(v, pipelines, flags, empty, memo), plain);
    assert.deepEqual(desiredState(v, pipelines, flags, empty, memo), plain);
    assert.deepEqual(memo.counts, { built: 1, reused: 1 });
  });
});
