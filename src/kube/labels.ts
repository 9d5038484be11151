/**
 * Kubernetes label selectors: one parser and one matcher for the whole project (config validation, the merger's
 * namespace scoping, the API server stand-in). Pure, no imports: the merger's start-up budget allows nothing more.
 *
 * Grammar (k8s.io/apimachinery labels.Parse): requirements separated by top-level commas, ANDed; each one of
 * `key`, `!key`, `key=v`, `key==v`, `key!=v`, `key in (v,...)`, `key notin (v,...)`, `key>n`, `key<n`.
 *
 * Invariants:
 * - `parseLabelSelector` either returns every requirement or throws `LabelSelectorError` naming the first problem;
 *   keys and values are checked as apimachinery checks them. The empty selector has no requirements (matches all).
 * - `!=` and `notin` also match objects without the label, as on a real API server.
 */

export type LabelRequirement =
  | { readonly op: 'exists' | '!exists'; readonly key: string }
  | { readonly op: '=' | '!='; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: '>' | '<'; readonly key: string; readonly value: number };

export class LabelSelectorError extends Error {
  override name = 'LabelSelectorError';
}

const namePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Keys already checked. A cluster uses few distinct label keys, each in many selectors (a node's agent config repeats
 * `kubernetes.io/metadata.name` once per source), so two regex runs per requirement become one lookup. Bounded, so
 * that a stream of distinct keys cannot grow it without limit.
 */
const validKeys = new Set<string>();
const VALID_KEYS_MAX = 1024;

function checkKey(key: string): string {
  if (validKeys.has(key)) return key;
  const slash = key.indexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length > 253 || !dnsSubdomain.test(prefix))
      throw new LabelSelectorError(`invalid label key prefix '${prefix}'`);
  }
  if (!namePart.test(name)) throw new LabelSelectorError(`invalid label key '${key}'`);
  if (validKeys.size < VALID_KEYS_MAX) validKeys.add(key);
  return key;
}

function checkValue(value: string): string {
  if (value !== '' && !namePart.test(value)) throw new LabelSelectorError(`invalid label value '${value}'`);
  return value;
}

/**
 * Splits on commas outside parentheses. Value lists do not nest, so a list is skipped in one jump from its '(' to
 * its ')': an optimized agent config's selector lists a thousand namespaces, and a character loop over it cost
 * ~1 ms cold at every agent start (the checkpoint merger parses it).
 */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let from = 0;
  for (;;) {
    const comma = selector.indexOf(',', from);
    const end = comma === -1 ? selector.length : comma;
    const open = selector.indexOf('(', from);
    const close = selector.indexOf(')', from);
    if (close !== -1 && close < end && (open === -1 || close < open)) throw new LabelSelectorError("unbalanced ')'");
    if (open !== -1 && open < end) {
      const listEnd = selector.indexOf(')', open + 1);
      const nested = selector.indexOf('(', open + 1);
      if (listEnd === -1 || (nested !== -1 && nested < listEnd)) throw new LabelSelectorError("unbalanced '('");
      from = listEnd + 1;
      continue;
    }
    parts.push(selector.slice(start, end).trim());
    if (comma === -1) return parts;
    start = from = comma + 1;
  }
}

const KEY = String.raw`[^\s=!<>(),]+`;
const NOT_EXISTS = new RegExp(String.raw`^!\s*(${KEY})$`);
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^()]*)\)$`);
const COMPARE = new RegExp(String.raw`^(${KEY})\s*(==|=|!=|>|<)\s*([^\s=!<>(),]*)$`);
const EXISTS = new RegExp(String.raw`^(${KEY})$`);

/**
 * The forms exclude each other by their first characters: only a set requirement contains '(', only `!key` starts
 * with '!' (a key cannot contain either). So one pattern is tried, not each in turn.
 */
function parseRequirement(req: string): LabelRequirement {
  if (req === '') throw new LabelSelectorError('empty requirement');
  let m: RegExpExecArray | null;
  if (req.startsWith('!')) {
    m = NOT_EXISTS.exec(req);
    if (m !== null) return { op: '!exists', key: checkKey(m[1] ?? '') };
    throw new LabelSelectorError(`cannot parse requirement '${req}'`);
  }
  if (req.includes('(')) {
    m = SET.exec(req);
    if (m === null) throw new LabelSelectorError(`cannot parse requirement '${req}'`);
    const values = (m[3] ?? '').split(',').map((v) => checkValue(v.trim()));
    if (values.every((v) => v === '')) throw new LabelSelectorError(`'${m[2] ?? ''}' needs at least one value`);
    return { op: m[2] === 'in' ? 'in' : 'notin', key: checkKey(m[1] ?? ''), values };
  }
  m = COMPARE.exec(req);
  if (m !== null) {
    const key = checkKey(m[1] ?? '');
    const op = m[2];
    const value = m[3] ?? '';
    if (op === '>' || op === '<') {
      if (!/^-?[0-9]+$/.test(value)) throw new LabelSelectorError(`'${op}' needs an integer, got '${value}'`);
      return { op, key, value: Number(value) };
    }
    return { op: op === '!=' ? '!=' : '=', key, value: checkValue(value) };
  }
  m = EXISTS.exec(req);
  if (m !== null) return { op: 'exists', key: checkKey(m[1] ?? '') };
  throw new LabelSelectorError(`cannot parse requirement '${req}'`);
}

/** Every requirement of `selector`; throws `LabelSelectorError` on the first problem. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  if (selector.trim() === '') return [];
  return splitRequirements(selector).map(parseRequirement);
}

/** Why `selector` does not parse, or undefined. */
export function labelSelectorProblem(selector: string): string | undefined {
  try {
    parseLabelSelector(selector);
    return undefined;
  } catch (err) {
    if (err instanceof LabelSelectorError) return err.message;
    throw err;
  }
}

function matchesOne(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case '=':
      return has && v === r.value;
    case '!=':
      return !has || v !== r.value;
    case 'in':
      return has && r.values.includes(v ?? '');
    case 'notin':
      return !has || !r.values.includes(v ?? '');
    case '>':
    case '<': {
      if (!has || !/^-?[0-9]+$/.test(v ?? '')) return false;
      return r.op === '>' ? Number(v) > r.value : Number(v) < r.value;
    }
  }
}

/** Whether labels satisfy every requirement. */
export function matchesLabels(reqs: readonly LabelRequirement[], labels: Readonly<Record<string, string>>): boolean {
  return reqs.every((r) => matchesOne(r, labels));
}
