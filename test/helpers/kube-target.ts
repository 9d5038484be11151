/**
 * The two targets of the integration suite: our API server stand-in (lab/apiserver) and the real control plane
 * (etcd + kube-apiserver built by `npm run build:kube`, lab/kube-real).
 *
 * `KUBE_TARGET` picks them: unset runs the stand-in and, when its binaries are built, the real one (skipped with a
 * reason otherwise); `both` or `real` make the real lane mandatory (a missing build fails, as in CI); `stand-in` skips
 * the real lane.
 */
import process from 'node:process';
import { kubeBinDir, missingKubeBinaries } from '../../lab/kube-real/binaries.ts';

export type KubeTargetName = 'stand-in' | 'real';

export interface KubeTarget {
  name: KubeTargetName;
  /** A reason to skip this target's tests, or false. Use as `describe(title, { skip: target.skip }, …)`. */
  skip: string | false;
}

/** Why the real lane does not run here, or false when it does. */
export function realLaneSkip(env: NodeJS.ProcessEnv = process.env): string | false {
  const choice = env.KUBE_TARGET ?? '';
  if (choice === 'stand-in') return 'real Kubernetes lane SKIPPED: KUBE_TARGET=stand-in';
  if (choice === 'real' || choice === 'both') return false;
  const missing = missingKubeBinaries();
  return missing.length === 0
    ? false
    : `real Kubernetes lane SKIPPED: ${missing.join(', ')} not built in ${kubeBinDir()}; run \`npm run build:kube\``;
}

export function kubeTargets(env: NodeJS.ProcessEnv = process.env): KubeTarget[] {
  const choice = env.KUBE_TARGET ?? '';
  const targets: KubeTarget[] = [];
  if (choice !== 'real') targets.push({ name: 'stand-in', skip: false });
  targets.push({ name: 'real', skip: realLaneSkip(env) });
  return targets;
}

/** For a test that only the stand-in can run (it needs a test hook with no real equivalent). */
export function standInOnly(target: KubeTarget, hook: string): string | false {
  return target.name === 'real' ? `stand-in only: ${hook} has no real equivalent` : false;
}
