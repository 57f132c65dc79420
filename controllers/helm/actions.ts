// The Helm actions of a HelmRelease and what each records (Flux's internal/reconcile install.go,
// upgrade.go, test.go, rollback_remediation.go, uninstall.go, uninstall_remediation.go, unlock.go,
// correct_cluster_drift.go): the snapshots of the releases it wrote, its condition (Released for
// install, upgrade, uninstall and unlock; TestSuccess for test; Remediated for rollback and uninstall
// remediations), failure counters and one event with Flux's message and metadata.
//
// An action that ran helm but made no release (a chart that does not render) throws: the reconcile is
// retried. One that made a release returns normally, even when helm failed: the release it left is the
// state the next step of the state machine acts on.
import type { HelmRelease, Snapshot } from '../api/helm.ts';
import { ConditionTypes, EventMetadata, Reasons } from '../api/names.ts';
import type { InventoryEntry } from '../runtime/apply/index.ts';
import { formatChangeSet } from '../runtime/apply/index.ts';
import {
  deleteCondition,
  getCondition,
  isTrue,
  markFalse,
  markTrue,
  markUnknown,
} from '../runtime/conditions.ts';
import { formatDuration } from '../runtime/duration.ts';
import type { EventType } from '../runtime/events.ts';
import type { Values } from '../runtime/helm/values.ts';
import type { Logger } from '../runtime/log.ts';
import type { LoadedChart } from './chart.ts';
import type { Drift, DriftReport } from './drift.ts';
import type { HelmResult } from './helm.ts';
import {
  activeRetry,
  clearFailures,
  incrementFailures,
  installRemediation,
  summarizeRelease,
  testSpec,
  upgradeRemediation,
} from './release.ts';
import {
  fullReleaseName,
  hasBeenTested,
  latest,
  previous,
  ReleaseActions,
  snapshotOf,
  sortHistory,
  targets,
  testHooksOf,
  versionedChartName,
} from './snapshot.ts';
import { type Release, ReleaseStatuses, type ReleaseStorage } from './storage.ts';

/** What one reconcile releases: the object, its chart and values. */
export interface Request {
  obj: HelmRelease;
  chart: LoadedChart;
  values: Values;
  configDigest: string;
}

export type HelmAction =
  | { kind: 'install' }
  | { kind: 'upgrade' }
  | { kind: 'test' }
  | { kind: 'rollback'; version: number }
  | { kind: 'uninstall'; remediation: boolean };

/** What the actions act through; the controller wires helm, the storage and the cluster in. */
export interface ReleaseEnv {
  releaseName: string;
  releaseNamespace: string;
  storage: ReleaseStorage;
  helm(action: HelmAction, req: Request): Promise<HelmResult>;
  diff(rel: Release): Promise<DriftReport>;
  correct(drifts: readonly Drift[]): ReturnType<typeof import('./drift.ts').correctDrift>;
  inventory(rel: Release): Promise<InventoryEntry[]>;
  event(type: EventType, reason: string, message: string, metadata?: Record<string, string>): void;
  patchStatus(): Promise<void>;
  now(): Date;
  log: Logger;
}

export type ActionType = 'release' | 'remediate' | 'test' | 'unlock' | 'drift correction';

export interface Action {
  name: string;
  type: ActionType;
  /** Runs the action; throws when the state machine must stop and the reconcile be retried. */
  run(req: Request, env: ReleaseEnv): Promise<void>;
}

/** Flux's event metadata: chart version, config digest, app version and OCI digest. */
export function eventMeta(revision: string, token: string, appVersion?: string, ociDigest?: string) {
  const m: Record<string, string> = {};
  if (revision) m[EventMetadata.helmRevision] = revision;
  if (token) m[EventMetadata.helmToken] = token;
  if (appVersion) m[EventMetadata.helmAppVersion] = appVersion;
  if (ociDigest) m[EventMetadata.helmOciDigest] = ociDigest;
  return m;
}

const snapshotMeta = (s: Snapshot | undefined) =>
  eventMeta(s?.chartVersion ?? '', s?.configDigest ?? '', s?.appVersion, s?.ociDigest);

const requestMeta = (req: Request) =>
  eventMeta(
    req.chart.version,
    req.configDigest,
    req.chart.appVersion,
    req.obj.status?.lastAttemptedRevisionDigest,
  );

const withLog = (msg: string, res: HelmResult) => (res.log ? `${msg}\n\nLast Helm logs:\n\n${res.log}` : msg);

const setHistory = (obj: HelmRelease, history: Snapshot[]) => {
  obj.status = { ...obj.status, history };
};

/** The versions in storage before an action, to tell the releases it wrote. */
async function baseline(env: ReleaseEnv): Promise<Set<number>> {
  return new Set((await env.storage.history(env.releaseName)).map((s) => s.version));
}

/**
 * Records in status.history the releases an action wrote (Flux's storage observer): a new release goes
 * in front with `action` and the attempted OCI digest, a rewritten one is updated in place (keeping its
 * test results). Returns the newest release written, if any; sets the inventory from it.
 */
async function observe(
  req: Request,
  env: ReleaseEnv,
  before: Set<number>,
  action: string,
): Promise<Release | undefined> {
  const obj = req.obj;
  let history = sortHistory(obj.status?.history ?? []);
  let newest: Release | undefined;
  for (const s of await env.storage.history(env.releaseName)) {
    const isNew = !before.has(s.version);
    const i = history.findIndex((h) => targets(h, env.releaseName, env.releaseNamespace, s.version));
    if (!isNew && i < 0) continue;
    const rel = s.decode();
    const old = history[i];
    if (old) {
      const next = snapshotOf(rel, {
        action: old.action ?? action,
        ociDigest: old.ociDigest,
        testHooks: old.testHooks,
      });
      if (next.digest === old.digest) continue;
      history[i] = next;
    } else {
      history = [snapshotOf(rel, { action, ociDigest: obj.status?.lastAttemptedRevisionDigest }), ...history];
    }
    if (!newest || rel.version > newest.version) newest = rel;
  }
  setHistory(obj, sortHistory(history));
  if (newest) obj.status = { ...obj.status, inventory: { entries: await env.inventory(newest) } };
  return newest;
}

const awaitingTests = (req: Request, cur: Snapshot | undefined, now: Date) => {
  if (testSpec(req.obj).enable && !hasBeenTested(cur))
    markUnknown(
      req.obj,
      ConditionTypes.TestSuccess,
      Reasons.AwaitingTests,
      `Helm release ${fullReleaseName(cur)} with chart ${versionedChartName(cur)} is awaiting tests`,
      now,
    );
};

/** Install and upgrade: the release actions. Sets Released. */
function releaseAction(kind: 'install' | 'upgrade'): Action {
  return {
    name: kind,
    type: 'release',
    async run(req, env) {
      const obj = req.obj;
      const now = env.now();
      obj.status = { ...obj.status, lastAttemptedReleaseAction: kind };
      if (kind === 'install') setHistory(obj, []);
      deleteCondition(obj, ConditionTypes.TestSuccess);
      deleteCondition(obj, ConditionTypes.Remediated);
      const before = await baseline(env);
      const started = Date.now();
      const res = await env.helm({ kind }, req);
      obj.status = {
        ...obj.status,
        lastAttemptedReleaseActionDuration: formatDuration(Date.now() - started),
      };
      await recordOutcome(kind, req, env, before, res, now);
    },
  };
}

/** What an install or upgrade left, given the versions stored before it: history, Released, event. */
async function recordOutcome(
  kind: 'install' | 'upgrade',
  req: Request,
  env: ReleaseEnv,
  before: Set<number>,
  res: HelmResult,
  now: Date,
): Promise<void> {
  const obj = req.obj;
  const install = kind === 'install';
  const succeeded = install ? Reasons.InstallSucceeded : Reasons.UpgradeSucceeded;
  const failed = install ? Reasons.InstallFailed : Reasons.UpgradeFailed;
  const written = await observe(req, env, before, kind);
  try {
    if (!res.ok) {
      const msg = `Helm ${kind} failed for release ${env.releaseNamespace}/${env.releaseName} with chart ${req.chart.name}@${req.chart.version}: ${res.error}`;
      incrementFailures(obj);
      markFalse(obj, ConditionTypes.Released, failed, msg, now);
      env.event('Warning', failed, withLog(msg, res), requestMeta(req));
      if (!written) throw new Error(res.error);
      (install ? installRemediation(obj) : upgradeRemediation(obj)).incrementFailureCount(obj);
      return;
    }
    const cur = latest(obj.status?.history);
    const msg = `Helm ${kind} succeeded for release ${fullReleaseName(cur)} with chart ${versionedChartName(cur)}`;
    markTrue(obj, ConditionTypes.Released, succeeded, msg, now);
    awaitingTests(req, cur, now);
    if (activeRetry(obj)) clearFailures(obj);
    env.event('Normal', succeeded, msg, snapshotMeta(cur));
  } finally {
    summarizeRelease(obj, now);
  }
}

/**
 * Records the upgrade an interrupted controller made but never recorded (state Unrecorded) as if that
 * upgrade had just ended, without running it again (its hooks would run twice). Sets Released.
 */
export const recordAction = (rel: Release): Action => ({
  name: 'record',
  type: 'release',
  async run(req, env) {
    const obj = req.obj;
    env.log.info(
      `recording release ${rel.namespace}/${rel.name}.v${rel.version}, made by an interrupted upgrade`,
    );
    obj.status = { ...obj.status, lastAttemptedReleaseAction: ReleaseActions.Upgrade };
    deleteCondition(obj, ConditionTypes.TestSuccess);
    deleteCondition(obj, ConditionTypes.Remediated);
    const before = await baseline(env);
    before.delete(rel.version);
    await recordOutcome('upgrade', req, env, before, { ok: true, stdout: '', error: '', log: '' }, env.now());
  },
});

export const installAction = () => releaseAction('install');
export const upgradeAction = () => releaseAction('upgrade');

/**
 * Records the tests of the latest release (the hooks' last runs, by spec.test.filters); returns an
 * error when the release in storage is not the one tested.
 */
async function recordTests(req: Request, env: ReleaseEnv, cur: Snapshot): Promise<string | undefined> {
  const obj = req.obj;
  const rel = await env.storage.last(env.releaseName);
  if (!rel) return undefined;
  if (!targets(cur, rel.name, rel.namespace, rel.version))
    return `release mismatch: tested release ${rel.namespace}/${rel.name}.v${rel.version} != current release ${fullReleaseName(cur)}`;
  const tested = snapshotOf(rel, {
    action: cur.action,
    ociDigest: cur.ociDigest,
    testHooks: testHooksOf(rel, testSpec(obj).filters),
  });
  setHistory(obj, [tested, ...sortHistory(obj.status?.history ?? []).slice(1)]);
  return undefined;
}

/** TestSuccess=False, an event, and a failure of the active remediation unless failures are ignored. */
function testFailed(req: Request, env: ReleaseEnv, error: string, now: Date): void {
  const obj = req.obj;
  const tested = latest(obj.status?.history);
  const msg = `Helm test failed for release ${fullReleaseName(tested)} with chart ${versionedChartName(tested)}: ${error}`;
  incrementFailures(obj);
  markFalse(obj, ConditionTypes.TestSuccess, Reasons.TestFailed, msg, now);
  env.event('Warning', Reasons.TestFailed, msg, snapshotMeta(tested));
  if (!hasBeenTested(tested)) throw new Error(error);
  const action = obj.status?.lastAttemptedReleaseAction;
  const remediation =
    action === ReleaseActions.Install
      ? installRemediation(obj)
      : action === ReleaseActions.Upgrade
        ? upgradeRemediation(obj)
        : undefined;
  if (remediation && !remediation.mustIgnoreTestFailures(testSpec(obj).ignoreFailures ?? false))
    remediation.incrementFailureCount(obj);
}

/** Runs the chart's tests on the latest release. Sets TestSuccess. */
export const testAction = (): Action => ({
  name: 'test',
  type: 'test',
  async run(req, env) {
    const obj = req.obj;
    const now = env.now();
    try {
      const cur = latest(obj.status?.history);
      if (!cur) throw new Error('no latest release: required for test');
      const res = await env.helm({ kind: 'test' }, req);
      const error = (await recordTests(req, env, cur)) ?? (res.ok ? '' : res.error);
      if (error) return testFailed(req, env, error, now);
      const tested = latest(obj.status?.history);
      const n = Object.keys(tested?.testHooks ?? {}).length;
      const hooks = n === 0 ? 'no test hooks' : `${n} test hook${n > 1 ? 's' : ''} completed successfully`;
      const msg = `Helm test succeeded for release ${fullReleaseName(tested)} with chart ${versionedChartName(tested)}: ${hooks}`;
      markTrue(obj, ConditionTypes.TestSuccess, Reasons.TestSucceeded, msg, now);
      env.event('Normal', Reasons.TestSucceeded, msg, snapshotMeta(tested));
    } finally {
      summarizeRelease(obj, now);
    }
  },
});

/** The error that stops the state machine: nothing to roll back to. */
export class MissingRollbackTargetError extends Error {
  override name = 'MissingRollbackTargetError';
}

/** Rolls back to the previous successful release. Sets Remediated. */
export const rollbackRemediation = (): Action => ({
  name: 'rollback',
  type: 'remediate',
  async run(req, env) {
    const obj = req.obj;
    const now = env.now();
    try {
      const cur = latest(obj.status?.history);
      const ignoreTests = upgradeRemediation(obj).mustIgnoreTestFailures(
        testSpec(obj).ignoreFailures ?? false,
      );
      const prev = previous(obj.status?.history, ignoreTests);
      if (!prev || !cur)
        throw new MissingRollbackTargetError('missing target release for rollback: required to rollback');
      if (prev.name !== cur.name || prev.namespace !== cur.namespace)
        throw new Error(
          `release mismatch: previous release name or namespace ${fullReleaseName(prev)} does not match current ${fullReleaseName(cur)}`,
        );
      const before = await baseline(env);
      const res = await env.helm({ kind: 'rollback', version: prev.version }, req);
      await observe(req, env, before, ReleaseActions.Rollback);
      const meta = eventMeta(prev.chartVersion, req.configDigest, prev.appVersion, prev.ociDigest);
      if (!res.ok) {
        const msg = `Helm rollback to previous release ${fullReleaseName(prev)} with chart ${versionedChartName(prev)} failed: ${res.error}`;
        incrementFailures(obj);
        markFalse(obj, ConditionTypes.Remediated, Reasons.RollbackFailed, msg, now);
        env.event('Warning', Reasons.RollbackFailed, withLog(msg, res), meta);
        if (latest(obj.status?.history)?.digest === cur.digest) throw new Error(res.error);
        return;
      }
      const msg = `Helm rollback to previous release ${fullReleaseName(prev)} with chart ${versionedChartName(prev)} succeeded`;
      markTrue(obj, ConditionTypes.Remediated, Reasons.RollbackSucceeded, msg, now);
      env.event('Normal', Reasons.RollbackSucceeded, msg, meta);
    } finally {
      summarizeRelease(obj, now);
    }
  },
});

/**
 * Runs helm uninstall for the latest release and records it: the snapshot takes the status left in
 * storage (uninstalled with keepHistory; gone otherwise, recorded as uninstalled).
 */
async function uninstall(req: Request, env: ReleaseEnv, remediation: boolean) {
  const obj = req.obj;
  const cur = latest(obj.status?.history);
  if (!cur) throw new NoLatestError('no latest release: required to uninstall');
  const res = await env.helm({ kind: 'uninstall', remediation }, req);
  const action = remediation ? ReleaseActions.UninstallRemediation : ReleaseActions.Uninstall;
  const rel = await env.storage.get(cur.name, cur.version);
  const history = sortHistory(obj.status?.history ?? []);
  const gone = res.ok && !rel;
  history[0] = rel
    ? snapshotOf(rel, { action, ociDigest: cur.ociDigest, testHooks: cur.testHooks })
    : gone
      ? {
          ...cur,
          action,
          status: ReleaseStatuses.Uninstalled,
          deleted: env
            .now()
            .toISOString()
            .replace(/\.\d{3}Z$/, 'Z'),
        }
      : cur;
  setHistory(obj, history);
  return { res, cur, changed: history[0]?.digest !== cur.digest || gone };
}

/** No release recorded in the history (nothing to uninstall). */
export class NoLatestError extends Error {
  override name = 'NoLatestError';
}

/** Uninstalls the release (deletion of the HelmRelease, or a release target change). Sets Released. */
export const uninstallAction = (): Action => ({
  name: 'uninstall',
  type: 'release',
  async run(req, env) {
    const obj = req.obj;
    const now = env.now();
    try {
      const { res, cur } = await uninstall(req, env, false);
      if (!res.ok && /release: not found/.test(res.error)) {
        markFalse(
          obj,
          ConditionTypes.Released,
          Reasons.UninstallSucceeded,
          `Release ${fullReleaseName(cur)} was not found, assuming it is uninstalled`,
          now,
        );
        return;
      }
      if (!res.ok && obj.spec.uninstall?.keepHistory && res.error.includes('is already deleted')) {
        markFalse(
          obj,
          ConditionTypes.Released,
          Reasons.UninstallSucceeded,
          `Release ${fullReleaseName(cur)} was already uninstalled`,
          now,
        );
        return;
      }
      const snap = latest(obj.status?.history);
      if (!res.ok) {
        const msg = `Helm uninstall failed for release ${fullReleaseName(snap)} with chart ${versionedChartName(snap)}: ${res.error}`;
        incrementFailures(obj);
        markFalse(obj, ConditionTypes.Released, Reasons.UninstallFailed, msg, now);
        env.event('Warning', Reasons.UninstallFailed, withLog(msg, res), snapshotMeta(snap));
        throw new Error(msg);
      }
      const msg = `Helm uninstall succeeded for release ${fullReleaseName(snap)} with chart ${versionedChartName(snap)}`;
      obj.status = { ...obj.status, inventory: undefined };
      markFalse(obj, ConditionTypes.Released, Reasons.UninstallSucceeded, msg, now);
      env.event('Normal', Reasons.UninstallSucceeded, msg, snapshotMeta(snap));
    } finally {
      summarizeRelease(obj, now);
    }
  },
});

/** Uninstalls a failed release so that it can be installed again. Sets Remediated. */
export const uninstallRemediation = (): Action => ({
  name: 'uninstall',
  type: 'remediate',
  async run(req, env) {
    const obj = req.obj;
    const now = env.now();
    const { res, changed } = await uninstall(req, env, true);
    const snap = latest(obj.status?.history);
    const what = `Helm uninstall remediation for release ${fullReleaseName(snap)} with chart ${versionedChartName(snap)}`;
    if (!res.ok) {
      const msg = `${what} failed: ${res.error}`;
      incrementFailures(obj);
      markFalse(obj, ConditionTypes.Remediated, Reasons.UninstallFailed, msg, now);
      env.event('Warning', Reasons.UninstallFailed, withLog(msg, res), snapshotMeta(snap));
      if (!changed) throw new Error(res.error);
      return;
    }
    markTrue(obj, ConditionTypes.Remediated, Reasons.UninstallSucceeded, `${what} succeeded`, now);
    env.event('Normal', Reasons.UninstallSucceeded, `${what} succeeded`, snapshotMeta(snap));
  },
});

/** Marks a release left pending (by an interrupted controller) as failed. Sets Released. */
export const unlockAction = (): Action => ({
  name: 'unlock',
  type: 'unlock',
  async run(req, env) {
    const obj = req.obj;
    const now = env.now();
    try {
      const rel = await env.storage.last(env.releaseName);
      const status = rel?.info?.status;
      if (!rel || !status || !['pending-install', 'pending-upgrade', 'pending-rollback'].includes(status))
        return;
      const history = sortHistory(obj.status?.history ?? []);
      const i = history.findIndex((h) => targets(h, rel.name, rel.namespace, rel.version));
      const cur = snapshotOf(rel, { ociDigest: history[i]?.ociDigest });
      const what = `Helm release ${fullReleaseName(cur)} with chart ${versionedChartName(cur)} in ${status} state`;
      rel.info = {
        ...rel.info,
        status: ReleaseStatuses.Failed,
        description: `Release unlocked from stale '${status}' state`,
      };
      try {
        await env.storage.update(rel);
      } catch (err) {
        const msg = `Unlock of ${what} failed: ${(err as Error).message}`;
        incrementFailures(obj);
        markFalse(obj, ConditionTypes.Released, Reasons.PendingRelease, msg, now);
        env.event('Warning', Reasons.PendingRelease, msg, snapshotMeta(cur));
        throw err;
      }
      const old = history[i];
      if (old) {
        history[i] = snapshotOf(rel, {
          action: old.action,
          ociDigest: old.ociDigest,
          testHooks: old.testHooks,
        });
        setHistory(obj, history);
      }
      const msg = `Unlocked ${what}`;
      markFalse(obj, ConditionTypes.Released, Reasons.PendingRelease, msg, now);
      env.event('Normal', Reasons.PendingRelease, msg, snapshotMeta(cur));
    } finally {
      summarizeRelease(obj, now);
    }
  },
});

/** Patches the drifted objects back to the release manifest (driftDetection.mode: enabled). */
export const correctDriftAction = (drifts: readonly Drift[]): Action => ({
  name: 'correct cluster drift',
  type: 'drift correction',
  async run(req, env) {
    const obj = req.obj;
    if (obj.spec.driftDetection?.mode !== 'enabled' || drifts.length === 0) return;
    markUnknown(obj, ConditionTypes.Ready, Reasons.Progressing, 'correcting cluster drift', env.now());
    const { changes, errors } = await env.correct(drifts);
    const cur = latest(obj.status?.history);
    if (errors.length > 0) {
      let msg = `Failed to ${changes.length ? 'partially ' : ''}correct cluster state of release ${fullReleaseName(cur)}:\n${errors.join('\n')}`;
      if (changes.length) msg += `\n\nSuccessful corrections:\n${formatChangeSet(changes)}`;
      env.event('Warning', Reasons.DriftCorrectionFailed, msg, snapshotMeta(cur));
    } else if (changes.length > 0) {
      env.event(
        'Normal',
        Reasons.DriftCorrected,
        `Cluster state of release ${fullReleaseName(cur)} has been corrected:\n${formatChangeSet(changes)}`,
        snapshotMeta(cur),
      );
    }
  },
});

/**
 * Replaces Remediated with Released=True UpgradeSucceeded: the release the remediation left is the
 * desired one (same chart and values), keeping the transition time.
 */
export function remediatedToReleased(obj: HelmRelease, now: Date): void {
  if (!isTrue(obj, ConditionTypes.Remediated)) return;
  const cur = latest(obj.status?.history);
  const c = getCondition(obj, ConditionTypes.Remediated);
  deleteCondition(obj, ConditionTypes.Remediated);
  markTrue(
    obj,
    ConditionTypes.Released,
    Reasons.UpgradeSucceeded,
    `Helm upgrade succeeded for release ${fullReleaseName(cur)} with chart ${versionedChartName(cur)}`,
    c ? new Date(c.lastTransitionTime) : now,
  );
}
