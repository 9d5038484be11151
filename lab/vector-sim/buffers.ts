/**
 * What lies between Vector's file server and its sinks, and why a `kubernetes_logs` checkpoint runs ahead of delivery
 * (vector-fidelity.md A.2, A.7). Pure: no I/O, no clock; the caller supplies the hooks.
 *
 * The path of a line, in Vector's order:
 * 1. The file server reads it and sends it, in a batch, into the source's channel (a few batches:
 *    `vector@v0.48.0:src/sources/kubernetes_logs/mod.rs:861`). A full channel makes the file server wait in its send
 *    (`lib/file-source/src/file_server.rs`, `chans.send(..).await`), and it reads nothing meanwhile.
 * 2. The source's `map` takes it out of the channel and moves the checkpoint past it (`mod.rs:908`): before parsing,
 *    before routing, before any sink. `kubernetes_logs` has no end-to-end acknowledgements (`mod.rs:542-544`).
 * 3. The routed event enters the buffer of every sink it reaches (default memory buffer 500 events, `when_full:
 *    block`: `lib/vector-buffers/src/config.rs:140-142,336-341`). An event whose sink buffer is full is held (the
 *    fanout blocks), and the source maps nothing more: backpressure, up to the file server.
 *
 * Invariants:
 * - A line is checkpointed (mapped) at most once and before any delivery; an event is delivered at most once per sink
 *   it reaches, in map order.
 * - A sink that is not stuck takes every event at once, so with healthy sinks nothing waits in a buffer or a channel
 *   and the checkpoint equals delivery.
 * - At shutdown the file server reads no more. It writes its final checkpoints once its pending send completes: at
 *   once when it was not waiting, else as soon as the channel has room. The lines still in the channel are mapped
 *   after that write (the race of A.7): their checkpoint moves in memory only, so they are delivered now and read
 *   again after the restart.
 * - What a kill leaves (`leftover()`): held and buffered events are lost (their checkpoint is on disk or will be
 *   written); channel lines were never checkpointed and are read again.
 * - The source's output buffer (1000 events per worker thread, `src/topology/builder.rs:61-71`) and sinks' in-flight
 *   batches are not modelled: real Vector runs further ahead than this by those amounts.
 */

/** Vector's defaults, for reference; the stand scales them down with its volumes (SimTiming). */
export const vectorSinkBufferEvents = 500;

export interface BufferSizes {
  /** Events one sink's buffer holds. */
  sinkEvents: number;
  /** Lines one source's channel holds (read, not yet mapped). */
  channelLines: number;
}

export interface Routed<E> {
  event: E;
  /** The sinks the event reaches, with multiplicity. */
  sinks: string[];
}

export interface PathHooks<L, E> {
  /** The source's map: moves the checkpoint past the line; undefined when the line yields no event (partial, unparseable). */
  map(sourceId: string, line: L): Routed<E> | undefined;
  /** Whether a sink accepts nothing right now (its downstream is stuck). */
  stuck(sink: string): boolean;
  deliver(sink: string, event: E): void;
  /** The file server's last checkpoint write for this source. */
  finalWrite(sourceId: string): void;
}

interface SourceState<L, E> {
  channel: L[];
  /** Mapped, waiting for room in a sink buffer. */
  held: Routed<E> | undefined;
  /** The last offer was refused: the file server waits in its send. */
  waiting: boolean;
  stopped: boolean;
  final: 'none' | 'pending' | 'done';
}

export interface Leftover {
  /** Mapped (checkpointed) events not delivered, counted once per sink they reach: lost at a kill. */
  lostEvents: number;
  /** Lines read, never mapped: read again after the restart. */
  unmappedLines: number;
  /** Sources whose final checkpoint write never happened (the last periodic write stands). */
  missingFinalWrites: number;
}

export class EventPath<L, E> {
  private readonly sizes: BufferSizes;
  private readonly hooks: PathHooks<L, E>;
  private readonly sources = new Map<string, SourceState<L, E>>();
  private readonly buffers = new Map<string, E[]>();
  /** Held events of sources removed by a reload, admitted as room appears. */
  private readonly orphans: Routed<E>[] = [];
  /** Lines mapped after their source's final write: delivered now, read again after a restart. */
  mappedAfterFinalWrite = 0;

  constructor(sizes: BufferSizes, hooks: PathHooks<L, E>) {
    this.sizes = sizes;
    this.hooks = hooks;
  }

  private source(id: string): SourceState<L, E> {
    let s = this.sources.get(id);
    if (s === undefined)
      this.sources.set(id, (s = { channel: [], held: undefined, waiting: false, stopped: false, final: 'none' }));
    return s;
  }

  /** The file server's send of one line; false = the channel is full (or the source stopped) and it waits. */
  offer(sourceId: string, line: L): boolean {
    const s = this.source(sourceId);
    if (s.stopped) return false;
    this.drainSource(sourceId, s);
    if (s.channel.length >= this.sizes.channelLines) {
      s.waiting = true;
      return false;
    }
    s.waiting = false;
    s.channel.push(line);
    this.drainSource(sourceId, s);
    return true;
  }

  /** One turn of the topology: sinks no longer stuck take their buffers, then every source maps what fits. */
  pump(): void {
    for (const [sink, buf] of this.buffers) {
      if (buf.length === 0 || this.hooks.stuck(sink)) continue;
      for (const e of buf) this.hooks.deliver(sink, e);
      buf.length = 0;
    }
    while (this.orphans.length > 0 && this.fits(this.orphans[0] as Routed<E>))
      this.admit(this.orphans.shift() as Routed<E>);
    for (const [id, s] of this.sources) this.drainSource(id, s);
  }

  private fits(r: Routed<E>): boolean {
    const need = new Map<string, number>();
    for (const sink of r.sinks) if (this.hooks.stuck(sink)) need.set(sink, (need.get(sink) ?? 0) + 1);
    for (const [sink, n] of need) if ((this.buffers.get(sink)?.length ?? 0) + n > this.sizes.sinkEvents) return false;
    return true;
  }

  private admit(r: Routed<E>): void {
    for (const sink of r.sinks) {
      if (!this.hooks.stuck(sink)) {
        this.hooks.deliver(sink, r.event);
        continue;
      }
      let buf = this.buffers.get(sink);
      if (buf === undefined) this.buffers.set(sink, (buf = []));
      buf.push(r.event);
    }
  }

  private drainSource(id: string, s: SourceState<L, E>): void {
    for (;;) {
      if (s.held !== undefined) {
        if (!this.fits(s.held)) return;
        this.admit(s.held);
        s.held = undefined;
      }
      const line = s.channel.shift();
      if (line === undefined) return;
      // The channel has room: a waiting file server's send completes, and it writes before this line is mapped.
      if (s.final === 'pending') {
        s.final = 'done';
        this.hooks.finalWrite(id);
      }
      if (s.final === 'done') this.mappedAfterFinalWrite++;
      s.held = this.hooks.map(id, line);
    }
  }

  /**
   * SIGTERM reaches the file servers of `sourceIds` (and of every source that sent a line): they read no more; those
   * not waiting write their checkpoints now, including those that never read a line (Vector writes each at shutdown).
   * Sources in `keepSending` (a `vector` source finishing the requests in flight) go on sending until they stop.
   */
  shutdown(sourceIds: Iterable<string>, keepSending: ReadonlySet<string> = new Set()): void {
    for (const id of sourceIds) this.source(id);
    for (const [id, s] of this.sources) if (!keepSending.has(id)) this.stopSource(id, s);
  }

  private stopSource(id: string, s: SourceState<L, E>): void {
    if (s.stopped) return;
    s.stopped = true;
    if (s.waiting) s.final = 'pending';
    else {
      s.final = 'done';
      this.hooks.finalWrite(id);
    }
  }

  /** A source removed by a config reload: it stops reading; what it already mapped still reaches the sinks. */
  removeSource(id: string): void {
    const s = this.source(id);
    s.channel.length = 0;
    s.waiting = false;
    this.stopSource(id, s);
    if (s.held !== undefined) this.orphans.push(s.held);
    this.sources.delete(id);
  }

  /** Nothing waits anywhere and every stopped source wrote its final checkpoints. */
  get idle(): boolean {
    for (const buf of this.buffers.values()) if (buf.length > 0) return false;
    if (this.orphans.length > 0) return false;
    for (const s of this.sources.values())
      if (s.channel.length > 0 || s.held !== undefined || s.final === 'pending') return false;
    return true;
  }

  leftover(): Leftover {
    let lostEvents = 0;
    let unmappedLines = 0;
    let missingFinalWrites = 0;
    for (const buf of this.buffers.values()) lostEvents += buf.length;
    for (const r of this.orphans) lostEvents += r.sinks.length;
    for (const s of this.sources.values()) {
      if (s.held !== undefined) lostEvents += s.held.sinks.length;
      unmappedLines += s.channel.length;
      if (s.final === 'pending') missingFinalWrites++;
    }
    return { lostEvents, unmappedLines, missingFinalWrites };
  }
}
