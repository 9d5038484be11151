/**
 * The compiled operator, `dist/src/cli/vector-operator.js run`, as a child process: what the upgrade scenarios put in
 * place of the in-process operator (another build of the operator adopting the live objects).
 *
 * Invariants:
 * - `start` resolves once the process logged that it started; `stop` sends SIGTERM and resolves when it has exited
 *   (SIGKILL after 10 s), so no operator outlives its stand.
 * - The health endpoint binds an ephemeral port and metrics are off: two stands never collide on a port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execPath } from 'node:process';
import { repoRoot } from '../nodes/runtime.ts';

export const operatorCli = join(repoRoot, 'dist/src/cli/vector-operator.js');

export interface ProcessFlags {
  optimize: boolean;
  migration: boolean;
  policy?: 'min' | 'max';
  /** `--agent-termination-grace-period-seconds`. */
  grace?: number;
}

export class OperatorProcess {
  private readonly child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.child = child;
  }

  static async start(kubeconfig: string, dir: string, flags: ProcessFlags): Promise<OperatorProcess> {
    const file = join(dir, 'operator.kubeconfig');
    writeFileSync(file, kubeconfig, { mode: 0o600 });
    const args = [operatorCli, 'run', '--kubeconfig', file, '--health-probe-bind-address', '127.0.0.1:0'];
    if (flags.optimize) args.push('--enable-config-optimization');
    if (flags.migration) args.push('--enable-checkpoint-migration');
    if (flags.policy !== undefined) args.push('--checkpoint-merger-position-policy', flags.policy);
    if (flags.grace !== undefined) args.push('--agent-termination-grace-period-seconds', String(flags.grace));
    args.push('--log-level', 'warn');
    const child = spawn(execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err = (err + c.toString()).slice(-4000);
    });
    // At --log-level warn a healthy process prints nothing; a start that fails (bad flag, kubeconfig) exits within
    // the first second. The scenario then waits on the cluster's state, which is what the operator's work shows.
    child.stdout.resume();
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, 1_000);
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`vector-operator run exited with ${String(code)}: ${err}`));
      });
    });
    return new OperatorProcess(child);
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => {
      c.once('exit', () => {
        resolve();
      });
    });
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}
