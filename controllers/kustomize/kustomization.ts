// Kustomization: builds a source artifact with kustomize and server-side applies it, with prune,
// health checks and dependsOn, following kustomize-controller's pipeline:
//   CEL checks → source → dependsOn → client (impersonation, remote cluster) → fetch → generate + build
//   → decrypt → substitute → staged apply → prune → health → lastAppliedRevision, history.
// Shared with the helm-controller through runtime: sourceref, dependencies, clients, configdata, and
// the apply engine (drift ignore rules, healthCheckExprs).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BucketKind,
  GitRepositoryKind,
  KUSTOMIZE_GROUP,
  KustomizationKind,
  OCIRepositoryKind,
} from '../api/kinds.ts';
import type { Kustomization } from '../api/kustomize.ts';
import type { Artifact, KindDescriptor } from '../api/meta.ts';
import { COMMIT_STATUS_UPDATE, ConditionTypes, EventMetadata, Labels, Reasons } from '../api/names.ts';

import { compileHealthExprs, type StatusOverride } from '../runtime/apply/healthexprs.ts';
import {
  ApplyError,
  type ApplyMemory,
  type ApplyOptions,
  applyAll,
  type ChangeSet,
  DeletionPolicies,
  type DeletionPolicy,
  deleteStale,
  diffInventory,
  formatChangeSet,
  hasChanged,
  type InventoryEntry,
  parseId,
  shouldDeleteOnFinalize,
  subjectOfId,
  toInventory,
  waitForHealth,
} from '../runtime/apply/index.ts';
import { fetchArtifact } from '../runtime/artifact/fetch.ts';
import { CelCompileError } from '../runtime/cel.ts';
import { type Client, isNotFound } from '../runtime/client.ts';
import { clientForObject, createClients } from '../runtime/clients.ts';
import { deleteCondition, markFalse, markTrue } from '../runtime/conditions.ts';
import { configWatch, readData } from '../runtime/configdata.ts';
import {
  checkDependencies,
  dependencyWatch,
  dependsOnIndex,
  terminalErrorMessage,
  validateReadyExprs,
} from '../runtime/dependencies.ts';
import { parseDuration } from '../runtime/duration.ts';
import { GenericError, reasonOf, StallingError } from '../runtime/errors.ts';
import type { UnsupportedField } from '../runtime/fields.ts';
import type { KubeConfigSource } from '../runtime/kubeconfig.ts';
import { renderKustomization } from '../runtime/kustomize/render.ts';
import { type KubeObject, keyOf } from '../runtime/object.ts';
import { Annotation as OciAnnotation } from '../runtime/oci/artifact.ts';
import { defineController, type ReconcileContext } from '../runtime/reconciler.ts';
import { describeSource, refKey, resolveSource, sourceIndex, sourceWatch } from '../runtime/sourceref.ts';
import { manifestsDigest, upsertHistory } from './history.ts';

export interface KustomizeDeps {
  /** The controller's own credentials, for impersonated clients. */
  kubeConfig: KubeConfigSource;
  fieldManager: string;
  kustomizeBin: string;
  sopsBin: string;
  /** Wait before checking a dependency or a source artifact again (Flux --requeue-dependency, 30s). */
  requeueDependencyMs: number;
  /** ServiceAccount impersonated when spec.serviceAccountName is empty (Flux --default-service-account). */
  defaultServiceAccount?: string;
  /** Refuse sourceRefs to other namespaces (Flux --no-cross-namespace-refs). */
  noCrossNamespaceRefs?: boolean;
  maxArtifactBytes?: number;
  /** Polling period of health checks (Flux: 5s). */
  healthIntervalMs?: number;
  /** Backoff of artifact fetch retries. */
  fetchBackoff?: { minMs: number; maxMs: number };
}

const sourceKinds: Record<string, KindDescriptor> = {
  GitRepository: GitRepositoryKind,
  OCIRepository: OCIRepositoryKind,
  Bucket: BucketKind,
};

/** Spec fields the CRD accepts that Tide refuses (Stalled, UnsupportedField), with why. */
export const kustomizationUnsupportedFields: UnsupportedField[] = [
  {
    path: 'spec.sourceRef.kind',
    allowed: Object.keys(sourceKinds),
    why: 'ExternalArtifact sources are not implemented; use a GitRepository or an OCIRepository',
  },
  {
    path: 'spec.decryption.serviceAccountName',
    why: 'cloud KMS workload identity is not implemented; put age keys (*.agekey) in decryption.secretRef',
  },
];

// Index names of the Kustomization informer.
const bySource = 'sourceRef';
const byDependency = 'dependsOn';
const byConfig = 'configRef';

const nsOf = (obj: Kustomization) => obj.metadata.namespace ?? '';
const sourceRefOf = (o: KubeObject) => (o as Kustomization).spec?.sourceRef;
const sameSource = (a: Kustomization, b: Kustomization) =>
  describeSource(a, a.spec.sourceRef) === describeSource(b, b.spec.sourceRef);

/** `Kind/namespace/name` of every Secret and ConfigMap the spec reads, for the config watches. */
function configRefs(o: KubeObject): string[] {
  const ks = o as Kustomization;
  const ns = nsOf(ks);
  const refs: string[] = [];
  if (ks.spec.decryption?.secretRef?.name) refs.push(refKey('Secret', ns, ks.spec.decryption.secretRef.name));
  if (ks.spec.kubeConfig?.secretRef?.name) refs.push(refKey('Secret', ns, ks.spec.kubeConfig.secretRef.name));
  if (ks.spec.kubeConfig?.configMapRef?.name)
    refs.push(refKey('ConfigMap', ns, ks.spec.kubeConfig.configMapRef.name));
  for (const from of ks.spec.postBuild?.substituteFrom ?? []) refs.push(refKey(from.kind, ns, from.name));
  return refs;
}

/**
 * spec.healthCheckExprs compiled; a bad one stalls with InvalidCELExpression (only a spec change can
 * fix it), before anything else, as in Flux.
 */
function healthRules(obj: Kustomization) {
  try {
    return compileHealthExprs(obj.spec.healthCheckExprs);
  } catch (err) {
    if (!(err instanceof CelCompileError)) throw err;
    throw new StallingError(Reasons.InvalidCELExpression, `${terminalErrorMessage}: ${err.message}`);
  }
}

/** Build: fetch and extract the artifact, then render it as runtime/kustomize/render.ts does. */
async function build(obj: Kustomization, ctx: ReconcileContext, deps: KustomizeDeps, artifact: Artifact) {
  const work = await mkdtemp(join(tmpdir(), 'tide-ks-'));
  try {
    try {
      await fetchArtifact(artifact.url, {
        digest: artifact.digest ?? '',
        dest: work,
        maxDownloadBytes: deps.maxArtifactBytes,
        maxUntarBytes: deps.maxArtifactBytes,
        ...(deps.fetchBackoff ? { backoff: deps.fetchBackoff } : {}),
        retries: 3,
      });
    } catch (err) {
      throw new GenericError(
        Reasons.ArtifactFailed,
        `failed to download artifact: ${(err as Error).message}`,
      );
    }
    return await renderKustomization(work, obj, {
      kustomizeBin: deps.kustomizeBin,
      sopsBin: deps.sopsBin,
      readData: (kind, name) => readData(ctx.client, { kind, namespace: nsOf(obj), name }),
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const ownerLabels = (obj: Kustomization) => ({
  [Labels.kustomizeName]: obj.metadata.name ?? '',
  [Labels.kustomizeNamespace]: nsOf(obj),
});
const labelSelector = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/**
 * Lists the objects about to be created in status.inventory (beside the last one) before anything is
 * applied: an apply cut short (the controller killed, one object refused) then leaves nothing in the
 * cluster that the inventory does not name, and the next revision that drops such an object prunes it.
 * Writes only when the revision adds objects.
 */
async function recordPending(obj: Kustomization, ctx: ReconcileContext, objects: KubeObject[]) {
  const previous = obj.status?.inventory?.entries ?? [];
  const pending = toInventory([...previous, ...objects]);
  if (pending.length === previous.length) return;
  obj.status = { ...obj.status, inventory: { entries: pending } };
  await ctx.patchStatus();
}

/**
 * Apply, then prune what left the inventory; sets status.inventory once the apply succeeded. Returns
 * the objects applied (not skipped), which spec.wait checks.
 */
async function applyAndPrune(
  obj: Kustomization,
  ctx: ReconcileContext,
  deps: KustomizeDeps,
  client: Client,
  objects: KubeObject[],
  memory: ApplyMemory,
  results: Map<string, KubeObject>,
): Promise<{ changes: ChangeSet; applied: InventoryEntry[] }> {
  const labels = ownerLabels(obj);
  const opts: ApplyOptions = {
    fieldManager: deps.fieldManager,
    force: obj.spec.force ?? false,
    labels,
    driftIgnoreRules: obj.spec.ignore,
    // One LIST per kind and namespace instead of a GET per object, and no dry-run for objects nobody
    // changed since the last apply.
    liveSelector: labelSelector(labels),
    memory,
    results,
  };
  await recordPending(obj, ctx, objects);
  let changes: ChangeSet;
  try {
    changes = await applyAll(client, objects, opts);
  } catch (err) {
    const msg = err instanceof ApplyError ? err.errors.join('\n') : (err as Error).message;
    throw new GenericError(Reasons.ReconciliationFailed, msg);
  }
  const applied = changes.filter((c) => c.action !== 'skipped');
  // Skipped objects (ssa: IfNotPresent on a live object, Ignore) stay in the inventory, as in Flux:
  // dropping them would prune what the last revision still lists.
  const inventory = toInventory(changes);
  const previous = obj.status?.inventory?.entries;
  obj.status = { ...obj.status, inventory: { entries: inventory } };
  if (obj.spec.prune) {
    const stale = diffInventory(previous, inventory);
    if (stale.length > 0) {
      try {
        changes = changes.concat(await deleteStale(client, stale, { ownerLabels: labels }));
      } catch (err) {
        throw new GenericError(Reasons.PruneFailed, `prune failed: ${(err as Error).message}`);
      }
    }
  }
  const changed = changes.filter((c) => hasChanged(c.action));
  if (changed.length > 0) ctx.event('Normal', Reasons.Progressing, formatChangeSet(changed));
  return { changes, applied: toInventory(applied) };
}

/** A health check without apiVersion means the applied object of that kind and name. */
function appliedApiVersion(
  inventory: InventoryEntry[],
  kind: string,
  name: string,
  namespace: string,
): string {
  for (const e of inventory) {
    const m = parseId(e.id);
    if (m.kind === kind && m.name === name && (m.namespace === namespace || m.namespace === '')) {
      return m.group ? `${m.group}/${e.v}` : e.v;
    }
  }
  return 'v1';
}

/**
 * Health: every applied object with spec.wait, else spec.healthChecks; healthCheckExprs decide the
 * status of the kinds they cover. Sets Healthy.
 */
async function checkHealth(
  obj: Kustomization,
  ctx: ReconcileContext,
  deps: KustomizeDeps,
  client: Client,
  inventory: InventoryEntry[],
  statusOverride: StatusOverride | undefined,
  initial?: ReadonlyMap<string, KubeObject>,
): Promise<void> {
  const checks: InventoryEntry[] = obj.spec.wait
    ? inventory
    : toInventory(
        (obj.spec.healthChecks ?? []).map((h) => {
          const namespace = h.namespace ?? nsOf(obj);
          return {
            apiVersion: h.apiVersion || appliedApiVersion(inventory, h.kind, h.name, namespace),
            kind: h.kind,
            metadata: { name: h.name, namespace },
          };
        }),
      );
  if (checks.length === 0) {
    deleteCondition(obj, ConditionTypes.Healthy);
    return;
  }
  const timeoutMs = parseDuration(obj.spec.timeout ?? obj.spec.interval);
  const wait = (ms: number, known?: ReadonlyMap<string, KubeObject>) =>
    waitForHealth(client, checks, {
      timeoutMs: ms,
      intervalMs: deps.healthIntervalMs ?? 2000,
      statusOverride,
      // spec.wait checks what this Kustomization applied: read by kind and namespace, by its labels.
      ...(obj.spec.wait ? { listSelector: labelSelector(ownerLabels(obj)) } : {}),
      ...(known ? { initial: known } : {}),
    });
  // Most objects are Current at once (the apply's answers say so); only a real wait writes the new
  // inventory (and the revision attempted) first, as Flux does, and gives the controller's slot to
  // another object meanwhile.
  let result = await wait(0, initial);
  if (!result.ok && result.reason === 'Timeout') {
    await ctx.patchStatus();
    result = await ctx.whileWaiting(() => wait(timeoutMs));
  }
  if (!result.ok) {
    markFalse(obj, ConditionTypes.Healthy, Reasons.HealthCheckFailed, result.message);
    throw new GenericError(Reasons.HealthCheckFailed, result.message);
  }
  markTrue(obj, ConditionTypes.Healthy, Reasons.Succeeded, 'Health check passed');
}

/** Records the attempt in status.history with the Ready reason it ends with. */
function recordHistory(
  obj: Kustomization,
  ctx: ReconcileContext,
  attempt: { started: number; digest: string; metadata: Record<string, string> },
  err?: unknown,
) {
  const now = ctx.now();
  obj.status = {
    ...obj.status,
    history: upsertHistory(obj.status?.history, {
      digest: attempt.digest,
      status: err === undefined ? Reasons.ReconciliationSucceeded : reasonOf(err),
      at: now,
      durationMs: now.getTime() - attempt.started,
      metadata: attempt.metadata,
    }),
  };
}

export function kustomizationController(deps: KustomizeDeps) {
  // What each Kustomization's last apply left (runtime/apply ApplyMemory), by its key.
  const memories = new Map<string, ApplyMemory>();
  const clients = createClients({
    kubeConfig: deps.kubeConfig,
    fieldManager: deps.fieldManager,
    defaultServiceAccount: deps.defaultServiceAccount,
  });
  return defineController<Kustomization>({
    name: 'kustomization',
    kind: KustomizationKind,
    readyReason: Reasons.ReconciliationSucceeded,
    conditionPolicy: { owned: [ConditionTypes.Healthy], negativePolarity: [] },
    unsupportedFields: kustomizationUnsupportedFields,
    indexes: {
      [bySource]: sourceIndex(sourceRefOf),
      [byDependency]: dependsOnIndex,
      [byConfig]: configRefs,
    },
    watches: [
      ...Object.values(sourceKinds).map((kind) => sourceWatch(kind, { index: bySource })),
      // Dependents move on as soon as a dependency becomes ready or applies a new revision.
      dependencyWatch(
        KustomizationKind,
        byDependency,
        (a, b) =>
          a.status?.lastAppliedRevision !== b.status?.lastAppliedRevision ||
          JSON.stringify(a.status?.conditions) !== JSON.stringify(b.status?.conditions),
      ),
      configWatch('Secret', byConfig),
      configWatch('ConfigMap', byConfig),
    ],

    /**
     * Sets Healthy, status.lastAttemptedRevision, inventory, history and lastAppliedRevision; failures
     * are ArtifactFailed, DependencyNotReady (waiting), BuildFailed, ReconciliationFailed, PruneFailed or
     * HealthCheckFailed, and InvalidCELExpression or AccessDenied stall. The runner derives Ready from
     * them. When the build or apply fails nothing is pruned: the inventory keeps the last good apply's
     * objects, plus those the failed apply was about to create (recordPending).
     */
    async reconcile(obj, ctx) {
      const started = ctx.now().getTime();
      const statusOverride = healthRules(obj);
      validateReadyExprs(obj);
      const { artifact } = resolveSource(obj, obj.spec.sourceRef, ctx, {
        kinds: sourceKinds,
        noCrossNamespaceRefs: deps.noCrossNamespaceRefs,
        retryMs: parseDuration(obj.spec.retryInterval ?? obj.spec.interval),
        artifactRetryMs: deps.requeueDependencyMs,
      });
      const revision = artifact.revision;
      checkDependencies<Kustomization>(obj, ctx, {
        kind: KustomizationKind,
        requeueMs: deps.requeueDependencyMs,
        // A dependency reading the same source must have applied the revision about to be applied here.
        revisionRule: (dep) =>
          sameSource(dep, obj) && dep.status?.lastAppliedRevision !== revision
            ? 'revision is not up to date'
            : undefined,
      });
      const originRevision = artifact.metadata?.[OciAnnotation.revision];
      // From here on every event names the revision, the failures' included, as in Flux.
      ctx.eventMetadata({
        [EventMetadata.kustomizeRevision]: revision,
        ...(originRevision ? { [`${KUSTOMIZE_GROUP}/${EventMetadata.originRevision}`]: originRevision } : {}),
      });
      obj.status = { ...obj.status, lastAttemptedRevision: revision };
      const client = await clientForObject(clients, obj, ctx.client);
      const objects = await build(obj, ctx, deps, artifact);
      const metadata: Record<string, string> = { revision };
      if (originRevision) metadata.originRevision = originRevision;
      const attempt = { started, digest: manifestsDigest(objects), metadata };
      try {
        const memory = memories.get(keyOf(obj)) ?? new Map();
        memories.set(keyOf(obj), memory);
        // What the apply left is the health check's first look: no read of what it just wrote.
        const results = new Map<string, KubeObject>();
        const { applied } = await applyAndPrune(obj, ctx, deps, client, objects, memory, results);
        await checkHealth(obj, ctx, deps, client, applied, statusOverride, results);
      } catch (err) {
        recordHistory(obj, ctx, attempt, err);
        throw err;
      }
      obj.status = {
        ...obj.status,
        lastAppliedRevision: revision,
        lastAppliedOriginRevision: originRevision,
      };
      recordHistory(obj, ctx, attempt);
      // Git providers of notification-controller set a commit status from this event.
      const eventMetadata = { [EventMetadata.kustomizeCommitStatus]: COMMIT_STATUS_UPDATE };
      return { readyMessage: `Applied revision: ${revision}`, eventMetadata };
    },

    /**
     * With prune on (and per deletionPolicy), deletes what the last apply created, with the client the
     * apply used (remote cluster, impersonation). As Flux, a ServiceAccount to impersonate that is gone
     * skips the deletion (Warning event listing what is left) instead of blocking the object forever.
     */
    async finalize(obj, ctx) {
      memories.delete(keyOf(obj));
      const entries = obj.status?.inventory?.entries ?? [];
      const policy = (obj.spec.deletionPolicy ?? DeletionPolicies.MirrorPrune) as DeletionPolicy;
      if (obj.spec.suspend || entries.length === 0 || !shouldDeleteOnFinalize(policy, obj.spec.prune)) return;
      const sa = obj.spec.serviceAccountName || deps.defaultServiceAccount;
      const saRef = { apiVersion: 'v1', kind: 'ServiceAccount', namespace: nsOf(obj), name: sa ?? '' };
      if (sa && !obj.spec.kubeConfig && !(await ctx.client.tryGet(saRef))) {
        const left = entries.map((e) => subjectOfId(e.id)).join(', ');
        ctx.event(
          'Warning',
          Reasons.PruneFailed,
          `unable to prune objects, ServiceAccount '${sa}' not found: ${left}`,
        );
        return;
      }
      const client = await clientForObject(clients, obj, ctx.client);
      let changes: ChangeSet;
      try {
        changes = await deleteStale(client, entries, {
          deletionPolicy: policy,
          prune: obj.spec.prune,
          ownerLabels: {
            [Labels.kustomizeName]: obj.metadata.name ?? '',
            [Labels.kustomizeNamespace]: nsOf(obj),
          },
          timeoutMs: parseDuration(obj.spec.timeout ?? obj.spec.interval),
        });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      const deleted = changes.filter((c) => hasChanged(c.action));
      if (deleted.length > 0) ctx.event('Normal', Reasons.Progressing, formatChangeSet(deleted));
    },
  });
}
