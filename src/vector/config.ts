/**
 * Vector's agent config model, as the operator writes it to `agent.json`.
 *
 * Invariants:
 * - Components are plain JSON objects keyed by component id. Sources never carry `inputs`; transforms and sinks always
 *   do (possibly empty), because kaasops always emits the field.
 * - Component ids are unique across sources, transforms and sinks: Vector keeps one namespace for all three.
 * - The model holds only what will be serialized; omitempty rules are applied when components are built, so
 *   serialization is a plain canonical JSON dump.
 */

export type JsonObject = Record<string, unknown>;

export interface SourceComponent extends JsonObject {
  type: string;
}

export interface InputComponent extends JsonObject {
  type: string;
  inputs: string[];
}

export interface ApiBlock {
  address: string;
  enabled?: true;
  playground?: true;
}

export interface VectorConfig {
  data_dir: string;
  api: ApiBlock;
  expire_metrics_secs?: number;
  sources: Record<string, SourceComponent>;
  transforms: Record<string, InputComponent>;
  sinks: Record<string, InputComponent>;
  /** Secret backends (`SECRET[k8s.<key>]` references): only when some pipeline references a Secret. */
  secret?: Record<string, { type: string; path: string }>;
}

export const componentKinds = ['sources', 'transforms', 'sinks'] as const;
export type ComponentKind = (typeof componentKinds)[number];

/** The data dir inside the agent container; the host path is `spec.agent.dataDir`. */
export const containerDataDir = '/vector-data-dir';
export const apiAddress = '[::]:8686';
export const kubernetesLogs = 'kubernetes_logs';

/** Every `kubernetes_logs` source id, sorted: these are the checkpoint directories under the data dir. */
export function kubernetesLogsSources(config: VectorConfig): string[] {
  return Object.keys(config.sources)
    .filter((id) => config.sources[id]?.type === kubernetesLogs)
    .sort();
}
