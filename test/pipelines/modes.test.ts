/** Both modes are built and checked before anything is published. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildModes } from '../../src/pipelines/modes.ts';
import { cvp, logsToSink, vector } from '../helpers/fixtures.ts';

describe('active and standby configs', () => {
  it('builds the optimized config as active and the legacy one as standby when the flag is on', () => {
    const m = buildModes(vector(), [logsToSink('a'), logsToSink('b')], { optimize: true });
    assert.deepEqual([m.optimized.problems, m.legacy.problems], [[], []]);
    assert.match(m.optimized.json, /"optimizedSource-b8c6f0ff"/);
    assert.doesNotMatch(m.legacy.json, /optimizedSource/);
  });

  it('reports the graph problems of the mode that has them', () => {
    const broken = cvp('c', {
      sources: { j: { type: 'journald' } },
      sinks: { o: { type: 'blackhole', inputs: ['nope'] } },
    });
    const m = buildModes(vector(), [logsToSink('a'), broken], { optimize: false });
    assert.deepEqual(
      m.optimized.problems.map((p) => p.component),
      ['c-o'],
    );
    assert.deepEqual(
      m.legacy.problems.map((p) => p.component),
      ['c-o'],
    );
  });
});
