/**
 * Vector's graceful shutdown limit: how long it drains its buffers after SIGTERM before it stops its components by
 * force and drops what is still buffered (`vector@v0.48.0:src/cli.rs:193-199`; same at HEAD).
 *
 * Invariant: the result is what Vector's CLI (clap) would run with: `--no-graceful-shutdown-limit` means no limit;
 * a `--graceful-shutdown-limit-secs` argument wins over `VECTOR_GRACEFUL_SHUTDOWN_LIMIT_SECS`; `VECTOR_NO_GRACEFUL_
 * SHUTDOWN_LIMIT` (true) means no limit; otherwise, or when a value is not a positive whole number, 60 seconds.
 */

export const vectorDrainLimitSecs = 60;

const truthy = (v: string | undefined): boolean => v !== undefined && /^(1|true|yes|on)$/i.test(v);

/** The limit in seconds, or undefined for none. */
export function drainLimitSecs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): number | undefined {
  if (args.includes('--no-graceful-shutdown-limit')) return undefined;
  const flag = '--graceful-shutdown-limit-secs';
  const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  const arg = args[i];
  const fromArg = arg === undefined ? undefined : arg.includes('=') ? arg.slice(flag.length + 1) : args[i + 1];
  if (fromArg === undefined && truthy(env.VECTOR_NO_GRACEFUL_SHUTDOWN_LIMIT)) return undefined;
  const n = Number(fromArg ?? env.VECTOR_GRACEFUL_SHUTDOWN_LIMIT_SECS);
  return Number.isInteger(n) && n > 0 ? n : vectorDrainLimitSecs;
}
