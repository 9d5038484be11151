/** Both modes are built and checked before anything is published. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildModes } from '../../src/pipelines/modes.ts';
import { cvp, logsToSink, vector } from '../helpers/fixtures.ts';

describe('active and standby configs', () => {
  it('builds the optimized config as active and the legacy one as standby when the flag is on', () => {
    const m = buildModes(vector(), [logsToSink('a'), logsToSink('b')], { optimize: true });
    assert.equal(m.publishable, true);
    assert.match(m.active.json, /"optimizedSource-b8c6f0ff"/);
    assert.doesNotMatch(m.standby.json, /optimizedSource/);
  });

  it('is not publishable when either config fails the graph check', () => {
    const broken = cvp('c', {
      sources: { j: { type: 'journald' } },
      sinks: { o: { type: 'blackhole', inputs: ['nope'] } },
    });
    const m = buildModes(vector(), [logsToSink('a'), broken], { optimize: false });
    assert.equal(m.publishable, false);
    assert.deepEqual(
      m.standby.problems.map((p) => p.component),
      ['c-o'],
    );
  });
});
