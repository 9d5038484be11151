/**
 * Label and field selectors, parsed once per request and matched per object.
 *
 * Invariants:
 * - Label selectors follow the apimachinery grammar: `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 *   `k notin (a,b)`, comma-separated and ANDed. `k!=v` and `notin` also match objects without the label.
 * - Field selectors accept `=`, `==` and `!=` only, on the fields the real server indexes for that resource; any other
 *   field is a 400, as on a real server, so a test cannot pass by filtering on something production would reject.
 */
import { badRequest } from './errors.ts';
import type { KObject } from './json.ts';
import { getPath } from './json.ts';
import {
  LabelSelectorError,
  matchesLabels,
  parseLabelSelector as parseRequirements,
  type LabelRequirement,
} from '../../src/kube/labels.ts';

export type Matcher = (obj: KObject) => boolean;

const matchAll: Matcher = () => true;

/** The project's one label-selector grammar (src/kube/labels.ts); a bad selector is a 400, as on a real server. */
export function parseLabelSelector(text: string | null): Matcher {
  if (text === null || text.trim() === '') return matchAll;
  let reqs: LabelRequirement[];
  try {
    reqs = parseRequirements(text);
  } catch (err) {
    if (err instanceof LabelSelectorError) throw badRequest(`unable to parse requirement: ${err.message}: "${text}"`);
    throw err;
  }
  return (obj) => matchesLabels(reqs, obj.metadata.labels ?? {});
}

/** Fields each resource can be selected on, beyond metadata.name and metadata.namespace (all resources). */
const EXTRA_FIELDS: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'spec.schedulerName'],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  secrets: ['type'],
  namespaces: ['status.phase'],
  nodes: ['spec.unschedulable'],
};

export function parseFieldSelector(text: string | null, plural: string): Matcher {
  if (text === null || text.trim() === '') return matchAll;
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(EXTRA_FIELDS[plural] ?? [])]);
  const reqs = text.split(',').map((s) => {
    const m = /^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(s);
    if (m === null) throw badRequest(`invalid field selector: "${s}"`);
    const field = m[1] ?? '';
    if (!allowed.has(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, neg: m[2] === '!=', value: m[3] ?? '' };
  });
  return (obj) =>
    reqs.every((r) => {
      const raw = getPath(obj, r.field);
      // Absent fields compare as the empty string, the way the real field sets are built.
      const v = typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : '';
      return r.neg ? v !== r.value : v === r.value;
    });
}
