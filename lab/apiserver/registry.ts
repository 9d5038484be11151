/**
 * The resource types the stand-in serves: the built-ins from the issue, plus whatever CRDs register.
 *
 * Invariants:
 * - A type is addressed by (group, version, plural); storage is keyed by (group, plural) only, so every served
 *   version of a CRD reads and writes the same objects (no conversion: the apiVersion is rewritten, nothing else).
 * - Registering or removing a CRD changes discovery immediately, as an Established CRD does on a real server.
 */
import type { JsonObject } from './json.ts';
import { isObject } from './json.ts';
import type { SchemaChecker } from './crd.ts';

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  /** Served subresources; only `status` exists here. */
  status: boolean;
  /** Set for custom resources: validation, defaulting and pruning against the CRD's schema. */
  schema?: SchemaChecker;
  /** Set for custom resources: the CRD's printer columns are not modelled, but the CRD name is. */
  crdName?: string;
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(t: { group: string; version: string }): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/** The storage key: all versions of one group/resource share it. */
export function storageKey(t: { group: string; plural: string }): string {
  return `${t.group}/${t.plural}`;
}

function builtin(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[] = [],
  status = false,
): ResourceType {
  return { group, version, kind, plural, singular: kind.toLowerCase(), namespaced, shortNames, status };
}

const BUILTINS: ResourceType[] = [
  builtin('', 'v1', 'Namespace', 'namespaces', false, ['ns'], true),
  builtin('', 'v1', 'Pod', 'pods', true, ['po'], true),
  builtin('', 'v1', 'Secret', 'secrets', true),
  builtin('', 'v1', 'ConfigMap', 'configmaps', true, ['cm']),
  builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa']),
  builtin('', 'v1', 'Service', 'services', true, ['svc'], true),
  builtin('', 'v1', 'Node', 'nodes', false, ['no'], true),
  builtin('', 'v1', 'Event', 'events', true, ['ev']),
  builtin('apps', 'v1', 'DaemonSet', 'daemonsets', true, ['ds'], true),
  // The aggregator's workloads and what the operator writes beside them; the stand's workload controller runs
  // Deployments and ReplicaSets, the others are stored only.
  builtin('apps', 'v1', 'Deployment', 'deployments', true, ['deploy'], true),
  builtin('apps', 'v1', 'ReplicaSet', 'replicasets', true, ['rs'], true),
  builtin('apps', 'v1', 'StatefulSet', 'statefulsets', true, ['sts'], true),
  builtin('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, ['hpa'], true),
  builtin('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb'], true),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  builtin('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  builtin('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  builtin('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  builtin(
    'apiextensions.k8s.io',
    'v1',
    'CustomResourceDefinition',
    'customresourcedefinitions',
    false,
    ['crd', 'crds'],
    true,
  ),
];

export class Registry {
  private readonly types = new Map<string, ResourceType>();

  constructor() {
    for (const t of BUILTINS) this.types.set(this.key(t.group, t.version, t.plural), t);
  }

  private key(group: string, version: string, plural: string): string {
    return `${group}/${version}/${plural}`;
  }

  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.get(this.key(group, version, plural));
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    for (const t of this.types.values()) if (apiVersionOf(t) === apiVersion && t.kind === kind) return t;
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  /** Group name → served versions, in registration order (the first is the preferred version). */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.types.values()) {
      const vs = out.get(t.group) ?? [];
      if (!vs.includes(t.version)) vs.push(t.version);
      out.set(t.group, vs);
    }
    return out;
  }

  /** Serve a CRD's versions; replaces whatever that CRD served before. */
  registerCrd(crd: JsonObject, makeChecker: (schema: unknown) => SchemaChecker): void {
    const meta = crd.metadata as { name: string };
    this.removeCrd(meta.name);
    const spec = crd.spec as JsonObject;
    const names = spec.names as JsonObject;
    const group = String(spec.group);
    const versions = Array.isArray(spec.versions) ? spec.versions : [];
    for (const v of versions) {
      if (!isObject(v) || v.served === false) continue;
      const schemaHolder = isObject(v.schema) ? v.schema : {};
      const t: ResourceType = {
        group,
        version: String(v.name),
        kind: String(names.kind),
        plural: String(names.plural),
        singular: typeof names.singular === 'string' ? names.singular : String(names.kind).toLowerCase(),
        namespaced: spec.scope === 'Namespaced',
        shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : [],
        status: isObject(v.subresources) && v.subresources.status !== undefined,
        schema: makeChecker(schemaHolder.openAPIV3Schema),
        crdName: meta.name,
      };
      this.types.set(this.key(t.group, t.version, t.plural), t);
    }
  }

  removeCrd(crdName: string): void {
    for (const [k, t] of this.types) if (t.crdName === crdName) this.types.delete(k);
  }
}

/** Any served version of a storage key (group/plural); the GC addresses objects by storage, not by version. */
export function typeOfStorage(registry: Registry, key: string): ResourceType | undefined {
  return registry.all().find((t) => storageKey(t) === key);
}
