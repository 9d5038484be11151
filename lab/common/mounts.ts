/**
 * Container paths to node paths: how a simulated container sees the node's real directory tree.
 *
 * Invariants:
 * - The longest mount whose path is the given path or a directory prefix of it wins, as in a real mount namespace.
 * - A path under no mount is refused (an Error naming it) rather than resolved against the host's own root: a
 *   simulated container must never read or write the machine's real /var/lib/vector or /var/log.
 */
import { join } from 'node:path';

export interface Mount {
  /** Absolute path inside the container. */
  containerPath: string;
  /** Absolute path on this machine (under the simulated node's root). */
  hostPath: string;
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? trimSlash(p.slice(0, -1)) : p;
}

export function resolveMount(mounts: readonly Mount[], containerPath: string): string | undefined {
  const p = trimSlash(containerPath);
  let best: Mount | undefined;
  for (const m of mounts) {
    const mp = trimSlash(m.containerPath);
    if (
      (p === mp || p.startsWith(mp === '/' ? '/' : `${mp}/`)) &&
      (best === undefined || mp.length > trimSlash(best.containerPath).length)
    )
      best = m;
  }
  if (best === undefined) return undefined;
  const rest = p.slice(trimSlash(best.containerPath).length);
  return rest === '' ? best.hostPath : join(best.hostPath, rest);
}

export function mapPath(mounts: readonly Mount[], containerPath: string): string {
  const r = resolveMount(mounts, containerPath);
  if (r === undefined) throw new Error(`${containerPath} is not under any volume mount of this container`);
  return r;
}

/**
 * Rewrites a command-line argument whose value is an absolute container path: `/p`, `--flag=/p`, `-flag=/p`.
 * Anything else is returned unchanged.
 */
export function rewriteArg(mounts: readonly Mount[], arg: string): string {
  const eq = arg.startsWith('-') ? arg.indexOf('=') : -1;
  const prefix = eq === -1 ? '' : arg.slice(0, eq + 1);
  const value = eq === -1 ? arg : arg.slice(eq + 1);
  if (!value.startsWith('/')) return arg;
  const mapped = resolveMount(mounts, value);
  return mapped === undefined ? arg : prefix + mapped;
}
