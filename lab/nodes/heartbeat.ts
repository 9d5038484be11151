/**
 * The node side of the node lifecycle: registers the stand's Node objects with a kubelet's status, and keeps them
 * alive by renewing their Leases in `kube-node-lease`, for any number of nodes from one timer.
 *
 * Invariants:
 * - Registration is idempotent: an existing Node gets its status rewritten instead (409 on create is fine).
 * - With `leases`, each node holds `kube-node-lease/<node>` (owned by its Node) and renews it every 10 s, as the
 *   kubelet does; the real node lifecycle controller then keeps the node Ready and lifts the `not-ready` taint that
 *   TaintNodesByCondition admission put on it at creation. `schedulable()` waits for that.
 * - A failed renewal is logged and tried again at the next tick (40 s of lease leave three more tries).
 * - Requests go a few at a time (`concurrency`), so a thousand nodes renew without a thousand sockets.
 */
import type * as k8s from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, retrying } from '../common/kube-http.ts';
import { errorCode, request } from '../../src/kube/client.ts';
import { leaseNamespace, leaseObject, leaseRenewMs, microTime, nodeObject, nodeStatus } from './node-object.ts';
import type { StandLog } from '../common/log.ts';

export interface HeartbeatOptions {
  kc: k8s.KubeConfig;
  /** Node names; a node's index in this list sets its addresses. */
  nodes: string[];
  /** Hold and renew a Lease per node (a real control plane needs them; the stand-in has no lifecycle controller). */
  leases: boolean;
  concurrency?: number;
  log: StandLog;
}

interface Meta {
  metadata?: { uid?: string };
  spec?: { taints?: { key: string; effect: string }[] };
}

const merge = 'application/merge-patch+json';

async function eachLimited<T>(items: T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

export class NodeHeartbeat {
  private readonly opts: HeartbeatOptions;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();

  private constructor(opts: HeartbeatOptions) {
    this.opts = opts;
  }

  /** Registers every node (and its Lease), then renews the Leases until `stop()`. */
  static async start(opts: HeartbeatOptions): Promise<NodeHeartbeat> {
    const hb = new NodeHeartbeat(opts);
    await eachLimited(opts.nodes, opts.concurrency ?? 16, (name, i) => hb.register(name, i));
    if (opts.leases) {
      hb.timer = setInterval(() => {
        hb.renewing = hb.renewAll();
      }, leaseRenewMs);
    }
    return hb;
  }

  private async register(name: string, index: number): Promise<void> {
    const { kc } = this.opts;
    const now = new Date();
    let node: Meta;
    try {
      node = await request<Meta>(kc, 'POST', '/api/v1/nodes', { body: nodeObject(name, index, now) });
    } catch (err) {
      if (errorCode(err) !== 409) throw err;
      node = await request<Meta>(kc, 'PATCH', `/api/v1/nodes/${name}/status`, {
        body: { status: nodeStatus(name, index, now, now) },
        contentType: merge,
      });
    }
    if (this.opts.leases) await this.createLease(name, node.metadata?.uid ?? '');
  }

  /** The Lease, created once; `kube-node-lease` is made by the API server itself, a moment after it is ready. */
  private async createLease(name: string, uid: string): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${leaseNamespace}/leases`;
    for (let attempt = 0; ; attempt++) {
      try {
        await request(this.opts.kc, 'POST', path, { body: leaseObject(name, uid, new Date()) });
        return;
      } catch (err) {
        if (errorCode(err) === 409) return this.renew(name);
        if (errorCode(err) !== 404 || attempt >= 50) throw err;
        await sleep(200);
      }
    }
  }

  private async renew(name: string): Promise<void> {
    await retrying(`patch leases ${leaseNamespace}/${name}`, () =>
      request(this.opts.kc, 'PATCH', `/apis/coordination.k8s.io/v1/namespaces/${leaseNamespace}/leases/${name}`, {
        body: { spec: { holderIdentity: name, renewTime: microTime(new Date()) } },
        contentType: merge,
      }),
    );
  }

  private async renewAll(): Promise<void> {
    await eachLimited(this.opts.nodes, this.opts.concurrency ?? 16, async (name) => {
      try {
        await this.renew(name);
      } catch (err) {
        this.opts.log('lease renewal failed', { node: name, error: describeError(err) });
      }
    });
  }

  /**
   * Resolves once no node carries a `not-ready` or `unreachable` taint (the node lifecycle controller lifts them a
   * few seconds after it sees the node Ready), so pods can be scheduled; fails after `limitMs`.
   */
  async schedulable(limitMs = 120_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    const blocking = /^node\.kubernetes\.io\/(not-ready|unreachable)$/;
    for (;;) {
      const list = await request<{ items: Meta[] }>(this.opts.kc, 'GET', '/api/v1/nodes');
      const tainted = list.items.filter((n) => (n.spec?.taints ?? []).some((t) => blocking.test(t.key)));
      if (tainted.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(`${tainted.length} nodes still tainted not-ready after ${limitMs / 1000} s`);
      await sleep(250);
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.renewing;
  }
}
