/**
 * TokenReview and SubjectAccessReview, as a real server answers them, for the operator's secure metrics endpoint.
 *
 * Invariants:
 * - Tokens: the server's own bearer token is `lab-admin` in `system:masters`; tests add more with `/_lab/tokens`
 *   (like kube-apiserver's static token file). An unknown token is not authenticated: 201 with
 *   `status.authenticated` absent and an `error`, as on a real server.
 * - SubjectAccessReview follows RBAC from the stored ClusterRoles and ClusterRoleBindings: `system:masters` is
 *   allowed everything; otherwise a binding whose subject is the user, one of its groups, or its service account
 *   (`system:serviceaccount:<ns>:<name>`) must grant the verb on the non-resource URL (`*` and trailing-`*`
 *   prefixes as in RBAC). Resource attributes are allowed for `system:masters` only (not modelled further).
 * - Both are create-only and not persisted; a review without a token, or without user and groups, is a 400.
 */
import { ApiError } from './errors.ts';
import { isObject, type JsonObject } from './json.ts';
import type { Store } from './store.ts';

export interface Identity {
  username: string;
  uid?: string;
  groups: string[];
}

const rbac = 'rbac.authorization.k8s.io';

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function invalid(kind: string, message: string): ApiError {
  return new ApiError(400, 'Invalid', `${kind}.authentication.k8s.io "" is invalid: ${message}`);
}

export class Reviews {
  private readonly tokens = new Map<string, Identity>();
  private readonly store: Store;

  constructor(store: Store, adminToken: string) {
    this.store = store;
    this.tokens.set(adminToken, { username: 'lab-admin', groups: ['system:masters', 'system:authenticated'] });
  }

  addToken(token: string, identity: Identity): void {
    this.tokens.set(token, { ...identity, groups: [...new Set([...identity.groups, 'system:authenticated'])] });
  }

  tokenReview(body: unknown): JsonObject {
    const spec = isObject(body) && isObject(body.spec) ? body.spec : {};
    const token = spec.token;
    if (typeof token !== 'string' || token === '') throw invalid('TokenReview', 'spec.token: Required value');
    const who = this.tokens.get(token);
    const status: JsonObject =
      who === undefined
        ? { user: {}, error: '[invalid bearer token, token lookup failed]' }
        : { authenticated: true, user: { ...who }, audiences: ['https://kubernetes.default.svc'] };
    return { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: {}, spec, status };
  }

  subjectAccessReview(body: unknown): JsonObject {
    const spec = isObject(body) && isObject(body.spec) ? body.spec : {};
    const user = typeof spec.user === 'string' ? spec.user : '';
    const groups = strings(spec.groups);
    if (user === '' && groups.length === 0)
      throw invalid(
        'SubjectAccessReview',
        'spec.user: Invalid value: "": at least one of user or group must be specified',
      );
    const nonResource = isObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
    if ((nonResource === undefined) === !isObject(spec.resourceAttributes))
      throw invalid('SubjectAccessReview', 'spec: exactly one of nonResourceAttributes and resourceAttributes');
    let allowed = groups.includes('system:masters');
    let reason = allowed ? '' : 'no RBAC policy matched';
    if (!allowed && nonResource !== undefined) {
      const path = typeof nonResource.path === 'string' ? nonResource.path : '';
      const verb = typeof nonResource.verb === 'string' ? nonResource.verb : '';
      const grant = this.grant(user, groups, path, verb);
      if (grant !== undefined) {
        allowed = true;
        reason = grant;
      }
    }
    return {
      kind: 'SubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: {},
      spec,
      status: allowed ? { allowed: true, reason } : { allowed: false, reason },
    };
  }

  /** The RBAC reason of the first binding granting `verb` on `path`, or undefined. */
  private grant(user: string, groups: string[], path: string, verb: string): string | undefined {
    const matchesSubject = (s: JsonObject): boolean =>
      (s.kind === 'User' && s.name === user) ||
      (s.kind === 'Group' && typeof s.name === 'string' && groups.includes(s.name)) ||
      (s.kind === 'ServiceAccount' && user === `system:serviceaccount:${String(s.namespace)}:${String(s.name)}`);
    const matchesUrl = (u: string): boolean =>
      u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1)));
    for (const b of this.store.list(`${rbac}/clusterrolebindings`)) {
      const subjects: unknown[] = Array.isArray(b.subjects) ? b.subjects : [];
      const subject = subjects.find((s): s is JsonObject => isObject(s) && matchesSubject(s));
      const roleRef = isObject(b.roleRef) ? b.roleRef : {};
      if (subject === undefined || roleRef.kind !== 'ClusterRole' || typeof roleRef.name !== 'string') continue;
      const role = this.store.get(`${rbac}/clusterroles`, undefined, roleRef.name);
      const rules = Array.isArray(role?.rules) ? role.rules : [];
      const ok = rules.some(
        (r) =>
          isObject(r) &&
          strings(r.nonResourceURLs).some(matchesUrl) &&
          strings(r.verbs).some((v) => v === '*' || v === verb),
      );
      if (ok) {
        const to = `${String(subject.kind)} "${String(subject.name)}"`;
        return `RBAC: allowed by ClusterRoleBinding "${b.metadata.name}" of ClusterRole "${roleRef.name}" to ${to}`;
      }
    }
    return undefined;
  }
}
