/**
 * CRC-64/ECMA-182, the checksum behind Vector's `first_lines_checksum` fingerprints.
 *
 * Parameters (crc-catalog): width 64, poly 0x42f0e1eba9ea3693, init 0, refin/refout false, xorout 0,
 * check("123456789") = 0x6c40df5f0b497347. It is MSB-first and unreflected: NOT CRC-64/XZ ("GO-ECMA").
 *
 * Invariant: `crc64(bytes)` equals Vector's `FINGERPRINT_CRC.checksum(bytes)` for every input.
 *
 * Why this shape: BigInt arithmetic runs at ~20 MB/s. Here the 64-bit register is two int32 halves (V8 keeps int32
 * unboxed; uint32 above 2^31 is not) and the input is consumed 8 bytes per step, read as two big-endian words,
 * through eight 256-entry tables laid out in one flat array (slice-by-8): > 1 GB/s on this machine.
 */

const POLY_HI = 0x42f0e1eb;
const POLY_LO = 0xa9ea3693 | 0;

/** Entry `k * 256 + b` is the CRC of byte b followed by k zero bytes (hi and lo halves). */
const TABLE_HI = new Int32Array(8 * 256);
const TABLE_LO = new Int32Array(8 * 256);

for (let b = 0; b < 256; b++) {
  let hi = b << 24;
  let lo = 0;
  for (let bit = 0; bit < 8; bit++) {
    const carry = hi & 0x80000000;
    hi = (hi << 1) | (lo >>> 31);
    lo = lo << 1;
    if (carry !== 0) {
      hi ^= POLY_HI;
      lo ^= POLY_LO;
    }
  }
  TABLE_HI[b] = hi;
  TABLE_LO[b] = lo;
}
for (let i = 256; i < 8 * 256; i++) {
  // One more zero byte: shift the previous table's entry left by 8 bits and fold the byte that falls off.
  const hi = TABLE_HI[i - 256] as number;
  const lo = TABLE_LO[i - 256] as number;
  const out = hi >>> 24;
  TABLE_HI[i] = ((hi << 8) | (lo >>> 24)) ^ (TABLE_HI[out] as number);
  TABLE_LO[i] = (lo << 8) ^ (TABLE_LO[out] as number);
}

/** CRC-64/ECMA-182 of `data[start, end)`, as an unsigned 64-bit bigint. */
export function crc64(data: Uint8Array, start = 0, end = data.length): bigint {
  const H = TABLE_HI;
  const L = TABLE_LO;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let hi = 0;
  let lo = 0;
  let i = start;
  // Table reads are in bounds by construction; `as number` only satisfies noUncheckedIndexedAccess.
  while (end - i >= 8) {
    const w1 = view.getInt32(i) ^ hi;
    const w2 = view.getInt32(i + 4) ^ lo;
    const a = 1792 + (w1 >>> 24);
    const b = 1536 + ((w1 >>> 16) & 0xff);
    const c = 1280 + ((w1 >>> 8) & 0xff);
    const d = 1024 + (w1 & 0xff);
    const e = 768 + (w2 >>> 24);
    const f = 512 + ((w2 >>> 16) & 0xff);
    const g = 256 + ((w2 >>> 8) & 0xff);
    const h = w2 & 0xff;
    hi =
      (H[a] as number) ^
      (H[b] as number) ^
      (H[c] as number) ^
      (H[d] as number) ^
      (H[e] as number) ^
      (H[f] as number) ^
      (H[g] as number) ^
      (H[h] as number);
    lo =
      (L[a] as number) ^
      (L[b] as number) ^
      (L[c] as number) ^
      (L[d] as number) ^
      (L[e] as number) ^
      (L[f] as number) ^
      (L[g] as number) ^
      (L[h] as number);
    i += 8;
  }
  while (i < end) {
    const idx = (hi >>> 24) ^ (data[i] as number);
    hi = ((hi << 8) | (lo >>> 24)) ^ (H[idx] as number);
    lo = (lo << 8) ^ (L[idx] as number);
    i++;
  }
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
