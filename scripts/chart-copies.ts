/**
 * The files the Helm chart (deploy/helm/vector-operator) holds as copies of deploy/: Helm reads only files inside the
 * chart, and deploy/ stays their one source. `npm run sync:chart` (also run by `npm run gen:crds`) writes them; a test
 * checks that every copy is byte-identical to its source.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
export const chartDir = 'deploy/helm/vector-operator';

/** Paths relative to the repository root: each source and its copy in the chart. */
export function chartCopies(root = repoRoot): { from: string; to: string }[] {
  const crds = readdirSync(`${root}deploy/crds`)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ from: `deploy/crds/${f}`, to: `${chartDir}/crds/${f}` }));
  const rbac = ['cluster-role.yaml', 'leader-election-role.yaml'].map((f) => ({
    from: `deploy/rbac/${f}`,
    to: `${chartDir}/files/${f}`,
  }));
  return [...crds, ...rbac];
}
