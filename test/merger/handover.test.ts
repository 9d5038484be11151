/**
 * Renames other than the mode switch, as the optimizer produces them within optimized mode: which consumer moves to
 * which source (handover.ts, pure), and what the merger carries for them on a node (real files in temp dirs).
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { handovers, renames, sourceGraph, summarizeRenames } from '../../src/merger/handover.ts';
import { NodeFixture, entry } from '../helpers/node-fixture.ts';

type Sources = Record<string, string[]>;

/** An agent config: sources by namespaces, each consumer reading the given inputs; routers for collapsed sources. */
function config(sources: Sources, consumers: Record<string, string[]>): Record<string, unknown> {
  const src: Record<string, unknown> = {};
  const transforms: Record<string, unknown> = {};
  for (const [id, nss] of Object.entries(sources)) {
    src[id] = {
      type: 'kubernetes_logs',
      extra_namespace_label_selector:
        nss.length === 1
          ? `kubernetes.io/metadata.name=${nss[0]}`
          : `kubernetes.io/metadata.name in (${nss.join(',')})`,
    };
    if (id.startsWith('optimizedSource-')) {
      const gid = id.slice('optimizedSource-'.length);
      transforms[`optimizedRouter-${gid}`] = { type: 'route', inputs: [id], route: {} };
      transforms[`optimizedFallback-${gid}`] = { type: 'route', inputs: [`optimizedRouter-${gid}._unmatched`] };
    }
  }
  const sinks = Object.fromEntries(
    Object.entries(consumers).map(([id, inputs]) => [id, { type: 'blackhole', inputs }]),
  );
  return { data_dir: '/vector-data-dir', sources: src, transforms, sinks };
}

/** The inputs of a consumer of namespace `ns` reading the collapsed source `optimizedSource-<gid>`. */
function routed(gid: string, ns: string): string[] {
  return [`optimizedRouter-${gid}.${ns}`, `optimizedFallback-${gid}.${ns}`];
}

const graph = (s: Sources, c: Record<string, string[]>) => sourceGraph(config(s, c));

describe('source handovers between two configs', () => {
  it('follows routing to the collapsed source and ignores pipeline transforms', () => {
    const g = sourceGraph({
      sources: { 'optimizedSource-g': { type: 'kubernetes_logs' }, file: { type: 'file' } },
      transforms: {
        'optimizedRouter-g': { type: 'route', inputs: ['optimizedSource-g'] },
        'a-logs-parse': { type: 'remap', inputs: ['optimizedRouter-g.a'] },
        'a-logs-more': { type: 'remap', inputs: ['a-logs-parse', 'file'] },
      },
      sinks: { 'a-logs-out': { type: 'blackhole', inputs: ['a-logs-more'] } },
    });
    assert.deepEqual([...g.feeds], [['a-logs-parse', ['optimizedSource-g']]]);
    assert.deepEqual([...g.sources], [['optimizedSource-g', null]]);
  });

  it('a group going 1 -> 2: the single source renames onto the new collapsed one; the newcomer is an addition', () => {
    const before = graph({ 'a-x-pods': ['a'] }, { 'a-x-out': ['a-x-pods'] });
    const after = graph(
      { 'optimizedSource-g': ['a', 'b'] },
      { 'a-x-out': routed('g', 'a'), 'b-x-out': routed('g', 'b') },
    );
    assert.deepEqual(renames(before, after), [
      { consumer: 'a-x-out', from: 'a-x-pods', to: 'optimizedSource-g', namespaces: ['a'] },
    ]);
    assert.deepEqual(renames(after, before), [
      { consumer: 'a-x-out', from: 'optimizedSource-g', to: 'a-x-pods', namespaces: ['a'] },
    ]);
  });

  it('opting out of a group that goes on renames; opting back in hands over to a source that already read it', () => {
    const grouped = graph(
      { 'optimizedSource-g': ['a', 'b'] },
      { 'a-logs-out': routed('g', 'a'), 'a-audit-out': routed('g', 'a'), 'b-logs-out': routed('g', 'b') },
    );
    const out = graph(
      { 'optimizedSource-g': ['a', 'b'], 'a-audit-pods': ['a'] },
      { 'a-logs-out': routed('g', 'a'), 'a-audit-out': ['a-audit-pods'], 'b-logs-out': routed('g', 'b') },
    );
    assert.deepEqual(renames(grouped, out), [
      { consumer: 'a-audit-out', from: 'optimizedSource-g', to: 'a-audit-pods', namespaces: ['a'] },
    ]);
    assert.deepEqual(renames(out, grouped), [], 'the group source read a all along: it resumes where it is');
    assert.equal(handovers(out, grouped).length, 1, 'still a handover: the merger may carry positions');
  });

  it('crossing a chunk boundary renames every chunk; moving a namespace between chunks renames it alone', () => {
    const one = graph({ 'optimizedSource-g': ['a', 'b'] }, { 'a-out': routed('g', 'a'), 'b-out': routed('g', 'b') });
    const two = graph(
      { 'optimizedSource-g-0': ['a', 'b'], 'optimizedSource-g-1': ['c'] },
      { 'a-out': routed('g-0', 'a'), 'b-out': routed('g-0', 'b'), 'c-out': routed('g-1', 'c') },
    );
    assert.deepEqual(summarizeRenames(renames(one, two)), {
      pairs: [['optimizedSource-g', 'optimizedSource-g-0']],
      namespaces: ['a', 'b'],
    });
    const shifted = graph(
      { 'optimizedSource-g-0': ['0', 'a'], 'optimizedSource-g-1': ['b', 'c'] },
      {
        '0-out': routed('g-0', '0'),
        'a-out': routed('g-0', 'a'),
        'b-out': routed('g-1', 'b'),
        'c-out': routed('g-1', 'c'),
      },
    );
    assert.deepEqual(renames(two, shifted), [
      { consumer: 'b-out', from: 'optimizedSource-g-0', to: 'optimizedSource-g-1', namespaces: ['b'] },
    ]);
  });

  it('adding or removing pipelines and namespaces renames nothing', () => {
    const a = graph({ 'optimizedSource-g': ['a', 'b'] }, { 'a-out': routed('g', 'a'), 'b-out': routed('g', 'b') });
    const b = graph(
      { 'optimizedSource-g': ['a', 'b', 'c'], 'd-x-pods': ['d'] },
      { 'a-out': routed('g', 'a'), 'b-out': routed('g', 'b'), 'c-out': routed('g', 'c'), 'd-x-out': ['d-x-pods'] },
    );
    assert.deepEqual(renames(a, b), []);
    assert.deepEqual(renames(b, a), []);
  });
});

describe('the merger carries positions for renames within optimized mode', () => {
  let node: NodeFixture;
  const fp: Record<string, bigint> = {};

  function write(name: string, doc: Record<string, unknown>): string {
    const path = join(node.root, name);
    writeFileSync(path, JSON.stringify(doc));
    return path;
  }

  beforeEach(() => {
    node = new NodeFixture();
    for (const ns of ['a', 'b']) {
      fp[ns] = node.writeLog({ ns, pod: 'web', content: `${ns} first\n` + 'line\n'.repeat(100) }).checksum;
    }
  });

  afterEach(() => {
    node.cleanup();
  });

  it('a pipeline opting out of a group that goes on starts where the group source stood, for its namespace only', async () => {
    const grouped = write(
      'grouped.json',
      config(
        { 'optimizedSource-g': ['a', 'b'] },
        { 'a-logs-out': routed('g', 'a'), 'a-audit-out': routed('g', 'a'), 'b-logs-out': routed('g', 'b') },
      ),
    );
    await node.merge(grouped);
    node.vectorFlush('optimizedSource-g', [entry(fp.a as bigint, 300), entry(fp.b as bigint, 200)]);
    const out = write(
      'out.json',
      config(
        { 'optimizedSource-g': ['a', 'b'], 'a-audit-pods': ['a'] },
        { 'a-logs-out': routed('g', 'a'), 'a-audit-out': ['a-audit-pods'], 'b-logs-out': routed('g', 'b') },
      ),
    );
    const before = node.snapshot().get('optimizedSource-g/checkpoints.json');
    const s = await node.merge(out, { standbyConfig: grouped, logDir: node.pods });
    assert.equal(s.outcome, 'migrated');
    assert.equal(s.handingOver, 1);
    assert.deepEqual(node.positions('a-audit-pods'), new Map([[fp.a, 300n]]));
    assert.deepEqual(
      node.snapshot().get('optimizedSource-g/checkpoints.json'),
      before,
      'the group source is untouched',
    );
  });

  it('without the previous config as standby (a plain restart) a live source hands nothing over', async () => {
    const grouped = config({ 'optimizedSource-g': ['a', 'b'] }, { 'a-audit-out': routed('g', 'a') });
    const path = write('grouped.json', grouped);
    await node.merge(path);
    node.vectorFlush('optimizedSource-g', [entry(fp.a as bigint, 300)]);
    const out = write(
      'out.json',
      config({ 'optimizedSource-g': ['a', 'b'], 'a-audit-pods': ['a'] }, { 'a-audit-out': ['a-audit-pods'] }),
    );
    const s = await node.merge(out, { standbyConfig: out });
    assert.equal(s.handingOver, 0);
    assert.equal(node.readRaw('a-audit-pods'), null, 'read from the start, as Vector would');
  });

  it('a group going 2 -> 1 whose other member rejoins a live group: both sides resume, nothing re-read', async () => {
    const two = write(
      'two.json',
      config(
        { 'optimizedSource-g': ['c'], 'optimizedSource-h': ['a', 'b'] },
        { 'c-out': routed('g', 'c'), 'a-out': routed('h', 'a'), 'b-out': routed('h', 'b') },
      ),
    );
    await node.merge(two);
    node.vectorFlush('optimizedSource-h', [entry(fp.a as bigint, 300), entry(fp.b as bigint, 200)]);
    node.vectorFlush('optimizedSource-g', []);
    const one = write(
      'one.json',
      config(
        { 'optimizedSource-g': ['b', 'c'], 'a-x-pods': ['a'] },
        { 'c-out': routed('g', 'c'), 'a-out': ['a-x-pods'], 'b-out': routed('g', 'b') },
      ),
    );
    const s = await node.merge(one, { standbyConfig: two, logDir: node.pods });
    assert.equal(s.outcome, 'migrated');
    assert.deepEqual(node.positions('a-x-pods'), new Map([[fp.a, 300n]]));
    assert.deepEqual(node.positions('optimizedSource-g'), new Map([[fp.b, 200n]]), 'takes over b where h stood');
  });
});
