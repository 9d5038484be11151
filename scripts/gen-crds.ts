/** Writes deploy/crds/*.yaml from the zod schemas. `npm run gen:crds`; a test checks the committed files match. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateCrds } from '../src/pipelines/crd.ts';

const dir = fileURLToPath(new URL('../deploy/crds/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const { file, yaml } of generateCrds()) {
  writeFileSync(dir + file, yaml);
  console.log(`wrote deploy/crds/${file}`);
}
// The chart carries copies of the CRDs (scripts/chart-copies.ts): keep them in step.
await import('./sync-chart.ts');
