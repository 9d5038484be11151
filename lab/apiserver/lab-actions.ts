/**
 * The stand-in's own endpoints under `/_lab/`: what tests and the stand ask the server about itself (request
 * counts, process stats, open watches) and the faults they make it play (dropped watches, compaction, injected
 * errors), plus the bearer tokens its TokenReview accepts.
 *
 * Invariant: reads are GETs and changes are POSTs; an unknown action is a 404, never a no-op.
 */
import { ApiError, badRequest, methodNotAllowed } from './errors.ts';
import type { Hooks, Injection } from './hooks.ts';
import { readBody, send, type Sent } from './http.ts';
import { isObject } from './json.ts';
import type { Req, Res } from './listener.ts';
import { parseJson } from './resources.ts';
import type { Reviews } from './reviews.ts';
import type { Store } from './store.ts';

export interface LabActionContext {
  hooks: Hooks;
  store: Store;
  reviews: Reviews;
  stats: () => object;
  watches: () => object;
}

export async function labAction(ctx: LabActionContext, action: string, req: Req, res: Res): Promise<Sent> {
  const { hooks, store, reviews } = ctx;
  if (action === 'counts' && req.method === 'GET') return send(res, 200, hooks.requestCounts());
  if (action === 'stats' && req.method === 'GET') return send(res, 200, ctx.stats());
  if (action === 'watches' && req.method === 'GET') return send(res, 200, ctx.watches());
  if (req.method !== 'POST') throw methodNotAllowed(`/_lab/${action} takes POST`);
  if (action === 'drop-watches') return send(res, 200, { dropped: store.closeAllWatches() });
  if (action === 'compact') {
    store.compact();
    return send(res, 200, { compactedRv: store.compactedRv });
  }
  if (action === 'tokens') {
    const body = parseJson(await readBody(req));
    if (!isObject(body) || typeof body.token !== 'string' || typeof body.username !== 'string')
      throw badRequest('tokens needs {"token": "...", "username": "...", "groups": [...]}');
    const groups = Array.isArray(body.groups) ? body.groups.filter((g) => typeof g === 'string') : [];
    reviews.addToken(body.token, { username: body.username, groups });
    return send(res, 200, {});
  }
  if (action === 'reset-counts') {
    hooks.resetCounts();
    return send(res, 200, {});
  }
  if (action === 'inject') {
    const body = parseJson(await readBody(req));
    if (!isObject(body) || typeof body.code !== 'number') throw badRequest('inject needs {"code": 409|500, ...}');
    hooks.inject(body as unknown as Injection);
    return send(res, 200, {});
  }
  throw new ApiError(404, 'NotFound', `no lab hook ${action}`);
}
