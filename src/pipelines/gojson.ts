/**
 * Go `encoding/json` byte-compatible serialization, as kaasops produces it.
 *
 * Invariants:
 * - Object keys are sorted by Unicode code point, which is the byte order of their UTF-8 form, as Go sorts map keys.
 *   The one exception is `goStruct`, whose fields keep their declaration order (Go struct fields are not sorted).
 * - `<`, `>`, `&`, U+2028 and U+2029 are escaped as `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029` (Go's
 *   HTMLEscape default); other control characters use `\n`, `\r`, `\t`, `\b`, `\f` or `\u00XX`; a lone surrogate
 *   becomes U+FFFD, as Go replaces invalid UTF-8.
 * - Numbers are float64 and print like Go: JavaScript's shortest round-trip form uses the same digits and the same
 *   switch to exponent form (below 1e-6 and from 1e21), so only `-0` needs a special case.
 * - `undefined` object members are skipped (Go's omitempty of a nil field); `undefined` elsewhere is `null`.
 *
 * This matters because the optimized source name is a CRC-32 of these bytes: a one-byte difference renames the source
 * and makes every agent re-read its logs.
 */

/** A value marked as a Go struct: its keys are emitted in insertion order, not sorted. */
class GoStruct {
  readonly fields: readonly (readonly [string, unknown])[];
  constructor(fields: readonly (readonly [string, unknown])[]) {
    this.fields = fields;
  }
}

export function goStruct(fields: readonly (readonly [string, unknown])[]): object {
  return new GoStruct(fields);
}

/** Compare strings by code point (= UTF-8 byte order), unlike `<` on UTF-16 code units. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // Only surrogates (0xD800-0xDFFF) sort differently in UTF-16 than by code point: they encode code points above
    // every BMP character, so lift them above 0xE000-0xFFFF.
    const sa = ca >= 0xd800 && ca <= 0xdfff ? ca + 0x2000 : ca >= 0xe000 ? ca - 0x800 : ca;
    const sb = cb >= 0xd800 && cb <= 0xdfff ? cb + 0x2000 : cb >= 0xe000 ? cb - 0x800 : cb;
    return sa - sb;
  }
  return a.length - b.length;
}

const surrogate = /[\ud800-\udfff]/;

/** Sorted by code point; the default sort (UTF-16 code units) gives the same order when no key has a surrogate. */
export function sortCodePoints(keys: string[]): string[] {
  return keys.some((k) => surrogate.test(k)) ? keys.sort(compareCodePoints) : keys.sort();
}

function sortedKeys(o: object): string[] {
  return sortCodePoints(Object.keys(o));
}

// Characters that need escaping: controls, quote, backslash, HTML-sensitive ones, line/paragraph separators, surrogates.
// eslint-disable-next-line no-control-regex
const needsEscape = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;

function hex4(c: number): string {
  return '\\u' + c.toString(16).padStart(4, '0');
}

function goString(s: string): string {
  if (!needsEscape.test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += hex4(c);
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s.slice(i, i + 2);
        i++;
      } else out += '\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\ufffd';
    else out += s.charAt(i);
  }
  return out + '"';
}

function goNumber(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`json: unsupported value: ${n}`);
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

export function goJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return goString(value);
    case 'number':
      return goNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'undefined':
      return 'null';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + goJson(value[i] as unknown);
        return out + ']';
      }
      if (value instanceof GoStruct) {
        return '{' + value.fields.map(([k, v]) => goString(k) + ':' + goJson(v)).join(',') + '}';
      }
      const rec = value as Record<string, unknown>;
      let out = '{';
      let first = true;
      for (const k of sortedKeys(rec)) {
        const v = rec[k];
        if (v === undefined) continue;
        out += (first ? '' : ',') + goString(k) + ':' + goJson(v);
        first = false;
      }
      return out + '}';
    }
    default:
      throw new TypeError(`json: unsupported type: ${typeof value}`);
  }
}
