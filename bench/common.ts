/** Shared bench helpers: medians, the machine, running a command under GNU time for wall time and peak RSS. */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export interface Timed {
  wallMs: number;
  /** user + system CPU time: far less sensitive than wall time to other load on the machine. */
  cpuMs: number;
  maxRssKiB: number;
  stdout: string;
}

/** Runs `cmd args` under `/usr/bin/time` (Debian package `time`); wall clock and peak RSS of the child. */
export function timed(cmd: string, args: string[]): Timed {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
  });
  if (r.error !== undefined)
    throw new Error(`/usr/bin/time is needed for benchmarks (apt-get install time): ${r.error.message}`);
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [secs, user, sys, rss] = last.split(' ');
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return {
    wallMs: Number(secs) * 1000,
    cpuMs: (Number(user) + Number(sys)) * 1000,
    maxRssKiB: Number(rss),
    stdout: r.stdout,
  };
}

/** Wall time in ms of `fn`, via performance.now(). */
export function clock(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}
