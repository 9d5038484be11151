/**
 * How the stand's simulated components (kubelet, scheduler, DaemonSet controller, Vector simulator) watch the API
 * server: through the product's reflector (`src/kube/reflector.ts`), as the real ones watch through client-go's or
 * kube-rs' one list+watch machinery. This module only chooses the stand's transport and reporting.
 *
 * Invariants:
 * - One open watch per started reflector at any time (the stand-in's watch counter measures exactly this), with the
 *   product reflector's resume, relist-on-410, backoff and watchdog rules.
 * - A list is one request for the whole collection through `listJson`: a reply identical to the last one for the
 *   same URL is not decoded again and yields the same objects, so a thousand sources of one agent share them (and
 *   their slim copies). Its items carry apiVersion and kind, as watch events do.
 * - `onChange` hears 'add', 'update' and 'delete' after the store has changed; there is no resync.
 * - A failed list or watch is logged with the path, the selectors and its cause (`describeError`).
 */
import type * as k8s from '@kubernetes/client-node';
import { Reflector, type Listed } from '../../src/kube/reflector.ts';
import { describeError, listJson } from './kube-http.ts';
import type { StandLog } from './log.ts';

export type ChangeType = 'add' | 'update' | 'delete';

export interface StandReflectorOptions<T extends Listed> {
  kc: k8s.KubeConfig;
  /** The collection path to watch, e.g. `/api/v1/pods`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  onChange?: (type: ChangeType, obj: T) => void;
  /** What the store keeps of each object (default: all of it); a slim copy bounds memory when many caches hold the same pods. */
  slim?: (obj: T) => T;
  /** Where failures are reported, with their cause; silent when omitted. */
  log?: StandLog;
}

/** A reflector over `path` for a simulated component; start it, then read it with get() and list(). */
export function standReflector<T extends Listed>(opts: StandReflectorOptions<T>): Reflector<T> {
  const { kc, path, labelSelector, fieldSelector, log, onChange } = opts;
  const selector = [labelSelector, fieldSelector].filter((s) => s !== undefined && s !== '').join(' ');
  const reflector = new Reflector<T>({
    kc,
    listPath: path,
    labelSelector,
    fieldSelector,
    transform: opts.slim,
    list: (query) => listJson<T>(kc, path, query),
    onError: (err, retryInMs) => {
      log?.('list or watch failed, retrying', {
        path,
        ...(selector === '' ? {} : { selector }),
        retryInMs,
        error: describeError(err),
      });
    },
  });
  if (onChange !== undefined)
    reflector.on((event, obj) => {
      if (event !== 'resync') onChange(event, obj);
    });
  return reflector;
}
