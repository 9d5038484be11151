/**
 * External tools the tests run (kubectl, python3): one rule for all of them. `.ci/run` installs them (Debian
 * packages); a test that needs one and does not find it fails, naming the package, and never skips. The real
 * Kubernetes lane and the VRL lane are another matter: their binaries are built by the project, and they skip with
 * the reason when not built (`test/helpers/kube-target.ts`, `test/helpers/vrl.ts`).
 */
import { spawnSync } from 'node:child_process';

/** Throws, naming the fix, unless `command args` runs and exits 0. */
export function requireTool(command: string, args: string[], debianPackage: string): void {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0)
    throw new Error(
      `cannot run '${command}' (${r.error?.message ?? r.stderr.trim()}): these tests need it on PATH ` +
        `(.ci/run installs Debian's ${debianPackage})`,
    );
}
