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

type LabelReq =
  | { op: 'exists' | '!exists'; key: string }
  | { op: '=' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] };

export type Matcher = (obj: KObject) => boolean;

const matchAll: Matcher = () => true;

export function parseLabelSelector(text: string | null): Matcher {
  if (text === null || text.trim() === '') return matchAll;
  const reqs = splitTopLevel(text).map(parseLabelReq);
  return (obj) => {
    const labels = obj.metadata.labels ?? {};
    return reqs.every((r) => matchLabel(r, labels));
  };
}

/** Splits on commas that are not inside `( … )`, so `a in (x,y),b` is two requirements. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  if (depth !== 0 || out.some((s) => s === ''))
    throw badRequest(`unable to parse requirement: invalid selector "${text}"`);
  return out;
}

const KEY = String.raw`[A-Za-z0-9][-A-Za-z0-9_./]*`;
const SET_RE = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^)]*)\)$`);
const EQ_RE = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*([-A-Za-z0-9_.]*)$`);
const EXISTS_RE = new RegExp(String.raw`^(!?)\s*(${KEY})$`);

function parseLabelReq(s: string): LabelReq {
  let m = SET_RE.exec(s);
  if (m !== null) {
    const values = (m[3] ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    return { op: m[2] === 'in' ? 'in' : 'notin', key: m[1] ?? '', values };
  }
  m = EQ_RE.exec(s);
  if (m !== null) return { op: m[2] === '!=' ? '!=' : '=', key: m[1] ?? '', value: m[3] ?? '' };
  m = EXISTS_RE.exec(s);
  if (m !== null) return { op: m[1] === '!' ? '!exists' : 'exists', key: m[2] ?? '' };
  throw badRequest(`unable to parse requirement: invalid label selector requirement "${s}"`);
}

function matchLabel(r: LabelReq, labels: Record<string, string>): boolean {
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
  }
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
