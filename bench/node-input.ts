/**
 * A node's merger input at a given scale, for the merger benchmarks: the same layout as the inputs kaasops' Go merger
 * was measured on, so figures stay comparable.
 *
 *   OUT/pods/<ns>_pod-<f>_<uid>/app/0.log       a first line and 200 short lines
 *   OUT/legacy.json, OUT/optimized.json         the agent configs as the operator renders them (blackhole sinks)
 *   OUT/data/<source>/checkpoints.json          every file read to its end, by the sources of `mode`
 *
 * Namespaces are `ns-0000`…; the optimized config splits them into sources of at most 1000 namespaces, as the
 * optimizer's chunking does. Every checkpoint's `modified` is the generation time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeCheckpoints, type Checkpoint } from '../src/vector/checkpoints.ts';
import { crc64 } from '../src/vector/crc64.ts';

export interface NodeInputOptions {
  namespaces: number;
  filesPerNamespace: number;
  /** Whose checkpoints the data dir holds: the per-namespace sources' or the shared sources'. */
  mode: 'legacy' | 'optimized';
}

const CHUNK = 1000;
const TAIL_LINES = 200;
const GROUP = 'optimizedSource-b8c6f0ff';

export function generateNodeInput(out: string, opts: NodeInputOptions): void {
  const modified = new Date().toISOString().replace(/\.\d+Z$/, '.123456789Z');
  const namespaces = Array.from({ length: opts.namespaces }, (_, i) => `ns-${String(i).padStart(4, '0')}`);
  const entries = new Map<string, Checkpoint[]>();
  for (const ns of namespaces) {
    const own: Checkpoint[] = [];
    for (let f = 0; f < opts.filesPerNamespace; f++) {
      const uid = `00000000-0000-4000-8000-${String(f).padStart(12, '0')}`;
      const dir = join(out, 'pods', `${ns}_pod-${f}_${uid}`, 'app');
      mkdirSync(dir, { recursive: true });
      const first = Buffer.from(`2026-11-24T10:00:00.${String(f).padStart(9, '0')}Z stdout F ${ns} pod-${f} started\n`);
      writeFileSync(join(dir, '0.log'), Buffer.concat([first, Buffer.from('line\n'.repeat(TAIL_LINES))]));
      own.push({
        fingerprint: { kind: 'first_lines_checksum', checksum: crc64(first) },
        position: BigInt(first.length + 5 * TAIL_LINES),
        modified,
      });
    }
    entries.set(ns, own);
  }
  const legacy = agentConfig();
  for (const ns of namespaces) {
    legacy.sources[`${ns}-p-logs`] = {
      type: 'kubernetes_logs',
      extra_namespace_label_selector: `kubernetes.io/metadata.name=${ns}`,
    };
    legacy.sinks[`${ns}-p-out`] = { type: 'blackhole', inputs: [`${ns}-p-logs`] };
  }
  const chunks: string[][] = [];
  for (let i = 0; i < namespaces.length; i += CHUNK) chunks.push(namespaces.slice(i, i + CHUNK));
  const optimized = agentConfig();
  const groups = chunks.map((chunk, c) => ({ name: chunks.length === 1 ? GROUP : `${GROUP}-${c}`, chunk }));
  for (const { name, chunk } of groups) {
    optimized.sources[name] = {
      type: 'kubernetes_logs',
      extra_namespace_label_selector: `kubernetes.io/metadata.name in (${chunk.join(',')})`,
    };
  }
  writeFileSync(join(out, 'legacy.json'), JSON.stringify(legacy));
  writeFileSync(join(out, 'optimized.json'), JSON.stringify(optimized));
  const dirs =
    opts.mode === 'legacy'
      ? namespaces.map((ns) => ({ name: `${ns}-p-logs`, held: entries.get(ns) ?? [] }))
      : groups.map(({ name, chunk }) => ({ name, held: chunk.flatMap((ns) => entries.get(ns) ?? []) }));
  for (const { name, held } of dirs) {
    mkdirSync(join(out, 'data', name), { recursive: true });
    writeFileSync(join(out, 'data', name, 'checkpoints.json'), serializeCheckpoints(held));
  }
}

function agentConfig(): { data_dir: string; sources: Record<string, object>; sinks: Record<string, object> } {
  return { data_dir: '/vector-data-dir', sources: {}, sinks: {} };
}
