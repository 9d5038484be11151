/**
 * The last config build of each Vector, kept so that a reconcile whose inputs did not change builds nothing.
 *
 * Most reconciles of a big Vector change nothing in its config: the echo of the operator's own Secret and status
 * writes, agent pod status changes during a rollout, resyncs. At 10 000 pipelines a build of both modes costs about
 * half a second of CPU and tens of MiB of garbage; with a thousand agent pods reporting in, rebuilding on every pod
 * event keeps the operator busy and delays the reconcile that carries a real pipeline change.
 *
 * Invariants:
 * - A build is reused only when its inputs are the same: the Vector's name, namespace, labels, annotations and spec
 *   (compared by content: they are small), the same options (a Secret source by its stamp, the resourceVersions of
 *   the Secrets it serves), and the same pipelines in the same order, each compared
 *   by what the build reads of it: kind, namespace, name, uid, creationTimestamp, labels, annotations, and its
 *   `generation` (the API server bumps it on every spec change, and on nothing else). A status write gives a pipeline a
 *   new object and resourceVersion but none of these, so it does not invalidate the build. A pipeline without a
 *   generation (built in a test, or by `render`) is compared by the identity of its `spec` object instead.
 * - When some input changed, the build reuses the parts of the last one that did not (each Vector's `BuildCache`):
 *   one pipeline changed among 10 000 compiles one pipeline and serializes a few components.
 * - Encoded Secret payloads (gzip, base64) are kept for the last few config texts, keyed by the text itself.
 * - Entries of Vectors that are gone are dropped by `forget`.
 */
import { BuildCache } from '../pipelines/build-cache.ts';
import type { BuildOptions } from '../pipelines/build.ts';
import { buildModes, type ModeBuilds } from '../pipelines/modes.ts';
import type { Pipeline, Vector } from '../pipelines/schemas.ts';
import { encodePayload } from './objects.ts';

interface Entry {
  vector: string;
  opts: BuildOptions;
  pipelines: readonly PipelineStamp[];
  modes: ModeBuilds;
  /** The parts the next build of this Vector reuses when some input did change. */
  cache: BuildCache;
}

/** What a build reads of a pipeline: a string of its identity and metadata, and its spec when it has no generation. */
type PipelineStamp = readonly [string, object | undefined];

/** Per metadata object: cached objects are immutable, so a pipeline's stamp is made once per version. */
const stamps = new WeakMap<object, PipelineStamp>();

function pipelineStamp(p: Pipeline): PipelineStamp {
  const m = p.metadata as Pipeline['metadata'] & { generation?: number };
  const known = stamps.get(m);
  if (known !== undefined && (m.generation !== undefined || known[1] === p.spec)) return known;
  const text = JSON.stringify([
    p.kind,
    m.namespace,
    m.name,
    m.uid,
    m.creationTimestamp,
    m.generation,
    m.labels ?? {},
    m.annotations ?? {},
  ]);
  const stamp: PipelineStamp = [text, m.generation === undefined ? p.spec : undefined];
  stamps.set(m, stamp);
  return stamp;
}

const keptPayloads = 4;

function vectorStamp(v: Vector): string {
  const m = v.metadata;
  return JSON.stringify([m.namespace, m.name, m.labels ?? {}, m.annotations ?? {}, v.spec]);
}

function sameOptions(a: BuildOptions, b: BuildOptions): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof BuildOptions)[]);
  for (const k of keys) {
    // A Secret source is made per reconcile; its stamp says whether any value it serves may differ.
    if (k === 'secrets' ? a.secrets?.stamp !== b.secrets?.stamp : a[k] !== b[k]) return false;
  }
  return true;
}

function samePipelines(a: readonly PipelineStamp[], b: readonly PipelineStamp[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as PipelineStamp;
    const y = b[i] as PipelineStamp;
    if (x[0] !== y[0] || x[1] !== y[1]) return false;
  }
  return true;
}

export class BuildMemo {
  private readonly entries = new Map<string, Entry>();
  /** By config text, one map per encoding: the text itself is the key (V8 keeps a string's hash once computed). */
  private readonly payloads = { gzip: new Map<string, string>(), plain: new Map<string, string>() };
  /** Builds done and builds reused, for tests and metrics. */
  readonly counts = { built: 0, reused: 0 };

  /** `buildModes(vector, pipelines, opts)`, or the last result for `key` when every input is the same. */
  modes(key: string, vector: Vector, pipelines: readonly Pipeline[], opts: BuildOptions): ModeBuilds {
    const stamp = vectorStamp(vector);
    const pipelineStamps = pipelines.map(pipelineStamp);
    const hit = this.entries.get(key);
    if (
      hit !== undefined &&
      hit.vector === stamp &&
      sameOptions(hit.opts, opts) &&
      samePipelines(hit.pipelines, pipelineStamps)
    ) {
      this.counts.reused++;
      return hit.modes;
    }
    const cache = hit?.cache ?? new BuildCache();
    const modes = buildModes(vector, pipelines, opts, cache);
    this.entries.set(key, { vector: stamp, opts, pipelines: pipelineStamps, modes, cache });
    this.counts.built++;
    return modes;
  }

  /** `encodePayload`, kept for the last few texts. */
  payload(json: string, compress: boolean): string {
    const kept = compress ? this.payloads.gzip : this.payloads.plain;
    const hit = kept.get(json);
    if (hit !== undefined) return hit;
    const data = encodePayload(json, compress);
    kept.set(json, data);
    if (kept.size > keptPayloads) kept.delete(kept.keys().next().value as string);
    return data;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}
