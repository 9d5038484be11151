/**
 * The RFC 3339 timestamps of a checkpoint's `modified` field (reference: vector-checkpoints.md §2).
 *
 * Invariants:
 * - `parseRfc3339` accepts what Vector's reader accepts in practice: `T` or space as separator, 0 to 9 fraction
 *   digits, `Z` or a `±hh:mm` offset. It is exactly the oracle's pattern (shared/bench/vectorfmt.py), plus range
 *   checks on every field, so an impossible date is refused rather than silently normalised.
 * - The result is nanoseconds since the Unix epoch in UTC, as a bigint, so any two valid texts compare exactly, at
 *   full nanosecond precision, whatever offsets they were written with.
 * - The text itself is never rewritten by this module: callers keep the original string.
 */

const PATTERN = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Nanoseconds since the epoch (UTC), or `null` if the text is not a timestamp Vector would read. */
export function parseRfc3339(text: string): bigint | null {
  const m = PATTERN.exec(text);
  if (m === null) return null;
  const [, ys, mos, ds, hs, mis, ss, frac, sign, ohs, oms] = m;
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = Number(hs);
  const minute = Number(mis);
  const second = Number(ss);
  if (month < 1 || month > 12) return null;
  const maxDay = month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day < 1 || day > maxDay || hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (sign !== undefined) {
    const oh = Number(ohs);
    const om = Number(oms);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // Date.UTC maps years 0-99 to 1900-1999, so set the full year explicitly.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year);
  const epochMs = date.getTime() - offsetMinutes * 60_000;
  const nanos = frac === undefined ? 0n : BigInt(frac.padEnd(9, '0'));
  return BigInt(epochMs) * 1_000_000n + nanos;
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
