// ImageRepository: lists the tags of an image repository through the OCI distribution API (pages
// and the registry's Bearer or Basic challenge followed by the client), drops those the exclusion
// list matches, stores the rest per repository on disk and records what the scan found. A scan runs
// when the object is new or changed, when asked (reconcile.fluxcd.io/requestedAt), when the store
// lost the tags, and otherwise once per spec.interval since the last scan time, so a restarted
// controller does not rescan every repository at once.

import type { ImageRepository } from '../api/image.ts';
import { ImageRepositoryKind } from '../api/kinds.ts';
import { Annotations, Reasons } from '../api/names.ts';
import { parseDuration } from '../runtime/duration.ts';
import { GenericError, messageOf, StallingError } from '../runtime/errors.ts';
import { defineController, type ReconcileContext } from '../runtime/reconciler.ts';
import { goRegExp } from './goregexp.ts';
import {
  connectRegistry,
  type ImageName,
  parseImage,
  type RegistryAccess,
  registryAccess,
} from './registry.ts';
import type { TagStore } from './tagstore.ts';

export const defaultExclusionList = ['^.*\\.sig$'];
const latestTagsCount = 10;
const userAgent = 'tide-image-reflector-controller';

export interface ReflectorDeps {
  store: TagStore;
  /** How long an ImagePolicy waits for tags before it looks again (--requeue-dependency). */
  requeueDependencyMs: number;
  /** --no-cross-namespace-refs: an ImagePolicy may only use an ImageRepository of its namespace. */
  noCrossNamespaceRefs: boolean;
}

/** spec.exclusionList, or Flux's default when unset. */
export const exclusionListOf = (obj: ImageRepository): string[] =>
  obj.spec.exclusionList ?? defaultExclusionList;

/** spec.timeout, else spec.interval; at least one second (Flux's GetTimeout). */
export const timeoutOf = (obj: ImageRepository): number =>
  Math.max(1000, parseDuration(obj.spec.timeout ?? obj.spec.interval));

/** The image name, or Stalled ImageURLInvalid: only a spec change can fix it. */
export function imageNameOf(obj: ImageRepository): ImageName {
  try {
    return parseImage(obj.spec.image);
  } catch (err) {
    throw new StallingError(Reasons.ImageURLInvalid, messageOf(err));
  }
}

/** Credentials and CA; a missing or unusable Secret is Ready=False AuthenticationFailed (retried). */
export async function accessOf(obj: ImageRepository, ctx: ReconcileContext, registry: string) {
  try {
    return await registryAccess(obj, ctx.client, registry);
  } catch (err) {
    throw new GenericError(
      Reasons.AuthenticationFailed,
      `failed to configure authentication options: ${messageOf(err)}`,
    );
  }
}

/**
 * A client of the repository's registry, and the signal that ends the operation at spec.timeout
 * (scan or digest lookup, as Flux's context timeout).
 */
export function clientOf(obj: ImageRepository, name: ImageName, access: RegistryAccess) {
  const timeoutMs = timeoutOf(obj);
  const insecure = obj.spec.insecure ?? false;
  const client = connectRegistry({ registry: name.registry, insecure, timeoutMs, userAgent, ...access });
  return { client, signal: AbortSignal.timeout(timeoutMs) };
}

/** Same members, in any order (Flux's isEqualSliceContent). */
const sameContent = (a: readonly string[], b: readonly string[] | undefined) =>
  b !== undefined && a.length === b.length && a.every((x) => b.includes(x));

/** Why to scan now, or how long until the next scan is due. */
async function scanDue(
  obj: ImageRepository,
  name: ImageName,
  store: TagStore,
  now: number,
): Promise<{ reason: string } | { waitMs: number }> {
  const last = obj.status?.lastScanResult;
  if (!last) return { reason: 'first scan' };
  const requested = obj.metadata.annotations?.[Annotations.reconcileRequestedAt];
  if (requested !== undefined && requested !== obj.status?.lastHandledReconcileAt)
    return { reason: 'reconcile requested' };
  if (name.canonical !== obj.status?.canonicalImageName) return { reason: 'new image name' };
  if (!sameContent(exclusionListOf(obj), obj.status?.observedExclusionList))
    return { reason: 'updated exclusion list' };
  if ((await store.tags(obj.metadata.namespace ?? '', obj.metadata.name ?? '')).length === 0)
    return { reason: 'no tags in database' };
  const waitMs = parseDuration(obj.spec.interval) - (now - Date.parse(last.scanTime ?? ''));
  return Number.isNaN(waitMs) || waitMs < 1000 ? { reason: 'triggered by interval' } : { waitMs };
}

/** The tags no exclusion pattern matches; a pattern that does not compile fails the scan. */
export function filterOutTags(tags: readonly string[], patterns: readonly string[]): string[] {
  const res = patterns.map((p) => {
    try {
      return goRegExp(p);
    } catch (err) {
      throw new Error(`failed to compile regex ${p}: ${messageOf(err)}`);
    }
  });
  return tags.filter((t) => !res.some((re) => re.test(t)));
}

/** Descending byte order, as Flux stores tags and picks latestTags. */
const descending = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

/** RFC 3339 with whole seconds, as metav1.Time serializes. */
export const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The scan: lists every tag, filters, stores and records lastScanResult. Failures (the registry,
 * refused credentials, a bad exclusion pattern) are Ready=False ReadOperationFailed "scan failed: …";
 * the stored tags and the last result stay.
 */
async function scan(
  obj: ImageRepository,
  ctx: ReconcileContext,
  deps: ReflectorDeps,
  name: ImageName,
  access: RegistryAccess,
): Promise<void> {
  const { client, signal } = clientOf(obj, name, access);
  try {
    const listed = await client.listTags(name.repository, { signal });
    const tags = filterOutTags(listed, exclusionListOf(obj)).sort(descending);
    const revision = await deps.store.setTags(obj.metadata.namespace ?? '', obj.metadata.name ?? '', tags);
    const latestTags = tags.slice(0, latestTagsCount);
    obj.status = {
      ...obj.status,
      lastScanResult: {
        revision,
        tagCount: tags.length,
        scanTime: rfc3339(ctx.now()),
        ...(latestTags.length > 0 ? { latestTags } : {}),
      },
    };
  } catch (err) {
    throw new GenericError(Reasons.ReadOperationFailed, `scan failed: ${messageOf(err)}`);
  } finally {
    await client.close();
  }
}

export function imageRepositoryController(deps: ReflectorDeps) {
  return defineController<ImageRepository>({
    name: 'imagerepository',
    kind: ImageRepositoryKind,
    // Flux's image reconcilers own only the kstatus trio.
    conditionPolicy: { owned: [], negativePolarity: [] },
    unsupportedFields: [
      {
        path: 'spec.provider',
        allowed: ['generic'],
        why: 'cloud workload identity needs a cloud; use spec.secretRef or spec.serviceAccountName with imagePullSecrets',
      },
      { path: 'spec.proxySecretRef', why: 'the registry client does not go through proxies yet' },
    ],

    /**
     * Sets only Ready (via the runner): Stalled ImageURLInvalid for a bad spec.image; Ready=False
     * AuthenticationFailed when a Secret cannot be used, ReadOperationFailed when the scan fails;
     * Ready=True "successful scan: found N tags with checksum sha256:…" otherwise. Requeues when the
     * next scan is due.
     */
    async reconcile(obj, ctx) {
      const name = imageNameOf(obj);
      const access = await accessOf(obj, ctx, name.registry);
      const due = await scanDue(obj, name, deps.store, ctx.now().getTime());
      if ('reason' in due) {
        ctx.log.info('scanning', { reason: due.reason, image: name.canonical });
        await scan(obj, ctx, deps, name, access);
      }
      obj.status = {
        ...obj.status,
        canonicalImageName: name.canonical,
        observedExclusionList: exclusionListOf(obj),
      };
      const result = obj.status.lastScanResult;
      return {
        readyMessage: `successful scan: found ${result?.tagCount ?? 0} tags with checksum ${result?.revision ?? ''}`,
        ...('waitMs' in due ? { requeueAfterMs: due.waitMs } : {}),
      };
    },

    async finalize(obj) {
      await deps.store.delete(obj.metadata.namespace ?? '', obj.metadata.name ?? '');
    },
  });
}
