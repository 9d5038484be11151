/**
 * The real VRL compiler for tests: `tools/vrl-check`, the `vrl` crate of Vector 0.48 (0.25.0), run as a child process.
 *
 * Invariants:
 * - The binary is `$VECTOR_OPERATOR_VRL_CHECK` when set, else `<target>/release/vrl-check` under
 *   `$VECTOR_OPERATOR_VRL_TARGET` or `${XDG_CACHE_HOME:-$HOME/.cache}/vector-operator/vrl-check/target`, where
 *   `npm run build:vrl` puts it. When it is absent, `vrlSkip` holds the reason to skip and nothing is spawned.
 * - One process per `checkVrl` call, for any number of programs and events: callers batch.
 * - `VrlOracle` memoises results by (kind, source, sample) and batches whatever a traversal asked for, so a walk
 *   through a topology costs one process per VRL layer, not one per program.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type VrlKind = 'condition' | 'remap';

/** An event as the program sees it: `.` is `event` (any JSON value), `%` is `metadata` (an object). */
export interface VrlSample {
  event: unknown;
  metadata?: Record<string, unknown>;
}

export interface VrlProgram {
  id: string;
  kind: VrlKind;
  source: string;
  events?: VrlSample[];
}

/**
 * One event's result. Conditions: `outcome` ok with `value` and `matched` (true only for the boolean true), or an
 * error that does not match. Remaps: ok with the resulting `event` and `metadata`, `error` (Vector forwards the
 * original event unless `drop_on_error`), or `abort` (dropped unless `drop_on_abort: false`).
 */
export interface VrlRun {
  outcome: 'ok' | 'error' | 'abort';
  value?: unknown;
  matched?: boolean;
  event?: unknown;
  metadata?: Record<string, unknown>;
  error?: string;
}

export interface VrlChecked {
  id: string;
  compiled: boolean;
  /** The compiler's diagnostics, formatted as Vector prints them; empty when it compiled. */
  diagnostics: string;
  /** Error codes (E103 is 103); empty when it compiled. */
  codes: number[];
  warnings?: string;
  /** Every function the program calls, from the parsed AST: sorted, unique; empty when it does not parse. */
  functions: string[];
  fallible?: boolean;
  abortable?: boolean;
  /** One per requested event, in order; absent when it did not compile. */
  results?: VrlRun[];
}

export function vrlCheckBinary(): string {
  const explicit = process.env.VECTOR_OPERATOR_VRL_CHECK;
  if (explicit !== undefined && explicit !== '') return explicit;
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const target = process.env.VECTOR_OPERATOR_VRL_TARGET || join(cache, 'vector-operator', 'vrl-check', 'target');
  return join(target, 'release', 'vrl-check');
}

/** The skip reason for `describe(..., { skip: vrlSkip })`, or false when the binary is there. */
export const vrlSkip: string | false = existsSync(vrlCheckBinary())
  ? false
  : `VRL lane SKIPPED: run npm run build:vrl (no ${vrlCheckBinary()})`;

/** Compiles every program and runs it on its events, in one process. */
export function checkVrl(programs: readonly VrlProgram[]): VrlChecked[] {
  if (programs.length === 0) return [];
  const input = JSON.stringify({ programs });
  const out = execFileSync(vrlCheckBinary(), [], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  const response = JSON.parse(out) as { vrl: string; programs: VrlChecked[] };
  if (response.programs.length !== programs.length)
    throw new Error(`vrl-check answered ${response.programs.length} programs for ${programs.length}`);
  return response.programs;
}

export interface VrlDecided {
  kind: VrlKind;
  source: string;
  sample: VrlSample;
  run: VrlRun;
}

function sampleKey(sample: VrlSample): string {
  return JSON.stringify([sample.event, sample.metadata ?? {}]);
}

/** Memoised, batched access to the real compiler for traversals that discover what they need as they go. */
export class VrlOracle {
  private readonly compiled = new Map<string, VrlChecked>();
  private readonly runs = new Map<string, VrlDecided>();
  private readonly pending = new Map<string, { kind: VrlKind; source: string; samples: Map<string, VrlSample> }>();
  /** Processes started so far. */
  spawns = 0;

  private static programKey(kind: VrlKind, source: string): string {
    return `${kind}\u0000${source}`;
  }

  /** The result, or undefined after queuing the request for the next `flush`. */
  run(kind: VrlKind, source: string, sample: VrlSample): VrlRun | undefined {
    const pk = VrlOracle.programKey(kind, source);
    const sk = sampleKey(sample);
    const known = this.runs.get(`${pk}\u0000${sk}`);
    if (known !== undefined) return known.run;
    const c = this.compiled.get(pk);
    if (c !== undefined && !c.compiled) throw new Error(`VRL ${kind} does not compile:\n${source}\n${c.diagnostics}`);
    let p = this.pending.get(pk);
    if (p === undefined) this.pending.set(pk, (p = { kind, source, samples: new Map() }));
    p.samples.set(sk, sample);
    return undefined;
  }

  /** Compile-only requests: the result of `compiled(kind, source)` after the next flush. */
  want(kind: VrlKind, source: string): void {
    const pk = VrlOracle.programKey(kind, source);
    if (!this.compiled.has(pk) && !this.pending.has(pk)) this.pending.set(pk, { kind, source, samples: new Map() });
  }

  compiledResult(kind: VrlKind, source: string): VrlChecked | undefined {
    return this.compiled.get(VrlOracle.programKey(kind, source));
  }

  /** Runs everything queued in one process; returns whether anything was queued. */
  flush(): boolean {
    if (this.pending.size === 0) return false;
    const batch = [...this.pending.entries()];
    this.pending.clear();
    const programs = batch.map(([pk, p], i) => ({
      id: String(i),
      kind: p.kind,
      source: p.source,
      events: [...p.samples.values()],
      pk,
    }));
    this.spawns++;
    const results = checkVrl(programs.map(({ id, kind, source, events }) => ({ id, kind, source, events })));
    results.forEach((r, i) => {
      const p = programs[i] as (typeof programs)[number];
      this.compiled.set(p.pk, r);
      const keys = [...(batch[i]?.[1].samples.keys() ?? [])];
      keys.forEach((sk, j) => {
        const run = r.results?.[j];
        const sample = p.events[j];
        if (run !== undefined && sample !== undefined)
          this.runs.set(`${p.pk}\u0000${sk}`, { kind: p.kind, source: p.source, sample, run });
      });
    });
    return true;
  }

  /** Every program run on every sample so far, with its result. */
  decided(): VrlDecided[] {
    return [...this.runs.values()];
  }

  /** Repeats `attempt` until it no longer needs anything new; returns its last answer. */
  settle<T>(attempt: () => T | undefined): T {
    for (;;) {
      const answer = attempt();
      if (answer !== undefined && this.pending.size === 0) return answer;
      if (!this.flush()) throw new Error('VRL traversal made no progress');
    }
  }
}
