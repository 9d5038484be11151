/** The stand's clock slows with its size, every Vector duration together, and an explicit timing wins. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { standClock } from '../../lab/scenarios/stand.ts';
import { defaultTiming } from '../../lab/vector-sim/sim.ts';

describe("the stand's clock", () => {
  it('runs on the default clock up to 200 pipelines (npm start, the tests)', () => {
    for (const pipelines of [1, 24, 200])
      assert.deepEqual(standClock({ pipelines }), {
        timing: { timeScale: defaultTiming.timeScale },
        secretSyncMs: 100,
      });
  });

  it('slows in proportion past that: at 1 000 pipelines the 60 s glob cooldown takes 1 s', () => {
    const { timing, secretSyncMs } = standClock({ pipelines: 1000 });
    assert.equal(Math.round(60_000 * (timing.timeScale ?? 0)), 1000);
    assert.equal(secretSyncMs, 500);
  });

  it('keeps an explicit timing', () => {
    assert.deepEqual(standClock({ pipelines: 1000, timing: { timeScale: 0.01 } }).timing, { timeScale: 0.01 });
  });
});
