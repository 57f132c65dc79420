// GitRepository spec.verify: the signatures of the checked-out commit and/or the tag it came through
// must be made by a key in the verification Secret (source-controller's verifySignature).

import { ConditionTypes, Reasons } from '../api/names.ts';
import type { GitRepository } from '../api/source.ts';
import { deleteCondition, getCondition, markFalse, markTrue } from '../runtime/conditions.ts';
import { GenericError, StallingError } from '../runtime/errors.ts';
import type { CheckoutResult } from '../runtime/git/checkout.ts';
import { verificationKeysFromSecret, verifySignature } from '../runtime/git/signature.ts';
import type { ReconcileContext } from '../runtime/reconciler.ts';
import { readSecret } from './common.ts';

export type VerificationMode = 'HEAD' | 'Tag' | 'TagAndHEAD';

/** The effective mode (Flux GetMode): `head` and anything else unknown mean HEAD; none without spec.verify. */
export function verificationMode(obj: GitRepository): VerificationMode | undefined {
  const mode = obj.spec.verify?.mode;
  if (!obj.spec.verify || !mode) return undefined;
  return mode === 'Tag' || mode === 'TagAndHEAD' ? mode : 'HEAD';
}

/**
 * Whether the stored artifact must be verified again (Flux requiresVerification): verification is
 * configured and nothing was verified yet, or the mode now covers an object the last one did not.
 */
export function requiresVerification(obj: GitRepository): boolean {
  const mode = verificationMode(obj);
  if (!mode) return false;
  const observed = obj.status?.sourceVerificationMode;
  if (!observed) return true;
  return (observed === 'Tag' && mode !== 'Tag') || (observed === 'HEAD' && mode !== 'HEAD');
}

/**
 * Start of the source step: a failed verification is recalculated, so SourceVerified=False goes; a
 * success stays (it describes the stored artifact). Without spec.verify, SourceVerified and
 * status.sourceVerificationMode are removed.
 */
export function resetVerification(obj: GitRepository): void {
  if (getCondition(obj, ConditionTypes.SourceVerified)?.status === 'False')
    deleteCondition(obj, ConditionTypes.SourceVerified);
  if (!verificationMode(obj)) {
    deleteCondition(obj, ConditionTypes.SourceVerified);
    if (obj.status) obj.status = { ...obj.status, sourceVerificationMode: undefined };
  }
}

function fail(obj: GitRepository, reason: string, message: string, stalling = false): Error {
  markFalse(obj, ConditionTypes.SourceVerified, reason, message);
  return stalling ? new StallingError(reason, message) : new GenericError(reason, message);
}

/**
 * The verification step, after the checkout and before the artifact is written. With spec.verify,
 * checks the tag (Tag, TagAndHEAD) and/or the commit (HEAD, TagAndHEAD) against the keys of
 * verify.secretRef. Sets SourceVerified=True (Succeeded, naming each object and key) and
 * status.sourceVerificationMode; on failure sets SourceVerified=False (VerificationError,
 * InvalidVerificationMode (stalling), InvalidGitObject, InvalidTagSignature, InvalidCommitSignature)
 * and throws, so no artifact is written and the last one stays.
 */
export async function verifyCheckout(
  obj: GitRepository,
  ctx: ReconcileContext,
  result: CheckoutResult,
  deadline: number,
): Promise<void> {
  const mode = verificationMode(obj);
  if (!mode) return;
  const ns = obj.metadata.namespace ?? '';
  let keys: ReturnType<typeof verificationKeysFromSecret>;
  try {
    keys = verificationKeysFromSecret(
      await readSecret(ctx.client, ns, obj.spec.verify?.secretRef.name ?? ''),
    );
  } catch (err) {
    throw fail(obj, Reasons.VerificationError, `public keys secret error: ${(err as Error).message}`);
  }

  const lines: string[] = [];
  if (mode !== 'HEAD') {
    const tag = result.tag;
    if (!tag)
      throw fail(
        obj,
        Reasons.InvalidVerificationMode,
        "cannot verify tag object's signature if a tag reference is not specified",
        true,
      );
    const name = tag.hash ? `${tag.name}@${tag.hash}` : tag.name;
    if (!tag.object?.signature)
      throw fail(
        obj,
        Reasons.InvalidGitObject,
        `cannot verify signature of tag '${name}' since it is not signed`,
      );
    try {
      const key = await verifySignature('tag', tag.object.signature, tag.object.payload, keys, { deadline });
      lines.push(`tag '${name}' with key '${key}'`);
    } catch (err) {
      const message = `signature verification of tag '${name}' failed: ${(err as Error).message}`;
      throw fail(obj, Reasons.InvalidTagSignature, message);
    }
  }
  if (mode !== 'Tag') {
    const c = result.commitObject;
    try {
      const key = await verifySignature('commit', c.signature, c.payload, keys, { deadline });
      lines.push(`commit '${result.commit}' with key '${key}'`);
    } catch (err) {
      const message = `signature verification of commit '${result.commit}' failed: ${(err as Error).message}`;
      throw fail(obj, Reasons.InvalidCommitSignature, message);
    }
  }
  obj.status = { ...obj.status, sourceVerificationMode: mode };
  markTrue(
    obj,
    ConditionTypes.SourceVerified,
    Reasons.Succeeded,
    `verified signature of\n\t- ${lines.join('\n\t- ')}`,
  );
}
