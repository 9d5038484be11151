/**
 * A container's log files as the container runtime writes them and the kubelet rotates them
 * (kubernetes pkg/kubelet/logs/container_log_manager.go).
 *
 * Invariants:
 * - Lines are CRI: `<RFC 3339 ns timestamp> <stream> <tag> <message>\n`, tag `F` (whole line).
 * - `rotate()` does the kubelet's four steps in order: remove leftover `.tmp` files; delete the oldest rotated files
 *   so that at most `maxFiles - 2` remain; gzip every rotated plain file except the newest (`<f>.tmp`, renamed to
 *   `<f>.gz`, then `<f>` removed); rename the live `<n>.log` to `<n>.log.<YYYYMMDD-hhmmss>` (same inode, same bytes,
 *   so Vector sees a rename) and reopen an empty `<n>.log`.
 * - Rotated names are unique: a rotation in the same second as the previous one waits for the next second of the
 *   caller's clock (the kubelet never rotates one container twice within its 10 s monitor period).
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** `YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ` from ns since the epoch. */
export function criTimestamp(epochNs: bigint): string {
  const base = new Date(Number(epochNs / 1_000_000n)).toISOString().slice(0, 19);
  return `${base}.${String(epochNs % 1_000_000_000n).padStart(9, '0')}Z`;
}

/** Go layout `20060102-150405`, UTC. */
export function rotationSuffix(epochNs: bigint): string {
  const iso = new Date(Number(epochNs / 1_000_000n)).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

export interface CriLine {
  stream: 'stdout' | 'stderr';
  message: string;
}

export type RotationEvent =
  { kind: 'renamed'; from: string; to: string } | { kind: 'gzipped'; file: string } | { kind: 'deleted'; file: string };

export class ContainerLog {
  readonly dir: string;
  readonly name: string;
  private readonly maxFiles: number;
  private lastRotationSecond = -1n;

  /** `name` is `<restartCount>.log`. */
  constructor(dir: string, name = '0.log', maxFiles = 5) {
    this.dir = dir;
    this.name = name;
    this.maxFiles = Math.max(2, maxFiles);
    mkdirSync(dir, { recursive: true });
    if (!existsSync(this.path)) closeSync(openSync(this.path, 'a'));
  }

  get path(): string {
    return join(this.dir, this.name);
  }

  size(): number {
    return statSync(this.path).size;
  }

  append(lines: readonly CriLine[], epochNs: () => bigint): void {
    if (lines.length === 0) return;
    appendFileSync(this.path, lines.map((l) => `${criTimestamp(epochNs())} ${l.stream} F ${l.message}\n`).join(''));
  }

  /** Rotated files, oldest first (the suffix sorts by time). */
  rotated(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.startsWith(`${this.name}.`) && !f.endsWith('.tmp'))
      .sort();
  }

  /** The kubelet's rotation; `nowNs` names the rotated file. Returns what happened, in order. */
  rotate(nowNs: bigint): RotationEvent[] {
    const events: RotationEvent[] = [];
    let second = nowNs / 1_000_000_000n;
    if (second <= this.lastRotationSecond) second = this.lastRotationSecond + 1n;
    this.lastRotationSecond = second;
    for (const f of readdirSync(this.dir)) if (f.endsWith('.tmp')) unlinkSync(join(this.dir, f));
    const old = this.rotated();
    for (const f of old.slice(0, Math.max(0, old.length - (this.maxFiles - 2)))) {
      unlinkSync(join(this.dir, f));
      events.push({ kind: 'deleted', file: f });
    }
    const kept = this.rotated();
    const plain = kept.filter((f) => !f.endsWith('.gz'));
    for (const f of plain.slice(0, -1)) {
      const src = join(this.dir, f);
      writeFileSync(join(this.dir, `${f}.tmp`), gzipSync(readFileSync(src)));
      renameSync(join(this.dir, `${f}.tmp`), join(this.dir, `${f}.gz`));
      unlinkSync(src);
      events.push({ kind: 'gzipped', file: f });
    }
    const to = `${this.name}.${rotationSuffix(second * 1_000_000_000n)}`;
    renameSync(this.path, join(this.dir, to));
    closeSync(openSync(this.path, 'a'));
    events.push({ kind: 'renamed', from: this.name, to });
    return events;
  }
}
