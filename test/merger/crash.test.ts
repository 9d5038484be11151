/**
 * Crash safety: the merger is SIGKILLed at moments spread across its run, many times in a row on the same node
 * (as a crash-looping init container would be). At every kill, every checkpoints.json is whole (the old or the
 * new content, never a mix or a truncation) and parses; the run that finally completes converges to exactly the
 * result of an uninterrupted run.
 *
 * The kills are drawn over the fastest uninterrupted run seen so far, not over one reference run: a cold or
 * contended first run (as on a loaded CI machine) would otherwise spread most kills past the end of later runs.
 * A run that completes before its kill narrows the window and is not counted, so every counted kill is mid-way.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execPath } from 'node:process';
import { NodeFixture, OPT_ID, entry, legacyId } from '../helpers/node-fixture.ts';
import { binPaths } from '../helpers/bin.ts';
import { parseCheckpoints } from '../../src/vector/checkpoints.ts';
import { runMerge } from '../../src/merger/run.ts';
import { memoryLogger } from '../../src/merger/log.ts';

const NAMESPACES = Array.from({ length: 150 }, (_, i) => `ns-${String(i).padStart(3, '0')}`);
const KILLS = 30;
/** Attempts allowed to land KILLS kills mid-way; only a machine whose run times swing wildly needs more than KILLS. */
const ATTEMPTS = KILLS * 4;
/** Uninterrupted runs that calibrate the kill window (their fastest is taken). */
const CALIBRATION_RUNS = 3;

/** A deterministic PRNG (mulberry32), so a failing kill schedule can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function runCli(
  args: string[],
  killAfterMs: number | null,
): Promise<{ killed: boolean; code: number | null; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(execPath, [binPaths['checkpoint-merger'], ...args], { stdio: 'ignore' });
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', code, ms: performance.now() - started });
    });
  });
}

function copyTree(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  assert.equal(spawnSync('cp', ['-a', from, to]).status, 0);
}

describe('crash safety under SIGKILL', () => {
  const node = new NodeFixture();
  let args: string[];
  const initial = new Map<string, string | null>();
  const expected = new Map<string, string | null>();
  let pristine: string;
  let runMs = 0;

  before(async () => {
    // Optimized has been running; the legacy dirs are stale leftovers. The switch rolls back into 150 legacy dirs.
    const legacy = node.writeConfig('legacy.json', {
      sources: Object.fromEntries(NAMESPACES.map((ns) => [legacyId(ns), [ns]])),
    });
    const optimized = node.writeConfig('optimized.json', { sources: { [OPT_ID]: NAMESPACES } });
    const optEntries = [];
    for (const ns of NAMESPACES) {
      for (const pod of ['a', 'b']) {
        const f = node.writeLog({
          ns,
          pod,
          content: `2026-11-24T10:00:00.000000000Z stdout F ${ns} ${pod} started\n${'x\n'.repeat(50)}`,
        });
        optEntries.push(entry(f.checksum, 60));
      }
      node.vectorFlush(legacyId(ns), [entry(BigInt(ns.length), 1)], 7200);
    }
    await runMerge(
      { config: optimized, standbyConfig: legacy, dataDir: node.data, logDir: null, policy: 'min', summaryFile: null },
      memoryLogger(),
    );
    node.vectorFlush(OPT_ID, optEntries);
    args = [
      '--config',
      legacy,
      '--standby-config',
      optimized,
      '--data-dir',
      node.data,
      '--log-dir',
      node.pods,
      '--summary-file',
      '',
    ];
    for (const ns of NAMESPACES) initial.set(legacyId(ns), node.readRaw(legacyId(ns)));
    // cp -a keeps the dir mtimes that liveness is judged by.
    pristine = join(mkdtempSync(join(tmpdir(), 'crash-pristine-')), 'data');
    copyTree(node.data, pristine);
    // The reference result: the same merge, uninterrupted. Later uninterrupted runs must reproduce it exactly;
    // the fastest of them bounds the kill window.
    runMs = Infinity;
    for (let i = 0; i < CALIBRATION_RUNS; i++) {
      copyTree(pristine, node.data);
      const r = await runCli(args, null);
      assert.equal(r.code, 0);
      runMs = Math.min(runMs, r.ms);
      for (const ns of NAMESPACES) {
        const text = readFileSync(join(node.data, legacyId(ns), 'checkpoints.json'), 'utf8');
        if (i === 0) expected.set(legacyId(ns), text);
        else assert.equal(text, expected.get(legacyId(ns)), `uninterrupted run ${i}: ${legacyId(ns)}`);
      }
    }
  });

  after(() => {
    node.cleanup();
    rmSync(join(pristine, '..'), { recursive: true, force: true });
  });

  function assertWhole(when: string): void {
    for (const ns of NAMESPACES) {
      const id = legacyId(ns);
      const text = node.readRaw(id);
      assert.ok(
        text === initial.get(id) || text === expected.get(id),
        `${when}: ${id} holds neither the old nor the new file`,
      );
      const parsed = parseCheckpoints(text ?? '');
      assert.ok(parsed.kind === 'ok' && parsed.vectorAccepts, `${when}: ${id} does not parse`);
    }
  }

  it(`every checkpoints.json is whole, old or new, at each of ${KILLS} kills spread across a run`, async () => {
    for (const ns of NAMESPACES)
      assert.notEqual(expected.get(legacyId(ns)), initial.get(legacyId(ns)), 'the switch must change every dir');
    const random = prng(0x5eed);
    let killed = 0;
    let attempts = 0;
    for (; killed < KILLS && attempts < ATTEMPTS; attempts++) {
      copyTree(pristine, node.data);
      const r = await runCli(args, Math.floor(random() * runMs));
      assertWhole(`attempt ${attempts} (${r.killed ? 'killed' : 'completed'})`);
      if (r.killed) killed++;
      else runMs = Math.min(runMs, r.ms);
    }
    assert.equal(killed, KILLS, `only ${killed} of ${attempts} runs were killed mid-way (window ${runMs} ms)`);
  });

  it('a crash loop (kill after kill on the same node) converges to exactly the uninterrupted result', async () => {
    copyTree(pristine, node.data);
    const random = prng(0xc0ffee);
    for (let i = 0; i < 10; i++) {
      await runCli(args, Math.floor(random() * runMs));
      assertWhole(`crash loop ${i}`);
    }
    const final = await runCli(args, null);
    assert.equal(final.code, 0);
    for (const ns of NAMESPACES) assert.equal(node.readRaw(legacyId(ns)), expected.get(legacyId(ns)), legacyId(ns));
  });
});
