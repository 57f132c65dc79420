// Kustomization: builds a source artifact with kustomize and server-side applies it, with prune,
// health checks and dependsOn, following kustomize-controller's pipeline:
//   source → dependsOn → fetch → generate + build → decrypt → substitute → staged apply → prune →
//   health → lastAppliedRevision.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { type Kustomization, KustomizationKind } from '../api/kustomize.ts';
import type { Artifact, KindDescriptor } from '../api/meta.ts';
import { ConditionTypes, EventMetadata, Labels, Reasons } from '../api/names.ts';
import { GitRepositoryKind, OCIRepositoryKind } from '../api/source.ts';
import { BucketKind } from '../api/source-bucket.ts';
import {
  ApplyError,
  type ApplyOptions,
  applyAll,
  type ChangeSet,
  deleteStale,
  diffInventory,
  formatChangeSet,
  hasChanged,
  type InventoryEntry,
  parseId,
  toInventory,
  waitForHealth,
} from '../runtime/apply/index.ts';
import { fetchArtifact } from '../runtime/artifact/fetch.ts';
import { type Client, createClient, isNotFound } from '../runtime/client.ts';
import { deleteCondition, markFalse, markTrue } from '../runtime/conditions.ts';
import { parseDuration } from '../runtime/duration.ts';
import { GenericError, StallingError, WaitingError } from '../runtime/errors.ts';
import { type KubeObject, objectKey } from '../runtime/object.ts';
import { defineController, type ReconcileContext, type WatchSpec } from '../runtime/reconciler.ts';
import { kustomizeBuild } from './build/build.ts';
import { ageKeysFromSecret, decryptObjects, decryptSources, isEncryptedSecret } from './build/decrypt.ts';
import { generateKustomization, setCommonMetadata } from './build/generate.ts';
import { resolveVars, substituteObjects, type VarSource } from './build/substitute.ts';

export interface KustomizeDeps {
  /** The controller's own credentials, for impersonated clients. */
  kubeConfig: KubeConfig;
  fieldManager: string;
  kustomizeBin: string;
  sopsBin: string;
  /** Wait before checking a dependency again (Flux --requeue-dependency, 30s). */
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

type SourceObject = KubeObject & { status?: { artifact?: Artifact } };

const nsOf = (obj: Kustomization) => obj.metadata.namespace ?? '';
const sourceKey = (obj: Kustomization) =>
  objectKey(obj.spec.sourceRef.namespace ?? nsOf(obj), obj.spec.sourceRef.name);
const sourceName = (obj: Kustomization) => `${obj.spec.sourceRef.kind}/${sourceKey(obj)}`;

/** The source's artifact; waits (ArtifactFailed) while the source or its artifact is missing. */
function sourceArtifact(obj: Kustomization, ctx: ReconcileContext, deps: KustomizeDeps): Artifact {
  const kind = sourceKinds[obj.spec.sourceRef.kind];
  if (!kind)
    throw new StallingError(Reasons.ArtifactFailed, `unsupported source kind '${obj.spec.sourceRef.kind}'`);
  const ns = obj.spec.sourceRef.namespace;
  if (deps.noCrossNamespaceRefs && ns && ns !== nsOf(obj)) {
    throw new StallingError(
      Reasons.AccessDenied,
      `can't access '${sourceName(obj)}', cross-namespace references have been blocked`,
    );
  }
  const source = ctx.cached(kind, sourceKey(obj)) as SourceObject | undefined;
  const retry = parseDuration(obj.spec.retryInterval ?? obj.spec.interval);
  if (!source) throw new WaitingError(Reasons.ArtifactFailed, `Source '${sourceName(obj)}' not found`, retry);
  const artifact = source.status?.artifact;
  if (!artifact)
    throw new WaitingError(Reasons.ArtifactFailed, 'Source is not ready, artifact not found', 30_000);
  return artifact;
}

/**
 * dependsOn: each dependency must be Ready at its generation and, when it reads the same source, have
 * applied the revision about to be applied here (Flux's rule; a dependency on another source that is
 * suspended or behind its own source does not hold this one).
 */
function checkDependencies(
  obj: Kustomization,
  ctx: ReconcileContext,
  deps: KustomizeDeps,
  artifact: Artifact,
): void {
  for (const dep of obj.spec.dependsOn ?? []) {
    const key = objectKey(dep.namespace ?? nsOf(obj), dep.name);
    const d = ctx.cached(KustomizationKind, key) as Kustomization | undefined;
    const notReady = (why: string) =>
      new WaitingError(Reasons.DependencyNotReady, `dependency '${key}' ${why}`, deps.requeueDependencyMs);
    if (!d) throw notReady('not found');
    const ready = d.status?.conditions?.find((c) => c.type === ConditionTypes.Ready);
    if (d.metadata.generation !== d.status?.observedGeneration || ready?.status !== 'True')
      throw notReady('is not ready');
    const sameSource = d.spec.sourceRef.kind === obj.spec.sourceRef.kind && sourceKey(d) === sourceKey(obj);
    if (sameSource && d.status?.lastAppliedRevision !== artifact.revision)
      throw notReady('revision is not up to date');
  }
}

type ClientFor = (obj: Kustomization, ctx: ReconcileContext) => Client;

/**
 * Clients acting as the ServiceAccount of spec.serviceAccountName (or the default one), else ours. One
 * client per ServiceAccount, kept: a client per reconcile would open new connections and rediscover
 * the API every time.
 */
function impersonatingClients(deps: KustomizeDeps): ClientFor {
  const clients = new Map<string, Client>();
  return (obj, ctx) => {
    const sa = obj.spec.serviceAccountName || deps.defaultServiceAccount;
    if (!sa) return ctx.client;
    const user = `system:serviceaccount:${nsOf(obj)}:${sa}`;
    let client = clients.get(user);
    if (!client) {
      client = createClient(deps.kubeConfig, { fieldManager: deps.fieldManager, impersonate: { user } });
      clients.set(user, client);
    }
    return client;
  };
}

async function readData(
  ctx: ReconcileContext,
  kind: 'ConfigMap' | 'Secret',
  namespace: string,
  name: string,
) {
  const o = await ctx.client.tryGet({ apiVersion: 'v1', kind, namespace, name });
  return o ? ((o.data ?? {}) as Record<string, string>) : undefined;
}

/** Build: fetch and extract the artifact, generate, kustomize build, decrypt and substitute. */
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
    const spec = obj.spec;
    const { dir } = await generateKustomization(work, spec);
    let ageKeys: string[] = [];
    if (spec.decryption?.secretRef?.name) {
      const data = await readData(ctx, 'Secret', nsOf(obj), spec.decryption.secretRef.name);
      if (!data)
        throw new GenericError(
          Reasons.BuildFailed,
          `decryption secret '${spec.decryption.secretRef.name}' not found`,
        );
      ageKeys = ageKeysFromSecret(data);
      await decryptSources(work, dir, { sopsBin: deps.sopsBin, ageKeys });
    }
    const timeoutMs = parseDuration(spec.timeout ?? spec.interval);
    let objects = await kustomizeBuild(work, spec.path, { kustomizeBin: deps.kustomizeBin, timeoutMs });
    if (spec.decryption) objects = await decryptObjects(objects, { sopsBin: deps.sopsBin, ageKeys });
    const post = spec.postBuild;
    if (post) {
      const sources: VarSource[] = [];
      for (const from of post.substituteFrom ?? []) {
        const kind = from.kind as 'ConfigMap' | 'Secret';
        sources.push({
          kind,
          name: from.name,
          optional: from.optional,
          data: await readData(ctx, kind, nsOf(obj), from.name),
        });
      }
      const vars = resolveVars(post.substitute, sources);
      objects = substituteObjects(objects, vars, {
        strict: true,
        always: post.substituteStrategy === 'Always',
      });
    }
    // As Flux: commonMetadata after substitution, and no encrypted Secret is ever applied as is.
    objects = setCommonMetadata(objects, spec.commonMetadata);
    const encrypted = objects.find(isEncryptedSecret);
    if (encrypted) {
      const id = `${encrypted.kind}/${encrypted.metadata.namespace ?? nsOf(obj)}/${encrypted.metadata.name}`;
      throw new GenericError(
        Reasons.BuildFailed,
        `${id} is SOPS encrypted, configuring decryption is required for this secret to be reconciled`,
      );
    }
    return objects;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
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
): Promise<{ changes: ChangeSet; applied: InventoryEntry[] }> {
  const labels = { [Labels.kustomizeName]: obj.metadata.name ?? '', [Labels.kustomizeNamespace]: nsOf(obj) };
  const opts: ApplyOptions = { fieldManager: deps.fieldManager, force: obj.spec.force ?? false, labels };
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

/** Health: every applied object with spec.wait, else spec.healthChecks. Sets Healthy. */
async function checkHealth(
  obj: Kustomization,
  deps: KustomizeDeps,
  client: Client,
  inventory: InventoryEntry[],
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
  const result = await waitForHealth(client, checks, {
    timeoutMs,
    intervalMs: deps.healthIntervalMs ?? 2000,
  });
  if (!result.ok) {
    markFalse(obj, ConditionTypes.Healthy, Reasons.HealthCheckFailed, result.message);
    throw new GenericError(Reasons.HealthCheckFailed, result.message);
  }
  markTrue(obj, ConditionTypes.Healthy, Reasons.Succeeded, 'Health check passed');
}

/** Kustomizations that point at a changed source. */
function sourceWatch(kind: KindDescriptor): WatchSpec {
  return {
    kind,
    map: (src, primary) =>
      primary
        .list()
        .filter((k) => {
          const ks = k as Kustomization;
          return (
            ks.spec.sourceRef.kind === kind.kind &&
            ks.spec.sourceRef.name === src.metadata.name &&
            (ks.spec.sourceRef.namespace ?? ks.metadata.namespace) === src.metadata.namespace
          );
        })
        .map((k) => objectKey(k.metadata.namespace, k.metadata.name ?? '')),
    predicate: (a, b) => a.status?.artifact?.revision !== b.status?.artifact?.revision,
  };
}

export function kustomizationController(deps: KustomizeDeps) {
  const clientFor = impersonatingClients(deps);
  return defineController<Kustomization>({
    name: 'kustomization',
    kind: KustomizationKind,
    readyReason: Reasons.ReconciliationSucceeded,
    conditionPolicy: { owned: [ConditionTypes.Healthy], negativePolarity: [] },
    watches: [
      sourceWatch(GitRepositoryKind),
      sourceWatch(OCIRepositoryKind),
      sourceWatch(BucketKind),
      {
        // Dependents move on as soon as a dependency becomes ready or applies a new revision.
        kind: KustomizationKind,
        map: (dep, primary) =>
          primary
            .list()
            .filter((k) =>
              (k as Kustomization).spec.dependsOn?.some(
                (d) =>
                  d.name === dep.metadata.name &&
                  (d.namespace ?? k.metadata.namespace) === dep.metadata.namespace,
              ),
            )
            .map((k) => objectKey(k.metadata.namespace, k.metadata.name ?? '')),
        predicate: (a, b) =>
          a.status?.lastAppliedRevision !== b.status?.lastAppliedRevision ||
          JSON.stringify(a.status?.conditions) !== JSON.stringify(b.status?.conditions),
      },
    ],

    /**
     * Sets Healthy, status.lastAttemptedRevision, inventory and lastAppliedRevision; failures are
     * ArtifactFailed, DependencyNotReady (waiting), BuildFailed, ReconciliationFailed, PruneFailed
     * or HealthCheckFailed, and the runner derives Ready from them. The inventory of the last good
     * apply is kept when the build or apply fails, so nothing is pruned.
     */
    async reconcile(obj, ctx) {
      const artifact = sourceArtifact(obj, ctx, deps);
      checkDependencies(obj, ctx, deps, artifact);
      const revision = artifact.revision;
      obj.status = { ...obj.status, lastAttemptedRevision: revision };
      const objects = await build(obj, ctx, deps, artifact);
      const client = clientFor(obj, ctx);
      const { applied } = await applyAndPrune(obj, ctx, deps, client, objects);
      await checkHealth(obj, deps, client, applied);
      obj.status = { ...obj.status, lastAppliedRevision: revision };
      return {
        readyMessage: `Applied revision: ${revision}`,
        eventMetadata: { [EventMetadata.kustomizeRevision]: revision },
      };
    },

    /** With prune on (and per deletionPolicy), deletes what the last apply created. */
    async finalize(obj, ctx) {
      const entries = obj.status?.inventory?.entries ?? [];
      if (obj.spec.suspend || entries.length === 0) return;
      const client = clientFor(obj, ctx);
      try {
        await deleteStale(client, entries, {
          deletionPolicy: (obj.spec.deletionPolicy ?? 'MirrorPrune') as never,
          prune: obj.spec.prune,
          ownerLabels: {
            [Labels.kustomizeName]: obj.metadata.name ?? '',
            [Labels.kustomizeNamespace]: nsOf(obj),
          },
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  });
}
