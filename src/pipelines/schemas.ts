/**
 * CR schemas for observability.kaasops.io/v1alpha1: Vector, VectorPipeline, ClusterVectorPipeline (the aggregator
 * kinds are in aggregator-schemas.ts, built on the agent's fields).
 *
 * Invariants:
 * - These zod schemas are the single source of truth: the CRD YAML in deploy/crds/ is generated from them
 *   (`npm run gen:crds`), and a test keeps the committed files equal to the generated ones.
 * - Field names are kaasops' JSON names, quirks included (`host_aliases`, the capitalised status hashes), so existing
 *   manifests apply unchanged.
 * - Kubernetes core types embedded in the agent spec (probes, volumes, affinity...) are kept as free-form objects:
 *   the API server validates them for real when the DaemonSet is written, and copying them verbatim keeps the pod
 *   template byte-stable.
 * - Pipeline components (`sources`, `transforms`, `sinks`) are free-form maps of objects, and may be absent or null
 *   (kaasops crashed on `transforms: null`, #52/#74).
 */
import { z } from 'zod';

export const apiGroup = 'observability.kaasops.io';
export const apiVersion = `${apiGroup}/v1alpha1`;

/** An embedded Kubernetes object we copy verbatim (the API server validates it on the DaemonSet). */
export const k8sObject = (description: string) => z.looseObject({}).meta({ description });
export const k8sList = (description: string) => z.array(z.looseObject({})).meta({ description });
export const stringMap = (description: string) => z.record(z.string(), z.string()).meta({ description });
const int64 = (description: string) => z.number().int().meta({ description, format: 'int64' });

const durationPattern = /^(0|([0-9]+(\.[0-9]+)?(ms|s|m|h))+)$/;

const apiSpecSchema = z
  .object({
    enabled: z.boolean().optional(),
    playground: z.boolean().optional(),
    healthcheck: z.boolean().optional().meta({ description: 'default /health probes on port 8686 when enabled' }),
  })
  .meta({ description: 'Vector API (port 8686); enabled adds a Service' });

const configCheckSchema = z.object({
  disabled: z.boolean().optional(),
  image: z.string().optional(),
  resources: k8sObject('resources of the configcheck pod').optional(),
  affinity: k8sObject('unused, kept for compatibility').optional(),
  tolerations: k8sList('tolerations of the configcheck pod').optional(),
  annotations: stringMap('annotations of the configcheck pod').optional(),
  labels: stringMap('labels of the configcheck pod').optional(),
});

/** Also the top level of an aggregator's spec (kaasops' VectorCommon, inlined there): aggregator-schemas.ts. */
export const agentSchema = z
  .object({
    image: z.string().optional().meta({ description: 'default timberio/vector:0.48.0-distroless-libc' }),
    imagePullPolicy: z.string().optional(),
    imagePullSecrets: k8sList('LocalObjectReference list').optional(),
    annotations: stringMap('annotations for every agent object and the pod template').optional(),
    labels: stringMap('extra labels; cannot override the fixed app.kubernetes.io labels').optional(),
    resources: k8sObject('agent container resources; each half defaults when absent').optional(),
    affinity: k8sObject('pod affinity').optional(),
    tolerations: k8sList('pod tolerations').optional(),
    schedulerName: z.string().optional(),
    runtimeClassName: z.string().optional(),
    priorityClassName: z.string().optional(),
    hostNetwork: z.boolean().optional(),
    host_aliases: k8sList('pod hostAliases (snake case, as in kaasops)').optional(),
    podSecurityContext: k8sObject('pod securityContext').optional(),
    containerSecurityContext: k8sObject('agent container securityContext').optional(),
    podSecurityPolicyName: z.string().optional().meta({ description: 'unused, kept for compatibility' }),
    env: k8sList('extra env vars, placed before the fixed ones').optional(),
    envFrom: k8sList('envFrom sources').optional(),
    dataDir: z.string().optional().meta({ description: 'host path of the data volume, default /var/lib/vector' }),
    expireMetricsSecs: z.number().int().optional().meta({ description: 'global expire_metrics_secs' }),
    api: apiSpecSchema.optional(),
    internalMetrics: z.boolean().optional(),
    scrapeInterval: z.string().regex(durationPattern).optional(),
    scrapeTimeout: z.string().regex(durationPattern).optional(),
    volumes: k8sList('pod volumes; default var-log, journal, var-lib host paths when absent').optional(),
    volumeMounts: k8sList('agent container volumeMounts; defaults match the default volumes').optional(),
    readinessProbe: k8sObject('agent readiness probe').optional(),
    livenessProbe: k8sObject('agent liveness probe').optional(),
    configCheck: configCheckSchema.optional(),
    compressConfigFile: z.boolean().optional(),
    configReloaderImage: z.string().optional(),
    configReloaderResources: k8sObject('config-reloader resources').optional(),
  })
  .meta({ description: 'the agent DaemonSet' });

export const vectorSpecSchema = z.object({
  agent: agentSchema.optional(),
  useApiServerCache: z
    .boolean()
    .optional()
    .meta({ description: 'set use_apiserver_cache on every kubernetes_logs source' }),
  selector: z
    .object({ matchLabels: stringMap('pipelines must carry all of these labels').optional() })
    .optional()
    .meta({ description: 'which pipelines this agent runs; absent selects all' }),
});

/** A standard Kubernetes condition (metav1.Condition). */
const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
  observedGeneration: z.number().int().optional(),
});

const migrationStatusSchema = z
  .object({
    mode: z
      .string()
      .optional()
      .meta({ description: 'the config mode the agent pods are rolling to: legacy|optimized' }),
    mountedSecret: z.string().optional().meta({ description: 'the config Secret the pod template mounts' }),
    standbySecret: z.string().optional().meta({ description: 'the other mode, for pods not yet rolled' }),
    phase: z.string().optional().meta({ description: 'Steady, Rolling or Waiting' }),
    message: z.string().optional(),
    nodesMigrated: z.number().int().optional().meta({ description: 'agent pods whose checkpoint-merger succeeded' }),
    nodesPending: z.number().int().optional().meta({ description: 'agent pods without a merger result yet' }),
    nodesFailed: z.number().int().optional().meta({ description: 'agent pods whose merger reported a failure' }),
    checkpointsCarried: z.number().int().optional().meta({ description: 'sum over pods of checkpoints carried' }),
  })
  .meta({ description: 'checkpoint migration (operator flag --enable-checkpoint-migration)' });

export const vectorStatusSchema = z.object({
  configCheckResult: z.boolean().optional(),
  reason: z.string().optional(),
  LastAppliedConfigHash: int64('CRC-32 of the published config').optional(),
  LastAppliedGlobalConfigHash: int64('CRC-32 of the global options').optional(),
  lastConfigPublishedAt: z.string().optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z.array(conditionSchema).optional().meta({ description: 'ConfigValid, Ready' }),
  optimization: z
    .object({ collapsedSources: z.number().int().optional(), optimizedSources: z.number().int().optional() })
    .optional()
    .meta({ description: 'config optimization summary of the mounted config' }),
  migration: migrationStatusSchema.optional(),
});

/** One Vector component: free-form, Vector validates its options. */
const componentSchema = z.looseObject({}).meta({ 'x-kubernetes-preserve-unknown-fields': true });
const componentMap = (what: string) =>
  z
    .record(z.string(), componentSchema)
    .nullable()
    .optional()
    .meta({
      description: `${what}, keyed by component id (prefixed with <namespace>-<pipeline>- in the agent config)`,
    });

export const pipelineSpecSchema = z.object({
  sources: componentMap('Vector sources'),
  transforms: componentMap('Vector transforms'),
  sinks: componentMap('Vector sinks'),
  secret: z
    .record(
      z.string(),
      z.object({
        type: z.enum(['kubernetes_secret']),
        name: z.string().min(1).meta({ description: 'the Secret' }),
        namespace: z
          .string()
          .optional()
          .meta({ description: 'forbidden on a VectorPipeline (its own namespace), required on a cluster pipeline' }),
      }),
    )
    .optional()
    .meta({
      // kaasops' CEL rule on the alias is checked when the pipeline compiles instead (same text): on an unbounded map
      // its estimated cost could exceed the API server's budget and get the whole CRD refused.
      description:
        'pipeline secrets: alias (^[A-Za-z0-9_]+$) -> Secret, referenced as SECRET[alias.key] in options (docs/secrets.md)',
    }),
});

const pipelineStatusSchema = z.object({
  role: z.string().optional(),
  configCheckResult: z.boolean().optional(),
  reason: z.string().optional(),
  LastAppliedPipelineHash: int64('CRC-32 of the pipeline').optional(),
  relatedSecretsHash: int64('hash of the Secrets the pipeline references, as kaasops writes it').optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z
    .array(conditionSchema)
    .optional()
    .meta({ description: 'Valid; PolicyCompliant when the tenant policy tolerates a violation' }),
});

export const metadataSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).nullable().optional(),
  annotations: z.record(z.string(), z.string()).nullable().optional(),
  creationTimestamp: z.string().nullable().optional(),
  uid: z.string().optional(),
});

export type AgentSpec = z.infer<typeof agentSchema>;
export type VectorSpec = z.infer<typeof vectorSpecSchema>;
export type PipelineSpec = z.infer<typeof pipelineSpecSchema>;
export type Metadata = z.infer<typeof metadataSchema>;

export interface Vector {
  kind: 'Vector';
  metadata: Metadata & { namespace: string };
  spec: VectorSpec;
}
export interface Pipeline {
  kind: 'VectorPipeline' | 'ClusterVectorPipeline';
  metadata: Metadata;
  spec: PipelineSpec;
}

/** Kinds and their schemas, in the order CRDs are generated. */
export const crdKinds = [
  {
    kind: 'Vector',
    plural: 'vectors',
    scope: 'Namespaced',
    spec: vectorSpecSchema,
    status: vectorStatusSchema,
    shortNames: [] as string[],
    categories: [] as string[],
    columns: [
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      { name: 'Valid', type: 'boolean', jsonPath: '.status.configCheckResult' },
    ],
  },
  {
    kind: 'VectorPipeline',
    plural: 'vectorpipelines',
    scope: 'Namespaced',
    spec: pipelineSpecSchema,
    status: pipelineStatusSchema,
    shortNames: ['vp'],
    categories: ['all'],
    columns: [
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      { name: 'Valid', type: 'boolean', jsonPath: '.status.configCheckResult' },
      { name: 'Role', type: 'string', jsonPath: '.status.role' },
    ],
  },
  {
    kind: 'ClusterVectorPipeline',
    plural: 'clustervectorpipelines',
    scope: 'Cluster',
    spec: pipelineSpecSchema,
    status: pipelineStatusSchema,
    shortNames: ['cvp'],
    categories: [] as string[],
    columns: [
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      { name: 'Valid', type: 'boolean', jsonPath: '.status.configCheckResult' },
      { name: 'Role', type: 'string', jsonPath: '.status.role' },
    ],
  },
] as const;

export type Condition = z.infer<typeof conditionSchema>;
export type VectorStatus = z.infer<typeof vectorStatusSchema>;
export type PipelineStatus = z.infer<typeof pipelineStatusSchema>;
export type MigrationStatus = z.infer<typeof migrationStatusSchema>;
