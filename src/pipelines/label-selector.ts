/**
 * Kubernetes label selector syntax check, for the selector strings a VectorPipeline hands to `kubernetes_logs`
 * (`extra_label_selector`, `extra_namespace_label_selector`). Vector passes them to the API server verbatim, so a
 * malformed one fails at runtime on every node; we reject it at build time instead, as kaasops does.
 *
 * Grammar (k8s.io/apimachinery labels.Parse): requirements separated by commas, each one of
 * `key`, `!key`, `key=v`, `key==v`, `key!=v`, `key in (v,...)`, `key notin (v,...)`, `key>n`, `key<n`.
 */

const namePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length > 253 || !dnsSubdomain.test(prefix)) return `invalid label key prefix '${prefix}'`;
  }
  if (!namePart.test(name)) return `invalid label key '${key}'`;
  return undefined;
}

function valueProblem(value: string): string | undefined {
  if (value === '' || namePart.test(value)) return undefined;
  return `invalid label value '${value}'`;
}

/** Splits on commas outside parentheses. */
function requirements(selector: string): string[] | string {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth < 0) return "unbalanced ')'";
    } else if (c === ',' && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return "unbalanced '('";
  parts.push(selector.slice(start));
  return parts;
}

/** Returns why `selector` does not parse, or undefined. The empty selector is valid (it selects everything). */
export function labelSelectorProblem(selector: string): string | undefined {
  if (selector.trim() === '') return undefined;
  const reqs = requirements(selector);
  if (typeof reqs === 'string') return reqs;
  for (const raw of reqs) {
    const req = raw.trim();
    if (req === '') return 'empty requirement';
    let m = /^!\s*([^\s=!<>(),]+)$/.exec(req);
    if (m !== null) {
      const p = keyProblem(m[1] ?? '');
      if (p !== undefined) return p;
      continue;
    }
    m = /^([^\s=!<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(req);
    if (m !== null) {
      const p = keyProblem(m[1] ?? '');
      if (p !== undefined) return p;
      for (const v of (m[3] ?? '').split(',')) {
        const vp = valueProblem(v.trim());
        if (vp !== undefined) return vp;
      }
      continue;
    }
    m = /^([^\s=!<>(),]+)\s*(==|=|!=|>|<)\s*([^\s=!<>(),]*)$/.exec(req);
    if (m !== null) {
      const p = keyProblem(m[1] ?? '');
      if (p !== undefined) return p;
      const op = m[2];
      const value = m[3] ?? '';
      if ((op === '>' || op === '<') && !/^-?[0-9]+$/.test(value)) return `'${op}' needs an integer, got '${value}'`;
      const vp = valueProblem(value);
      if (vp !== undefined) return vp;
      continue;
    }
    m = /^([^\s=!<>(),]+)$/.exec(req);
    if (m !== null) {
      const p = keyProblem(m[1] ?? '');
      if (p !== undefined) return p;
      continue;
    }
    return `cannot parse requirement '${req}'`;
  }
  return undefined;
}
