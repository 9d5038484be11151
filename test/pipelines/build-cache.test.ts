/** A build with the Vector's cache is the build without it, through any sequence of changes; and it reuses parts. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BuildCache } from '../../src/pipelines/build-cache.ts';
import { buildModes } from '../../src/pipelines/modes.ts';
import type { Pipeline, Vector } from '../../src/pipelines/schemas.ts';
import { cvp, logsToSink, optOutAnnotations, vector } from '../helpers/fixtures.ts';

/** A small deterministic generator (xorshift), so a failure names a reproducible step. */
function random(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const stamp = (i: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();

function teamPipeline(i: number, version: number, variant: number): Pipeline {
  const ns = `team-${String(i).padStart(2, '0')}`;
  const source: Record<string, unknown> =
    variant === 1 ? { log_namespace: true } : variant === 2 ? { max_line_bytes: 65536 } : {};
  const p = logsToSink(ns, 'logs', source, { creationTimestamp: stamp(i), uid: `uid-${i}` });
  return { ...p, spec: { ...p.spec, sinks: { out: { type: 'blackhole', inputs: ['pods'], rate: version } } } };
}

/** One edit of the pipeline set or the Vector, chosen by `pick`: what a cluster does to a Vector between reconciles. */
function edit(pick: (n: number) => number, ps: Pipeline[], v: Vector): { ps: Pipeline[]; v: Vector; what: string } {
  const next = [...ps];
  const i = pick(next.length);
  const p = next[i] as Pipeline;
  switch (pick(7)) {
    case 0: {
      next[i] = { ...p, spec: { ...p.spec, sinks: { out: { type: 'blackhole', inputs: ['pods'], rate: pick(5) } } } };
      return { ps: next, v, what: `change ${p.metadata.namespace ?? ''}'s sink` };
    }
    case 1: {
      const optedOut = p.metadata.annotations !== undefined;
      const meta = { ...p.metadata };
      delete meta.annotations;
      next[i] = { ...p, metadata: optedOut ? meta : { ...meta, annotations: optOutAnnotations } };
      return { ps: next, v, what: `toggle opt-out of ${p.metadata.namespace ?? ''}` };
    }
    case 2: {
      next.splice(i, 1);
      return { ps: next, v, what: `remove ${p.metadata.namespace ?? ''}` };
    }
    case 3: {
      const n = 40 + pick(40);
      next.push(teamPipeline(n, 1, pick(3)));
      return { ps: next, v, what: `add team-${n}` };
    }
    case 4: {
      const clash = cvp(`${p.metadata.namespace ?? ''}-logs`, {
        sources: { j: { type: 'journald' } },
        sinks: { out: { type: 'blackhole', inputs: ['j'] } },
      });
      next.push({ ...clash, metadata: { ...clash.metadata, creationTimestamp: stamp(100 + pick(50)) } });
      return { ps: next, v, what: 'add a ClusterVectorPipeline' };
    }
    case 5:
      return {
        ps: next,
        v: vector({ ...v.spec, agent: { ...v.spec.agent, internalMetrics: v.spec.agent?.internalMetrics !== true } }),
        what: 'flip internal metrics',
      };
    default: {
      next[i] = teamPipeline(i, 7, pick(3));
      return { ps: next, v, what: `replace pipeline ${i}` };
    }
  }
}

describe('build cache', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`gives the uncached build's bytes, problems and verdicts through 60 random edits (seed ${seed})`, () => {
      const pick = random(seed * 7919);
      // 24 teams in two signature groups, chunks of 8: edits cross chunk boundaries and the two-level routing size.
      let ps = Array.from({ length: 24 }, (_, i) => teamPipeline(i, 1, i % 5 === 0 ? 2 : 0));
      let v = vector();
      const opts = { optimize: true, maxNamespacesPerSource: 8 };
      const cache = new BuildCache();
      let last = 'the first build';
      for (let step = 0; step < 60; step++) {
        const cached = buildModes(v, ps, opts, cache);
        const plain = buildModes(v, ps, opts);
        for (const m of ['optimized', 'legacy'] as const) {
          const at = `step ${step}, after ${last}: ${m}`;
          assert.equal(cached[m].json, plain[m].json, `${at} bytes`);
          assert.deepEqual(cached[m].problems, plain[m].problems, `${at} problems`);
          assert.deepEqual(cached[m].result, plain[m].result, `${at} result`);
        }
        let what;
        ({ ps, v, what } = edit(pick, ps, v));
        last = what;
      }
    });
  }

  it("keeps an unchanged pipeline's components and consumers, and makes the changed one anew", () => {
    const ps = Array.from({ length: 20 }, (_, i) => teamPipeline(i, 1, 0));
    const cache = new BuildCache();
    const before = buildModes(vector(), ps, { optimize: true }, cache);
    const changed = [...ps];
    changed[3] = teamPipeline(3, 2, 0);
    const after = buildModes(vector(), changed, { optimize: true }, cache);
    for (const m of ['optimized', 'legacy'] as const) {
      const sinks = (b: typeof before) => b[m].result.config.sinks;
      assert.equal(sinks(after)['team-00-logs-out'], sinks(before)['team-00-logs-out'], `${m}: unchanged consumer`);
      assert.notEqual(sinks(after)['team-03-logs-out'], sinks(before)['team-03-logs-out'], `${m}: changed consumer`);
    }
    // The legacy build's consumer reads its own source: the optimized build rewired a copy, not the shared object.
    assert.deepEqual(after.legacy.result.config.sinks['team-00-logs-out']?.inputs, ['team-00-logs-pods']);
  });

  it('keeps the parts of a pipeline whose object changed but not its version (a status write), and not across versions', () => {
    const versioned = (i: number, generation: number, rate: number): Pipeline => {
      const p = teamPipeline(i, rate, 0);
      return { ...p, metadata: { ...p.metadata, generation } };
    };
    const ps = Array.from({ length: 4 }, (_, i) => versioned(i, 1, 1));
    const cache = new BuildCache();
    const sinkOf = (b: ReturnType<typeof buildModes>) => b.legacy.result.config.sinks['team-01-logs-out'];
    const before = buildModes(vector(), ps, { optimize: true }, cache);
    // The watch delivers a new object, spec included, after a status write: same uid, same generation.
    const echoed = ps.map((p) => structuredClone(p));
    assert.equal(sinkOf(buildModes(vector(), echoed, { optimize: true }, cache)), sinkOf(before));
    // A spec change bumps the generation: compiled anew, with the new spec.
    const changed = [...echoed];
    changed[1] = versioned(1, 2, 9);
    const after = buildModes(vector(), changed, { optimize: true }, cache);
    assert.notEqual(sinkOf(after), sinkOf(before));
    assert.equal(sinkOf(after)?.rate, 9);
    assert.equal(after.optimized.json, buildModes(vector(), changed, { optimize: true }).optimized.json);
  });
});
