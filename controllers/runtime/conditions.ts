// Status conditions with Flux semantics (fluxcd/pkg runtime/conditions) and the one summary step that
// derives Ready, Reconciling, Stalled and observedGeneration after a reconcile. Step code sets its own
// conditions (e.g. FetchFailed) and throws typed errors; only `summarize` writes the kstatus trio.

import { ConditionTypes, Reasons } from '../api/names.ts';
import { isReconcileError, isStalling, messageOf, reasonOf } from './errors.ts';
import { redact } from './log.ts';

export const ConditionStatus = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface Conditioned {
  metadata?: { generation?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number } & Record<string, unknown>;
}

/**
 * The conditions a controller writes on its kind, besides Ready, Reconciling and Stalled, which the
 * runner always owns. The status patch takes these (and the trio) from the reconcile and keeps every
 * other condition as the API server has it, so another writer's conditions survive (Flux's patcher
 * with owned conditions). `negativePolarity`, a subset of `owned`, lists the abnormal-true ones
 * (FetchFailed, ArtifactOutdated, …) in priority order: the first True one explains Ready=False.
 */
export interface ConditionPolicy {
  owned: readonly string[];
  negativePolarity: readonly string[];
}

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export function getCondition(obj: Conditioned, type: string): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
}

export function hasCondition(obj: Conditioned, type: string): boolean {
  return getCondition(obj, type) !== undefined;
}

export function isTrue(obj: Conditioned, type: string): boolean {
  return getCondition(obj, type)?.status === ConditionStatus.True;
}

export function isFalse(obj: Conditioned, type: string): boolean {
  return getCondition(obj, type)?.status === ConditionStatus.False;
}

export function isUnknown(obj: Conditioned, type: string): boolean {
  return getCondition(obj, type)?.status === ConditionStatus.Unknown;
}

// Flux puts Stalled, Reconciling, Ready first (in that order), then the rest by type name.
const weights: Record<string, number> = {
  [ConditionTypes.Stalled]: 0,
  [ConditionTypes.Reconciling]: 1,
  [ConditionTypes.Ready]: 2,
};

function compare(a: Condition, b: Condition): number {
  const wa = weights[a.type];
  const wb = weights[b.type];
  if (wa !== undefined && wb !== undefined) return wa - wb;
  if (wa !== undefined) return -1;
  if (wb !== undefined) return 1;
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

// metav1.Time: RFC3339 in UTC, whole seconds.
function timestamp(now: Date): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

// The object's condition list, created when missing.
function conditionList(obj: Conditioned): Condition[] {
  obj.status ??= {};
  obj.status.conditions ??= [];
  return obj.status.conditions;
}

/**
 * Inserts or updates a condition. lastTransitionTime moves only when status, reason or message changes;
 * observedGeneration always follows metadata.generation. Conditions stay in Flux's order.
 */
export function setCondition(obj: Conditioned, input: ConditionInput, now: Date = new Date()): void {
  const list = conditionList(obj);
  const generation = obj.metadata?.generation;
  const next: Condition = {
    type: input.type,
    status: input.status,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    lastTransitionTime: timestamp(now),
    reason: input.reason,
    message: input.message,
  };
  const i = list.findIndex((c) => c.type === input.type);
  const prev = list[i];
  if (prev === undefined) {
    list.push(next);
  } else {
    const same = prev.status === next.status && prev.reason === next.reason && prev.message === next.message;
    if (same) next.lastTransitionTime = prev.lastTransitionTime;
    list[i] = next;
  }
  list.sort(compare);
}

export function markTrue(obj: Conditioned, type: string, reason: string, message: string, now?: Date): void {
  setCondition(obj, { type, status: ConditionStatus.True, reason, message }, now);
}

export function markFalse(obj: Conditioned, type: string, reason: string, message: string, now?: Date): void {
  setCondition(obj, { type, status: ConditionStatus.False, reason, message }, now);
}

export function markUnknown(
  obj: Conditioned,
  type: string,
  reason: string,
  message: string,
  now?: Date,
): void {
  setCondition(obj, { type, status: ConditionStatus.Unknown, reason, message }, now);
}

/**
 * The condition list to write: `ours` for the types this controller owns (the kstatus trio and
 * `owned`), `server`'s for every other type, in Flux's order.
 */
export function mergeOwnedConditions(
  server: readonly Condition[] | undefined,
  ours: readonly Condition[] | undefined,
  owned: ReadonlySet<string>,
): Condition[] {
  const list = [
    ...(server ?? []).filter((c) => !owned.has(c.type)),
    ...(ours ?? []).filter((c) => owned.has(c.type)),
  ];
  return list.sort(compare);
}

export function deleteCondition(obj: Conditioned, type: string): void {
  const list = obj.status?.conditions;
  if (!list) return;
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) list.splice(i, 1);
}

/** Reconciling=True and no Stalled (the two are abnormal-true: present only when True). */
export function markReconciling(obj: Conditioned, reason: string, message: string, now?: Date): void {
  deleteCondition(obj, ConditionTypes.Stalled);
  markTrue(obj, ConditionTypes.Reconciling, reason, message, now);
}

/** Stalled=True and no Reconciling. */
export function markStalled(obj: Conditioned, reason: string, message: string, now?: Date): void {
  deleteCondition(obj, ConditionTypes.Reconciling);
  markTrue(obj, ConditionTypes.Stalled, reason, message, now);
}

// The previous attempt failed when it left Reconciling (summarize keeps it only on failure) or Ready=False.
function lastAttemptFailed(obj: Conditioned): boolean {
  return isTrue(obj, ConditionTypes.Reconciling) || isFalse(obj, ConditionTypes.Ready);
}

/**
 * Call at the start of a reconcile: Reconciling=True (Progressing, or ProgressingWithRetry when the last
 * attempt failed), and Ready=Unknown "Reconciliation in progress" when the generation is new or Ready is
 * missing, so kstatus reports InProgress and `flux get` shows the object is being worked on.
 */
export function markReconcilingProgress(
  obj: Conditioned,
  message = 'reconciliation in progress',
  now?: Date,
): void {
  const reason = lastAttemptFailed(obj) ? Reasons.ProgressingWithRetry : Reasons.Progressing;
  const newGeneration =
    obj.metadata?.generation !== undefined && obj.metadata.generation !== obj.status?.observedGeneration;
  markReconciling(obj, reason, message, now);
  if (newGeneration || !hasCondition(obj, ConditionTypes.Ready)) {
    markUnknown(obj, ConditionTypes.Ready, reason, 'Reconciliation in progress', now);
  }
}

export interface ReconcileOutcome {
  /** What the reconcile threw, if anything. */
  error?: unknown;
  /** Ready message on success; when set it replaces the current Ready=True message. */
  readyMessage?: string;
  /** Ready reason on success (default Succeeded; Kustomization uses ReconciliationSucceeded). */
  readyReason?: string;
}

export interface Summary {
  ready: boolean;
  stalled: boolean;
}

function observe(obj: Conditioned): void {
  const generation = obj.metadata?.generation;
  if (generation === undefined) return;
  obj.status ??= {};
  obj.status.observedGeneration = generation;
}

function summarizeError(obj: Conditioned, error: unknown, now?: Date): Summary {
  const reason = reasonOf(error);
  const message = redact(messageOf(error)) || reason;
  const ready = (isReconcileError(error) && error.ready) || { reason, message };
  if (isStalling(error)) {
    // Terminal for this generation: record that it was observed so kstatus says Failed, not InProgress.
    markStalled(obj, reason, message, now);
    markFalse(obj, ConditionTypes.Ready, ready.reason, redact(ready.message), now);
    observe(obj);
    return { ready: false, stalled: true };
  }
  // Waiting, generic or foreign errors: retried, so the generation is not yet observed.
  const reconciling = getCondition(obj, ConditionTypes.Reconciling);
  markReconciling(obj, Reasons.ProgressingWithRetry, reconciling?.message || message, now);
  markFalse(obj, ConditionTypes.Ready, ready.reason, redact(ready.message), now);
  return { ready: false, stalled: false };
}

/**
 * Derives Ready/Reconciling/Stalled and status.observedGeneration after a reconcile (Flux's
 * summarize helper and ComputeReconcileResult in one place):
 * - StallingError: Stalled=True and Ready=False with its reason and message (Ready with the error's
 *   `ready` override when it has one), Reconciling removed, observedGeneration advanced.
 * - WaitingError, GenericError, any other error: Ready=False with its reason (ReconciliationFailed for
 *   foreign errors) and message, Reconciling=True ProgressingWithRetry, Stalled removed,
 *   observedGeneration kept.
 * - success: Reconciling and Stalled removed, observedGeneration advanced; Ready=False mirroring the first
 *   True negative-polarity condition, else Ready=True (readyMessage/readyReason when given,
 *   else the existing Ready=True, else Succeeded "Reconciliation succeeded").
 * Returns whether the object ended Ready and whether it is Stalled; success with ready=false should be
 * retried as a failure, as Flux does.
 */
export function summarize(
  obj: Conditioned,
  policy: ConditionPolicy,
  outcome: ReconcileOutcome,
  now?: Date,
): Summary {
  if (outcome.error !== undefined && outcome.error !== null) return summarizeError(obj, outcome.error, now);
  deleteCondition(obj, ConditionTypes.Reconciling);
  deleteCondition(obj, ConditionTypes.Stalled);
  observe(obj);
  for (const type of policy.negativePolarity) {
    if (type === ConditionTypes.Reconciling || type === ConditionTypes.Stalled) continue;
    const c = getCondition(obj, type);
    if (c?.status === ConditionStatus.True) {
      markFalse(obj, ConditionTypes.Ready, c.reason, c.message, now);
      return { ready: false, stalled: false };
    }
  }
  if (outcome.readyMessage !== undefined || !isTrue(obj, ConditionTypes.Ready)) {
    const message = outcome.readyMessage ?? 'Reconciliation succeeded';
    markTrue(obj, ConditionTypes.Ready, outcome.readyReason ?? Reasons.Succeeded, message, now);
  }
  return { ready: true, stalled: false };
}
