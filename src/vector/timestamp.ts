/**
 * The RFC 3339 timestamps of a checkpoint's `modified` field (reference: vector-checkpoints.md §2).
 *
 * Invariants:
 * - `parseRfc3339` accepts what Vector's reader accepts in practice: `T` or space as separator, 0 to 9 fraction
 *   digits, `Z` or a `±hh:mm` offset. It is exactly the oracle's pattern (test/oracle/vectorfmt.py), plus range
 *   checks on every field, so an impossible date is refused rather than silently normalised.
 * - The result is nanoseconds since the Unix epoch in UTC, as a bigint, so any two valid texts compare exactly, at
 *   full nanosecond precision, whatever offsets they were written with; `compareRfc3339` gives that same order
 *   without the arithmetic where the texts allow it.
 * - The text itself is never rewritten by this module: callers keep the original string.
 */

const PATTERN = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The fields of `text`, range-checked, or `null` if it is not a timestamp Vector would read. */
function validMatch(text: string): RegExpExecArray | null {
  const m = PATTERN.exec(text);
  if (m === null) return null;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return null;
  const day = Number(m[3]);
  const maxDay = month === 2 && isLeap(Number(m[1])) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day < 1 || day > maxDay || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return null;
  if (m[8] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return null;
  return m;
}

/** Whether Vector would read `text` as a timestamp. Cheaper than `parseRfc3339`: no arithmetic. */
export function isRfc3339(text: string): boolean {
  return validMatch(text) !== null;
}

/** Nanoseconds since the epoch (UTC), or `null` if the text is not a timestamp Vector would read. */
export function parseRfc3339(text: string): bigint | null {
  const m = validMatch(text);
  if (m === null) return null;
  const [, ys, mos, ds, hs, mis, ss, frac, sign, ohs, oms] = m;
  const offsetMinutes = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(ohs) * 60 + Number(oms));
  // Date.UTC maps years 0-99 to 1900-1999, so set the full year explicitly.
  const date = new Date(Date.UTC(2000, Number(mos) - 1, Number(ds), Number(hs), Number(mis), Number(ss)));
  date.setUTCFullYear(Number(ys));
  const epochMs = date.getTime() - offsetMinutes * 60_000;
  const nanos = frac === undefined ? 0n : BigInt(frac.padEnd(9, '0'));
  return BigInt(epochMs) * 1_000_000n + nanos;
}

/**
 * Orders two timestamps that `isRfc3339` accepts, exactly, by the instant they denote.
 *
 * Two UTC (`Z`) texts of the same length and separator differ only in fixed-width, zero-padded digits, most
 * significant first (the same length means the same number of fraction digits), so their string order is their
 * time order. That covers what Vector writes; any other pair is compared in nanoseconds.
 */
export function compareRfc3339(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === b.length && a.endsWith('Z') && b.endsWith('Z') && a[10] === b[10]) return a < b ? -1 : 1;
  const na = parseRfc3339(a) ?? 0n;
  const nb = parseRfc3339(b) ?? 0n;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/**
 * Nanoseconds since the epoch as Vector writes `modified`: chrono's `SecondsFormat::AutoSi` with `Z`, i.e. no
 * fraction when the nanoseconds are 0, else 3, 6 or 9 digits, the fewest that are exact.
 */
export function formatRfc3339AutoSi(epochNs: bigint): string {
  const ms = epochNs / 1_000_000n;
  const nanos = Number(epochNs % 1_000_000_000n);
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  if (nanos % 1_000_000 === 0) return `${base}.${String(nanos / 1_000_000).padStart(3, '0')}Z`;
  if (nanos % 1_000 === 0) return `${base}.${String(nanos / 1_000).padStart(6, '0')}Z`;
  return `${base}.${String(nanos).padStart(9, '0')}Z`;
}
