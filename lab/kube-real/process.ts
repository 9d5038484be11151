/**
 * One control-plane process (etcd, kube-apiserver, …): spawned with its output in a log file, stopped with SIGTERM
 * and then SIGKILL, and polled for readiness over HTTP(S).
 *
 * Invariants:
 * - A process never outlives the Node process that started it: `exit`, SIGINT, SIGTERM and SIGHUP hooks SIGKILL
 *   whatever is still running, so a crashed or interrupted test leaves no etcd or API server behind.
 * - A readiness wait fails as soon as the process exits, with the end of its log, rather than at the timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const running = new Set<ChildProcess>();
const cleanups = new Set<() => void>();
let hooked = false;

function killAll(): void {
  for (const c of running) c.kill('SIGKILL');
  for (const f of cleanups) f();
}

/** Runs `f` (synchronous: it may run in an `exit` hook) if this process ends before `dispose` is called. */
export function onAbnormalExit(f: () => void): { dispose: () => void } {
  hookExit();
  cleanups.add(f);
  return { dispose: () => cleanups.delete(f) };
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  // A signal ends Node without 'exit': kill the children, then die of the same signal (the listener is gone by then).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
}

export class KubeProcess {
  readonly name: string;
  readonly logPath: string;
  private readonly child: ChildProcess;
  private exitCode: number | string | undefined;
  readonly exited: Promise<void>;

  constructor(name: string, binary: string, args: string[], logPath: string, attach: boolean) {
    hookExit();
    this.name = name;
    this.logPath = logPath;
    const fd = openSync(logPath, 'a');
    try {
      this.child = spawn(binary, args, { stdio: ['ignore', attach ? 'inherit' : fd, attach ? 'inherit' : fd] });
    } finally {
      closeSync(fd);
    }
    running.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? signal ?? 'unknown';
        running.delete(this.child);
        resolve();
      });
      this.child.once('error', (err) => {
        this.exitCode = err.message;
        running.delete(this.child);
        resolve();
      });
    });
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** The last `lines` lines of the log (empty when output was attached to the terminal). */
  tail(lines = 25): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  failure(): Error {
    return new Error(`${this.name} exited (${String(this.exitCode)}); end of ${this.logPath}:\n${this.tail()}`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface Probe {
  url: string;
  ca?: string;
  cert?: string;
  key?: string;
  /** For self-signed serving certificates (controller manager, scheduler): the probe only asks "is it up". */
  insecure?: boolean;
}

/** GET `probe.url`; resolves with the status code and body, never rejects (a refused connection is status 0). */
export function probeOnce(probe: Probe): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const url = new URL(probe.url);
    const done = (status: number, body: string) => {
      resolve({ status, body });
    };
    const opts = {
      method: 'GET',
      timeout: 2_000,
      ...(url.protocol === 'https:'
        ? { ca: probe.ca, cert: probe.cert, key: probe.key, rejectUnauthorized: probe.insecure !== true }
        : {}),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        done(res.statusCode ?? 0, body);
      });
      res.on('error', () => {
        done(0, body);
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      done(0, '');
    });
    req.end();
  });
}

/** Polls until `ready` holds for a probe answer; fails when the process exits or after `timeoutMs`. */
export async function waitFor(
  proc: KubeProcess,
  what: string,
  probe: Probe,
  ready: (status: number, body: string) => boolean,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = { status: 0, body: '' };
  while (Date.now() < deadline) {
    if (!proc.alive) throw proc.failure();
    last = await probeOnce(probe);
    if (ready(last.status, last.body)) return last;
    await sleep(100);
  }
  throw new Error(
    `${proc.name}: ${what} not ready after ${timeoutMs} ms (last answer ${last.status} ${last.body.slice(0, 200)}); ` +
      `end of ${proc.logPath}:\n${proc.tail()}`,
  );
}

/**
 * `n` distinct free TCP ports on 127.0.0.1: all are held open together (so they differ), then released. Another
 * process can still take one before our server binds it; callers retry a start that fails on a bind.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => {
            resolve(s);
          });
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
