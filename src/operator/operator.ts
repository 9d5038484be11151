/**
 * The operator: caches, two controllers (Vector, pipelines), the event wiring between them, and leader election.
 *
 * Invariants:
 * - With leader election, only the leader runs caches and controllers; losing the lease stops them before anyone else
 *   can take over (LeaderElector's renew deadline), and `onLostLeadership` tells the process (which exits, as
 *   controller-runtime does, so a fresh process starts from a clean cache).
 * - Controllers start only once every cache has its first list: a reconcile never sees a partial world (which
 *   would delete or rewrite objects that simply were not listed yet).
 * - Event mapping: a Vector's spec/annotation/finalizer change wakes that Vector; an owned object wakes its owner
 *   only; a pipeline's spec or annotation change wakes the pipeline itself, and any change of it (labels included)
 *   wakes the Vectors whose selector matches its old or new labels, at once (no fixed debounce: the queue coalesces a
 *   burst into one reconcile per Vector). A label-only edit does not wake the pipeline reconcile (kaasops' predicate).
 * - Status-only updates wake no reconcile of their own object, so the operator's own status writes do not loop; a
 *   pipeline verdict recorded in its status (`configCheckResult`, `LastAppliedPipelineHash`) wakes its Vectors.
 * - stop() stops the controllers (in-flight reconciles finish), then the caches, then releases the lease.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Applier } from '../kube/apply.ts';
import { objectKey, request, type KubeObject } from '../kube/client.ts';
import { Controller } from '../kube/controller.ts';
import { LeaderElector, type LeaderElectorOptions } from '../kube/lease.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import { selects } from '../pipelines/build.ts';
import type { OperatorFlags } from './desired.ts';
import { aggregatorsServed } from './aggregator-informers.ts';
import { createAggregatorPart, type AggregatorPart } from './aggregator-wiring.ts';
import { ConfigChecker } from './configcheck.ts';
import { ApiEventSink, type EventSink } from './events.ts';
import { allReflectors, createInformers, ownerVectorKey, WrittenObjects, type Informers } from './informers.ts';
import { createMetrics, type OperatorMetrics } from './metrics.ts';
import { PipelineReconciler } from './pipeline-controller.ts';
import { PipelineValidator } from './validate.ts';
import { SecretReader } from './secret-reader.ts';
import { SecretAttribution } from './secret-attribution.ts';
import { declaredSecrets } from '../pipelines/secrets.ts';
import { toPipeline, toVector, VectorReconciler, type ControllerContext, type Logger } from './vector-controller.ts';

const fieldManager = 'vector-operator';
/** kaasops/vector-operator writes with Update under controller-runtime's default manager name. */
const defaultAdoptedManagers: readonly string[] = ['manager'];

/** The elector's own options, less what the operator supplies itself (the kubeconfig, the clock). */
export type LeaderElectionOptions = Pick<
  LeaderElectorOptions,
  'namespace' | 'name' | 'identity' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'
>;

export interface OperatorOptions {
  kc: KubeConfig;
  flags: Omit<OperatorFlags, 'podMonitor'>;
  log: Logger;
  watchNamespace?: string;
  leaderElection?: LeaderElectionOptions;
  metrics?: OperatorMetrics;
  resyncMs?: number;
  watchTimeoutSeconds?: number;
  workers?: number;
  /** Called once when a held lease is lost (the CLI exits non-zero). */
  onLostLeadership?: () => void;
  events?: EventSink;
  /**
   * Field managers whose `Update` entries on agent objects are folded into ours before we apply (csa-upgrade.ts):
   * default `manager`, kaasops' controller-runtime name, so a cutover from kaasops leaves no field behind.
   */
  adoptFieldManagers?: readonly string[];
  /** Run `vector validate` in a pod before publishing a config and on each changed pipeline (--enable-configcheck-pods). */
  configCheckPods?: { timeoutMs: number };
  /** --enable-reconciliation-invalid-pipelines and --reconciliation-retry-delay (default off, 30 s). */
  invalidPipelines?: { recheck: boolean; retryDelayMs: number };
}

interface Running {
  informers: Informers;
  checker: ConfigChecker | undefined;
  vectorQueue: WorkQueue;
  pipelineQueue: WorkQueue;
  controllers: Controller[];
  synced: boolean;
  /** Only when the API server serves the aggregator kinds and Deployments. */
  aggregators?: AggregatorPart;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function vectorChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  const a = obj.metadata ?? {};
  const b = old?.metadata ?? {};
  return (
    old === undefined ||
    a.generation !== b.generation ||
    !same(a.annotations, b.annotations) ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    !same(a.finalizers, b.finalizers) ||
    // Objects without generation tracking: compare the spec itself.
    (a.generation === undefined && !same(obj.spec, old.spec))
  );
}

/** What decides which Vectors select a pipeline: a change re-selects at once (kaasops waits for another trigger). */
function labelsChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  return !same(obj.metadata?.labels, old?.metadata?.labels);
}

/** A verdict the pipeline reconcile recorded: a change moves the pipeline in or out of the Vectors' configs. */
function verdictChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  const a = obj.status as { configCheckResult?: boolean; LastAppliedPipelineHash?: number } | undefined;
  const b = old?.status as typeof a;
  return a?.configCheckResult !== b?.configCheckResult || a?.LastAppliedPipelineHash !== b?.LastAppliedPipelineHash;
}

export class Operator {
  readonly metrics: OperatorMetrics;
  private readonly opts: OperatorOptions;
  private readonly elector: LeaderElector | undefined;
  private running: Running | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;

  constructor(opts: OperatorOptions) {
    this.opts = opts;
    this.metrics = opts.metrics ?? createMetrics(() => this.queueDepths());
    const le = opts.leaderElection;
    this.elector =
      le === undefined
        ? undefined
        : new LeaderElector({
            kc: opts.kc,
            ...le,
            onError: (err) => {
              opts.log.warn({ err: String(err) }, 'leader election attempt failed');
            },
          });
  }

  /** Keys waiting per controller queue (the metrics' collect callback). */
  queueDepths(): Record<string, number> {
    const r = this.running;
    if (r === undefined) return {};
    const depths: Record<string, number> = { vector: r.vectorQueue.len(), pipeline: r.pipelineQueue.len() };
    if (r.aggregators !== undefined) depths.aggregator = r.aggregators.queue.len();
    return depths;
  }

  /** Starts leading (or campaigning). Resolves once controllers run, or at once when waiting for the lease. */
  async start(): Promise<void> {
    if (this.elector === undefined) {
      await this.startControllers();
      return;
    }
    this.elector.run({
      onStartedLeading: () => {
        this.opts.log.info({}, 'leader lease acquired: starting controllers');
        this.starting = this.startControllers().catch((err: unknown) => {
          this.opts.log.error({ err: String(err) }, 'controllers failed to start');
        });
      },
      onStoppedLeading: () => {
        this.opts.log.warn({}, 'leader lease lost: stopping controllers');
        void this.stopControllers().then(() => this.opts.onLostLeadership?.());
      },
    });
  }

  isLeader(): boolean {
    return this.elector === undefined ? this.running !== undefined : this.elector.isLeader();
  }

  /** Ready when the caches are synced; a standby replica (not leading) is ready too. */
  ready(): boolean {
    if (this.elector !== undefined && !this.elector.isLeader()) return !this.stopped;
    return this.running?.synced === true;
  }

  /** Resolves once the controllers of a lease just won have started (tests). */
  async whenRunning(): Promise<void> {
    await this.starting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting;
    await this.stopControllers();
    await this.elector?.stop();
  }

  private async podMonitorServed(): Promise<boolean> {
    try {
      await request(this.opts.kc, 'GET', '/apis/monitoring.coreos.com/v1');
      return true;
    } catch {
      return false;
    }
  }

  private async startControllers(): Promise<void> {
    if (this.running !== undefined || this.stopped) return;
    const { kc, log } = this.opts;
    const podMonitor = await this.podMonitorServed();
    const informers = createInformers({
      kc,
      podMonitor,
      ...(this.opts.watchNamespace === undefined ? {} : { watchNamespace: this.opts.watchNamespace }),
      ...(this.opts.resyncMs === undefined ? {} : { resyncMs: this.opts.resyncMs }),
      ...(this.opts.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: this.opts.watchTimeoutSeconds }),
      onError: (what, err) => {
        log.warn({ cache: what, err: String(err) }, 'watch failed; retrying');
      },
    });
    const vectorQueue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 60_000 });
    const pipelineQueue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 60_000 });
    const applier = new Applier(kc, fieldManager);
    const ctx: ControllerContext = {
      informers,
      applier,
      flags: { ...this.opts.flags, podMonitor },
      validator: new PipelineValidator(this.opts.flags.policy),
      written: new WrittenObjects(),
      events: this.opts.events ?? new ApiEventSink(kc, this.opts.leaderElection?.identity ?? 'vector-operator'),
      metrics: this.metrics,
      log,
      adoptManagers: this.opts.adoptFieldManagers ?? defaultAdoptedManagers,
      secrets: new SecretReader(kc, informers.userSecrets, this.opts.watchNamespace),
      attribution: {
        store: new SecretAttribution(),
        wake: (key) => {
          pipelineQueue.add(key);
        },
      },
      ...(this.opts.watchNamespace === undefined || this.opts.watchNamespace === ''
        ? {}
        : { watchNamespace: this.opts.watchNamespace }),
      ...(this.opts.configCheckPods === undefined
        ? {}
        : {
            checker: new ConfigChecker(kc, applier, this.opts.configCheckPods.timeoutMs, this.opts.watchNamespace),
          }),
      recheckInvalid: this.opts.invalidPipelines?.recheck ?? false,
      retryDelayMs: this.opts.invalidPipelines?.retryDelayMs ?? 30_000,
    };
    this.wire(informers, vectorQueue, pipelineQueue, ctx);
    // Aggregators are cluster-wide: with --watch-namespace they stay off (docs/aggregators.md).
    const scoped = this.opts.watchNamespace !== undefined && this.opts.watchNamespace !== '';
    const aggregators =
      !scoped && (await aggregatorsServed(kc))
        ? createAggregatorPart({
            kc,
            podMonitor,
            informers,
            applier,
            validator: ctx.validator,
            adoptManagers: ctx.adoptManagers ?? defaultAdoptedManagers,
            metrics: this.metrics,
            log,
            changed: vectorChanged,
            ...(this.opts.resyncMs === undefined ? {} : { resyncMs: this.opts.resyncMs }),
            ...(this.opts.watchTimeoutSeconds === undefined
              ? {}
              : { watchTimeoutSeconds: this.opts.watchTimeoutSeconds }),
          })
        : undefined;
    const running: Running = {
      informers,
      checker: ctx.checker,
      vectorQueue,
      pipelineQueue,
      controllers: [],
      synced: false,
      ...(aggregators === undefined ? {} : { aggregators }),
    };
    this.running = running;
    await Promise.all([
      ...[...allReflectors(informers), ...(aggregators?.reflectors ?? [])].map((r) => r.start()),
      ctx.checker?.start(),
    ]);
    if (this.running !== running) return; // stopped while listing
    running.synced = true;
    const vectors = new VectorReconciler(ctx);
    const pipelines = new PipelineReconciler(ctx);
    const workers = this.opts.workers ?? 4;
    const controller = (name: string, queue: WorkQueue, fn: (key: string) => Promise<unknown>): Controller =>
      new Controller({
        name,
        queue,
        workers,
        reconcile: async (key) => {
          const end = this.metrics.reconcileSeconds.startTimer({ controller: name });
          try {
            const res = (await fn(key)) as { requeueAfterMs?: number } | undefined;
            this.metrics.reconciles.inc({ controller: name, result: 'success' });
            return res;
          } finally {
            end();
          }
        },
        onError: (key, err) => {
          this.metrics.reconciles.inc({ controller: name, result: 'error' });
          this.metrics.errors.inc({ controller: name });
          log.warn({ controller: name, key, err: String(err) }, 'reconcile failed; retrying with backoff');
        },
      });
    running.controllers = [
      controller('vector', vectorQueue, (k) => vectors.reconcile(k)),
      controller('pipeline', pipelineQueue, (k) => pipelines.reconcile(k)),
    ];
    if (aggregators !== undefined)
      running.controllers.push(controller('aggregator', aggregators.queue, (k) => aggregators.reconciler.reconcile(k)));
    for (const c of running.controllers) c.run();
    log.info(
      { podMonitor, aggregators: aggregators !== undefined, watchNamespace: this.opts.watchNamespace ?? '' },
      'controllers started',
    );
  }

  private wire(informers: Informers, vectorQueue: WorkQueue, pipelineQueue: WorkQueue, ctx: ControllerContext): void {
    informers.vectors.on((event, obj, old) => {
      if (event === 'update' && !vectorChanged(obj, old)) return;
      vectorQueue.add(objectKey(obj));
    });
    const onPipeline = (kind: 'VectorPipeline' | 'ClusterVectorPipeline') => {
      return (event: string, obj: KubeObject, old?: KubeObject): void => {
        const key = objectKey(obj);
        if (event === 'resync') {
          pipelineQueue.add(key);
          return;
        }
        // kaasops' predicate: the pipeline reconcile runs on a spec or annotation change (force-configcheck is an
        // annotation), not on a label-only edit, which only re-selects.
        const changed = event !== 'update' || vectorChanged(obj, old);
        if (!changed && !labelsChanged(obj, old) && !verdictChanged(obj, old)) return;
        if (event === 'delete') ctx.validator.forget(toPipeline({ ...obj, kind }));
        else if (changed) pipelineQueue.add(key);
        const now = toPipeline({ ...obj, kind });
        const before = old === undefined ? undefined : toPipeline({ ...old, kind });
        for (const v of informers.vectors.list()) {
          const vector = toVector(v);
          if (selects(vector, now) || (before !== undefined && selects(vector, before))) vectorQueue.add(objectKey(v));
        }
      };
    };
    informers.vectorPipelines.on(onPipeline('VectorPipeline'));
    informers.clusterPipelines.on(onPipeline('ClusterVectorPipeline'));
    informers.userSecrets.on((event, obj) => {
      if (event === 'resync') return;
      const namespace = obj.metadata?.namespace ?? '';
      const name = obj.metadata?.name ?? '';
      if (event === 'delete') ctx.secrets?.forget(namespace, name);
      this.secretChanged(informers, vectorQueue, pipelineQueue, namespace, name);
    });
    for (const r of Object.values(informers.owned)) {
      r.on((event, obj) => {
        if (event === 'resync') return;
        const key = ownerVectorKey(obj);
        if (key !== undefined) vectorQueue.add(key);
      });
    }
  }

  /**
   * A Secret some pipelines declare changed (rotation, creation, deletion): those pipelines are checked again
   * (`relatedSecretsHash`) and the Vectors selecting them rebuilt, which rewrites the assets only. A scan of the
   * pipelines, not an index: most Secret events (the operator's own writes among them) concern no pipeline.
   */
  private secretChanged(
    informers: Informers,
    vectorQueue: WorkQueue,
    pipelineQueue: WorkQueue,
    namespace: string,
    name: string,
  ): void {
    const vectors = informers.vectors.list().map((v) => [v, toVector(v)] as const);
    for (const [reflector, kind] of [
      [informers.vectorPipelines, 'VectorPipeline'],
      [informers.clusterPipelines, 'ClusterVectorPipeline'],
    ] as const) {
      for (const obj of reflector.list()) {
        if ((obj.spec as { secret?: unknown } | undefined)?.secret === undefined) continue;
        const p = toPipeline({ ...obj, kind });
        if (!declaredSecrets(p).some((s) => s.namespace === namespace && s.name === name)) continue;
        pipelineQueue.add(objectKey(obj));
        for (const [v, vector] of vectors) if (selects(vector, p)) vectorQueue.add(objectKey(v));
      }
    }
  }

  private async stopControllers(): Promise<void> {
    const r = this.running;
    if (r === undefined) return;
    this.running = undefined;
    // A reconcile waiting for a configcheck pod (up to --configcheck-timeout) would hold the shutdown: end the wait.
    r.checker?.cancel();
    await Promise.all(r.controllers.map((c) => c.stop()));
    r.vectorQueue.shutDown();
    r.pipelineQueue.shutDown();
    r.aggregators?.queue.shutDown();
    await Promise.all([
      ...[...allReflectors(r.informers), ...(r.aggregators?.reflectors ?? [])].map((x) => x.stop()),
      r.checker?.stop(),
    ]);
  }
}
