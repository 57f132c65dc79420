// GitRepository: turns a ref of a Git repository into a deterministic tar.gz artifact.
// Steps, as Flux's reconciler: storage → source (skipped when the remote head equals the stored
// revision and nothing that shapes or verifies the artifact changed; else checkout and signature
// verification) → include → artifact.

import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { GitRepositoryKind } from '../api/kinds.ts';
import type { Artifact } from '../api/meta.ts';
import { ConditionTypes, EventMetadata, Reasons } from '../api/names.ts';
import type { GitRepository } from '../api/source.ts';
import { extractTarGz } from '../runtime/artifact/extract.ts';
import type { Storage } from '../runtime/artifact/storage.ts';
import { deleteCondition, markTrue } from '../runtime/conditions.ts';
import { parseDuration } from '../runtime/duration.ts';
import { isReconcileError, StallingError, WaitingError } from '../runtime/errors.ts';
import { authFromSecret, type GitAuth } from '../runtime/git/auth.ts';
import { type CheckoutResult, checkout } from '../runtime/git/checkout.ts';
import { type GitError, isGitError } from '../runtime/git/errors.ts';
import { remoteHead } from '../runtime/git/refs.ts';
import type { ProxyConfig } from '../runtime/http.ts';
import { proxyFromSecret } from '../runtime/http-secrets.ts';
import { keyedLock } from '../runtime/lock.ts';
import { jsonEqual, objectKey } from '../runtime/object.ts';
import { defineController, type ReconcileContext } from '../runtime/reconciler.ts';
import {
  clearFetchFailed,
  fetchFailed,
  markArtifactStored,
  markOutdated,
  readSecret,
  reconcileStorage,
  recordNewArtifact,
  type SourceDeps,
  sourceConditionPolicy,
  storageFailed,
} from './common.ts';
import { requiresVerification, resetVerification, verifyCheckout } from './gitverify.ts';
import { buildIgnoreFilter } from './sourceignore.ts';

const kindName = 'gitrepository';

type Include = NonNullable<GitRepository['spec']['include']>[number];
interface ResolvedInclude {
  include: Include;
  artifact: Artifact;
}

/** What shapes the artifact besides the commit; a change forces a new checkout and archive. */
function observedShape(obj: GitRepository) {
  return {
    ignore: obj.spec.ignore,
    recurseSubmodules: obj.spec.recurseSubmodules || undefined,
    include: obj.spec.include?.length ? obj.spec.include : undefined,
    sparseCheckout: obj.spec.sparseCheckout?.length ? obj.spec.sparseCheckout : undefined,
  };
}

function storedShape(obj: GitRepository) {
  const s = obj.status ?? {};
  return {
    ignore: s.observedIgnore,
    recurseSubmodules: s.observedRecurseSubmodules || undefined,
    include: s.observedInclude?.length ? s.observedInclude : undefined,
    sparseCheckout: s.observedSparseCheckout?.length ? s.observedSparseCheckout : undefined,
  };
}

const fetchReason = (err: GitError) =>
  err.kind === 'Auth' || err.kind === 'HostKey' ? Reasons.AuthenticationFailed : Reasons.GitOperationFailed;

async function authFor(obj: GitRepository, ctx: ReconcileContext): Promise<GitAuth | undefined> {
  const ref = obj.spec.secretRef;
  if (!ref) return undefined;
  try {
    const data = await readSecret(ctx.client, obj.metadata.namespace ?? '', ref.name);
    return authFromSecret(obj.spec.url, data);
  } catch (err) {
    throw fetchFailed(
      obj,
      Reasons.AuthenticationFailed,
      `failed to get secret '${obj.metadata.namespace}/${ref.name}': ${(err as Error).message}`,
    );
  }
}

/** The proxy of spec.proxySecretRef; a bad Secret is FetchFailed=True AuthenticationFailed, as Flux. */
async function proxyFor(obj: GitRepository, ctx: ReconcileContext): Promise<ProxyConfig | undefined> {
  const ref = obj.spec.proxySecretRef;
  if (!ref) return undefined;
  const ns = obj.metadata.namespace ?? '';
  try {
    return proxyFromSecret(await readSecret(ctx.client, ns, ref.name), `${ns}/${ref.name}`);
  } catch (err) {
    const message = `failed to configure proxy options: ${(err as Error).message}`;
    throw fetchFailed(obj, Reasons.AuthenticationFailed, message);
  }
}

/** How the remote is reached: credentials, proxy, time limit. */
interface Access {
  auth: GitAuth | undefined;
  proxy: ProxyConfig | undefined;
  timeoutMs: number;
}

/**
 * The include step: the artifacts of the included GitRepositories (same namespace, from this storage).
 * Sets IncludeUnavailable=True (and waits) while one is missing or has no artifact; removes it otherwise.
 */
function resolveIncludes(
  obj: GitRepository,
  ctx: ReconcileContext,
): { include: Include; artifact: Artifact }[] {
  const out: { include: Include; artifact: Artifact }[] = [];
  for (const include of obj.spec.include ?? []) {
    const name = include.repository.name;
    const dep = ctx.cached(GitRepositoryKind, objectKey(obj.metadata.namespace, name)) as
      | GitRepository
      | undefined;
    const artifact = dep?.status?.artifact;
    if (!artifact) {
      const msg = dep
        ? `no artifact available for include 'GitRepository/${name}'`
        : `could not get resource for include 'GitRepository/${name}': not found`;
      markTrue(obj, ConditionTypes.IncludeUnavailable, dep ? Reasons.NoArtifact : Reasons.NotFound, msg);
      throw new WaitingError(Reasons.NotFound, msg, 30_000);
    }
    out.push({ include, artifact });
  }
  deleteCondition(obj, ConditionTypes.IncludeUnavailable);
  return out;
}

/** Copies each included artifact's contents (below fromPath) into dir/toPath. */
async function copyIncludes(
  dir: string,
  includes: ResolvedInclude[],
  storage: Storage,
  maxBytes: number,
): Promise<void> {
  for (const { include, artifact } of includes) {
    const toPath = normalize(include.toPath ?? include.repository.name);
    if (toPath.startsWith('..') || toPath.startsWith('/')) {
      throw new StallingError(
        'InvalidIncludePath',
        `include toPath '${include.toPath}' leaves the repository`,
      );
    }
    const scratch = await mkdtemp(join(tmpdir(), 'tide-include-'));
    try {
      await extractTarGz(storage.localPath(artifact), scratch, { maxBytes });
      const from = normalize(join(scratch, include.fromPath ?? '.'));
      if (!from.startsWith(scratch))
        throw new StallingError('InvalidIncludePath', 'include fromPath leaves the artifact');
      const dest = join(dir, toPath);
      await rm(dest, { recursive: true, force: true });
      await cp(from, dest, { recursive: true });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

/** The source step's cheap half: what the ref points at now (ls-remote; nothing for commit refs). */
async function resolveHead(obj: GitRepository, access: Access) {
  try {
    return await remoteHead(obj.spec.url, obj.spec.ref, access.auth, access.timeoutMs, {
      proxy: access.proxy,
    });
  } catch (err) {
    if (!isGitError(err)) throw err;
    const message = `failed to checkout and determine revision: ${err.message}`;
    throw fetchFailed(obj, fetchReason(err), message, err.kind === 'Invalid');
  }
}

/**
 * No clone is needed: same revision, same includes, nothing else that shapes the artifact changed,
 * and no verification is due.
 */
function upToDate(
  obj: GitRepository,
  current: Artifact,
  revision: string,
  includes: ResolvedInclude[],
): boolean {
  const digests = (as: readonly Artifact[]) => as.map((a) => a.digest);
  return (
    current.revision === revision &&
    !requiresVerification(obj) &&
    jsonEqual(observedShape(obj), storedShape(obj)) &&
    jsonEqual(digests(includes.map((i) => i.artifact)), digests(obj.status?.includedArtifacts ?? []))
  );
}

/**
 * Artifacts recently built from a checkout, by what decides their bytes and status: URL, revision
 * (the ref's label and commit: a tag and a branch on one commit differ) and the shape
 * (ignore, include digests, submodules, sparse paths). Many GitRepositories on one repository and
 * revision then cost one clone: the others link the stored file. Safe without the credentials in the
 * key, because each object has just listed the commit with its own credentials.
 */
interface Built {
  artifact: Artifact;
  result: CheckoutResult;
}
const maxBuilt = 256;

function builtKey(obj: GitRepository, revision: string, includes: ResolvedInclude[]): string {
  return JSON.stringify([obj.spec.url, revision, observedShape(obj), includes.map((i) => i.artifact.digest)]);
}

/** Runs git, or takes the result of a checkout of the same commit and shape from `built`. */
async function checkoutOrReuse(
  obj: GitRepository,
  deps: SourceDeps,
  opts: Access,
  work: string,
  reuse: Built | undefined,
): Promise<CheckoutResult> {
  if (reuse) return reuse.result;
  try {
    return await checkout({
      url: obj.spec.url,
      ref: obj.spec.ref,
      auth: opts.auth,
      proxy: opts.proxy,
      dir: work,
      timeoutMs: opts.timeoutMs,
      recurseSubmodules: obj.spec.recurseSubmodules,
      sparseCheckout: obj.spec.sparseCheckout,
      maxSizeBytes: deps.maxSourceBytes,
    });
  } catch (err) {
    if (!isGitError(err)) throw err;
    throw fetchFailed(obj, fetchReason(err), `failed to checkout and determine revision: ${err.message}`);
  }
}

/**
 * The checkout, verification, include and artifact steps: clones the ref, verifies its signatures
 * (gitverify.ts), copies the includes, archives the tree with the ignore rules and records it. Sets
 * FetchFailed, SourceVerified=False or StorageOperationFailed on failure, and ArtifactInStorage (and
 * SourceVerified=True when verifying) on success; emits NewArtifact when the digest changed.
 */
async function buildArtifact(
  obj: GitRepository,
  ctx: ReconcileContext,
  deps: SourceDeps,
  opts: Access & { includes: ResolvedInclude[]; revision: string; built: Map<string, Built> },
): Promise<Artifact> {
  const { storage } = deps;
  const key = builtKey(obj, opts.revision, opts.includes);
  const reuse = opts.built.get(key);
  const work = reuse ? '' : await mkdtemp(join(tmpdir(), 'tide-gitrepo-'));
  try {
    const result = await checkoutOrReuse(obj, deps, opts, work, reuse);
    clearFetchFailed(obj);
    await verifyCheckout(obj, ctx, result, Date.now() + opts.timeoutMs);

    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const target = storage.artifactFor(kindName, ns, name, result.revision, `${result.commit}.tar.gz`);
    let artifact: Artifact | undefined;
    try {
      if (reuse) artifact = await storage.linkFrom(target, reuse.artifact);
      if (!artifact) {
        // No reuse, or its file was collected since: build from a checkout of our own.
        if (reuse) {
          opts.built.delete(key);
          return await buildArtifact(obj, ctx, deps, opts);
        }
        await copyIncludes(work, opts.includes, storage, deps.maxSourceBytes);
        artifact = await storage.archive(target, work, await buildIgnoreFilter(work, obj.spec.ignore));
      }
    } catch (err) {
      if (isReconcileError(err)) throw err;
      const message = `unable to archive artifact: ${(err as Error).message}`;
      throw storageFailed(obj, Reasons.ArchiveOperationFailed, message);
    }
    // Under the revision actually checked out: the branch may have moved since ls-remote.
    const storedKey = builtKey(obj, result.revision, opts.includes);
    opts.built.delete(storedKey);
    opts.built.set(storedKey, { artifact, result });
    if (opts.built.size > maxBuilt) opts.built.delete(opts.built.keys().next().value as string);
    const shape = observedShape(obj);
    const included = opts.includes.map((i) => i.artifact);
    obj.status = {
      ...obj.status,
      includedArtifacts: included.length ? included : undefined,
      observedIgnore: shape.ignore,
      observedRecurseSubmodules: shape.recurseSubmodules,
      observedInclude: shape.include,
      observedSparseCheckout: shape.sparseCheckout,
    };
    await recordNewArtifact(obj, ctx, deps, {
      kind: kindName,
      artifact,
      event: {
        message: `stored artifact for commit '${result.message ?? result.commit}'`,
        metadata: { [EventMetadata.sourceRevision]: artifact.revision },
      },
    });
    return artifact;
  } finally {
    if (work) await rm(work, { recursive: true, force: true });
  }
}

export function gitRepositoryController(deps: SourceDeps) {
  const { storage } = deps;
  const built = new Map<string, Built>();
  // One build per revision and shape at a time: the others wait, then link its artifact.
  const buildLock = keyedLock();
  return defineController<GitRepository>({
    name: 'gitrepository',
    kind: GitRepositoryKind,
    conditionPolicy: sourceConditionPolicy,
    unsupportedFields: [
      {
        path: 'spec.provider',
        allowed: ['generic'],
        why: 'only generic authentication (spec.secretRef) is implemented; aws, azure and github need cloud or GitHub App credentials',
      },
      {
        path: 'spec.serviceAccountName',
        why: 'workload identity (provider aws or azure) is not implemented',
      },
    ],
    watches: [
      {
        // A GitRepository that includes another is reconciled again when the included one's artifact changes.
        kind: GitRepositoryKind,
        map: (changed, primary) =>
          primary
            .list()
            .filter(
              (o) =>
                o.metadata.namespace === changed.metadata.namespace &&
                (o as GitRepository).spec.include?.some((i) => i.repository.name === changed.metadata.name),
            )
            .map((o) => objectKey(o.metadata.namespace, o.metadata.name ?? '')),
        predicate: (a, b) => a.status?.artifact?.digest !== b.status?.artifact?.digest,
      },
    ],

    /**
     * Sets ArtifactInStorage, ArtifactOutdated, FetchFailed, IncludeUnavailable, SourceVerified and
     * StorageOperationFailed; the runner derives Ready from them and the thrown outcome.
     */
    async reconcile(obj, ctx) {
      await reconcileStorage(obj, storage, kindName, deps.gc);
      resetVerification(obj);
      const timeoutMs = parseDuration(obj.spec.timeout ?? '60s');
      const access: Access = { auth: await authFor(obj, ctx), proxy: await proxyFor(obj, ctx), timeoutMs };
      const includes = resolveIncludes(obj, ctx);
      const head = await resolveHead(obj, access);
      const current = obj.status?.artifact;
      if (current && upToDate(obj, current, head.revision, includes)) {
        clearFetchFailed(obj);
        markArtifactStored(obj, storage.setArtifactUrl(current));
        return { readyMessage: `stored artifact for revision '${current.revision}'` };
      }
      markOutdated(obj, head.revision);
      const artifact = await buildLock(builtKey(obj, head.revision, includes), () =>
        buildArtifact(obj, ctx, deps, { ...access, includes, revision: head.revision, built }),
      );
      return {
        readyMessage: `stored artifact for revision '${artifact.revision}'`,
        eventMetadata: { [EventMetadata.sourceRevision]: artifact.revision },
      };
    },

    async finalize(obj) {
      await storage.removeAll(kindName, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
    },
  });
}
