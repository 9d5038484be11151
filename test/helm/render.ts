/** Shared by the chart's tests: `helm template` of deploy/helm/vector-operator, and its objects. */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chartPath, helm } from '../helpers/helm.ts';
import { only, parseObjects, type Obj } from '../deploy/manifests.ts';

export const kaasopsValues = fileURLToPath(new URL('values/kaasops.yaml', import.meta.url));

export interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
}

/** `helm template RELEASE chart -n NS [-f values] [--set ...]`; fails the test unless helm exits 0. */
export async function template(release: string, ns: string, extra: string[] = []): Promise<string> {
  const r = await helm(['template', release, chartPath, '--namespace', ns, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** The rendered objects of `template(...)`. */
export async function objectsOf(release: string, ns: string, extra: string[] = []): Promise<Obj[]> {
  return parseObjects(await template(release, ns, extra));
}

/** The operator container of the one Deployment. */
export function manager(objects: Obj[]): Container {
  const spec = only(objects, 'Deployment').spec as { template: { spec: { containers: Container[] } } };
  const c = spec.template.spec.containers.find((x) => x.name === 'manager');
  assert.ok(c, 'a `manager` container');
  return c;
}
