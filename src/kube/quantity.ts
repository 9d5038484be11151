/**
 * Kubernetes resource quantities in the form the API server stores them (k8s.io/apimachinery `resource.Quantity`).
 *
 * A real server decodes every Quantity field into the Go type and encodes it again, so `1000m` is stored as `1`,
 * `1024Mi` as `1Gi` and `0.5` as `500m`. A client that compares what it sends with what is stored must send the
 * stored form, or every comparison differs.
 *
 * Invariants (each mirrors quantity.go):
 * - Parsing: optional sign, digits, optional `.digits`, then a suffix: none, `n u m k M G T P E` (decimal SI),
 *   `Ki Mi Gi Ti Pi Ei` (binary SI) or `e<int>`/`E<int>` (decimal exponent). Anything else is invalid (undefined).
 * - Values round up (away from zero) to nano; binary-SI values are capped at 2^63-1.
 * - A value parsed on the int64 fast path that is already in canonical form keeps its input string verbatim (Go
 *   caches it in `Quantity.s`): `123Mi`, `100m`, `129e6`, but also `+1` and `0100m`.
 * - Otherwise the canonical String(): `0` for zero; binary SI when the input used it, the magnitude is at least 1024
 *   and the value is an integer (largest exact power of 1024, e.g. `1.5Gi` → `1536Mi`); else the input's decimal
 *   format (decimal SI, or `e<n>` for decimal-exponent input) with the exponent a multiple of 3, e.g. `1000m` → `1`,
 *   `0.5` → `500m`, `1e3` → `1e3`.
 * - Pure: no I/O, no mutation of the inputs.
 */

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIX = new Map(Object.entries(DECIMAL).map(([s, e]) => [e, s]));
const BINARY_SUFFIX = new Map(Object.entries(BINARY).map(([s, e]) => [e, s]));
const INT64_MAX = (1n << 63n) - 1n;

interface Scanned {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** parseQuantityString: a scanner, not a regular expression, so that it accepts exactly what Go accepts. */
function scan(str: string): Scanned | undefined {
  let pos = 0;
  let positive = true;
  if (str.startsWith('-')) {
    positive = false;
    pos++;
  } else if (str.startsWith('+')) pos++;
  while (pos < str.length && str[pos] === '0') pos++;
  if (pos >= str.length) return { positive, num: '0', denom: '', suffix: '' };
  const digits = (from: number): number => {
    let i = from;
    while (i < str.length && (str[i] ?? '') >= '0' && (str[i] ?? '') <= '9') i++;
    return i;
  };
  let end = digits(pos);
  let num = str.slice(pos, end);
  if (num === '') num = '0';
  pos = end;
  let denom = '';
  if (str[pos] === '.') {
    end = digits(pos + 1);
    denom = str.slice(pos + 1, end);
    pos = end;
  }
  const suffixStart = pos;
  while (pos < str.length && 'eEinumkKMGTP'.includes(str[pos] ?? '')) pos++;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  pos = digits(pos);
  if (pos < str.length) return undefined;
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function interpret(suffix: string): { base: 10 | 2; exponent: number; format: Format } | undefined {
  const dec = DECIMAL[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = BINARY[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[-+]?\d+$/.test(suffix.slice(1))) {
    const exponent = Number(suffix.slice(1));
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 2 ** 31) return undefined;
    return { base: 10, exponent, format: 'DecimalExponent' };
  }
  return undefined;
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** Removes every factor `base` from a positive magnitude (removeInt64Factors / removeBigIntFactors). */
function removeFactors(value: bigint, base: bigint): [bigint, number] {
  let v = value;
  let times = 0;
  while (v >= base && v % base === 0n) {
    v /= base;
    times++;
  }
  return [v, times];
}

/** CanonicalizeBytes for a value `sign * mag * 10^-scale`. */
function canonical(negative: boolean, mag: bigint, scale: number, format: Format): string {
  if (mag === 0n) return '0';
  const sign = negative ? '-' : '';
  let fmt = format;
  if (fmt === 'BinarySI') {
    const small = scale >= 0 ? mag < 1024n * pow10(scale) : mag * pow10(-scale) < 1024n;
    const integral = scale <= 0 || mag % pow10(scale) === 0n;
    if (small || !integral) fmt = 'DecimalSI';
    else {
      const whole = scale <= 0 ? mag * pow10(-scale) : mag / pow10(scale);
      const [amount, times] = removeFactors(whole, 1024n);
      return `${sign}${amount}${BINARY_SUFFIX.get(times * 10) ?? ''}`;
    }
  }
  const [reduced, times] = removeFactors(mag, 10n);
  let amount = reduced;
  let exponent = times - scale;
  while (exponent % 3 !== 0) {
    amount *= 10n;
    exponent--;
  }
  // Go looks the suffix up in a table and appends nothing when it is missing (exponents above 18): faithful, if odd.
  const suffix =
    fmt === 'DecimalExponent' ? (exponent === 0 ? '' : `e${exponent}`) : (DECIMAL_SUFFIX.get(exponent) ?? '');
  return `${sign}${amount}${suffix}`;
}

/** The string a real API server stores for this quantity, or undefined when the server would reject it. */
export function canonicalQuantity(input: string | number): string | undefined {
  if (typeof input === 'number' && !Number.isFinite(input)) return undefined;
  const str = String(input).trim();
  if (str === '') return undefined;
  if (str === '0') return '0';
  const s = scan(str);
  if (s === undefined) return undefined;
  const suf = interpret(s.suffix);
  if (suf === undefined) return undefined;
  const { base, exponent, format } = suf;

  // The int64 fast path, where an already-canonical input is kept verbatim.
  let precision: number;
  let scale: number;
  let multiplier = 1n;
  if (format === 'BinarySI') {
    scale = 0;
    if (s.denom === '') {
      multiplier = 1n << BigInt(exponent);
      precision = 15 - s.num.length - Math.trunc((exponent * 3) / 10) - 1;
    } else precision = -1;
  } else {
    scale = exponent;
    precision = 18 - (s.num.length + s.denom.length);
  }
  if (precision >= 0) {
    scale -= s.denom.length;
    if (scale >= -9) {
      const shifted = s.num + s.denom;
      const value = BigInt(shifted);
      const result = value * multiplier;
      if (result <= INT64_MAX) {
        const keep =
          format === 'BinarySI'
            ? exponent % 10 === 0 && (value & 7n) !== 0n
            : scale % 3 === 0 && !shifted.endsWith('000') && !shifted.startsWith('0');
        if (keep) return str;
        return canonical(!s.positive, result, -scale, format);
      }
    }
  }

  // The inf.Dec path: mag * 10^-decScale.
  let mag = BigInt(s.num + s.denom);
  let decScale = s.denom.length;
  if (base === 10) decScale -= exponent;
  else mag <<= BigInt(exponent);
  if (decScale < 0) {
    mag *= pow10(-decScale);
    decScale = 0;
  }
  if (mag !== 0n && decScale > 9) {
    const div = pow10(decScale - 9);
    mag = (mag + div - 1n) / div;
    decScale = 9;
  }
  let fmt = format;
  if (fmt === 'BinarySI') {
    if (mag > INT64_MAX * pow10(decScale)) {
      mag = INT64_MAX;
      decScale = 0;
    }
    if (mag !== 0n && mag < pow10(decScale)) fmt = 'DecimalSI';
  }
  return canonical(!s.positive, mag, decScale, fmt);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A quantity that cannot be stored; the message is Go's ErrFormatWrong, `path` and `value` say where and what. */
export class InvalidQuantity extends Error {
  readonly path: string;
  readonly value: unknown;
  constructor(path: string, value: unknown) {
    super("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    this.path = path;
    this.value = value;
  }
}

/**
 * Canonicalises the values of a ResourceList (`{cpu: '1000m'}`) in place. null becomes `0`, as Go decodes it to a
 * zero Quantity. `strict` throws InvalidQuantity for a value a server would reject; otherwise it is left alone.
 */
export function canonicalResourceList<T>(list: T, path = 'resources', strict = false): T {
  if (!isRecord(list)) return list;
  const out: Record<string, unknown> = list;
  for (const [k, v] of Object.entries(out)) {
    const c = v === null ? '0' : typeof v === 'string' || typeof v === 'number' ? canonicalQuantity(v) : undefined;
    if (c !== undefined) out[k] = c;
    else if (strict) throw new InvalidQuantity(`${path}.${k}`, v);
  }
  return list;
}

function quantityField(obj: Record<string, unknown>, key: string, path: string, strict: boolean): void {
  const v = obj[key];
  if (v === undefined || v === null) return;
  const c = typeof v === 'string' || typeof v === 'number' ? canonicalQuantity(v) : undefined;
  if (c !== undefined) obj[key] = c;
  else if (strict) throw new InvalidQuantity(`${path}.${key}`, v);
}

function requirements(r: unknown, path: string, strict: boolean): void {
  if (!isRecord(r)) return;
  canonicalResourceList(r.requests, `${path}.requests`, strict);
  canonicalResourceList(r.limits, `${path}.limits`, strict);
}

/**
 * Canonicalises, in place, every Quantity field of a core/v1 PodSpec: the resources of containers, initContainers
 * and ephemeralContainers, the pod-level `resources`, `overhead`, `emptyDir.sizeLimit` and the resources of generic
 * ephemeral volume claim templates. Returns the same object.
 */
export function canonicalPodSpec<T>(spec: T, path = 'spec', strict = false): T {
  if (!isRecord(spec)) return spec;
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    const cs = spec[list];
    if (!Array.isArray(cs)) continue;
    cs.forEach((c: unknown, i) => {
      if (isRecord(c)) requirements(c.resources, `${path}.${list}[${i}].resources`, strict);
    });
  }
  requirements(spec.resources, `${path}.resources`, strict);
  canonicalResourceList(spec.overhead, `${path}.overhead`, strict);
  const volumes = spec.volumes;
  if (Array.isArray(volumes))
    volumes.forEach((v: unknown, i) => {
      if (!isRecord(v)) return;
      const at = `${path}.volumes[${i}]`;
      if (isRecord(v.emptyDir)) quantityField(v.emptyDir, 'sizeLimit', `${at}.emptyDir`, strict);
      const tmpl = isRecord(v.ephemeral) ? v.ephemeral.volumeClaimTemplate : undefined;
      if (isRecord(tmpl) && isRecord(tmpl.spec))
        requirements(tmpl.spec.resources, `${at}.ephemeral.volumeClaimTemplate.spec.resources`, strict);
    });
  return spec;
}
