// Flux's AtomicRelease (internal/reconcile/atomic_release.go): determine the state of the release, run
// the action that state calls for, and again, until nothing is left to do, an action type would run a
// second time, or a remediation ran. Before each action Reconciling (and, for release actions, Ready)
// say which action runs with which timeout, and the status is written, as Helm actions take long.
//
// The outcome tells the reconcile how to end: done (Ready from the release conditions), requeue (a
// remediation ran; try again soon), retry after the RetryOnFailure interval, or stalled (retries used
// up, or nothing to roll back to).
import type { HelmRelease } from '../api/helm.ts';
import { Annotations, ConditionTypes, Reasons } from '../api/names.ts';
import {
  deleteCondition,
  getCondition,
  isTrue,
  markFalse,
  markReconciling,
  markStalled,
  markTrue,
  markUnknown,
} from '../runtime/conditions.ts';
import { formatDuration } from '../runtime/duration.ts';
import {
  type Action,
  type ActionType,
  correctDriftAction,
  installAction,
  MissingRollbackTargetError,
  type ReleaseEnv,
  type Request,
  recordAction,
  remediatedToReleased,
  rollbackRemediation,
  testAction,
  uninstallRemediation,
  unlockAction,
  upgradeAction,
} from './actions.ts';
import { summarizeDrift } from './drift.ts';
import {
  actionTimeoutMs,
  activeRemediation,
  activeRetry,
  installRemediation,
  summarizeRelease,
  testSpec,
  upgradeRemediation,
} from './release.ts';
import {
  fullReleaseName,
  latest,
  previous,
  truncate,
  truncateIgnoringPrevious,
  versionedChartName,
} from './snapshot.ts';
import { determineReleaseState, isObserved, type ReleaseState, ReleaseStates } from './state.ts';

export type Outcome =
  | { kind: 'done' }
  | { kind: 'requeue' }
  | { kind: 'retry'; afterMs: number }
  | { kind: 'stalled'; reason: string; message: string };

/** Stops the state machine: the remediation retries are used up (Flux's ErrExceededMaxRetries). */
class ExceededMaxRetries extends Error {}

/**
 * Flux's HandleAnnotationRequest: true once for an annotation whose token equals requestedAt and was
 * not handled before; records the token in `field` either way.
 */
export function handleAnnotationRequest(
  obj: HelmRelease,
  annotation: string,
  field: 'lastHandledForceAt' | 'lastHandledResetAt',
): boolean {
  const annotations = obj.metadata.annotations ?? {};
  const requestAt = annotations[annotation];
  const reconcileAt = annotations[Annotations.reconcileRequestedAt];
  if (requestAt === undefined) return false;
  const lastHandled = obj.status?.[field];
  obj.status = { ...obj.status, [field]: requestAt };
  return (
    reconcileAt !== undefined &&
    requestAt === reconcileAt &&
    obj.status?.lastHandledReconcileAt !== reconcileAt &&
    lastHandled !== requestAt
  );
}

function timeoutOf(action: Action, obj: HelmRelease): number {
  switch (action.name) {
    case 'install':
      return actionTimeoutMs(obj, obj.spec.install?.timeout);
    case 'upgrade':
      return actionTimeoutMs(obj, obj.spec.upgrade?.timeout);
    case 'test':
      return actionTimeoutMs(obj, obj.spec.test?.timeout);
    case 'rollback':
      return actionTimeoutMs(obj, obj.spec.rollback?.timeout);
    case 'uninstall':
      return actionTimeoutMs(obj, obj.spec.uninstall?.timeout);
    default:
      return actionTimeoutMs(obj, undefined);
  }
}

const readyMessage = (obj: HelmRelease) => getCondition(obj, ConditionTypes.Ready)?.message ?? '';

const stalledOutcome = (obj: HelmRelease): Outcome => {
  const count = activeRemediation(obj)?.failureCount(obj) ?? 0;
  const message = `Failed to ${obj.status?.lastAttemptedReleaseAction ?? 'release'} after ${count} attempt(s)`;
  markStalled(obj, Reasons.RetriesExceeded, message);
  return { kind: 'stalled', reason: Reasons.RetriesExceeded, message };
};

const missingTarget = (obj: HelmRelease, err: Error): Outcome => {
  const message = `Failed to perform remediation: ${err.message}`;
  markStalled(obj, Reasons.MissingRollbackTarget, message);
  return { kind: 'stalled', reason: Reasons.MissingRollbackTarget, message };
};

/** With RetryOnFailure: wait its interval before the next attempt. */
function retryOutcome(obj: HelmRelease): Outcome | undefined {
  const retry = activeRetry(obj);
  if (!retry) return undefined;
  markReconciling(obj, Reasons.ProgressingWithRetry, `retrying after ${retry.interval}`);
  return { kind: 'retry', afterMs: retry.intervalMs };
}

/** Try again soon, saying why in Reconciling (the Ready message). */
const requeue = (obj: HelmRelease): Outcome => {
  markReconciling(obj, Reasons.ProgressingWithRetry, readyMessage(obj));
  return { kind: 'requeue' };
};

/** An action of a type that already ran in this reconcile comes up: stop here (Flux's MustContinue). */
function stopBeforeRepeat(obj: HelmRelease): Outcome {
  const retry = retryOutcome(obj);
  if (retry) return retry;
  if (!activeRemediation(obj)?.retriesExhausted(obj)) return requeue(obj);
  deleteCondition(obj, ConditionTypes.Reconciling);
  return { kind: 'done' };
}

/** A remediation ran: stop, and come back unless the retries are used up (Flux's MustStop). */
function stopAfterRemediation(obj: HelmRelease): Outcome {
  const retry = retryOutcome(obj);
  if (retry) return retry;
  const remediation = activeRemediation(obj);
  if (!remediation?.retriesExhausted(obj) || remediation.isUninstallAfterUpgrade()) return requeue(obj);
  return stalledOutcome(obj);
}

/** The state of the release; a failure to read it marks Ready StateError and throws. */
async function stateOf(req: Request, env: ReleaseEnv): Promise<ReleaseState> {
  try {
    return await determineReleaseState({
      obj: req.obj,
      storage: env.storage,
      releaseName: env.releaseName,
      desired: { chartName: req.chart.name, chartVersion: req.chart.version, configDigest: req.configDigest },
      diff: env.diff,
    });
  } catch (err) {
    const message = `Could not determine release state: ${(err as Error).message}`;
    markFalse(req.obj, ConditionTypes.Ready, Reasons.StateError, message);
    throw err;
  }
}

/** Runs one action; an outcome when it ends the state machine, else undefined. Throws on failure. */
async function runAction(next: Action, req: Request, env: ReleaseEnv): Promise<Outcome | undefined> {
  const obj = req.obj;
  const running = `Running '${next.name}' action with timeout of ${formatDuration(timeoutOf(next, obj))}`;
  markReconciling(obj, Reasons.Progressing, running);
  if (next.type === 'release') markUnknown(obj, ConditionTypes.Ready, Reasons.Progressing, running);
  await env.patchStatus();
  env.log.info(running);
  try {
    await next.run(req, env);
  } catch (err) {
    if (err instanceof MissingRollbackTargetError) return missingTarget(obj, err);
    const retry = retryOutcome(obj);
    if (retry) {
      env.log.error(`failed to run '${next.name}' action`, err);
      return retry;
    }
    if (isTrue(obj, ConditionTypes.Ready))
      markFalse(obj, ConditionTypes.Ready, Reasons.ReconcileError, (err as Error).message);
    throw err;
  }
  return next.type === 'remediate' ? stopAfterRemediation(obj) : undefined;
}

/** Runs the state machine to its end for this reconcile. Throws when an action or a read fails. */
export async function atomicRelease(req: Request, env: ReleaseEnv): Promise<Outcome> {
  const obj = req.obj;
  const previousTypes: ActionType[] = [];
  for (;;) {
    const state = await stateOf(req, env);
    env.log.debug('release state', { state: state.status, reason: state.reason });
    let next: Action | undefined;
    try {
      next = await actionForState(req, env, state);
    } catch (err) {
      if (err instanceof ExceededMaxRetries) return stalledOutcome(obj);
      if (err instanceof MissingRollbackTargetError) return missingTarget(obj, err);
      throw err;
    }
    if (!next) {
      deleteCondition(obj, ConditionTypes.Reconciling);
      summarizeRelease(obj, env.now());
      return { kind: 'done' };
    }
    if (previousTypes.includes(next.type)) return stopBeforeRepeat(obj);
    const outcome = await runAction(next, req, env);
    if (outcome) return outcome;
    previousTypes.push(next.type);
    await env.patchStatus();
  }
}

/** The action the state calls for (Flux's actionForState); undefined when there is nothing to do. */
async function actionForState(
  req: Request,
  env: ReleaseEnv,
  state: ReleaseState,
): Promise<Action | undefined> {
  const obj = req.obj;
  const now = env.now();
  const force = handleAnnotationRequest(obj, Annotations.reconcileForceAt, 'lastHandledForceAt');
  switch (state.status) {
    case ReleaseStates.InSync:
      return inSync(obj, force, now);
    case ReleaseStates.Locked:
      env.log.info(`release locked: ${state.reason}`);
      return unlockAction();
    case ReleaseStates.Absent:
      env.log.info(`release not installed: ${state.reason}`);
      if (installRemediation(obj).retriesExhausted(obj)) {
        if (force) return installAction();
        throw new ExceededMaxRetries('cannot install release');
      }
      return installAction();
    case ReleaseStates.Unrecorded:
      env.log.info(`release not recorded: ${state.reason}`);
      return state.release ? recordAction(state.release) : upgradeAction();
    case ReleaseStates.Unmanaged:
      env.log.info(`release not managed by controller: ${state.reason}`);
      obj.status = { ...obj.status, history: [] };
      return upgradeAction();
    case ReleaseStates.OutOfSync:
      env.log.info(`release out-of-sync with desired state: ${state.reason}`);
      if (upgradeRemediation(obj).retriesExhausted(obj)) {
        if (force) return upgradeAction();
        throw new ExceededMaxRetries('cannot upgrade release');
      }
      return upgradeAction();
    case ReleaseStates.Drifted:
      return drifted(obj, env, state, now);
    case ReleaseStates.Untested:
      remediatedToReleased(obj, now);
      return testAction();
    case ReleaseStates.Failed:
      return failedAction(req, env, force, state);
    default:
      throw new Error(`unknown release status: ${state.status}`);
  }
}

/**
 * The release is what the HelmRelease asks for: trim the history, force an upgrade when asked, and
 * say Released (a remediation that left the desired release counts as an upgrade).
 */
function inSync(obj: HelmRelease, force: boolean, now: Date): Action | undefined {
  const ignoreTests = testSpec(obj).ignoreFailures ?? false;
  const remediation = activeRemediation(obj);
  obj.status = {
    ...obj.status,
    history: activeRetry(obj)
      ? truncateIgnoringPrevious(obj.status?.history)
      : truncate(
          obj.status?.history,
          remediation ? remediation.mustIgnoreTestFailures(ignoreTests) : ignoreTests,
        ),
  };
  if (force) return upgradeAction();
  remediatedToReleased(obj, now);
  const reason = getCondition(obj, ConditionTypes.Released)?.reason;
  const succeeded =
    reason === Reasons.InstallFailed
      ? { reason: Reasons.InstallSucceeded, word: 'install' }
      : reason === Reasons.UpgradeFailed
        ? { reason: Reasons.UpgradeSucceeded, word: 'upgrade' }
        : undefined;
  if (succeeded && (!isTrue(obj, ConditionTypes.Ready) || !isTrue(obj, ConditionTypes.Released))) {
    const cur = latest(obj.status?.history);
    const msg = `Helm ${succeeded.word} succeeded for release ${fullReleaseName(cur)} with chart ${versionedChartName(cur)}`;
    markTrue(obj, ConditionTypes.Released, succeeded.reason, msg, now);
    summarizeRelease(obj, now);
  }
  const mode = obj.spec.driftDetection?.mode;
  if (mode === 'enabled' || mode === 'warn')
    markFalse(
      obj,
      ConditionTypes.Drifted,
      Reasons.NoDriftDetected,
      'No drift detected against the cluster state',
      now,
    );
  return undefined;
}

/** The cluster differs from the release: report it (Drifted, a Warning event); correct it when enabled. */
function drifted(obj: HelmRelease, env: ReleaseEnv, state: ReleaseState, now: Date): Action | undefined {
  const drifts = state.drift?.drifts ?? [];
  const msg = `Cluster state of release ${fullReleaseName(latest(obj.status?.history))} has drifted from the desired state:\n${summarizeDrift(drifts)}`;
  env.event('Warning', Reasons.DriftDetected, msg);
  markTrue(obj, ConditionTypes.Drifted, Reasons.DriftDetected, msg, now);
  return obj.spec.driftDetection?.mode === 'enabled' ? correctDriftAction(drifts) : undefined;
}

/** What to do with a failed release: retry, remediate, or give up. */
async function failedAction(
  req: Request,
  env: ReleaseEnv,
  force: boolean,
  state: ReleaseState,
): Promise<Action> {
  const obj = req.obj;
  env.log.info(`release is in a failed state${state.reason ? `: ${state.reason}` : ''}`);
  if (activeRetry(obj)) {
    obj.status = { ...obj.status, history: truncateIgnoringPrevious(obj.status?.history) };
    return upgradeAction();
  }
  const remediation = activeRemediation(obj);
  if (!remediation || remediation.failureCount(obj) <= 0 || force) return upgradeAction();
  if (remediation.retriesExhausted(obj) && !remediation.mustRemediateLastFailure())
    throw new ExceededMaxRetries('cannot remediate failed release');
  const ignoreTests = remediation.mustIgnoreTestFailures(testSpec(obj).ignoreFailures ?? false);
  obj.status = { ...obj.status, history: truncate(obj.status?.history, ignoreTests) };
  if (remediation.strategy === 'uninstall') return uninstallRemediation();
  // The release to roll back to must still be in storage as it was recorded.
  const prev = previous(obj.status?.history, ignoreTests);
  if (!prev)
    throw new MissingRollbackTargetError(
      'missing target release for rollback: cannot remediate failed release',
    );
  const rel = await env.storage.get(prev.name, prev.version);
  if (!rel || !isObserved(prev.digest, prev.apiVersion, rel, prev.ociDigest)) {
    env.log.info('unable to verify previous release in storage to roll back to');
    return upgradeAction();
  }
  return rollbackRemediation();
}
