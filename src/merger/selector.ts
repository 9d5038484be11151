/**
 * Which namespaces a `kubernetes_logs` source reads, from its `extra_namespace_label_selector`, for scoping seeds.
 *
 * Invariant: the result is a superset of what the selector can match (never narrower), or `null` for "cannot tell,
 * assume every namespace". Only `kubernetes.io/metadata.name` requirements narrow it:
 *   `kubernetes.io/metadata.name=ns`, `...==ns`, `... in (a,b)`; several of them intersect. Any other requirement
 *   (other labels, `!=`, `notin`, existence) is ignored, which only widens the result.
 */

const NAME_LABEL = 'kubernetes.io/metadata.name';

/** Splits on commas that are not inside parentheses. */
function requirements(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  out.push(selector.slice(start));
  return out.map((r) => r.trim()).filter((r) => r !== '');
}

const EQUALS = /^([^\s=!]+)\s*==?\s*(\S*)$/;
const IN = /^(\S+)\s+in\s*\(([^)]*)\)$/;

/** The namespaces one requirement allows, or `null` if it does not restrict the namespace name. */
function namesOf(requirement: string): Set<string> | null {
  const eq = EQUALS.exec(requirement);
  if (eq !== null && eq[1] === NAME_LABEL) return new Set([eq[2] ?? '']);
  const inSet = IN.exec(requirement);
  if (inSet !== null && inSet[1] === NAME_LABEL) {
    return new Set(
      (inSet[2] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );
  }
  return null;
}

/** Sorted namespaces the selector can match, or `null` when it does not restrict them. */
export function namespacesOfSelector(selector: string | undefined): string[] | null {
  if (selector === undefined || selector.trim() === '') return null;
  const restrictions = requirements(selector)
    .map(namesOf)
    .filter((names): names is Set<string> => names !== null);
  const [first, ...rest] = restrictions;
  if (first === undefined) return null;
  return [...first].filter((ns) => rest.every((names) => names.has(ns))).sort();
}
