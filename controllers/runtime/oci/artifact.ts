// Flux's OCIRepository semantics on top of the registry client (SC internal/controller/
// ocirepository_controller.go): which artifact `spec.ref` names and its revision string, which
// layer `spec.layerSelector` picks and what happens to it, and pushing artifacts the way
// `flux push artifact` lays them out.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExtractOptions, extractTarGz as extractArtifact } from '../artifact/extract.ts';
import { type Constraint, highestMatch, parseConstraint } from '../semver.ts';
import type { RegistryClient, RequestOptions } from './client.ts';
import { OciNotFoundError, OciReferenceError } from './errors.ts';
import {
  type Descriptor,
  formatPlatform,
  type ImageManifest,
  isIndex,
  MediaType,
  type Platform,
  pickPlatform,
} from './manifest.ts';
import { computeDigest, isValidTag, parseDigest } from './reference.ts';

export const FluxMediaType = {
  /** The layer `flux push artifact` writes: a tar.gz of the pushed directory. */
  content: 'application/vnd.cncf.flux.content.v1.tar+gzip',
  config: 'application/vnd.cncf.flux.config.v1+json',
} as const;

/** OpenContainers annotations Flux writes on push and copies into `status.artifact.metadata`. */
export const Annotation = {
  created: 'org.opencontainers.image.created',
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
} as const;

export const DEFAULT_TAG = 'latest';

/** OCIRepository `spec.ref`. */
export interface OciRepositoryRef {
  digest?: string;
  semver?: string;
  semverFilter?: string;
  tag?: string;
}

export type RefSelection =
  | { kind: 'digest'; digest: string }
  | { kind: 'semver'; range: string; filter?: string }
  | { kind: 'tag'; tag: string };

/**
 * Applies Flux's precedence `digest > semver > tag`, `latest` when none is set, and checks the chosen
 * field (a bad digest, range or filter is a spec error, found before any request).
 */
export function selectRef(ref: OciRepositoryRef = {}): RefSelection {
  if (ref.digest) {
    parseDigest(ref.digest);
    return { kind: 'digest', digest: ref.digest };
  }
  if (ref.semver) {
    parseRange(ref.semver);
    if (ref.semverFilter) filterRegExp(ref.semverFilter);
    return { kind: 'semver', range: ref.semver, ...(ref.semverFilter ? { filter: ref.semverFilter } : {}) };
  }
  const tag = ref.tag || DEFAULT_TAG;
  if (!isValidTag(tag)) throw new OciReferenceError(`invalid tag "${tag}" in spec.ref.tag`);
  return { kind: 'tag', tag };
}

/** Flux's artifact revision: `<tag>@sha256:<hex>`, or the digest alone when no tag was resolved. */
export function formatRevision(tag: string | undefined, digest: string): string {
  return tag ? `${tag}@${digest}` : digest;
}

/** The digest part of a revision (`latest@sha256:…` → `sha256:…`). */
export function digestOfRevision(revision: string): string {
  return revision.slice(revision.lastIndexOf('@') + 1);
}

// Flux's ranges are Masterminds constraints (`,` for AND, pre-releases only for a group naming one).
function parseRange(expr: string): Constraint {
  try {
    return parseConstraint(expr);
  } catch (err) {
    throw new OciReferenceError(`semver '${expr}' parse error: ${(err as Error).message}`);
  }
}

function filterRegExp(filter: string): RegExp {
  try {
    return new RegExp(filter);
  } catch {
    throw new OciReferenceError(`semverFilter '${filter}' is not a valid regular expression`);
  }
}

/**
 * The tag with the highest version within `range` among the tags matching `filter` (an unanchored
 * regular expression), as Flux's getTagBySemver: tags are strict SemVer with an optional `v`.
 * Undefined when none matches.
 */
export function selectSemverTag(tags: readonly string[], range: string, filter?: string): string | undefined {
  const constraint = parseRange(range);
  return highestMatch(tags, constraint, {
    ...(filter ? { filter: filterRegExp(filter) } : {}),
    // Equal versions (`v1.0.0`, `1.0.0`): the lexically smaller tag, so the choice is stable.
    tieBreak: (a, b) => (a < b ? 1 : a > b ? -1 : 0),
  })?.tag;
}

export interface ResolvedArtifactRef {
  /** The tag read (the semver match, the tag, `latest`); absent for a digest ref. */
  tag?: string;
  digest: string;
  /** Flux's revision: `<tag>@sha256:<hex>`, or `sha256:<hex>` for a digest ref. */
  revision: string;
}

/**
 * Resolves `spec.ref` to a digest and revision. A digest ref needs no request (as Flux); a tag costs
 * one HEAD; semver lists the tags first. A controller compares the revision with its artifact's
 * to skip the download when nothing changed.
 */
export async function resolveArtifactRef(
  client: RegistryClient,
  repository: string,
  ref?: OciRepositoryRef,
  opts?: RequestOptions,
): Promise<ResolvedArtifactRef> {
  const sel = selectRef(ref);
  if (sel.kind === 'digest') return { digest: sel.digest, revision: sel.digest };
  let tag: string;
  if (sel.kind === 'semver') {
    const tags = await client.listTags(repository, opts);
    const found = selectSemverTag(tags, sel.range, sel.filter);
    if (!found) {
      const filtered = sel.filter ? ` among the tags matching '${sel.filter}'` : '';
      throw new OciNotFoundError(
        'semver',
        `no tag of ${client.registry}/${repository} matches semver '${sel.range}'${filtered}`,
      );
    }
    tag = found;
  } else {
    tag = sel.tag;
  }
  const { digest } = await client.headManifest(repository, tag, opts);
  return { tag, digest, revision: formatRevision(tag, digest) };
}

/** OCIRepository `spec.layerSelector`. */
export interface LayerSelector {
  mediaType?: string;
  operation?: 'extract' | 'copy';
}

/** The first layer with the selector's media type, or (as Flux, without one) the first layer. */
export function selectLayer(manifest: ImageManifest, selector?: LayerSelector): Descriptor {
  if (manifest.layers.length === 0) throw new OciNotFoundError('layer', 'no layers found in artifact');
  const mediaType = selector?.mediaType;
  if (!mediaType) return manifest.layers[0]!;
  const layer = manifest.layers.find((l) => l.mediaType === mediaType);
  if (!layer)
    throw new OciNotFoundError('layer', `failed to find layer with media type '${mediaType}' in artifact`);
  return layer;
}

export interface PullOptions extends RequestOptions {
  layerSelector?: LayerSelector;
  /** Refuse a layer blob larger than this. */
  maxBytes?: number;
  /** Platform to pick from an index; linux/amd64 by default. */
  platform?: Platform;
}

export interface PulledArtifact {
  revision: string;
  /** The digest the ref resolved to (an index's digest when the artifact is multi-platform). */
  digest: string;
  /** The image manifest the layer came from. */
  manifestDigest: string;
  /** When `digest` named an index: the child chosen, and whether it matched the platform or was the first. */
  fromIndex?: { platform: string; matched: boolean };
  /** Manifest annotations: Flux stores them as `status.artifact.metadata`. */
  metadata: Record<string, string>;
  layer: Descriptor;
  operation: 'extract' | 'copy';
  /** `extract`: the directory the layer was unpacked into; `copy`: the layer file (`<hex>.tgz` in `dir`). */
  path: string;
}

/**
 * Unpacks a tar.gz into `dir` with the artifact extractor's rules and limits (no `..` or absolute
 * paths, symlinks and hard links skipped, devices refused, size, entry and inflation caps), as Flux.
 */
export async function extractTarGz(file: string, dir: string, opts: ExtractOptions = {}): Promise<void> {
  await extractArtifact(file, dir, opts);
}

/**
 * Downloads the artifact `resolved` names into `dir`: its manifest (following an index to the
 * platform's image), the selected layer with digest and size checks, then extracts it (`extract`,
 * the default) or keeps the blob as is (`copy`).
 */
export async function pullArtifact(
  client: RegistryClient,
  repository: string,
  resolved: { digest: string; revision: string },
  dir: string,
  opts: PullOptions = {},
): Promise<PulledArtifact> {
  let fetched = await client.getManifest(repository, resolved.digest, opts);
  let fromIndex: PulledArtifact['fromIndex'];
  if (isIndex(fetched.manifest)) {
    const { descriptor, matched } = pickPlatform(fetched.manifest, opts.platform);
    fromIndex = { platform: formatPlatform(descriptor.platform), matched };
    fetched = await client.getManifest(repository, descriptor.digest, opts);
    if (isIndex(fetched.manifest)) {
      throw new OciNotFoundError(
        'platform',
        `index ${resolved.digest} nests another index; no image manifest`,
      );
    }
  }
  const manifest = fetched.manifest as ImageManifest;
  const layer = selectLayer(manifest, opts.layerSelector);
  const operation = opts.layerSelector?.operation ?? 'extract';
  await mkdir(dir, { recursive: true });
  const blobOpts = {
    size: layer.size,
    ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  let path: string;
  if (operation === 'copy') {
    path = join(dir, `${parseDigest(resolved.digest).hex}.tgz`);
    await client.fetchBlob(repository, layer.digest, path, blobOpts);
  } else {
    // Downloaded outside `dir`, so that the blob never ends up in the extracted tree.
    const tmp = await mkdtemp(join(tmpdir(), 'tide-oci-'));
    try {
      const file = join(tmp, 'layer.tgz');
      await client.fetchBlob(repository, layer.digest, file, blobOpts);
      await extractTarGz(file, dir);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    path = dir;
  }
  return {
    revision: resolved.revision,
    digest: resolved.digest,
    manifestDigest: fetched.digest,
    ...(fromIndex ? { fromIndex } : {}),
    metadata: { ...(manifest.annotations ?? {}) },
    layer,
    operation,
    path,
  };
}

export interface PushArtifactOptions extends RequestOptions {
  /** The layer content, a tar.gz for Flux's content media type. */
  layer: Uint8Array;
  layerMediaType?: string;
  /** Manifest annotations, e.g. `Annotation.source` / `Annotation.revision`. */
  annotations?: Record<string, string>;
  /** Config blob; `{}` under Flux's config media type by default. */
  config?: { mediaType: string; data: Uint8Array };
  /** Tags to put the manifest under; none pushes it by digest only. */
  tags?: string[];
}

/** Pushes a single-layer artifact laid out as `flux push artifact` does; returns the manifest digest. */
export async function pushArtifact(
  client: RegistryClient,
  repository: string,
  opts: PushArtifactOptions,
): Promise<{ digest: string; manifest: ImageManifest }> {
  const req = opts.signal ? { signal: opts.signal } : {};
  const config = opts.config ?? { mediaType: FluxMediaType.config, data: Buffer.from('{}') };
  const configBlob = await client.pushBlob(repository, config.data, req);
  const layerBlob = await client.pushBlob(repository, opts.layer, req);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: config.mediaType, digest: configBlob.digest, size: configBlob.size },
    layers: [{ mediaType: opts.layerMediaType ?? FluxMediaType.content, ...layerBlob }],
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = computeDigest(bytes);
  const refs = opts.tags && opts.tags.length > 0 ? opts.tags : [digest];
  for (const ref of refs) await client.pushManifest(repository, ref, bytes, req);
  return { digest, manifest };
}
