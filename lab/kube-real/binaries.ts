/**
 * Where the real control plane's binaries are: built by `npm run build:kube` (tools/kube/build.sh) into a cache outside
 * the repository, keyed by the Kubernetes version.
 *
 * Invariant: the lookup rules here are the same as build.sh's, so what the script builds is what the harness finds:
 * `$VECTOR_OPERATOR_KUBE_BIN`, else `${XDG_CACHE_HOME:-$HOME/.cache}/vector-operator/kube/<version>/bin`.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';

/** The Kubernetes release tools/kube/go.mod pins (a test checks they agree). */
export const KUBE_VERSION = 'v1.36.3';

export const KUBE_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];

export function kubeBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.VECTOR_OPERATOR_KUBE_BIN;
  if (explicit !== undefined && explicit !== '') return explicit;
  const cache =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cache, 'vector-operator', 'kube', KUBE_VERSION, 'bin');
}

export function kubeBinary(name: KubeBinary, dir = kubeBinDir()): string {
  return join(dir, name);
}

/** The binaries that are missing (not an executable file) from `dir`; empty when the real lane can run. */
export function missingKubeBinaries(dir = kubeBinDir()): KubeBinary[] {
  return KUBE_BINARIES.filter((b) => {
    try {
      accessSync(join(dir, b), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}
