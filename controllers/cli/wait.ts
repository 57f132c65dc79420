// Requesting a reconcile and waiting for its result, the handshake every Flux controller honours:
// the CLI writes a fresh token to the reconcile.fluxcd.io/requestedAt annotation; the controller
// reconciles and echoes the token into status.lastHandledReconcileAt with the outcome in the Ready
// condition (F2 cmd/flux/reconcile.go).

import { Annotations, ConditionTypes } from '../api/index.ts';
import { getCondition } from '../runtime/conditions.ts';
import type { KubeObject, ObjectRef } from '../runtime/object.ts';
import type { Context } from './command.ts';
import { CliError } from './errors.ts';
import type { CliKind } from './kinds.ts';
import { explain } from './kube.ts';
import { waitFor } from './progress.ts';

/** Go's time.RFC3339Nano of an epoch-nanosecond instant, in UTC: trailing zeros of the fraction dropped. */
export function rfc3339Nano(epochNs: bigint): string {
  const ms = epochNs / 1_000_000n;
  const seconds = new Date(Number(ms)).toISOString().slice(0, 19);
  const fraction = (epochNs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${seconds}${fraction ? `.${fraction}` : ''}Z`;
}

export type Outcome =
  | { state: 'pending'; reason: string }
  | { state: 'ready' }
  | { state: 'failed'; message: string };

/**
 * Where a requested reconcile stands. Pending until status.lastHandledReconcileAt equals the token;
 * then Stalled=True fails, and Ready decides once it speaks for the current generation (its own
 * observedGeneration, else the status's): True succeeds, False fails with its message. Ready Unknown
 * or about an older generation keeps waiting. Reconciling is ignored: Flux leaves it True
 * (ProgressingWithRetry) on a failed attempt.
 */
export function reconcileOutcome(obj: KubeObject, token: string): Outcome {
  if (obj.status?.lastHandledReconcileAt !== token)
    return { state: 'pending', reason: 'the controller has not handled the request yet' };
  const stalled = getCondition(obj, ConditionTypes.Stalled);
  if (stalled?.status === 'True') return { state: 'failed', message: stalled.message };
  const ready = getCondition(obj, ConditionTypes.Ready);
  if (!ready) return { state: 'pending', reason: 'no Ready condition yet' };
  const observed = ready.observedGeneration ?? obj.status?.observedGeneration;
  const generation = obj.metadata.generation;
  if (observed !== undefined && generation !== undefined && observed < generation)
    return { state: 'pending', reason: `Ready is about generation ${observed}, not ${generation}` };
  if (ready.status === 'True') return { state: 'ready' };
  if (ready.status === 'False') return { state: 'failed', message: ready.message };
  return { state: 'pending', reason: `Ready is Unknown: ${ready.message}` };
}

export const refOf = (kind: CliKind, name: string, namespace: string): ObjectRef => ({
  apiVersion: kind.descriptor.apiVersion,
  kind: kind.kind,
  name,
  namespace,
});

/** A fresh request token (RFC3339Nano, as flux writes it). */
export const newToken = (ctx: Context): string => rfc3339Nano(ctx.nowNs());

/**
 * Merge-patches the request annotation (and `extra`, e.g. `{spec: {suspend: false}}` or more
 * annotations) in one write.
 */
export async function requestReconcile(
  ctx: Context,
  kind: CliKind,
  ref: ObjectRef,
  token: string,
  extra: Record<string, unknown> = {},
): Promise<KubeObject> {
  const client = await ctx.client();
  const more = (extra.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
  const annotations = { ...more, [Annotations.reconcileRequestedAt]: token };
  const body = { ...extra, metadata: { annotations } };
  try {
    return await client.patch(ref, 'merge', body);
  } catch (err) {
    throw explain(err, kind, ref.name, ref.namespace);
  }
}

/**
 * Re-reads the object every pollMs until reconcileOutcome settles: resolves with the object when
 * Ready, throws CliError with the controller's message on failure or when --timeout runs out; a
 * progress line every 15 seconds meanwhile.
 */
export async function waitForReconcile(
  ctx: Context,
  kind: CliKind,
  ref: ObjectRef,
  token: string,
): Promise<KubeObject> {
  const client = await ctx.client();
  // Nothing reconciles a static kind: it is as ready as it will get once it exists (flux waits the same).
  if (kind.static) {
    try {
      return await client.get(ref);
    } catch (err) {
      throw explain(err, kind, ref.name, ref.namespace);
    }
  }
  return waitFor<KubeObject>(
    ctx,
    `${kind.kind} ${ref.name} reconciliation`,
    async () => {
      let obj: KubeObject;
      try {
        obj = await client.get(ref);
      } catch (err) {
        throw explain(err, kind, ref.name, ref.namespace);
      }
      const outcome = reconcileOutcome(obj, token);
      if (outcome.state === 'ready') return { done: obj };
      if (outcome.state === 'failed')
        throw new CliError(`${kind.kind} reconciliation failed: ${outcome.message}`);
      const hint = obj.status?.lastHandledReconcileAt === token ? '' : ` (is ${kind.controller} running?)`;
      return { pending: `${outcome.reason}${hint}` };
    },
    // The callers have said what they wait for.
    { announce: false },
  );
}

/**
 * Waits until the object reports Ready for `revision` (flux bootstrap's objectReconciled): the REVISION
 * the kind shows (a source's artifact, a Kustomization's lastAppliedRevision) equals it, Ready is True
 * and about the current generation. Fails at once on a suspended object, and when Ready is False about
 * this very revision (status.lastAttemptedRevision).
 */
export async function waitForRevision(
  ctx: Context,
  kind: CliKind,
  ref: ObjectRef,
  revision: string,
): Promise<KubeObject> {
  const client = await ctx.client();
  return waitFor<KubeObject>(
    ctx,
    `${kind.kind} ${ref.namespace}/${ref.name} to reconcile ${revision}`,
    async () => {
      const obj = await client.tryGet(ref);
      if (!obj) return { pending: 'not found' };
      if (obj.spec?.suspend === true)
        throw new CliError(`${kind.kind} '${ref.namespace}/${ref.name}' is suspended`);
      const ready = getCondition(obj, ConditionTypes.Ready);
      const current = kind.revision?.(obj) ?? '';
      const generation = obj.metadata.generation;
      if (generation !== undefined && obj.status?.observedGeneration !== generation)
        return { pending: `generation ${generation} not observed yet` };
      if (ready?.status === 'True' && current === revision) return { done: obj };
      if (ready?.status === 'False' && obj.status?.lastAttemptedRevision === revision)
        throw new CliError(
          `${kind.kind} '${ref.namespace}/${ref.name}' failed to reconcile ${revision}: ${ready.message}`,
        );
      return {
        pending: ready
          ? `${ready.status === 'True' ? 'at' : 'Ready is not True at'} ${current || 'no revision'}: ${ready.message}`
          : 'no Ready condition yet',
      };
    },
  );
}
