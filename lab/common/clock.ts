/** Wall-clock time in nanoseconds with sub-millisecond digits, like Rust's `Utc::now()` or Go's `time.Now()` on Linux. */
const hrBase = process.hrtime.bigint();
const wallBaseNs = BigInt(Date.now()) * 1_000_000n;

export function nowNs(): bigint {
  return wallBaseNs + (process.hrtime.bigint() - hrBase);
}
