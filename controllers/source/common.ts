// Steps and helpers every source kind shares: the storage step, Secret reading, artifact bookkeeping.

import type { Artifact } from '../api/meta.ts';
import { ConditionTypes, Reasons } from '../api/names.ts';
import type { GcOptions, Storage } from '../runtime/artifact/storage.ts';
import { type Conditioned, deleteCondition, getCondition, markTrue } from '../runtime/conditions.ts';
import { GenericError, StallingError } from '../runtime/errors.ts';
import type { ControllerRunner, ReconcileContext } from '../runtime/reconciler.ts';

/** Conditions summarized into Ready, worst first, as Flux's source reconcilers declare them. */
export const sourceConditionPolicy = {
  owned: [
    ConditionTypes.StorageOperationFailed,
    ConditionTypes.FetchFailed,
    ConditionTypes.IncludeUnavailable,
    ConditionTypes.ArtifactOutdated,
    ConditionTypes.ArtifactInStorage,
    ConditionTypes.SourceVerified,
  ],
  negativePolarity: [
    ConditionTypes.StorageOperationFailed,
    ConditionTypes.FetchFailed,
    ConditionTypes.IncludeUnavailable,
    ConditionTypes.ArtifactOutdated,
  ],
};

export type WithArtifact = Conditioned & {
  kind?: string;
  metadata: { name?: string; namespace?: string; generation?: number };
  status?: Record<string, unknown> & { artifact?: Artifact };
};

/**
 * The storage step. When the recorded artifact's file is gone, drops status.artifact and
 * ArtifactInStorage so the rest of the reconcile rebuilds it; otherwise rewrites its URL to the current
 * advertised address and garbage-collects old files. Sets or removes ArtifactInStorage.
 */
export async function reconcileStorage(
  obj: WithArtifact,
  storage: Storage,
  kind: string,
  gc?: GcOptions,
): Promise<void> {
  const artifact = obj.status?.artifact;
  const { namespace = '', name = '' } = obj.metadata;
  if (artifact && !(await storage.exists(artifact))) {
    obj.status = { ...obj.status, artifact: undefined };
    deleteCondition(obj, ConditionTypes.ArtifactInStorage);
    return;
  }
  if (!artifact) {
    deleteCondition(obj, ConditionTypes.ArtifactInStorage);
    return;
  }
  obj.status = { ...obj.status, artifact: storage.setArtifactUrl(artifact) };
  await storage.garbageCollect(kind, namespace, name, artifact, gc).catch(() => {
    // GC failures never fail a reconcile; the next one tries again.
  });
}

/**
 * Marks a freshly stored artifact: ArtifactInStorage=True, ArtifactOutdated and StorageOperationFailed
 * removed. Kinds word the condition differently (HelmRepository "stored artifact: revision '…'",
 * HelmChart "pulled 'x' chart with version '…'"); Git's wording is the default.
 */
export function markArtifactStored(
  obj: WithArtifact,
  artifact: Artifact,
  message = `stored artifact for revision '${artifact.revision}'`,
  reason: string = Reasons.Succeeded,
): void {
  obj.status = { ...obj.status, artifact };
  markTrue(obj, ConditionTypes.ArtifactInStorage, reason, message);
  deleteCondition(obj, ConditionTypes.ArtifactOutdated);
  deleteCondition(obj, ConditionTypes.StorageOperationFailed);
}

/**
 * Records a newly written artifact (markArtifactStored with `stored`'s message and reason), emits
 * `event` (reason NewArtifact unless given) when its digest differs from the one recorded before, then
 * garbage-collects the object's older files; GC failures are left to the next reconcile. Returns
 * whether the digest changed.
 */
export async function recordNewArtifact(
  obj: WithArtifact,
  ctx: Pick<ReconcileContext, 'event'>,
  deps: SourceDeps,
  opts: {
    kind: string;
    artifact: Artifact;
    stored?: { message?: string; reason?: string };
    event: { message: string; metadata: Record<string, string>; reason?: string };
  },
): Promise<boolean> {
  const { kind, artifact, stored = {}, event } = opts;
  const changed = obj.status?.artifact?.digest !== artifact.digest;
  markArtifactStored(obj, artifact, stored.message, stored.reason);
  if (changed) {
    ctx.event('Normal', event.reason ?? Reasons.NewArtifact, event.message, {
      metadata: event.metadata,
    });
  }
  const { namespace = '', name = '' } = obj.metadata;
  await deps.storage.garbageCollect(kind, namespace, name, artifact, deps.gc).catch(() => {});
  return changed;
}

/** Records a new upstream revision while the stored artifact is older: ArtifactOutdated=True NewRevision. */
export function markOutdated(obj: WithArtifact, revision: string): void {
  const current = obj.status?.artifact?.revision;
  if (current && current !== revision) {
    markTrue(
      obj,
      ConditionTypes.ArtifactOutdated,
      Reasons.NewRevision,
      `new upstream revision '${revision}'`,
    );
  }
}

/** FetchFailed=True with the reason and message; the error to throw so Ready=False says the same. */
export function fetchFailed(obj: WithArtifact, reason: string, message: string, stalling = false): Error {
  markTrue(obj, ConditionTypes.FetchFailed, reason, message);
  return stalling ? new StallingError(reason, message) : new GenericError(reason, message);
}

/** StorageOperationFailed=True; the error to throw. */
export function storageFailed(obj: WithArtifact, reason: string, message: string): Error {
  markTrue(obj, ConditionTypes.StorageOperationFailed, reason, message);
  return new GenericError(reason, message);
}

export function clearFetchFailed(obj: WithArtifact): void {
  deleteCondition(obj, ConditionTypes.FetchFailed);
}

/** Whether a condition is currently True (helper for readability). */
export const conditionTrue = (obj: Conditioned, type: string) => getCondition(obj, type)?.status === 'True';

/**
 * A consumer asked the artifact server for `path` (`<kind>/<namespace>/<name>/<file>`) and got 404: when
 * that is the object's recorded artifact, its file is gone (storage wiped or lost), so the object is
 * reconciled now (reconcileStorage rebuilds it) rather than at its next interval. Any other path is
 * ignored, so requests cannot make the controller fetch at will.
 */
export function rebuildMissing(runners: readonly ControllerRunner[], path: string): void {
  const [kind, namespace, name] = path.split('/');
  const runner = runners.find((r) => r.informers[0]?.kind.kind.toLowerCase() === kind);
  const key = `${namespace}/${name}`;
  const obj = runner?.informers[0]?.get(key) as WithArtifact | undefined;
  if (obj?.status?.artifact?.path === path) runner?.enqueue(key);
}

/** What every source reconciler gets injected. */
export interface SourceDeps {
  storage: Storage;
  gc?: GcOptions;
  /** Largest source (checkout, chart, layer) accepted; larger ones fail with FetchFailed. */
  maxSourceBytes: number;
}

// Secrets are read the way every controller reads them.
export { readSecret, type SecretData } from '../runtime/secrets.ts';
