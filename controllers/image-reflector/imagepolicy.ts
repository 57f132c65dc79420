// ImagePolicy: picks the latest tag among those its ImageRepository stored (semver, alphabetical or
// numerical, after an optional filter), optionally resolves the tag's digest in the registry, and
// records the pick in status.latestRef (the one before in status.observedPreviousRef). Runs when the
// policy changes and whenever its repository's scan finds a different tag list; with
// digestReflectionPolicy Always also every spec.interval, to follow a moved tag.

import type { ImagePolicy, ImageRef, ImageRepository } from '../api/image.ts';
import { ImagePolicyKind, ImageRepositoryKind } from '../api/kinds.ts';
import { Reasons } from '../api/names.ts';
import { formatDuration } from '../runtime/duration.ts';
import { GenericError, messageOf, StallingError, WaitingError } from '../runtime/errors.ts';
import { jsonEqual, type KubeObject, keyOf, objectKey } from '../runtime/object.ts';
import { defineController, type ReconcileContext } from '../runtime/reconciler.ts';
import { accessOf, clientOf, imageNameOf, type ReflectorDeps } from './imagerepository.ts';
import { compilePolicy, InvalidPolicyError } from './policy.ts';

/** namespace/name of the ImageRepository a policy refers to. */
export function repositoryKeyOf(obj: ImagePolicy): string {
  const ref = obj.spec.imageRepositoryRef;
  return objectKey(ref.namespace || obj.metadata.namespace, ref.name);
}

const imageRefString = (r: ImageRef) => `${r.name}:${r.tag}${r.digest ? `@${r.digest}` : ''}`;

/** Flux's Ready message: `Latest image tag for <name> resolved to <tag>[ with digest …][ (previously …)]`. */
export function readyMessageOf(obj: ImagePolicy): string {
  const latest = obj.status?.latestRef;
  if (!latest) return '';
  let msg = `Latest image tag for ${latest.name} resolved to ${latest.tag}`;
  if (latest.digest) msg += ` with digest ${latest.digest}`;
  const prev = obj.status?.observedPreviousRef;
  if (prev && !jsonEqual(prev, latest)) msg += ` (previously ${imageRefString(prev)})`;
  return msg;
}

/**
 * Flux's ACL: an ImageRepository of another namespace is usable only when its spec.accessFrom selects
 * the policy's namespace by label (and never with --no-cross-namespace-refs).
 */
async function checkAccess(
  obj: ImagePolicy,
  repo: ImageRepository,
  ctx: ReconcileContext,
  deps: ReflectorDeps,
): Promise<void> {
  const ns = obj.metadata.namespace ?? '';
  const repoNs = repo.metadata.namespace ?? '';
  const where = `${repoNs}/${repo.metadata.name}`;
  if (repoNs === ns) return;
  const denied = (why: string) =>
    new GenericError(Reasons.AccessDenied, `failed to get the referred ImageRepository: ${why}`);
  if (deps.noCrossNamespaceRefs)
    throw denied(
      `cannot access '${ImageRepositoryKind.kind}/${where}', cross-namespace references have been blocked`,
    );
  const acl = repo.spec.accessFrom;
  if (!acl)
    throw denied(`access denied: '${where}' can't be accessed due to missing ACL labels on 'accessFrom'`);
  const namespace = await ctx.client.get({ apiVersion: 'v1', kind: 'Namespace', name: ns });
  const labels = namespace.metadata.labels ?? {};
  const selected = acl.namespaceSelectors.some((sel) =>
    Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
  );
  if (!selected)
    throw denied(
      `access denied: '${where}' can't be accessed due to ACL labels mismatch on namespace '${ns}'`,
    );
}

/** The ImageRepository from the cache; missing is Ready=False DependencyNotReady (retried). */
function repositoryOf(obj: ImagePolicy, ctx: ReconcileContext): ImageRepository {
  const key = repositoryKeyOf(obj);
  const repo = ctx.cached(ImageRepositoryKind, key) as ImageRepository | undefined;
  if (!repo) {
    const name = obj.spec.imageRepositoryRef.name;
    throw new GenericError(
      Reasons.DependencyNotReady,
      `failed to get the referred ImageRepository: referenced ImageRepository does not exist: ` +
        `imagerepositories.image.toolkit.fluxcd.io "${name}" not found`,
    );
  }
  return repo;
}

/** The digest of `tag` in the repository's registry, with the repository's credentials. */
async function fetchDigest(repo: ImageRepository, ctx: ReconcileContext, tag: string): Promise<string> {
  const name = imageNameOf(repo);
  const { client, signal } = clientOf(repo, name, await accessOf(repo, ctx, name.registry));
  try {
    const info = await client.headManifest(name.repository, tag, { signal });
    return info.digest;
  } catch (err) {
    throw new Error(`failed fetching descriptor for "${repo.spec.image}:${tag}": ${messageOf(err)}`);
  } finally {
    await client.close();
  }
}

/**
 * The new latestRef, fetching the digest as digestReflectionPolicy asks: never, once per tag
 * (IfNotPresent) or every time (Always). A failure is Ready=False Failed; the old latestRef stays.
 */
async function resolveRef(
  obj: ImagePolicy,
  repo: ImageRepository,
  ctx: ReconcileContext,
  tag: string,
): Promise<ImageRef> {
  const ref: ImageRef = { name: repo.spec.image, tag };
  const current = obj.status?.latestRef;
  const policy = obj.spec.digestReflectionPolicy ?? 'Never';
  const samePick = current?.name === ref.name && current.tag === ref.tag;
  if (policy === 'IfNotPresent' && samePick && current?.digest) return { ...ref, digest: current.digest };
  if (policy === 'Never') return ref;
  try {
    return { ...ref, digest: await fetchDigest(repo, ctx, tag) };
  } catch (err) {
    throw new GenericError(
      Reasons.Failed,
      `failed fetching digest of ${ref.name}:${ref.tag}: ${messageOf(err)}`,
    );
  }
}

/** Re-evaluate the policies of a repository whose scan found a different tag list. */
const scanChanged = (o: KubeObject, n: KubeObject) => {
  const next = (n as ImageRepository).status?.lastScanResult;
  const prev = (o as ImageRepository).status?.lastScanResult;
  return next !== undefined && (prev === undefined || prev.revision !== next.revision);
};

export function imagePolicyController(deps: ReflectorDeps) {
  return defineController<ImagePolicy>({
    name: 'imagepolicy',
    kind: ImagePolicyKind,
    conditionPolicy: { owned: [], negativePolarity: [] },
    watches: [
      {
        kind: ImageRepositoryKind,
        map: (repo, primary) =>
          primary
            .list()
            .filter((p) => repositoryKeyOf(p as ImagePolicy) === keyOf(repo))
            .map(keyOf),
        predicate: scanChanged,
      },
    ],

    /**
     * Sets only Ready (via the runner): Stalled IntervalNotConfigured, ImageURLInvalid or InvalidPolicy
     * for a spec that cannot work; Ready=False DependencyNotReady (repository missing, or no tags yet:
     * looked at again after --requeue-dependency), AccessDenied, Failure (no tag qualifies) or Failed
     * (digest); Ready=True "Latest image tag for … resolved to …". Emits an event when the pick changes.
     */
    async reconcile(obj, ctx) {
      if (obj.spec.digestReflectionPolicy === 'Always' && !obj.spec.interval) {
        throw new StallingError(
          Reasons.IntervalNotConfigured,
          "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
        );
      }
      const repo = repositoryOf(obj, ctx);
      await checkAccess(obj, repo, ctx, deps);
      imageNameOf(repo);
      let select: (tags: readonly string[]) => string;
      try {
        select = compilePolicy(obj.spec);
      } catch (err) {
        if (err instanceof InvalidPolicyError) throw new StallingError(Reasons.InvalidPolicy, err.message);
        throw err;
      }
      const tags = await deps.store.tags(repo.metadata.namespace ?? '', repo.metadata.name ?? '');
      if (tags.length === 0) {
        const wait = formatDuration(Math.round(deps.requeueDependencyMs / 1000) * 1000);
        throw new WaitingError(
          Reasons.DependencyNotReady,
          `retrying in ${wait} error: no tags in database`,
          deps.requeueDependencyMs,
        );
      }
      let tag: string;
      try {
        tag = select(tags);
      } catch (err) {
        throw new GenericError(Reasons.Failure, messageOf(err));
      }
      const latest = await resolveRef(obj, repo, ctx, tag);
      const current = obj.status?.latestRef;
      if (!current || !jsonEqual(current, latest)) {
        obj.status = {
          ...obj.status,
          ...(current ? { observedPreviousRef: current } : {}),
          latestRef: latest,
        };
        ctx.event('Normal', Reasons.Succeeded, readyMessageOf(obj));
      }
      return { readyMessage: readyMessageOf(obj) };
    },
  });
}
