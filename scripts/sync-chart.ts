/** Copies the CRDs and the RBAC rules from deploy/ into the Helm chart (scripts/chart-copies.ts). `npm run sync:chart`. */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chartCopies, chartDir, repoRoot } from './chart-copies.ts';

const copies = chartCopies();
// A CRD removed from deploy/crds leaves the chart too.
const crdDir = join(repoRoot, chartDir, 'crds');
mkdirSync(crdDir, { recursive: true });
const wanted = new Set(copies.map((c) => join(repoRoot, c.to)));
for (const f of readdirSync(crdDir)) if (!wanted.has(join(crdDir, f))) rmSync(join(crdDir, f));
for (const { from, to } of copies) {
  mkdirSync(dirname(join(repoRoot, to)), { recursive: true });
  copyFileSync(join(repoRoot, from), join(repoRoot, to));
  console.log(`copied ${from} to ${to}`);
}
