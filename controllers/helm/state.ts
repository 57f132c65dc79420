// The state of a release, from the Helm storage compared with the HelmRelease (Flux's
// internal/reconcile/state.go DetermineReleaseState). Reading it starts no helm process: the newest
// stored release is decoded and checked against the snapshot the controller recorded, the chart and the
// config digest it is meant to have, the test results and, when drift detection is on, the cluster.
import type { HelmRelease, Snapshot } from '../api/helm.ts';
import { Labels } from '../api/names.ts';
import { valuesDigest } from '../runtime/helm/values.ts';
import type { DriftReport } from './drift.ts';
import { manifestObjects } from './manifest.ts';
import { activeRemediation, commonMetadataDigest, postRenderersDigest, testSpec } from './release.ts';
import { hasBeenTested, hasFailedTest, latest, observationDigest, SNAPSHOT_API_VERSION } from './snapshot.ts';
import { isPending, type Release, ReleaseStatuses, type ReleaseStorage } from './storage.ts';

export const ReleaseStates = {
  Absent: 'Absent',
  Unmanaged: 'Unmanaged',
  OutOfSync: 'OutOfSync',
  Drifted: 'Drifted',
  Locked: 'Locked',
  Untested: 'Untested',
  InSync: 'InSync',
  Failed: 'Failed',
  /** Tide's: a release made for the object that its status never recorded (see `unrecorded`). */
  Unrecorded: 'Unrecorded',
} as const;
export type ReleaseStateName = (typeof ReleaseStates)[keyof typeof ReleaseStates];

export interface ReleaseState {
  status: ReleaseStateName;
  reason?: string;
  /** The release in storage the state is about. */
  release?: Release;
  drift?: DriftReport;
}

/** The chart and values the HelmRelease asks for. */
export interface Desired {
  chartName: string;
  chartVersion: string;
  configDigest: string;
}

/** Flux's VerifyReleaseObject: the stored release is the one the snapshot recorded (v2 snapshots only). */
export function isObserved(
  snapshotDigest: string,
  apiVersion: string | undefined,
  rel: Release,
  ociDigest?: string,
) {
  return apiVersion !== SNAPSHOT_API_VERSION || observationDigest(rel, ociDigest) === snapshotDigest;
}

export interface StateInput {
  obj: HelmRelease;
  storage: ReleaseStorage;
  releaseName: string;
  desired: Desired;
  /** Compares the release with the cluster (drift detection on). */
  diff: (rel: Release) => Promise<DriftReport>;
}

/** Throws when the storage cannot be read or the cluster compared. */
export async function determineReleaseState(input: StateInput): Promise<ReleaseState> {
  const { obj, desired } = input;
  const rel = await input.storage.last(input.releaseName);
  if (!rel) return { status: ReleaseStates.Absent, reason: 'no release in storage for object' };
  const status = rel.info?.status;
  if (isPending(status))
    return { status: ReleaseStates.Locked, reason: `release with status '${status}'`, release: rel };

  const cur = latest(obj.status?.history);
  if (!cur) {
    if (status === ReleaseStatuses.Uninstalled)
      return { status: ReleaseStates.Absent, reason: 'found uninstalled release in storage', release: rel };
    return { status: ReleaseStates.Unmanaged, reason: 'found existing release in storage', release: rel };
  }
  if (
    cur.name !== rel.name ||
    cur.version !== rel.version ||
    !isObserved(cur.digest, cur.apiVersion, rel, cur.ociDigest)
  ) {
    if (await unrecorded(input, cur, rel))
      return {
        status: ReleaseStates.Unrecorded,
        reason: 'release made for object after the recorded one, not recorded',
        release: rel,
      };
    return {
      status: ReleaseStates.Unmanaged,
      reason: 'release not observed to be made for object',
      release: rel,
    };
  }

  switch (status) {
    case ReleaseStatuses.Failed:
      return { status: ReleaseStates.Failed, release: rel };
    case ReleaseStatuses.Uninstalled:
      return { status: ReleaseStates.Absent, reason: 'found uninstalled release in storage', release: rel };
    case ReleaseStatuses.Deployed:
      return deployedState(input, rel, cur.configDigest, desired);
    default:
      throw new Error(`unable to determine state for release with status '${status}'`);
  }
}

/**
 * Whether `rel` is the upgrade this HelmRelease made right after the recorded release `cur`, which the
 * status never recorded because the controller stopped (a kill) between helm's end and the status
 * write. Flux upgrades such a release again, repeating its hooks; Tide records it instead when all of
 * this holds: it is deployed, the next version of the same release, `cur` is still in storage; every
 * object carries this HelmRelease's origin labels (only its post-renderer sets them, so no hand-made
 * `helm upgrade`); its chart and values are the desired ones; and the post-rendering asked for is the
 * one the status last observed (the release cannot tell which post-renderers made it).
 */
async function unrecorded(input: StateInput, cur: Snapshot, rel: Release): Promise<boolean> {
  const { obj, desired } = input;
  const md = rel.chart?.metadata;
  if (
    rel.info?.status !== ReleaseStatuses.Deployed ||
    rel.name !== cur.name ||
    rel.namespace !== cur.namespace ||
    rel.version !== cur.version + 1 ||
    md?.name !== desired.chartName ||
    md?.version !== desired.chartVersion ||
    valuesDigest(rel.config ?? {}) !== desired.configDigest ||
    postRenderersDigest(obj) !== (obj.status?.observedPostRenderersDigest ?? '') ||
    commonMetadataDigest(obj) !== (obj.status?.observedCommonMetadataDigest ?? '')
  )
    return false;
  const objects = manifestObjects(rel);
  const origin = (o: (typeof objects)[number]) =>
    o.metadata.labels?.[Labels.helmName] === obj.metadata.name &&
    o.metadata.labels?.[Labels.helmNamespace] === obj.metadata.namespace;
  if (objects.length === 0 || !objects.every(origin)) return false;
  return (await input.storage.get(cur.name, cur.version)) !== undefined;
}

/** Why a deployed release is not the desired one, if it is not. */
function outOfSync(
  obj: HelmRelease,
  rel: Release,
  configDigest: string,
  desired: Desired,
): string | undefined {
  const md = rel.chart?.metadata;
  if (md?.name !== desired.chartName || md?.version !== desired.chartVersion) return 'release chart changed';
  if (configDigest !== desired.configDigest) return 'release config values changed';
  // Post-renderers and common metadata are compared for a new generation only: the observed digests
  // are recorded after each release action.
  if (obj.status?.observedGeneration === obj.metadata.generation) return undefined;
  if (postRenderersDigest(obj) !== (obj.status?.observedPostRenderersDigest ?? ''))
    return 'postrenderers digest has changed';
  if (commonMetadataDigest(obj) !== (obj.status?.observedCommonMetadataDigest ?? ''))
    return 'common metadata digest has changed';
  return undefined;
}

/** With test.enable: Untested, or Failed for a failed test that the active remediation counts. */
function testState(obj: HelmRelease, rel: Release): ReleaseState | undefined {
  const test = testSpec(obj);
  if (!test.enable) return undefined;
  const cur = latest(obj.status?.history);
  if (!hasBeenTested(cur)) return { status: ReleaseStates.Untested, release: rel };
  const remediation = activeRemediation(obj);
  if (remediation && !remediation.mustIgnoreTestFailures(test.ignoreFailures ?? false) && hasFailedTest(cur))
    return { status: ReleaseStates.Failed, reason: 'release has test in failed phase', release: rel };
  return undefined;
}

async function deployedState(
  input: StateInput,
  rel: Release,
  configDigest: string,
  desired: Desired,
): Promise<ReleaseState> {
  const { obj } = input;
  const reason = outOfSync(obj, rel, configDigest, desired);
  if (reason) return { status: ReleaseStates.OutOfSync, reason, release: rel };
  const tested = testState(obj, rel);
  if (tested) return tested;
  const mode = obj.spec.driftDetection?.mode;
  if (mode === 'enabled' || mode === 'warn') {
    const drift = await input.diff(rel);
    if (drift.drifts.length > 0) return { status: ReleaseStates.Drifted, drift, release: rel };
    if (drift.errors.length > 0)
      throw new Error(`unable to determine cluster state: ${drift.errors.join('; ')}`);
  }
  return { status: ReleaseStates.InSync, release: rel };
}
