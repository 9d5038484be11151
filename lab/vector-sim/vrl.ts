/**
 * The few VRL forms the operator generates, parsed from their text and evaluated the way Vector would.
 *
 * Invariants:
 * - Conditions: `<path> == <literal>` or `<path> != <literal>`, where a path is an event path (`.kubernetes.x`,
 *   `."k8s-ns"`) or a metadata path (`%bucket`, `%kubernetes_logs.pod_namespace`) and a literal is a double-quoted VRL
 *   string or an integer. That covers the route conditions (`.kubernetes.pod_namespace == "ns"`, `%bucket == 3`) and
 *   simple filters. Also `starts_with(string!(<path>), <string literal>)`, the operator's file-path fallback route;
 *   `string!` on a non-string fails, and a failing condition is false, as in Vector. Paths are parsed here, independently of the operator's path writer, so a wrongly quoted path
 *   fails the stand instead of passing it.
 * - Remap: only the md5 bucketer, in exactly the form the operator writes (over any such path). It is evaluated from the text (md5 hex,
 *   first two hex digits, base 16, mod B), not by calling the operator's own bucket function, so the stand checks
 *   that the VRL computes the bucket the router was built for.
 * - Anything else is refused with an error that names the component, so a scenario cannot silently mis-route.
 */
import { createHash } from 'node:crypto';

export interface SimEvent {
  message: string;
  /** Event fields by name; `kubernetes` holds the pod metadata the source adds. */
  fields: Record<string, unknown>;
  /** VRL metadata (`%name`). */
  meta: Record<string, unknown>;
}

export type Condition = (e: SimEvent) => boolean;

type Literal = string | number;

function parseLiteral(text: string): Literal | null {
  if (/^-?[0-9]+$/.test(text)) return Number(text);
  if (!text.startsWith('"') || !text.endsWith('"') || text.length < 2) return null;
  let out = '';
  const body = text.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '"') return null;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    if (n === 'n') out += '\n';
    else if (n === 't') out += '\t';
    else if (n === 'r') out += '\r';
    else if (n === '"' || n === '\\') out += n;
    else if (n === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else return null;
  }
  return out;
}

const SEGMENT = /^(?:([A-Za-z_][A-Za-z0-9_]*)|"((?:[^"\\]|\\["\\])+)")/;

/** The segments of a VRL path after its `.` or `%`, or null when it is not a plain field path. */
function pathSegments(text: string): string[] | null {
  const parts: string[] = [];
  let rest = text;
  for (;;) {
    const m = SEGMENT.exec(rest);
    if (m === null) return null;
    parts.push(m[1] ?? (m[2] as string).replace(/\\(["\\])/g, '$1'));
    rest = rest.slice(m[0].length);
    if (rest === '') return parts;
    if (!rest.startsWith('.')) return null;
    rest = rest.slice(1);
  }
}

function lookup(e: SimEvent, path: string): unknown {
  const meta = path.startsWith('%');
  const parts = pathSegments(path.slice(1));
  if (parts === null) return undefined;
  let cur: unknown = meta ? e.meta : e.fields;
  for (const p of parts) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

const PATH = String.raw`[.%](?:[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\["\\])+")(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\["\\])+"))*`;
const CONDITION = new RegExp(String.raw`^\s*(${PATH})\s*(==|!=)\s*(.+?)\s*$`);

const STARTS_WITH = new RegExp(String.raw`^\s*starts_with\(string!\((${PATH})\), (".*")\)\s*$`);

/** Compiles a condition, or returns why it is not a form the simulator evaluates. */
export function compileCondition(text: string): Condition | string {
  const sw = STARTS_WITH.exec(text);
  if (sw !== null) {
    const path = sw[1] as string;
    const prefix = parseLiteral(sw[2] as string);
    if (typeof prefix !== 'string') return `condition ${JSON.stringify(text)}: ${sw[2]} is not a VRL string literal`;
    return (e) => {
      const v = lookup(e, path);
      return typeof v === 'string' && v.startsWith(prefix);
    };
  }
  const m = CONDITION.exec(text);
  if (m === null) return `condition ${JSON.stringify(text)} is not of the form <path> == <literal>`;
  const path = m[1] as string;
  const literal = parseLiteral(m[3] as string);
  if (literal === null) return `condition ${JSON.stringify(text)}: ${m[3]} is not a VRL string or integer literal`;
  const negate = m[2] === '!=';
  return (e) => (lookup(e, path) === literal) !== negate;
}

const BUCKETER = new RegExp(
  String.raw`^%bucket = mod\(parse_int!\(slice!\(md5\(string!\((${PATH})\)\), 0, 2\), base: 16\), ([1-9][0-9]*)\)$`,
);

/** A remap program: mutates the event, or leaves it as is (VRL runtime error without drop_on_error). */
export type Remap = (e: SimEvent) => void;

export function compileRemap(source: string): Remap | string {
  const m = BUCKETER.exec(source.trim());
  if (m === null)
    return `remap source ${JSON.stringify(source.length > 120 ? `${source.slice(0, 117)}...` : source)} is not the md5 bucketer the operator generates; the simulator evaluates only that form`;
  const path = m[1] as string;
  const buckets = Number(m[2]);
  return (e) => {
    const ns = lookup(e, path);
    // string!() fails on a non-string: the remap errors and Vector forwards the event unmodified.
    if (typeof ns !== 'string') return;
    const hex = createHash('md5').update(ns, 'utf8').digest('hex');
    e.meta.bucket = parseInt(hex.slice(0, 2), 16) % buckets;
  };
}
