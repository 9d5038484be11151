/**
 * What the counting sinks delivered: one `<sink>\t<line id>` record per delivered event, appended to a file per
 * agent container run, and read back across all of them.
 *
 * Invariants:
 * - Records are appended in batches with a synchronous write; `flush()` runs before every checkpoint write, so a
 *   checkpoint on disk never covers a line whose delivery is not on disk.
 * - An event without a workload id (`id=<ns>/<pod>/<seq>` in its message) is recorded under the id `-`.
 * - Sink ids are per pipeline (`<ns>-<pipeline>-<sink>`), so per-sink counts are per-pipeline counts.
 * - Beside each delivery file, `<file>.shutdown.json` holds what that agent's shutdown window did (sim.ts
 *   ShutdownRecord), written before the process exits.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ID = /(?:^|\s)id=(\S+)/;

export function lineId(message: string): string {
  return ID.exec(message)?.[1] ?? '-';
}

export class DeliveryLog {
  readonly file: string;
  private pending: string[] = [];

  constructor(file: string) {
    this.file = file;
  }

  add(sink: string, id: string): void {
    this.pending.push(`${sink}\t${id}\n`);
  }

  flush(): void {
    if (this.pending.length === 0) return;
    appendFileSync(this.file, this.pending.join(''));
    this.pending = [];
  }
}

/** sink -> line id -> times delivered. */
export type Deliveries = Map<string, Map<string, number>>;

export function readDeliveryFiles(files: readonly string[]): Deliveries {
  const out: Deliveries = new Map();
  for (const f of files) {
    if (!existsSync(f)) continue;
    for (const rec of readFileSync(f, 'utf8').split('\n')) {
      const tab = rec.indexOf('\t');
      if (tab <= 0) continue;
      const sink = rec.slice(0, tab);
      const id = rec.slice(tab + 1);
      let m = out.get(sink);
      if (m === undefined) out.set(sink, (m = new Map<string, number>()));
      m.set(id, (m.get(id) ?? 0) + 1);
    }
  }
  return out;
}

/** Every `*.tsv` under `dir` (one level of node subdirectories included). */
export function readDeliveries(dir: string): Deliveries {
  if (!existsSync(dir)) return new Map();
  const files: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory())
      files.push(
        ...readdirSync(p)
          .filter((f) => f.endsWith('.tsv'))
          .map((f) => join(p, f)),
      );
    else if (e.name.endsWith('.tsv')) files.push(p);
  }
  return readDeliveryFiles(files.sort());
}

/** Every agent's shutdown record under `dir` (one level of node subdirectories), in path order. */
export function readShutdownRecords<R>(dir: string): R[] {
  if (!existsSync(dir)) return [];
  const out: R[] = [];
  for (const node of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!node.isDirectory()) continue;
    const p = join(dir, node.name);
    for (const f of readdirSync(p).sort())
      if (f.endsWith('.shutdown.json')) out.push(JSON.parse(readFileSync(join(p, f), 'utf8')) as R);
  }
  return out;
}
