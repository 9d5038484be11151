/** Structural validation: what Vector would refuse at load time, caught before a config is published. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { VectorConfig } from '../../src/vector/config.ts';
import { assertValidConfigGraph, ConfigGraphError, validateConfigGraph } from '../../src/vector/graph.ts';

function config(parts: Partial<Pick<VectorConfig, 'sources' | 'transforms' | 'sinks'>>): VectorConfig {
  return {
    data_dir: '/vector-data-dir',
    api: { address: '[::]:8686' },
    sources: {},
    transforms: {},
    sinks: {},
    ...parts,
  };
}
const messages = (c: VectorConfig) => validateConfigGraph(c).map((p) => `${p.kind}.${p.component}: ${p.message}`);

describe('Vector config graph validation', () => {
  it('accepts a source -> route -> sink chain reading named route outputs and _unmatched', () => {
    const c = config({
      sources: { s: { type: 'kubernetes_logs' } },
      transforms: { r: { type: 'route', inputs: ['s'], route: { a: 'true' } } },
      sinks: { o: { type: 'blackhole', inputs: ['r.a', 'r._unmatched'] } },
    });
    assert.deepEqual(messages(c), []);
    assert.doesNotThrow(() => {
      assertValidConfigGraph(c);
    });
  });

  it('reports an input that resolves to nothing, and a route output that does not exist', () => {
    const c = config({
      sources: { s: { type: 'kubernetes_logs' } },
      transforms: { r: { type: 'route', inputs: ['s'], route: { a: 'true' } } },
      sinks: { o: { type: 'blackhole', inputs: ['missing', 'r.b'] } },
    });
    assert.deepEqual(messages(c), [
      "sinks.o: input 'missing' does not resolve to a component",
      "sinks.o: input 'r.b' does not resolve to a component (transform 'r' has no output 'b')",
    ]);
  });

  it('reports an orphan sink (no inputs) and a sink used as an input', () => {
    const c = config({
      sources: { s: { type: 'demo_logs' } },
      sinks: { a: { type: 'blackhole', inputs: [] }, b: { type: 'blackhole', inputs: ['s', 'a'] } },
    });
    assert.deepEqual(messages(c), ['sinks.a: orphan sink: it has no inputs', "sinks.b: input 'a' is a sink"]);
  });

  it('reports every transform on a cycle', () => {
    const c = config({
      sources: { s: { type: 'demo_logs' } },
      transforms: {
        x: { type: 'remap', inputs: ['s', 'z'] },
        y: { type: 'remap', inputs: ['x'] },
        z: { type: 'remap', inputs: ['y'] },
      },
      sinks: { o: { type: 'blackhole', inputs: ['z'] } },
    });
    assert.deepEqual(messages(c), [
      'transforms.x: is part of a cycle',
      'transforms.y: is part of a cycle',
      'transforms.z: is part of a cycle',
    ]);
  });

  it('finds a cycle through a route output', () => {
    const c = config({
      sources: { s: { type: 'demo_logs' } },
      transforms: {
        r: { type: 'route', inputs: ['s', 'x'], route: { a: 'true' } },
        x: { type: 'remap', inputs: ['r.a'] },
      },
      sinks: { o: { type: 'blackhole', inputs: ['x'] } },
    });
    assert.equal(messages(c).filter((m) => m.endsWith('cycle')).length, 2);
  });

  it('reports an id used by two kinds, and ids Vector cannot use', () => {
    const c = config({
      sources: { dup: { type: 'demo_logs' }, 'a.b': { type: 'demo_logs' } },
      sinks: { dup: { type: 'blackhole', inputs: ['a.b'] } },
    });
    const ms = messages(c);
    assert.ok(ms.includes('sinks.dup: component id is also used by one of the sources'), ms.join('\n'));
    assert.ok(
      ms.some((m) => m.startsWith('sources.a.b: component id contains')),
      ms.join('\n'),
    );
  });

  it('resolves glob inputs and reports a glob that matches nothing', () => {
    const c = config({
      sources: { 'app-1': { type: 'demo_logs' }, 'app-2': { type: 'demo_logs' } },
      sinks: { o: { type: 'blackhole', inputs: ['app-*'] }, p: { type: 'blackhole', inputs: ['db-*'] } },
    });
    assert.deepEqual(messages(c), ["sinks.p: input 'db-*' matches no component"]);
  });

  it('throws one error listing every problem', () => {
    const c = config({ sinks: { a: { type: 'blackhole', inputs: [] }, b: { type: 'blackhole', inputs: ['nope'] } } });
    assert.throws(
      () => {
        assertValidConfigGraph(c);
      },
      (e: unknown) =>
        e instanceof ConfigGraphError &&
        e.problems.length === 2 &&
        /sinks\.a/.test(e.message) &&
        /sinks\.b/.test(e.message),
    );
  });
});
