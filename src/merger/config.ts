/**
 * The part of a Vector agent config the merger needs: its `kubernetes_logs` sources and every component id.
 *
 * Invariant: only JSON is read (the operator writes `agent.json`), plain or gzip (the standby Secret of a Vector with
 * `compressConfigFile` is mounted as it is stored); anything else is a clear error for the caller, which fails open.
 */
import { readFileSync } from 'node:fs';
import { selectorNamespaces } from './selector.ts';
import type { ReadScope } from './plan.ts';
import { configPayloadText } from '../vector/config-payload.ts';
import type { FingerprintOptions } from '../vector/fingerprint.ts';
import { fingerprintLines, resolvedMaxLineBytes } from '../vector/kubernetes-logs.ts';

export interface KubernetesLogsSource {
  readonly id: string;
  /** Namespaces its `extra_namespace_label_selector` can read, `null` for all. */
  readonly namespaces: readonly string[] | null;
  /** Which files it reads for sure, as a retiring source (see `ReadScope`). */
  readonly scope: ReadScope;
  /** A source-level `data_dir`: Vector keeps this source's checkpoints elsewhere, so it is not migrated. */
  readonly ownDataDir: string | null;
  readonly fingerprint: Required<FingerprintOptions>;
}

export interface AgentConfig {
  readonly sources: readonly KubernetesLogsSource[];
  /** Every source, transform and sink id. */
  readonly components: ReadonlySet<string>;
  /** The parsed document, for the source graph (handover.ts), which only a merge with targets needs. */
  readonly doc: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/**
 * Path globs can skip any file, so such a source is known only by its entries. Pod selectors skip whole pods, so
 * it reads every file only of the containers it has entries for. Otherwise it reads every file of its namespaces,
 * when its namespace selector says exactly which.
 */
function readScope(src: Record<string, unknown>, exactNamespaces: boolean): ReadScope {
  if (isSet(src.include_paths_glob_patterns) || isSet(src.exclude_paths_glob_patterns)) return 'entries';
  if (isSet(src.extra_label_selector) || isSet(src.extra_field_selector) || !exactNamespaces) return 'containers';
  return 'namespaces';
}

/** Extracts what the merger needs from a parsed config document. Throws a plain message when it is not a config. */
function agentConfigFrom(doc: unknown): AgentConfig {
  if (!isRecord(doc)) throw new Error('config is not a JSON object');
  const components = new Set<string>();
  for (const section of ['sources', 'transforms', 'sinks']) {
    const s = doc[section];
    if (s === undefined || s === null) continue;
    if (!isRecord(s)) throw new Error(`config '${section}' is not an object`);
    for (const id of Object.keys(s)) components.add(id);
  }
  const sources: KubernetesLogsSource[] = [];
  const rawSources = isRecord(doc.sources) ? doc.sources : {};
  for (const id of Object.keys(rawSources).sort()) {
    const src = rawSources[id];
    if (!isRecord(src) || src.type !== 'kubernetes_logs') continue;
    const selector = src.extra_namespace_label_selector;
    const { namespaces, exact } = selectorNamespaces(typeof selector === 'string' ? selector : undefined);
    sources.push({
      id,
      namespaces,
      scope: readScope(src, exact),
      ownDataDir: typeof src.data_dir === 'string' ? src.data_dir : null,
      // Vector's own rule per source: a file hashes the same here as in Vector, or it is not seeded.
      fingerprint: { lines: fingerprintLines(src), maxLineBytes: resolvedMaxLineBytes(src), ignoredHeaderBytes: 0 },
    });
  }
  return { sources, components, doc };
}

export function readAgentConfig(path: string): AgentConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read config ${path}: ${(err as Error).message}`, { cause: err });
  }
  let text: string;
  try {
    text = configPayloadText(bytes);
  } catch (err) {
    throw new Error(`config ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`config ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return agentConfigFrom(doc);
}
