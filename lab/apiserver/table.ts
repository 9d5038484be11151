/**
 * Server-side printing (`meta.k8s.io/v1 Table`), which kubectl asks for on `get`.
 *
 * Invariant: columns are Name and Age for every resource, plus Status for pods and namespaces; the real server's
 * richer per-type columns are not modelled. Rows carry PartialObjectMetadata, or the whole object when the client
 * asks `includeObject=Object`.
 */
import type { JsonObject, KObject } from './json.ts';
import { getPath } from './json.ts';
import type { ResourceType } from './registry.ts';

export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('as=Table');
}

function age(ts: string | undefined): string {
  if (ts === undefined) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function phaseOf(o: KObject): string {
  const phase = getPath(o, 'status.phase');
  return typeof phase === 'string' ? phase : '';
}

export function asTable(
  t: ResourceType,
  objects: KObject[],
  listMeta: JsonObject = {},
  includeObject = false,
): JsonObject {
  const status = t.plural === 'pods' || t.plural === 'namespaces';
  const columnDefinitions = [
    {
      name: 'Name',
      type: 'string',
      format: 'name',
      description: 'Name must be unique within a namespace.',
      priority: 0,
    },
    ...(status ? [{ name: 'Status', type: 'string', format: '', description: 'The phase.', priority: 0 }] : []),
    { name: 'Age', type: 'string', format: '', description: 'Time since creation.', priority: 0 },
  ];
  const rows = objects.map((o) => {
    const cells: unknown[] = [o.metadata.name ?? ''];
    if (status) cells.push(o.metadata.deletionTimestamp !== undefined ? 'Terminating' : phaseOf(o));
    cells.push(age(o.metadata.creationTimestamp));
    const object = includeObject
      ? o
      : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return { cells, object };
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, columnDefinitions, rows };
}
