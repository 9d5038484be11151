/** Shared by the deploy tests: finding kubectl, rendering the kustomize base, and reading the rendered objects. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { requireTool } from '../helpers/tools.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const deployDir = fileURLToPath(new URL('../../deploy/', import.meta.url));

// LAB_KUBECTL picks another kubectl (e.g. Debian's 1.20, whose kustomize is v2.0.3); the default is the one on PATH.
export const KUBECTL = process.env.LAB_KUBECTL ?? 'kubectl';

/** Throws, naming the fix, when kubectl cannot run: tests that need it fail rather than skip without it. */
export function requireKubectl(): void {
  requireTool(KUBECTL, ['version', '--client'], 'kubernetes-client (or set LAB_KUBECTL to a kubectl)');
}

export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: Rule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
  spec?: Record<string, unknown>;
}

/** `kubectl kustomize DIR`, synchronously (no in-process server may be running while this blocks). */
export function kustomize(dir: string): string {
  requireKubectl();
  const r = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (${String(r.status)}): ${r.stderr}`);
  return r.stdout;
}

/** Every document as an object; a YAML error in any of them throws. */
export function parseObjects(text: string): Obj[] {
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`document ${i}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const obj = doc.toJS() as Obj | null;
    if (obj === null || typeof obj.kind !== 'string' || typeof obj.metadata.name !== 'string')
      throw new Error(`document ${i} is not a Kubernetes object`);
    return obj;
  });
}

export function only(objects: Obj[], kind: string, name?: string): Obj {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length}`);
  const [obj] = found;
  if (obj === undefined) throw new Error('unreachable');
  return obj;
}

/** Every (group, resource, verb) a rule grants, as `group/resource:verb` (the core group is ''). */
export function grants(rules: Rule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules)
    for (const g of r.apiGroups ?? [])
      for (const res of r.resources ?? []) for (const v of r.verbs) out.add(`${g}/${res}:${v}`);
  return out;
}
