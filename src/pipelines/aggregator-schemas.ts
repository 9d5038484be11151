/**
 * CR schemas of the aggregator kinds, VectorAggregator (namespaced) and ClusterVectorAggregator (cluster-scoped), as
 * kaasops defines them (`VectorAggregatorCommon`).
 *
 * Invariants:
 * - The spec inlines the agent's fields (kaasops' VectorCommon) at its top level, with no `agent:` wrapper, and adds
 *   the aggregator's own; a ClusterVectorAggregator adds `resourceNamespace`. Field names are kaasops' JSON names.
 * - No field is required, as in kaasops' CRDs: a ClusterVectorAggregator without `resourceNamespace` is accepted by
 *   the API server and reported in its status when it is reconciled.
 * - The only default the API server writes is `autoscaling.maxReplicas: 3`, as kaasops' CRD does; every other default
 *   is applied in memory when objects are built (aggregator-objects.ts).
 * - Embedded Kubernetes types (HPA metrics and behavior, PVC templates, topology spread) are free-form: the API server
 *   validates them for real when the HPA, the StatefulSet or the Deployment is written.
 */
import { z } from 'zod';
import { agentSchema, k8sList, k8sObject, stringMap, vectorStatusSchema, type Metadata } from './schemas.ts';

const int32 = (description: string) => z.number().int().meta({ description, format: 'int32' });
const intOrString = (description: string) =>
  z.union([z.number().int(), z.string()]).meta({ description, 'x-kubernetes-int-or-string': true });

const autoscalingSchema = z
  .object({
    enabled: z.boolean().optional().meta({ description: 'create a HorizontalPodAutoscaler; replicas is left to it' }),
    minReplicas: int32('HPA minReplicas (the API server defaults it to 1)').optional(),
    maxReplicas: int32('HPA maxReplicas; also decides whether a PodDisruptionBudget is made').default(3),
    metrics: k8sList('autoscaling/v2 MetricSpec list (the HPA API defaults to 80% average CPU)').optional(),
    behavior: k8sObject('autoscaling/v2 HorizontalPodAutoscalerBehavior').optional(),
  })
  .meta({ description: 'horizontal autoscaling of the aggregator workload' });

const persistenceSchema = z
  .object({
    enabled: z.boolean().optional().meta({ description: 'run a StatefulSet with a volume per replica' }),
    size: intOrString('claim size of the default claim, default 10Gi').optional(),
    storageClassName: z.string().optional().meta({ description: 'default: the cluster default StorageClass' }),
    accessModes: z.array(z.string()).optional().meta({ description: 'default [ReadWriteOnce]' }),
    volumeClaimTemplates: k8sList(
      'PersistentVolumeClaim templates replacing the default claim; one must be named data',
    ).optional(),
    retentionPolicy: z
      .object({ whenDeleted: z.string().optional(), whenScaled: z.string().optional() })
      .optional()
      .meta({ description: 'StatefulSet persistentVolumeClaimRetentionPolicy, default Retain/Retain' }),
  })
  .meta({ description: "durable storage for Vector's data_dir (StatefulSet mode)" });

const podDisruptionBudgetSchema = z
  .object({
    enabled: z.boolean().optional(),
    minAvailable: intOrString('wins over maxUnavailable').optional(),
    maxUnavailable: intOrString('default 1 when neither is set').optional(),
    unhealthyPodEvictionPolicy: z
      .enum(['IfHealthyBudget', 'AlwaysAllow'])
      .optional()
      .meta({ description: 'default AlwaysAllow' }),
  })
  .meta({ description: 'a PodDisruptionBudget, made only when more than one replica can run' });

const eventCollectorSchema = z
  .object({
    image: z.string().optional(),
    imagePullPolicy: z.string().optional().meta({ description: 'default IfNotPresent' }),
    maxBatchSize: int32('events per batch, default 250').optional(),
  })
  .meta({ description: 'the event collector that feeds kubernetes_events sources' });

export const aggregatorSpecSchema = agentSchema
  .extend({
    annotations: stringMap('annotations for every aggregator object and the pod template').optional(),
    replicas: int32('workload replicas; ignored with autoscaling').optional(),
    selector: z
      .object({ matchLabels: stringMap('pipelines must carry all of these labels').optional() })
      .optional()
      .meta({ description: 'which aggregator-role pipelines this aggregator runs; absent selects all' }),
    eventCollector: eventCollectorSchema.optional(),
    autoscaling: autoscalingSchema.optional(),
    topologySpreadConstraints: k8sList('pod topologySpreadConstraints, copied verbatim').optional(),
    persistence: persistenceSchema.optional(),
    podDisruptionBudget: podDisruptionBudgetSchema.optional(),
  })
  .meta({ description: 'the aggregator workload (Deployment, or StatefulSet with persistence)' });

export const clusterAggregatorSpecSchema = aggregatorSpecSchema
  .extend({
    resourceNamespace: z
      .string()
      .optional()
      .meta({ description: 'namespace of every namespaced object this aggregator creates; required in practice' }),
  })
  .meta({ description: 'a cluster-wide aggregator of ClusterVectorPipelines' });

/** kaasops' VectorCommonStatus, plus the observedGeneration and conditions our controllers add. */
const aggregatorStatusSchema = vectorStatusSchema.pick({
  configCheckResult: true,
  reason: true,
  LastAppliedConfigHash: true,
  LastAppliedGlobalConfigHash: true,
  lastConfigPublishedAt: true,
  observedGeneration: true,
  conditions: true,
});

export type ClusterAggregatorSpec = z.infer<typeof clusterAggregatorSpecSchema>;
/** Both kinds share one spec type; only a ClusterVectorAggregator carries `resourceNamespace`. */
export type AggregatorSpec = ClusterAggregatorSpec;

export interface Aggregator {
  kind: 'VectorAggregator' | 'ClusterVectorAggregator';
  metadata: Metadata;
  spec: AggregatorSpec;
}

const columns = [
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  { name: 'Valid', type: 'boolean', jsonPath: '.status.configCheckResult' },
];

/** The aggregator kinds, in the shape of `crdKinds` (schemas.ts), generated after them. */
export const aggregatorCrdKinds = [
  {
    kind: 'VectorAggregator',
    plural: 'vectoraggregators',
    scope: 'Namespaced',
    spec: aggregatorSpecSchema,
    status: aggregatorStatusSchema,
    shortNames: [] as string[],
    categories: [] as string[],
    columns,
  },
  {
    kind: 'ClusterVectorAggregator',
    plural: 'clustervectoraggregators',
    scope: 'Cluster',
    spec: clusterAggregatorSpecSchema,
    status: aggregatorStatusSchema,
    shortNames: [] as string[],
    categories: [] as string[],
    columns,
  },
] as const;
