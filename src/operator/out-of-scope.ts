/**
 * What the reconcilers do with a key outside --watch-namespace: nothing of it is written or deleted (an object the
 * scoped caches cannot see would look deleted, and the "deleted" path deletes its RBAC). Each refusal is counted in
 * `reconciles_skipped_total{reason="out-of-scope"}`; each key is warned about once.
 */
import type { Logger } from './controller-context.ts';
import type { OperatorMetrics } from './metrics.ts';

export class OutOfScope {
  private readonly warned = new Set<string>();
  private readonly opts: {
    /** The log field and the noun of the message: `vector` and "Vector", `aggregator` and "aggregator". */
    field: 'vector' | 'aggregator';
    noun: string;
    watchNamespace: string | undefined;
    metrics: Pick<OperatorMetrics, 'skipped'>;
    log: Logger;
  };

  constructor(opts: OutOfScope['opts']) {
    this.opts = opts;
  }

  /** Records that `key` was refused. */
  refused(key: string): void {
    this.opts.metrics.skipped.inc({ reason: 'out-of-scope' });
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.log.warn(
      { [this.opts.field]: key, watchNamespace: this.opts.watchNamespace },
      `${this.opts.noun} outside --watch-namespace: skipped, nothing of it is written or deleted`,
    );
  }
}
