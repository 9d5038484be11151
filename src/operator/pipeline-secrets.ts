/**
 * A pipeline's Secrets, checked on the pipeline itself: each Secret it uses exists, holds every key it references,
 * with a value that is safe to substitute, and `status.relatedSecretsHash` is kaasops' token of their versions.
 *
 * Invariants:
 * - Only used backends count (a `SECRET[alias.key]` in an option); a declared but unused one is ignored, as in
 *   kaasops.
 * - A problem makes the pipeline invalid with kaasops' text and the field, and clears the hash (otherwise a hash is
 *   only ever replaced, as kaasops' merge patches do); the Vectors leave the
 *   pipeline out for the same reason (build.ts), so the pipeline's status says why it does not flow.
 * - A rotation changes a Secret's resourceVersion, hence the token, so the status follows every rotation.
 */
import { describeRejection, pipelineRefOf } from '../pipelines/pipeline.ts';
import type { Pipeline } from '../pipelines/schemas.ts';
import {
  notFoundError,
  relatedSecrets,
  relatedSecretsToken,
  resolveSecretRefs,
  rewriteSecretRefs,
  type SecretIdentity,
  type SecretSource,
} from '../pipelines/secrets.ts';
import type { SecretReader } from './secret-reader.ts';
import type { PipelineVerdict } from './validate.ts';

export interface SecretsVerdict {
  verdict: PipelineVerdict;
  /**
   * `status.relatedSecretsHash`: the token; null to clear it (a Secret problem); undefined to leave it as it is (no
   * Secret used, or the pipeline invalid for another reason), as kaasops' status writes leave it.
   */
  relatedSecretsHash: bigint | null | undefined;
  /** The values read for the check (set when every reference resolved), for the pipeline's check pod. */
  values?: SecretSource;
}

export async function checkPipelineSecrets(
  p: Pipeline,
  verdict: PipelineVerdict,
  reader: SecretReader | undefined,
): Promise<SecretsVerdict> {
  const none = { verdict, relatedSecretsHash: undefined };
  // Without spec.secret a reference is an undeclared alias, which the verdict already refuses.
  if (!verdict.valid || reader === undefined || Object.keys(p.spec.secret ?? {}).length === 0) return none;
  const ref = pipelineRefOf(p);
  const rewritten = rewriteSecretRefs(p, ref);
  if (!rewritten.ok || rewritten.refs.length === 0) return none;
  const invalid = (field: string, reason: string): SecretsVerdict => ({
    verdict: { valid: false, role: verdict.role, reason: describeRejection({ pipeline: ref, field, reason }) },
    relatedSecretsHash: null,
  });
  const ids: SecretIdentity[] = [];
  for (const s of relatedSecrets(rewritten.refs)) {
    const id = await reader.identity(s.namespace, s.name);
    if (id === undefined)
      return invalid(
        `spec.secret.${s.alias}`,
        `secret backend "${s.alias}": failed to get secret ${s.namespace}/${s.name}: ${notFoundError(s.name)}`,
      );
    ids.push(id);
  }
  const values = await reader.source(rewritten.refs);
  const resolved = resolveSecretRefs(rewritten.refs, values);
  if (!resolved.ok) return invalid(resolved.field, resolved.reason);
  // An int64, exact: written as the JSON number kaasops writes (kube/client.ts writes bigints digit for digit).
  return { verdict, relatedSecretsHash: relatedSecretsToken(ids), values };
}

/**
 * A valid pipeline some workload left out (secret-attribution.ts) is invalid with that reason, written bare (a secret
 * reason then starts with kaasops' frozen prefix), and its hash cleared.
 */
export function attributed(v: SecretsVerdict, reason: string | undefined): SecretsVerdict {
  if (reason === undefined || !v.verdict.valid) return v;
  return { verdict: { valid: false, role: v.verdict.role, reason }, relatedSecretsHash: null };
}
