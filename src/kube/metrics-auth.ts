/**
 * Authentication and authorization of a scrape, as controller-runtime's `filters.WithAuthenticationAndAuthorization`
 * does for kaasops' `--metrics-secure`: a TokenReview of the bearer token, then a SubjectAccessReview of that user
 * for the verb (`get` for GET) on the non-resource URL (the request path, `/metrics`).
 *
 * Invariants:
 * - No bearer token, or one the TokenReview does not authenticate: 401. Authenticated but not allowed: 403.
 *   A failing review call: 500 (never an allow).
 * - Verdicts are cached briefly (allowed 5 min, denied 30 s, keyed by token, verb and path; controller-runtime's
 *   delegating authorizer does the same), so a scrape every 30 s costs no API call in steady state.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { request } from './client.ts';

export interface AuthVerdict {
  status: 200 | 401 | 403 | 500;
  message: string;
}

interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

interface TokenReview {
  status?: { authenticated?: boolean; user?: UserInfo; error?: string };
}

interface SubjectAccessReview {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

const verbs: Record<string, string> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', DELETE: 'delete' };

export class MetricsAuthorizer {
  private readonly kc: KubeConfig;
  private readonly now: () => number;
  private readonly cache = new Map<string, { verdict: AuthVerdict; until: number }>();

  constructor(kc: KubeConfig, now: () => number = Date.now) {
    this.kc = kc;
    this.now = now;
  }

  async authorize(method: string, path: string, authorization: string | undefined): Promise<AuthVerdict> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const token = m?.[1];
    if (token === undefined) return { status: 401, message: 'Unauthorized' };
    const verb = verbs[method] ?? method.toLowerCase();
    const key = createHash('sha256').update(`${token}\0${verb}\0${path}`).digest('hex');
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.until > this.now()) return hit.verdict;
    const verdict = await this.review(token, verb, path);
    if (verdict.status === 200 || verdict.status === 403) {
      this.cache.set(key, { verdict, until: this.now() + (verdict.status === 200 ? 300_000 : 30_000) });
      if (this.cache.size > 1000) this.cache.delete(this.cache.keys().next().value ?? '');
    }
    return verdict;
  }

  private async review(token: string, verb: string, path: string): Promise<AuthVerdict> {
    try {
      const tr = await request<TokenReview>(this.kc, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
      });
      const user = tr.status?.user;
      if (tr.status?.authenticated !== true || user === undefined) return { status: 401, message: 'Unauthorized' };
      const sar = await request<SubjectAccessReview>(
        this.kc,
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: user.username,
              uid: user.uid,
              groups: user.groups,
              extra: user.extra,
              nonResourceAttributes: { path, verb },
            },
          },
        },
      );
      if (sar.status?.allowed === true) return { status: 200, message: 'ok' };
      const reason = sar.status?.reason ?? '';
      return {
        status: 403,
        message: `Authorization denied for user ${user.username ?? ''}${reason === '' ? '' : `: ${reason}`}`,
      };
    } catch (err) {
      return { status: 500, message: `Authorization error: ${String(err)}` };
    }
  }
}
