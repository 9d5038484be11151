/**
 * Lists are served a bounded number at a time, in arrival order, as kube-apiserver's API Priority and Fairness
 * bounds the seats concurrent lists take (a list of a few hundred pods takes several seats of the ~250 the default
 * configuration gives service accounts' requests; the rest wait in its queues).
 *
 * Why: a thousand-source agent starts 1 250 lists of its node's pods (about 1 MB each) at once. Served all together
 * over HTTP/2, they share each connection's flow-control window, so every reply progresses a little at a time, none
 * completes, and the client's 300 s stream timeout and 60 s PING checks fire before the data does. Served a few at
 * a time, each reply goes out at the connection's full speed and the queue drains.
 *
 * Invariants:
 * - At most `limit` replies are being sent at once; a reply counts from its start until its response closes (sent
 *   and read, or abandoned by the client).
 * - Waiting requests are started a flow at a time, round-robin, and in arrival order within a flow: a client with one
 *   list (the operator, a scenario step) waits for one turn of each other flow, not behind a thousand lists of an
 *   agent. The flow is the client's connection, where APF's fair queuing uses the user.
 * - A request whose client goes away while it waits is dropped, never started.
 */
export interface Closable {
  once(event: 'close', listener: () => void): unknown;
}

export class ListQueue {
  private running = 0;
  private waitingCount = 0;
  /** Waiting starts per flow; a Map iterates in insertion order, and a served flow goes to the back. */
  private readonly flows = new Map<object, (() => void)[]>();
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Runs `serve` once a slot is free and it is `flow`'s turn; the slot is taken until `res` closes. */
  run(flow: object, res: Closable, serve: () => void): void {
    let gone = false;
    const start = (): void => {
      if (gone) return;
      this.running++;
      res.once('close', () => {
        this.running--;
        this.next();
      });
      serve();
    };
    if (this.running < this.limit && this.waitingCount === 0) {
      start();
      return;
    }
    res.once('close', () => {
      gone = true;
    });
    const queue = this.flows.get(flow);
    if (queue === undefined) this.flows.set(flow, [start]);
    else queue.push(start);
    this.waitingCount++;
  }

  /** Replies being sent now, and requests waiting for a slot. */
  depth(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waitingCount };
  }

  private next(): void {
    while (this.running < this.limit) {
      const first = this.flows.entries().next();
      if (first.done === true) return;
      const [flow, queue] = first.value;
      const start = queue.shift();
      this.flows.delete(flow);
      if (queue.length > 0) this.flows.set(flow, queue);
      if (start === undefined) continue;
      this.waitingCount--;
      start();
    }
  }
}
