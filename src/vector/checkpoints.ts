/**
 * Vector's `checkpoints.json`, version "1", read and written exactly as Vector >= 0.51 does
 * (reference: vector-checkpoints.md §1-2, §6).
 *
 * On-disk contract:
 * - `{"version":"1","checkpoints":[{"fingerprint":F,"position":u64,"modified":RFC3339}, ...]}`, where F is
 *   `{"first_lines_checksum":u64}` (alias on read: `first_line_checksum`) or `{"dev_inode":[u64,u64]}`.
 * - Vector >= 0.51 refuses the whole file for a `checksum`/`unknown`/other variant, a missing or bad `modified`,
 *   a non-u64 number, or a numeric `version`; it then re-reads every log file. So:
 *     - such entries are dropped, each with a problem message, and never written back;
 *     - a numeric version 1 is read (the data is v1) but flagged;
 *     - any other version is "foreign": neither used as input nor rewritten.
 *
 * Invariants:
 * - u64 values are bigint end to end, from the raw JSON text (JSON.parse's `context.source`): never a JS number.
 * - `modified` is kept as the exact text that was read, and compared as a time with `compareRfc3339`.
 * - `serializeCheckpoints` emits Vector's canonical form: compact, no trailing newline, `first_lines_checksum`
 *   entries ascending numerically, then `dev_inode` ascending by (dev, ino), one entry per fingerprint.
 */
import { compareRfc3339, isRfc3339 } from './timestamp.ts';

export const CHECKPOINTS_FILE = 'checkpoints.json';
/** Vector's own tmp file: if it parses, Vector prefers it over `checkpoints.json` at startup. */
export const CHECKPOINTS_TMP_FILE = 'checkpoints.new.json';

export const U64_MAX = (1n << 64n) - 1n;

export type Fingerprint =
  | { readonly kind: 'first_lines_checksum'; readonly checksum: bigint }
  | { readonly kind: 'dev_inode'; readonly dev: bigint; readonly ino: bigint };

export interface Checkpoint {
  readonly fingerprint: Fingerprint;
  /** Byte offset at which Vector resumes reading (decompressed bytes for gzip). */
  readonly position: bigint;
  /** The exact RFC 3339 text read from disk (valid: `isRfc3339`). */
  readonly modified: string;
}

export type ParseOutcome =
  | {
      readonly kind: 'ok';
      /** Canonical order, one per fingerprint. */
      readonly checkpoints: readonly Checkpoint[];
      /** One message per dropped entry or irregularity, for the log. */
      readonly problems: readonly string[];
      /** Whether Vector >= 0.51 would load this file as it stands. */
      readonly vectorAccepts: boolean;
    }
  | { readonly kind: 'foreign-version'; readonly version: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * A map key unique per fingerprint: the checksum itself (a bigint; Maps compare bigints by value), or `<dev>:<ino>`
 * (a string, so never equal to a checksum). A bigint key costs no string building, which matters at 30 000 entries.
 */
export type FingerprintKey = bigint | string;

export function fingerprintKey(fp: Fingerprint): FingerprintKey {
  return fp.kind === 'first_lines_checksum' ? fp.checksum : `${fp.dev}:${fp.ino}`;
}

/** A JSON number as its source text: JSON.parse never turns it into a (lossy) JS number here. */
class RawNumber {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
}

interface ReviverContext {
  source?: string;
}

function reviver(this: unknown, _key: string, value: unknown, context?: ReviverContext): unknown {
  return typeof value === 'number' ? new RawNumber(context?.source ?? String(value)) : value;
}

const U64_TEXT = /^(?:0|[1-9][0-9]{0,19})$/;

function u64(value: unknown): bigint | null {
  if (!(value instanceof RawNumber) || !U64_TEXT.test(value.source)) return null;
  const n = BigInt(value.source);
  return n <= U64_MAX ? n : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return '<missing>';
  if (v instanceof RawNumber) return v.source;
  const text = JSON.stringify(v, (_k, x: unknown) => (x instanceof RawNumber ? x.source : x));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function parseFingerprint(v: unknown): Fingerprint | string {
  if (!isRecord(v)) return `fingerprint is not an object: ${describe(v)}`;
  const keys = Object.keys(v);
  if (keys.length !== 1) return `fingerprint must have exactly one key: ${describe(v)}`;
  const variant = keys[0] as string;
  const payload = v[variant];
  if (variant === 'first_lines_checksum' || variant === 'first_line_checksum') {
    const checksum = u64(payload);
    return checksum === null
      ? `${variant} is not a u64: ${describe(payload)}`
      : { kind: 'first_lines_checksum', checksum };
  }
  if (variant === 'dev_inode') {
    if (!Array.isArray(payload) || payload.length !== 2)
      return `dev_inode is not a [dev, inode] pair: ${describe(payload)}`;
    const dev = u64(payload[0]);
    const ino = u64(payload[1]);
    return dev === null || ino === null
      ? `dev_inode is not a u64 pair: ${describe(payload)}`
      : { kind: 'dev_inode', dev, ino };
  }
  return `fingerprint variant '${variant}' is refused by Vector >= 0.51`;
}

function parseEntry(v: unknown): Checkpoint | string {
  if (!isRecord(v)) return `entry is not an object: ${describe(v)}`;
  const fingerprint = parseFingerprint(v.fingerprint);
  if (typeof fingerprint === 'string') return fingerprint;
  const position = u64(v.position);
  if (position === null) return `position is not a u64: ${describe(v.position)}`;
  if (typeof v.modified !== 'string') return `modified is missing or not a string: ${describe(v.modified)}`;
  if (!isRfc3339(v.modified)) return `modified is not an RFC 3339 timestamp: ${describe(v.modified)}`;
  return { fingerprint, position, modified: v.modified };
}

const CANONICAL_HEAD = '{"version":"1","checkpoints":[';
/** One canonical checksum entry, then `,` or the closing `]}`; sticky, so entries must follow each other exactly. */
const CANONICAL_ENTRY =
  /\{"fingerprint":\{"first_lines_checksum":(0|[1-9][0-9]{0,19})\},"position":(0|[1-9][0-9]{0,19}),"modified":"([-0-9T:. +Z]{20,35})"\}(,|\]\}$)/y;

/**
 * Fast path for the compact form Vector writes (checksum entries only): one sticky regex step per entry instead of a
 * generic parse. Returns `null` for anything else, which then takes the general path; both end in `finish`, so
 * they give the same result for the same file.
 */
function parseCanonical(text: string): ParseOutcome | null {
  if (!text.startsWith(CANONICAL_HEAD)) return null;
  if (text.length === CANONICAL_HEAD.length + 2) {
    return text.endsWith(']}') ? finish([], [], true) : null;
  }
  const re = CANONICAL_ENTRY;
  re.lastIndex = CANONICAL_HEAD.length;
  const entries: Checkpoint[] = [];
  for (;;) {
    const m = re.exec(text);
    if (m === null) return null;
    const checksum = BigInt(m[1] as string);
    const position = BigInt(m[2] as string);
    const modified = m[3] as string;
    if (checksum > U64_MAX || position > U64_MAX || !isRfc3339(modified)) return null;
    entries.push({ fingerprint: { kind: 'first_lines_checksum', checksum }, position, modified });
    if (m[4] !== ',') return finish(entries, [], true);
  }
}

function finish(entries: Checkpoint[], problems: string[], vectorAccepts: boolean): ParseOutcome {
  const checkpoints = canonicalize(entries);
  if (checkpoints.length !== entries.length) {
    problems.push(`${entries.length - checkpoints.length} duplicate fingerprint(s): kept the highest position`);
  }
  return { kind: 'ok', checkpoints, problems, vectorAccepts };
}

/** Parses a checkpoints file's text. Never throws. */
export function parseCheckpoints(text: string): ParseOutcome {
  return parseCanonical(text) ?? parseGeneral(text);
}

function parseGeneral(text: string): ParseOutcome {
  let doc: unknown;
  try {
    doc = JSON.parse(text, reviver);
  } catch (err) {
    return { kind: 'invalid', reason: `not JSON: ${(err as Error).message}` };
  }
  if (!isRecord(doc)) return { kind: 'invalid', reason: 'top level is not an object' };
  const problems: string[] = [];
  let vectorAccepts = true;
  const version = doc.version;
  if (version instanceof RawNumber && version.source === '1') {
    problems.push('version is the number 1, not the string "1" (Vector >= 0.51 refuses the file)');
    vectorAccepts = false;
  } else if (version !== '1') {
    return { kind: 'foreign-version', version: version === undefined ? '<missing>' : describe(version) };
  }
  if (!Array.isArray(doc.checkpoints)) return { kind: 'invalid', reason: 'checkpoints is not an array' };
  const entries: Checkpoint[] = [];
  for (const [i, raw] of (doc.checkpoints as unknown[]).entries()) {
    const entry = parseEntry(raw);
    if (typeof entry === 'string') {
      problems.push(`entry ${i} dropped: ${entry}`);
      vectorAccepts = false;
    } else {
      entries.push(entry);
    }
  }
  return finish(entries, problems, vectorAccepts);
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Vector's order: variant first (checksum before dev_inode), then the numbers ascending. */
function compareFingerprints(a: Fingerprint, b: Fingerprint): number {
  if (a.kind !== b.kind) return a.kind === 'first_lines_checksum' ? -1 : 1;
  if (a.kind === 'first_lines_checksum' && b.kind === 'first_lines_checksum') return compareBig(a.checksum, b.checksum);
  if (a.kind === 'dev_inode' && b.kind === 'dev_inode') return compareBig(a.dev, b.dev) || compareBig(a.ino, b.ino);
  return 0;
}

/**
 * Sorted canonically with one entry per fingerprint. Where a fingerprint repeats, the survivor is the one Vector's
 * loader would keep: the highest position, then the latest `modified`.
 */
function canonicalize(entries: Iterable<Checkpoint>): Checkpoint[] {
  const sorted = [...entries].sort(
    (a, b) =>
      compareFingerprints(a.fingerprint, b.fingerprint) ||
      compareBig(a.position, b.position) ||
      compareRfc3339(a.modified, b.modified),
  );
  const out: Checkpoint[] = [];
  for (const e of sorted) {
    const last = out.at(-1);
    if (last !== undefined && compareFingerprints(last.fingerprint, e.fingerprint) === 0) out[out.length - 1] = e;
    else out.push(e);
  }
  return out;
}

function fingerprintJson(fp: Fingerprint): string {
  return fp.kind === 'first_lines_checksum'
    ? `{"first_lines_checksum":${fp.checksum}}`
    : `{"dev_inode":[${fp.dev},${fp.ino}]}`;
}

/** The file text Vector itself would write for these entries (canonicalized first). */
export function serializeCheckpoints(entries: Iterable<Checkpoint>): string {
  const parts = canonicalize(entries).map(
    (e) =>
      `{"fingerprint":${fingerprintJson(e.fingerprint)},"position":${e.position},"modified":${JSON.stringify(e.modified)}}`,
  );
  return `{"version":"1","checkpoints":[${parts.join(',')}]}`;
}
