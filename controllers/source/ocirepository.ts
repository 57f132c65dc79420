// OCIRepository: turns an artifact of an OCI registry (a tag, the highest tag in a semver range, or a
// digest) into a source artifact. Steps, as Flux's reconciler: storage → source (the ref is resolved to
// a digest first; nothing is pulled when that revision is the stored one and neither the layer selector
// nor the ignore rules changed) → artifact (the selected layer extracted and re-archived with the ignore
// rules, or stored as is for `operation: copy`).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OCIRepositoryKind } from '../api/kinds.ts';
import type { Artifact } from '../api/meta.ts';
import { ConditionTypes, EventMetadata, Reasons } from '../api/names.ts';
import type { OCIRepository } from '../api/source.ts';
import { extractTarGz } from '../runtime/artifact/extract.ts';
import { deleteCondition, markTrue } from '../runtime/conditions.ts';
import { parseDuration } from '../runtime/duration.ts';
import type { UnsupportedField } from '../runtime/fields.ts';
import type { ProxyConfig } from '../runtime/http.ts';
import { proxyFromSecret, tlsFromSecret } from '../runtime/http-secrets.ts';
import { jsonEqual } from '../runtime/object.ts';
import {
  Annotation,
  digestOfRevision,
  formatRevision,
  type PulledArtifact,
  pullArtifact,
  type RefSelection,
  selectRef,
  selectSemverTag,
} from '../runtime/oci/artifact.ts';
import type { Credentials } from '../runtime/oci/auth.ts';
import { createRegistryClient, type RegistryClient } from '../runtime/oci/client.ts';
import { isOciError } from '../runtime/oci/errors.ts';
import { parseOciUrl, type RepositoryName } from '../runtime/oci/reference.ts';
import { credentialsFor, pullSecrets } from '../runtime/pullsecrets.ts';
import { defineController, type ReconcileContext } from '../runtime/reconciler.ts';
import { readSecret } from '../runtime/secrets.ts';
import {
  clearFetchFailed,
  fetchFailed,
  markArtifactStored,
  reconcileStorage,
  recordNewArtifact,
  type SourceDeps,
  sourceConditionPolicy,
  storageFailed,
} from './common.ts';
import { buildIgnoreFilter } from './sourceignore.ts';

const kindName = 'ocirepository';
const userAgent = 'tide-source-controller';

interface Target extends RepositoryName {
  ref: RefSelection;
}

interface Resolved {
  digest: string;
  /** `<tag>@sha256:<hex>`, or the digest alone for a digest ref. */
  revision: string;
  /** The reference as a person reads it: `host/repo:tag` or `host/repo@sha256:…`. */
  image: string;
}

interface Access {
  credentials?: Credentials;
  caCert?: Buffer;
  clientCert?: Buffer;
  clientKey?: Buffer;
  proxy?: ProxyConfig;
}

/** What Tide does not implement: the runner stalls an object setting them (UnsupportedField). */
export const ociRepositoryUnsupportedFields: readonly UnsupportedField[] = [
  {
    path: 'spec.provider',
    allowed: ['generic'],
    why:
      'cloud workload identity is not implemented; use provider generic with spec.secretRef ' +
      '(a kubernetes.io/dockerconfigjson Secret) or spec.serviceAccountName with imagePullSecrets',
  },
  {
    path: 'spec.verify',
    why: 'signature verification (cosign, notation) is not implemented; remove spec.verify to use the artifact unverified',
  },
];

/** Ready and ArtifactInStorage message (Flux's wording for OCIRepository). */
const storedMessage = (revision: string) => `stored artifact for digest '${revision}'`;

/**
 * Whether what shapes the artifact besides the revision changed since it was built (Flux's
 * ociContentConfigChanged): `spec.ignore` against `status.observedIgnore`, `spec.layerSelector` against
 * `status.observedLayerSelector`. A change rebuilds the artifact from the same revision.
 */
export function contentConfigChanged(obj: Pick<OCIRepository, 'spec' | 'status'>): boolean {
  return (
    obj.spec.ignore !== obj.status?.observedIgnore ||
    !jsonEqual(obj.spec.layerSelector, obj.status?.observedLayerSelector)
  );
}

/** The URL and ref, checked before any request; a malformed one stalls until the spec changes. */
function parseTarget(obj: OCIRepository): Target {
  let name: RepositoryName;
  try {
    name = parseOciUrl(obj.spec.url);
  } catch (err) {
    if (!isOciError(err)) throw err;
    const message = `URL validation failed for '${obj.spec.url}': ${err.message}`;
    throw fetchFailed(obj, Reasons.URLInvalid, message, true);
  }
  try {
    return { ...name, ref: selectRef(obj.spec.ref) };
  } catch (err) {
    if (!isOciError(err)) throw err;
    const message = `failed to determine the artifact tag for '${obj.spec.url}': ${err.message}`;
    throw fetchFailed(obj, Reasons.ReadOperationFailed, message, true);
  }
}

/**
 * Credentials (pull secrets), the proxy of proxySecretRef and the TLS material of certSecretRef.
 * Sets FetchFailed=True AuthenticationFailed when a Secret is missing or unusable.
 */
async function registryAccess(obj: OCIRepository, ctx: ReconcileContext, registry: string): Promise<Access> {
  const access: Access = {};
  const namespace = obj.metadata.namespace ?? '';
  try {
    const secrets = await pullSecrets(ctx.client, {
      namespace,
      secretRef: obj.spec.secretRef,
      serviceAccountName: obj.spec.serviceAccountName,
    });
    access.credentials = credentialsFor(secrets, registry);
  } catch (err) {
    const message = `failed to get credential: ${(err as Error).message}`;
    throw fetchFailed(obj, Reasons.AuthenticationFailed, message);
  }
  const proxyRef = obj.spec.proxySecretRef?.name;
  if (proxyRef) {
    try {
      access.proxy = proxyFromSecret(
        await readSecret(ctx.client, namespace, proxyRef),
        `${namespace}/${proxyRef}`,
      );
    } catch (err) {
      const message = `failed to get proxy address: ${(err as Error).message}`;
      throw fetchFailed(obj, Reasons.AuthenticationFailed, message);
    }
  }
  const certRef = obj.spec.certSecretRef?.name;
  if (certRef) {
    try {
      const tls = tlsFromSecret(await readSecret(ctx.client, namespace, certRef), `${namespace}/${certRef}`);
      Object.assign(access, {
        caCert: tls.ca as Buffer | undefined,
        clientCert: tls.cert as Buffer | undefined,
        clientKey: tls.key as Buffer | undefined,
      });
    } catch (err) {
      const message = `failed to generate transport for '${obj.spec.url}': ${(err as Error).message}`;
      throw fetchFailed(obj, Reasons.AuthenticationFailed, message);
    }
  }
  return access;
}

/**
 * FetchFailed for a registry failure: refused credentials are AuthenticationFailed, anything else
 * `reason`. Errors other than the OCI client's (bugs) are passed through.
 */
function registryFailed(obj: OCIRepository, err: unknown, reason: string, prefix: string): unknown {
  if (!isOciError(err)) return err;
  const auth = err.code === 'Unauthorized' || err.code === 'InvalidCredentials';
  return fetchFailed(obj, auth ? Reasons.AuthenticationFailed : reason, `${prefix}: ${err.message}`);
}

/**
 * The source step's cheap half: the digest the ref names now. A digest ref needs no request; a tag
 * costs a HEAD; a semver ref lists the tags first.
 */
async function resolve(
  obj: OCIRepository,
  client: RegistryClient,
  target: Target,
  signal: AbortSignal,
): Promise<Resolved> {
  const { ref, repository } = target;
  const name = `${target.registry}/${repository}`;
  if (ref.kind === 'digest')
    return { digest: ref.digest, revision: ref.digest, image: `${name}@${ref.digest}` };
  let tag: string | undefined = ref.kind === 'tag' ? ref.tag : undefined;
  if (ref.kind === 'semver') {
    const prefix = `failed to determine the artifact tag for '${obj.spec.url}'`;
    try {
      tag = selectSemverTag(await client.listTags(repository, { signal }), ref.range, ref.filter);
    } catch (err) {
      throw registryFailed(obj, err, Reasons.ReadOperationFailed, prefix);
    }
    if (!tag) {
      const filtered = ref.filter ? ` among the tags matching '${ref.filter}'` : '';
      const message = `${prefix}: no match found for semver: ${ref.range}${filtered}`;
      throw fetchFailed(obj, Reasons.ReadOperationFailed, message);
    }
  }
  const found = tag ?? 'latest';
  try {
    const { digest } = await client.headManifest(repository, found, { signal });
    return { digest, revision: formatRevision(found, digest), image: `${name}:${found}` };
  } catch (err) {
    throw registryFailed(obj, err, Reasons.OCIArtifactPullFailed, 'failed to determine artifact digest');
  }
}

/** Downloads the selected layer blob (digest and size checked, at most maxBytes) into `dir`. */
async function pullLayer(
  obj: OCIRepository,
  client: RegistryClient,
  target: Target,
  resolved: Resolved,
  opts: { dir: string; maxBytes: number; signal: AbortSignal },
): Promise<PulledArtifact> {
  const mediaType = obj.spec.layerSelector?.mediaType;
  try {
    // Always fetched as a blob: extraction happens here, with the storage's safe extractor and limits.
    return await pullArtifact(client, target.repository, resolved, opts.dir, {
      layerSelector: { ...(mediaType ? { mediaType } : {}), operation: 'copy' },
      maxBytes: opts.maxBytes,
      signal: opts.signal,
    });
  } catch (err) {
    if (isOciError(err, 'NotFound') && (err as { subject?: string }).subject === 'layer') {
      throw fetchFailed(obj, Reasons.OCIArtifactLayerOperationFailed, err.message);
    }
    throw registryFailed(
      obj,
      err,
      Reasons.OCIArtifactPullFailed,
      `failed to pull artifact from '${obj.spec.url}'`,
    );
  }
}

/**
 * The artifact step: stores the layer blob as is (`copy`) or extracts it and archives the tree with
 * the ignore rules (`extract`). Sets FetchFailed (the layer cannot be extracted) or
 * StorageOperationFailed on failure.
 */
async function storeLayer(
  obj: OCIRepository,
  deps: SourceDeps,
  layer: string,
  target: ReturnType<SourceDeps['storage']['artifactFor']>,
  work: string,
): Promise<Artifact> {
  const { storage } = deps;
  if (obj.spec.layerSelector?.operation === 'copy') {
    clearFetchFailed(obj);
    try {
      return await storage.copyFromPath(target, layer);
    } catch (err) {
      const message = `unable to copy artifact to storage: ${(err as Error).message}`;
      throw storageFailed(obj, Reasons.ArchiveOperationFailed, message);
    }
  }
  const content = join(work, 'content');
  try {
    await extractTarGz(layer, content, { maxBytes: deps.maxSourceBytes });
  } catch (err) {
    const message = `failed to extract layer contents from artifact: ${(err as Error).message}`;
    throw fetchFailed(obj, Reasons.OCIArtifactLayerOperationFailed, message);
  }
  clearFetchFailed(obj);
  try {
    return await storage.archive(target, content, await buildIgnoreFilter(content, obj.spec.ignore));
  } catch (err) {
    const message = `unable to archive artifact to storage: ${(err as Error).message}`;
    throw storageFailed(obj, Reasons.ArchiveOperationFailed, message);
  }
}

/** Flux's NewArtifact text, with the origin when the artifact carries `flux push artifact` annotations. */
function newArtifactMessage(obj: OCIRepository, artifact: Artifact): string {
  const message = `stored artifact with revision '${artifact.revision}' from '${obj.spec.url}'`;
  const source = artifact.metadata?.[Annotation.source];
  const revision = artifact.metadata?.[Annotation.revision];
  return source && revision
    ? `${message}, origin source '${source}', origin revision '${revision}'`
    : message;
}

const eventMetadata = (artifact: Artifact) => ({
  [EventMetadata.sourceRevision]: artifact.revision,
  [EventMetadata.sourceDigest]: artifact.digest,
});

/**
 * Pulls the layer, stores it and records the artifact with the manifest annotations as its metadata,
 * the observed ignore and layer selector; emits NewArtifact when the digest changed.
 */
async function buildArtifact(
  obj: OCIRepository,
  ctx: ReconcileContext,
  deps: SourceDeps,
  src: { client: RegistryClient; target: Target; resolved: Resolved; signal: AbortSignal },
): Promise<Artifact> {
  const { storage } = deps;
  const work = await mkdtemp(join(tmpdir(), 'tide-ocirepo-'));
  try {
    const pulled = await pullLayer(obj, src.client, src.target, src.resolved, {
      dir: join(work, 'layer'),
      maxBytes: deps.maxSourceBytes,
      signal: src.signal,
    });
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const revision = src.resolved.revision;
    // Flux names the file after the digest: `sha256:<hex>.tar.gz`, for extract and copy alike.
    const file = `${digestOfRevision(revision)}.tar.gz`;
    const stored = await storeLayer(
      obj,
      deps,
      pulled.path,
      storage.artifactFor(kindName, ns, name, revision, file),
      work,
    );
    const metadata = Object.keys(pulled.metadata).length > 0 ? { metadata: pulled.metadata } : {};
    const artifact: Artifact = { ...stored, ...metadata };
    obj.status = {
      ...obj.status,
      observedIgnore: obj.spec.ignore,
      observedLayerSelector: obj.spec.layerSelector,
    };
    await recordNewArtifact(obj, ctx, deps, {
      kind: kindName,
      artifact,
      stored: { message: storedMessage(revision) },
      event: { message: newArtifactMessage(obj, artifact), metadata: eventMetadata(artifact) },
    });
    return artifact;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function ociRepositoryController(deps: SourceDeps) {
  const { storage } = deps;
  return defineController<OCIRepository>({
    name: kindName,
    kind: OCIRepositoryKind,
    conditionPolicy: sourceConditionPolicy,
    unsupportedFields: ociRepositoryUnsupportedFields,

    /**
     * Sets ArtifactInStorage, ArtifactOutdated, FetchFailed and StorageOperationFailed, and removes
     * SourceVerified (nothing is verified: spec.verify is refused); the runner derives Ready from them
     * and the thrown outcome. The previous artifact stays on failure.
     */
    async reconcile(obj, ctx) {
      await reconcileStorage(obj, storage, kindName, deps.gc);
      const target = parseTarget(obj);
      deleteCondition(obj, ConditionTypes.SourceVerified);
      const access = await registryAccess(obj, ctx, target.registry);
      const timeoutMs = parseDuration(obj.spec.timeout ?? '60s');
      // One deadline for the whole source step (resolve and pull), as Flux's context timeout.
      const signal = AbortSignal.timeout(timeoutMs);
      const client = createRegistryClient({
        registry: target.registry,
        insecure: obj.spec.insecure ?? false,
        timeoutMs,
        userAgent,
        ...access,
      });
      try {
        const resolved = await resolve(obj, client, target, signal);
        const current = obj.status?.artifact;
        if (current?.revision === resolved.revision && !contentConfigChanged(obj)) {
          clearFetchFailed(obj);
          markArtifactStored(obj, current, storedMessage(current.revision));
          return { readyMessage: storedMessage(current.revision) };
        }
        if (current && current.revision !== resolved.revision) {
          markTrue(
            obj,
            ConditionTypes.ArtifactOutdated,
            Reasons.NewRevision,
            `new revision '${resolved.revision}' for '${resolved.image}'`,
          );
        }
        const artifact = await buildArtifact(obj, ctx, deps, { client, target, resolved, signal });
        return { readyMessage: storedMessage(artifact.revision), eventMetadata: eventMetadata(artifact) };
      } finally {
        await client.close();
      }
    },

    async finalize(obj) {
      await storage.removeAll(kindName, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
    },
  });
}
