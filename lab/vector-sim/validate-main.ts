/**
 * `vector validate` in a configcheck pod of the stand, started by the simulated kubelet in place of the Vector image:
 *
 *   node lab/vector-sim/validate-main.ts [--require-healthy=false] [--no-environment] validate PATH...
 *
 * Environment: `LAB_VECTOR_SIM`, a JSON object `{mounts}`, maps the container paths (`/etc/vector/config.json`, or a
 * `*.json` glob in one directory) to the node's files.
 *
 * Invariants:
 * - Exit 0 when every config is valid, 78 (Vector's exitcode::CONFIG) when one is not, with Vector's output on
 *   stdout (validate.ts), which the kubelet turns into the termination message (FallbackToLogsOnError).
 * - Imports no Kubernetes client: a check pod starts in tens of milliseconds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import process from 'node:process';
import { mapPath, type Mount } from '../common/mounts.ts';
import { configPayloadText } from '../../src/vector/config-payload.ts';
import { validateConfigText, validateOutput } from './validate.ts';

function expand(mounts: readonly Mount[], containerPath: string): { shown: string; file: string }[] {
  const name = basename(containerPath);
  if (!name.includes('*')) return [{ shown: containerPath, file: mapPath(mounts, containerPath) }];
  const dir = dirname(containerPath);
  const re = new RegExp(
    `^${name
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return readdirSync(mapPath(mounts, dir))
    .filter((f) => re.test(f))
    .sort()
    .map((f) => ({ shown: join(dir, f), file: mapPath(mounts, join(dir, f)) }));
}

const args = process.argv.slice(2);
const at = args.indexOf('validate');
const paths = args.slice(at + 1).filter((a) => !a.startsWith('-'));
const env = JSON.parse(process.env.LAB_VECTOR_SIM ?? '{"mounts":[]}') as { mounts: Mount[] };
const files = paths.flatMap((p) => expand(env.mounts, p));
const problems =
  files.length === 0
    ? ['no config file found']
    : files.flatMap((f) => validateConfigText(configPayloadText(readFileSync(f.file))));
process.stdout.write(
  validateOutput(
    files.map((f) => f.shown),
    problems,
  ),
);
process.exitCode = problems.length === 0 ? 0 : 78;
