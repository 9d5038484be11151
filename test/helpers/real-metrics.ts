/**
 * Request counts on the real API server, from its own `apiserver_request_total` counter (`/metrics`, readable by
 * `system:masters`): the real equivalent of the stand-in's request counter, for "this wrote nothing" assertions.
 *
 * Keys read like the stand-in's: `verb resource[.group][/subresource]`, with the stand-in's verbs (`create` for POST,
 * `update` for PUT, `patch` for PATCH and server-side apply). Leases and Events are left out: the API server and controller manager renew their own Leases.
 * Service-account token requests are left out too: the controller manager makes them for its controllers.
 */
import type { ControlPlane } from '../../lab/kube-real/control-plane.ts';

const line = /^apiserver_request_total\{([^}]*)\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/;
const label = /(\w+)="((?:[^"\\]|\\.)*)"/g;
const verbs: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', APPLY: 'patch' };

/** Parses the counter into `verb resource` → total (all codes summed). */
export function parseRequestCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[1] ?? '').matchAll(label)) labels[k ?? ''] = v ?? '';
    const resource = `${labels.resource ?? ''}${labels.group ? `.${labels.group}` : ''}`;
    const verb = labels.verb ?? '';
    const key = `${verbs[verb] ?? verb.toLowerCase()} ${resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
  }
  return counts;
}

export async function requestCounts(plane: Pick<ControlPlane, 'get'>): Promise<Map<string, number>> {
  const res = await plane.get('/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${res.body.slice(0, 200)}`);
  return parseRequestCounts(res.body);
}

const reads = /^(get|list|watch|connect) /;
const ignored = / (leases\.coordination\.k8s\.io|events|events\.events\.k8s\.io|serviceaccounts\/token)$/;

/** The write requests counted in `now` beyond `base`. */
export function writesSince(base: Map<string, number>, now: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of now) {
    if (reads.test(k) || ignored.test(k)) continue;
    const d = n - (base.get(k) ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}
