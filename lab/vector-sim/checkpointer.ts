/**
 * One source's checkpoint store, with Vector's read and write protocol (vector-checkpoints.md §1, §4).
 *
 * Invariants:
 * - Load: a parseable `checkpoints.new.json` wins and is renamed over `checkpoints.json` (the stable file is then not
 *   read); otherwise `checkpoints.json`; a missing or unparseable file starts empty (and is overwritten by the next
 *   write). Entries with `modified` before `ignoreBefore` are not loaded.
 * - Only Vector-loadable content is used: a file `src/vector/checkpoints.ts` says Vector >= 0.51 refuses is treated
 *   as unparseable, exactly as Vector would (full re-read).
 * - Write: expired entries are removed first (dead for at least `expireMs`); nothing is written when the text equals
 *   the last text this instance wrote (the first write always happens); otherwise `checkpoints.new.json` is
 *   written and fsynced, then renamed over `checkpoints.json`, with no directory fsync, as Vector does.
 * - Loaded entries that never get a watcher are kept and rewritten forever.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHECKPOINTS_FILE,
  CHECKPOINTS_TMP_FILE,
  fingerprintKey,
  type FingerprintKey,
  parseCheckpoints,
  serializeCheckpoints,
  type Checkpoint,
  type Fingerprint,
} from '../../src/vector/checkpoints.ts';
import { formatRfc3339AutoSi, parseRfc3339 } from '../../src/vector/timestamp.ts';
import { nowNs } from '../common/clock.ts';

export type LoadedFrom = 'tmp' | 'stable' | 'none' | 'invalid';

interface Entry {
  fingerprint: Fingerprint;
  position: bigint;
  modified: string;
  modifiedNs: bigint;
  /** Wall-clock ms when the watcher died (Vector's removed_times). */
  removedAtMs?: number;
}

export class Checkpointer {
  readonly dir: string;
  private readonly expireMs: number;
  private readonly entries = new Map<FingerprintKey, Entry>();
  private last: string | null = null;

  constructor(dir: string, expireMs: number) {
    this.dir = dir;
    this.expireMs = expireMs;
  }

  /** Vector's `read_checkpoints(ignore_before)`. Creates the dir (Vector's recursive DirBuilder). */
  load(ignoreBeforeNs?: bigint): LoadedFrom {
    mkdirSync(this.dir, { recursive: true });
    const read = (name: string): Checkpoint[] | null | undefined => {
      let text: string;
      try {
        text = readFileSync(join(this.dir, name), 'utf8');
      } catch {
        return undefined;
      }
      const parsed = parseCheckpoints(text);
      return parsed.kind === 'ok' && parsed.vectorAccepts ? [...parsed.checkpoints] : null;
    };
    let from: LoadedFrom = 'none';
    let loaded = read(CHECKPOINTS_TMP_FILE);
    if (loaded !== undefined && loaded !== null) {
      renameSync(join(this.dir, CHECKPOINTS_TMP_FILE), join(this.dir, CHECKPOINTS_FILE));
      from = 'tmp';
    } else {
      loaded = read(CHECKPOINTS_FILE);
      if (loaded === null) from = 'invalid';
      else if (loaded !== undefined) from = 'stable';
    }
    for (const c of loaded ?? []) {
      // A loaded entry's `modified` is valid (the parser drops any other), so it always has an instant.
      const modifiedNs = parseRfc3339(c.modified) ?? 0n;
      if (ignoreBeforeNs !== undefined && modifiedNs < ignoreBeforeNs) continue;
      this.entries.set(fingerprintKey(c.fingerprint), { ...c, modifiedNs });
    }
    return from;
  }

  get(fp: Fingerprint): bigint | undefined {
    return this.entries.get(fingerprintKey(fp))?.position;
  }

  /** `CheckpointsView::update`: the position right after a complete line; stamps `modified`, clears death. */
  update(fp: Fingerprint, position: bigint): void {
    const ns = nowNs();
    this.entries.set(fingerprintKey(fp), {
      fingerprint: fp,
      position,
      modified: formatRfc3339AutoSi(ns),
      modifiedNs: ns,
    });
  }

  setDead(fp: Fingerprint): void {
    const e = this.entries.get(fingerprintKey(fp));
    if (e !== undefined) e.removedAtMs = Date.now();
  }

  size(): number {
    return this.entries.size;
  }

  /** `write_checkpoints`; returns whether a file was written. */
  write(): boolean {
    const now = Date.now();
    for (const [k, e] of this.entries) {
      if (e.removedAtMs !== undefined && now - e.removedAtMs >= this.expireMs) this.entries.delete(k);
    }
    const text = serializeCheckpoints(this.entries.values());
    if (text === this.last) return false;
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, CHECKPOINTS_TMP_FILE);
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, CHECKPOINTS_FILE));
    this.last = text;
    return true;
  }
}
