/**
 * The real `helm` for the chart's tests: built from its Go module by `npm run build:helm` (tools/helm/build.sh).
 *
 * Invariants:
 * - The binary is `$VECTOR_OPERATOR_HELM_BIN/helm` when that is set, else
 *   `${XDG_CACHE_HOME:-$HOME/.cache}/vector-operator/helm/<HELM_VERSION>/bin/helm`: the rule build.sh follows.
 * - When it is absent, `helmSkip` holds the reason to skip (as the VRL and real Kubernetes lanes do); `.ci/run`
 *   builds it, so CI never skips.
 * - Every run gets its own Helm home (cache, config, data) in a temporary directory: nothing is read from or written
 *   to the user's Helm setup.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/** The helm release tools/helm/go.mod pins (a test checks they agree). */
export const HELM_VERSION = 'v4.3.2';

export const chartPath = fileURLToPath(new URL('../../deploy/helm/vector-operator', import.meta.url));

export function helmBinary(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.VECTOR_OPERATOR_HELM_BIN;
  if (explicit !== undefined && explicit !== '') return join(explicit, 'helm');
  const cache =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cache, 'vector-operator', 'helm', HELM_VERSION, 'bin', 'helm');
}

function built(): boolean {
  try {
    accessSync(helmBinary(), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The skip reason for `describe(..., { skip: helmSkip })`, or false when the binary is there. */
export const helmSkip: string | false = built()
  ? false
  : `helm lane SKIPPED: run npm run build:helm (no ${helmBinary()})`;

export interface HelmRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs helm asynchronously (a server in this process must keep answering), with a private Helm home and, when
 * given, a kubeconfig.
 */
export function helm(args: string[], kubeconfig?: string): Promise<HelmRun> {
  const home = mkdtempSync(join(tmpdir(), 'helm-home-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: kubeconfig ?? join(home, 'no-kubeconfig'),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(helmBinary(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      rmSync(home, { recursive: true, force: true });
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}
