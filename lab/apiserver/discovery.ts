/**
 * Discovery documents: /version, /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>.
 *
 * Invariants:
 * - Generated from the registry on every request, so a CRD is discoverable the moment it is created and gone the
 *   moment it is deleted (clients such as KubernetesObjectApi and kubectl resolve plurals and scope through these).
 * - Only the legacy (unaggregated) discovery format is served; clients that ask for aggregated discovery
 *   (apidiscovery.k8s.io/v2) get `application/json` back and fall back, as they do against older servers.
 */
import type { JsonObject } from './json.ts';
import type { Registry, ResourceType } from './registry.ts';
import { VERBS } from './registry.ts';

export const SERVER_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-lab' };

export function versionInfo(): JsonObject {
  return {
    ...SERVER_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function coreVersions(address: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }],
  };
}

function groupDoc(name: string, versions: string[]): JsonObject {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions: vs, preferredVersion: vs[0] };
}

export function groupList(registry: Registry): JsonObject {
  const groups: JsonObject[] = [];
  for (const [name, versions] of registry.groups()) if (name !== '') groups.push(groupDoc(name, versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function group(registry: Registry, name: string): JsonObject | undefined {
  const versions = registry.groups().get(name);
  return versions === undefined || name === '' ? undefined : groupDoc(name, versions);
}

function resourceEntries(t: ResourceType): JsonObject[] {
  const main: JsonObject = {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: VERBS,
  };
  if (t.shortNames.length > 0) main.shortNames = t.shortNames;
  if (t.crdName !== undefined) main.categories = ['all'];
  const out = [main];
  if (t.status)
    out.push({
      name: `${t.plural}/status`,
      singularName: '',
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['get', 'patch', 'update'],
    });
  return out;
}

export function resourceList(registry: Registry, groupName: string, version: string): JsonObject | undefined {
  const types = registry.all().filter((t) => t.group === groupName && t.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupName === '' ? version : `${groupName}/${version}`,
    resources: types.flatMap(resourceEntries),
  };
}
