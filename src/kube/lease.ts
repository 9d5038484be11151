/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.
 *
 * Invariants:
 * - Every write is a create (409: someone else created it first) or a PUT carrying the resourceVersion we read
 *   (409: someone else wrote since): a lost race never overwrites another holder.
 * - Expiry is judged on our own clock, never on the holder's timestamps: a lease is free once its content has not
 *   changed for its leaseDurationSeconds since we first saw that version, or when its holderIdentity is empty
 *   (released).
 * - A leader that cannot renew within renewDeadlineMs of its last successful renewal, or that finds another holder
 *   in the lease, stops leading (onStoppedLeading) before anyone else can take over: renewDeadlineMs < leaseDurationMs
 *   leaves the margin. Each request is cut off at the remaining deadline, so a hung connection cannot keep a
 *   leader leading.
 * - After losing, the elector becomes a candidate again; onStartedLeading fires again if it wins again.
 * - stop() releases a held lease (empty holderIdentity) so a successor takes over at once instead of waiting for
 *   expiry; it does not call onStoppedLeading (the caller is the one stopping). Stop the controllers first.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { realClock, sleep, type Clock } from './clock.ts';
import { isConflict, isNotFound, request } from './client.ts';

export interface LeaderElectorOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  /** How long a non-renewed lease blocks other candidates (default 15 s). */
  leaseDurationMs?: number;
  /** How long a leader keeps trying to renew before it steps down (default 10 s; must be < leaseDurationMs). */
  renewDeadlineMs?: number;
  /** Time between attempts, both to acquire and to renew (default 2 s). */
  retryPeriodMs?: number;
  clock?: Clock;
  random?: () => number;
  /** Told about failed attempts (network errors, 5xx); the elector keeps trying by itself. */
  onError?: (err: unknown) => void;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly opts: LeaderElectorOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly leaseMs: number;
  private readonly deadlineMs: number;
  private readonly retryMs: number;
  private readonly collection: string;
  private readonly path: string;
  private leader = false;
  private stopped = false;
  /** A method, not the field: TypeScript would narrow the field across awaits that change it. */
  private halted(): boolean {
    return this.stopped;
  }
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | undefined;
  private lease: Lease | undefined;
  private observedRv = '';
  private observedAt = 0;
  private lostToOther = false;

  constructor(opts: LeaderElectorOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.deadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    if (this.deadlineMs >= this.leaseMs)
      throw new Error(`lease ${opts.name}: renewDeadlineMs must be shorter than leaseDurationMs, or two could lead`);
    this.collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases`;
    this.path = `${this.collection}/${encodeURIComponent(opts.name)}`;
  }

  run(cb: { onStartedLeading: () => void; onStoppedLeading: () => void }): void {
    if (this.loop !== undefined) throw new Error(`lease ${this.opts.name}: run() called twice`);
    this.loop = this.main(cb);
  }

  isLeader(): boolean {
    return this.leader;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopCtl.abort();
    await this.loop;
    this.leader = false;
    // Judged by the last lease we read or wrote, not by `leader`: an acquisition can land while stop() waits.
    const l = this.lease;
    if (l?.spec?.holderIdentity !== this.opts.identity) return;
    const now = microTime(this.clock.now());
    try {
      await request(this.opts.kc, 'PUT', this.path, {
        body: { ...l, spec: { ...l.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now } },
      });
    } catch (err) {
      // A conflict means someone else already wrote the lease: nothing of ours left to release.
      if (!isConflict(err)) this.report(err);
    }
  }

  private report(err: unknown): void {
    try {
      this.opts.onError?.(err);
    } catch {
      // Reporting is for logs only.
    }
  }

  private async main(cb: { onStartedLeading: () => void; onStoppedLeading: () => void }): Promise<void> {
    while (!this.halted()) {
      while (!this.halted() && !(await this.tryAcquireOrRenew(this.deadlineMs)))
        await sleep(this.clock, this.retryMs * (1 + 0.2 * this.random()), this.stopCtl.signal);
      if (this.halted()) return;
      this.leader = true;
      this.call(cb.onStartedLeading);
      let lastRenew = this.clock.now();
      for (;;) {
        await sleep(this.clock, this.retryMs, this.stopCtl.signal);
        // Stopped while leading: stay leader so stop() releases the lease.
        if (this.halted()) return;
        const left = this.deadlineMs - (this.clock.now() - lastRenew);
        if (left > 0 && (await this.tryAcquireOrRenew(left))) {
          lastRenew = this.clock.now();
          continue;
        }
        if (this.halted()) return;
        if (this.lostToOther || this.clock.now() - lastRenew >= this.deadlineMs) break;
      }
      this.leader = false;
      this.call(cb.onStoppedLeading);
    }
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(err);
    }
  }

  private observe(l: Lease): void {
    this.lease = l;
    const rv = l.metadata?.resourceVersion ?? '';
    if (rv !== this.observedRv) {
      this.observedRv = rv;
      this.observedAt = this.clock.now();
    }
  }

  /** One attempt; true when we hold the lease afterwards. Never throws. */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const ctl = new AbortController();
    const timer = this.clock.setTimer(() => {
      ctl.abort();
    }, timeoutMs);
    try {
      return await this.attempt(ctl.signal);
    } catch (err) {
      if (!isConflict(err)) this.report(err);
      return false;
    } finally {
      timer.cancel();
    }
  }

  private async attempt(signal: AbortSignal): Promise<boolean> {
    const { kc, identity } = this.opts;
    const now = this.clock.now();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    let current: Lease;
    try {
      current = await request<Lease>(kc, 'GET', this.path, { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const meta = { name: this.opts.name, namespace: this.opts.namespace };
      const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: meta, spec };
      this.observe(await request<Lease>(kc, 'POST', this.collection, { body, signal }));
      return true;
    }
    this.observe(current);
    const holder = current.spec?.holderIdentity ?? '';
    const mine = holder === identity;
    this.lostToOther = !mine && holder !== '';
    // The holder's own declared duration decides, as in client-go, so candidates configured differently agree.
    const declared = current.spec?.leaseDurationSeconds;
    const leaseMs = declared !== undefined && declared > 0 ? declared * 1000 : this.leaseMs;
    if (this.lostToOther && now < this.observedAt + leaseMs) return false;
    const prev = current.spec ?? {};
    const next = {
      ...prev,
      ...spec,
      acquireTime: mine ? (prev.acquireTime ?? spec.acquireTime) : spec.acquireTime,
      leaseTransitions: (prev.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    const body = { ...current, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: next };
    this.observe(await request<Lease>(kc, 'PUT', this.path, { body, signal }));
    this.lostToOther = false;
    return true;
  }
}
