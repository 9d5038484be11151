/** Shared bench helpers: medians, the machine, measuring a child process's wall time, CPU time and peak RSS. */
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

/**
 * A small parent that forks, execs the command, and reports what wait4(2) says: wall time to the microsecond,
 * user + system CPU time and peak RSS. Measuring from this Node process instead would count the cost of forking a
 * 100 MB parent (~10 ms); GNU time rounds wall time to 10 ms. python3 is already needed by the tests (the oracle).
 */
const WAIT4 = `
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = (time.perf_counter() - started) * 1000
sys.stderr.write("\\n" + json.dumps({"wallMs": wall, "cpuMs": (ru.ru_utime + ru.ru_stime) * 1000, "maxRssKiB": ru.ru_maxrss}) + "\\n")
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** Runs `cmd args` and measures the child alone (see WAIT4). Throws if it fails. */
export function timed(cmd: string, args: string[]): Timed {
  const r = spawnSync('python3', ['-c', WAIT4, cmd, ...args], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  if (r.error !== undefined) throw new Error(`python3 is needed for benchmarks: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const report = JSON.parse(r.stderr.trim().split('\n').at(-1) ?? '{}') as Omit<Timed, 'stdout'>;
  return { ...report, stdout: r.stdout };
}

/** Wall time in ms of `fn`, via performance.now(). */
export function clock(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}
