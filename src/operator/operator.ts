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
import { request } from '../kube/client.ts';
import { Controller } from '../kube/controller.ts';
import { LeaderElector, type LeaderElectorOptions } from '../kube/lease.ts';
import { WorkQueue } from '../kube/workqueue.ts';

import type { OperatorFlags } from './desired.ts';
import { aggregatorsServed } from './aggregator-informers.ts';
import { createAggregatorPart, type AggregatorPart } from './aggregator-wiring.ts';
import { ConfigChecker } from './configcheck.ts';
import { ApiEventSink, type EventSink } from './events.ts';
import { allReflectors, createInformers, WrittenObjects, type Informers } from './informers.ts';
import { vectorChanged, wireEvents } from './event-routing.ts';
import { createMetrics, type OperatorMetrics } from './metrics.ts';
import { PipelineReconciler } from './pipeline-controller.ts';
import { PipelineValidator } from './validate.ts';
import { SecretReader } from './secret-reader.ts';
import { SecretAttribution } from './secret-attribution.ts';

import { VectorReconciler } from './vector-controller.ts';
import type { ControllerContext, Logger } from './controller-context.ts';

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
  /** Tests and the stand only: the Secret rotation poll's interval instead of kaasops' 4 to 5 min (secret-reader.ts). */
  secretPollMs?: number;
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
    const ctx = this.controllerContext(informers, applier, podMonitor, pipelineQueue);
    wireEvents(informers, { vectors: vectorQueue, pipelines: pipelineQueue }, ctx);
    const aggregators = await this.aggregatorPart(informers, applier, podMonitor, ctx);
    if (aggregators !== undefined) ctx.aggregators = aggregators.list;
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
      this.controller(name, queue, workers, fn);
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

  /** What both reconcilers share: caches, the applier, the validator, the Secrets and the config checker. */
  private controllerContext(
    informers: Informers,
    applier: Applier,
    podMonitor: boolean,
    pipelineQueue: WorkQueue,
  ): ControllerContext {
    const { kc, log } = this.opts;
    return {
      caches: informers,
      applier,
      flags: { ...this.opts.flags, podMonitor },
      validator: new PipelineValidator(this.opts.flags.policy),
      written: new WrittenObjects(),
      events: this.opts.events ?? new ApiEventSink(kc, this.opts.leaderElection?.identity ?? 'vector-operator'),
      metrics: this.metrics,
      log,
      adoptManagers: this.opts.adoptFieldManagers ?? defaultAdoptedManagers,
      secrets: new SecretReader(kc, informers.userSecrets, this.opts.watchNamespace, this.opts.secretPollMs),
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
  }

  /** The aggregator controller's part, or undefined where the API server serves no aggregator kinds or Deployments. */
  private async aggregatorPart(
    informers: Informers,
    applier: Applier,
    podMonitor: boolean,
    ctx: ControllerContext,
  ): Promise<AggregatorPart | undefined> {
    const { kc, log } = this.opts;
    if (!(await aggregatorsServed(kc))) return undefined;
    return createAggregatorPart({
      kc,
      podMonitor,
      ...(this.opts.watchNamespace === undefined ? {} : { watchNamespace: this.opts.watchNamespace }),
      informers,
      applier,
      validator: ctx.validator,
      ...(ctx.checker === undefined ? {} : { checker: ctx.checker }),
      ...(ctx.secrets === undefined ? {} : { secrets: ctx.secrets }),
      ...(ctx.attribution === undefined ? {} : { attribution: ctx.attribution }),
      ...(ctx.flags.assetsPruneGraceMs === undefined ? {} : { assetsPruneGraceMs: ctx.flags.assetsPruneGraceMs }),
      adoptManagers: ctx.adoptManagers ?? defaultAdoptedManagers,
      metrics: this.metrics,
      log,
      changed: vectorChanged,
      ...(this.opts.resyncMs === undefined ? {} : { resyncMs: this.opts.resyncMs }),
      ...(this.opts.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: this.opts.watchTimeoutSeconds }),
    });
  }

  /** A controller over `queue`, timed and counted per reconcile; a failure is logged and retried with backoff. */
  private controller(
    name: string,
    queue: WorkQueue,
    workers: number,
    fn: (key: string) => Promise<unknown>,
  ): Controller {
    const { log } = this.opts;
    return new Controller({
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
