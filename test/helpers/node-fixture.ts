/**
 * A simulated node for merger tests: real files in a temp dir, laid out as in an agent pod.
 *   <root>/data/<source>/checkpoints.json    Vector's data dir
 *   <root>/pods/<ns>_<pod>_<uid>/app/0.log    the kubelet's pod logs (--log-dir)
 *   <root>/legacy.json, <root>/optimized.json agent configs of both modes
 *
 * Time: liveness is judged by dir mtimes, so a simulated Vector flush stamps its dir strictly after everything else
 * in the data dir (the journal included), as real time would.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  renameSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc64 } from '../../src/vector/crc64.ts';
import { parseCheckpoints, serializeCheckpoints, type Checkpoint } from '../../src/vector/checkpoints.ts';
import { runMerge, type MergeOptions } from '../../src/merger/run.ts';
import type { Summary } from '../../src/merger/summary.ts';
import { memoryLogger } from '../../src/merger/log.ts';

export interface LogFileSpec {
  ns: string;
  pod: string;
  /** Whole file content; its first line is the fingerprint. */
  content: string;
  /** The file's name in the container dir (default `0.log`; a rotated one is `0.log.<YYYYMMDD-hhmmss>`). */
  file?: string;
}

export interface Entry {
  checksum: bigint;
  position: bigint;
  modified?: string;
}

export const MODIFIED = '2026-11-24T10:00:00.123456789Z';

export function entry(checksum: bigint, position: bigint | number, modified = MODIFIED): Checkpoint {
  return {
    fingerprint: { kind: 'first_lines_checksum', checksum },
    position: BigInt(position),
    modified,
  };
}

export function legacyId(ns: string, pipeline = 'p'): string {
  return `${ns}-${pipeline}-logs`;
}

export const OPT_ID = 'optimizedSource-b8c6f0ff';

export interface ConfigSpec {
  /** source id -> namespaces (one = `=` selector, several = `in (...)`, null = no selector) */
  sources: Record<string, string[] | null>;
  extra?: Record<string, unknown>;
}

export function agentConfig(spec: ConfigSpec): unknown {
  const sources: Record<string, unknown> = {};
  const sinks: Record<string, unknown> = {};
  for (const [id, nss] of Object.entries(spec.sources)) {
    const src: Record<string, unknown> = { type: 'kubernetes_logs' };
    if (nss !== null) {
      src.extra_namespace_label_selector =
        nss.length === 1
          ? `kubernetes.io/metadata.name=${nss[0]}`
          : `kubernetes.io/metadata.name in (${nss.join(',')})`;
    }
    sources[id] = src;
    sinks[`${id}-out`] = { type: 'blackhole', inputs: [id] };
  }
  return { data_dir: '/vector-data-dir', sources: { ...sources, ...(spec.extra ?? {}) }, sinks };
}

/** File timestamps come from the kernel's coarse clock, which can lag the real one by a tick (up to 10 ms). */
const COARSE_CLOCK_SLACK_MS = 15;
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

function stamp(ms: number): [Date, Date] {
  return [new Date(ms), new Date(ms)];
}

export class NodeFixture {
  readonly root: string;
  readonly data: string;
  readonly pods: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'merger-test-'));
    this.data = join(this.root, 'data');
    this.pods = join(this.root, 'pods');
    mkdirSync(this.data);
    mkdirSync(this.pods);
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  writeConfig(name: string, spec: ConfigSpec): string {
    const path = join(this.root, name);
    writeFileSync(path, JSON.stringify(agentConfig(spec)));
    return path;
  }

  /** Writes a pod log file and returns its fingerprint and size. */
  writeLog(spec: LogFileSpec): { checksum: bigint; size: bigint; path: string } {
    const dir = join(this.pods, `${spec.ns}_${spec.pod}_00000000-0000-4000-8000-000000000001`, 'app');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, spec.file ?? '0.log');
    writeFileSync(path, spec.content);
    const bytes = Buffer.from(spec.content);
    const nl = bytes.indexOf(0x0a);
    return { checksum: crc64(bytes, 0, nl + 1), size: BigInt(bytes.length), path };
  }

  /**
   * A time after every mtime in the data dir, yet not after what the kernel's coarse clock will stamp on the
   * merger's next write: real time must have passed it, or a later journal could look older than this flush.
   */
  private afterEverything(): number {
    const floor = this.newestMtimeMs() + 5;
    while (Date.now() - COARSE_CLOCK_SLACK_MS <= floor) Atomics.wait(SLEEPER, 0, 0, 2);
    return Date.now() - COARSE_CLOCK_SLACK_MS;
  }

  /** The newest mtime of anything in the data dir (journal included), in ms. */
  private newestMtimeMs(): number {
    let newest = 0;
    const visit = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        newest = Math.max(newest, statSync(p).mtimeMs);
        if (e.isDirectory()) visit(p);
      }
    };
    visit(this.data);
    return newest;
  }

  /**
   * Vector flushes `source`'s checkpoints: `checkpoints.new.json`, then rename (its real protocol). `at`:
   * 'now' stamps the dir after everything else in the data dir; a number is seconds before now (an old state).
   */
  vectorFlush(source: string, entries: Checkpoint[], at: 'now' | number = 'now'): void {
    const dir = join(this.data, source);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'checkpoints.new.json'), serializeCheckpoints(entries));
    renameSync(join(dir, 'checkpoints.new.json'), join(dir, 'checkpoints.json'));
    utimesSync(dir, ...stamp(at === 'now' ? this.afterEverything() : Date.now() - at * 1000));
  }

  writeRaw(source: string, file: string, text: string): void {
    const dir = join(this.data, source);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, file), text);
  }

  /** Stamps a source dir as last written `seconds` ago (a leftover from an earlier run). */
  age(source: string, seconds: number): void {
    utimesSync(join(this.data, source), ...stamp(Date.now() - seconds * 1000));
  }

  readRaw(source: string, file = 'checkpoints.json'): string | null {
    const p = join(this.data, source, file);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  }

  /** The checkpoints in `source`'s checkpoints.json, as position by checksum; throws if it does not parse. */
  positions(source: string): Map<bigint, bigint> {
    const text = this.readRaw(source);
    if (text === null) throw new Error(`${source} has no checkpoints.json`);
    const parsed = parseCheckpoints(text);
    if (parsed.kind !== 'ok' || !parsed.vectorAccepts) throw new Error(`${source}: not loadable by Vector`);
    return new Map(
      parsed.checkpoints.map((c) => [
        c.fingerprint.kind === 'first_lines_checksum' ? c.fingerprint.checksum : -1n,
        c.position,
      ]),
    );
  }

  /** Every file under the data dir with its bytes and mtime: equal snapshots mean nothing was written. */
  snapshot(): Map<string, { text: string; mtimeMs: number }> {
    const out = new Map<string, { text: string; mtimeMs: number }>();
    const visit = (dir: string, rel: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) visit(p, `${rel}${e.name}/`);
        else out.set(`${rel}${e.name}`, { text: readFileSync(p, 'utf8'), mtimeMs: statSync(p).mtimeMs });
      }
    };
    visit(this.data, '');
    return out;
  }

  async merge(
    config: string,
    options: Partial<MergeOptions> = {},
  ): Promise<Summary & { lines: ReturnType<typeof memoryLogger>['lines'] }> {
    const log = memoryLogger();
    const summary = await runMerge(
      { config, standbyConfig: null, dataDir: this.data, logDir: null, policy: 'min', summaryFile: null, ...options },
      log,
    );
    return { ...summary, lines: log.lines };
  }
}

/** The per-target log line for `source`. */
export function targetLine(
  lines: ReturnType<typeof memoryLogger>['lines'],
  source: string,
): Record<string, unknown> | undefined {
  return lines.find((l) => l.msg === 'target' && l.fields.source === source)?.fields;
}
