// Manifest media types and shapes the client accepts: OCI image manifest and index, Docker v2
// schema 2 manifest and manifest list. Schema 1 (signed, pre-2016) is refused.
import { OciError } from './errors.ts';
import { parseDigest } from './reference.ts';

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

/** Sent as Accept on manifest requests, preferred first. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
];

/** Registries must accept manifests of at least 4 MiB; larger ones are refused rather than buffered. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Platform;
  urls?: string[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

export function isIndex(m: ImageManifest | ImageIndex): m is ImageIndex {
  return Array.isArray((m as ImageIndex).manifests);
}

function invalid(what: string, why: string): OciError {
  return new OciError('InvalidManifest', `${what}: ${why}`);
}

function checkDescriptor(d: unknown, what: string): Descriptor {
  if (typeof d !== 'object' || d === null) throw invalid(what, 'descriptor is not an object');
  const desc = d as Partial<Descriptor>;
  if (typeof desc.mediaType !== 'string') throw invalid(what, 'descriptor has no mediaType');
  if (typeof desc.size !== 'number' || !Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw invalid(what, 'descriptor has no valid size');
  }
  if (typeof desc.digest !== 'string') throw invalid(what, 'descriptor has no digest');
  try {
    parseDigest(desc.digest);
  } catch (e) {
    throw invalid(what, (e as Error).message);
  }
  return desc as Descriptor;
}

/** The media type a manifest document is: the response's Content-Type, its own field, or its shape. */
function manifestType(m: Record<string, unknown>, contentType: string, what: string): string {
  let type = MANIFEST_MEDIA_TYPES.includes(contentType) ? contentType : '';
  if (type === '' && typeof m.mediaType === 'string') type = m.mediaType;
  // OCI documents may omit mediaType; their shape tells which one it is.
  if (type === '' && m.schemaVersion === 2) {
    type = Array.isArray(m.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  }
  if (!MANIFEST_MEDIA_TYPES.includes(type)) {
    throw new OciError(
      'UnsupportedMediaType',
      `${what}: unsupported manifest media type "${type || contentType || 'unknown'}" (schema ${String(m.schemaVersion)}); ` +
        `expected one of ${MANIFEST_MEDIA_TYPES.join(', ')}`,
    );
  }
  return type;
}

/**
 * Decodes a manifest and checks its shape. `contentType` is the response's, or empty to take the
 * document's own `mediaType`. Returns the media type it was decoded as.
 */
export function decodeManifest(
  bytes: Uint8Array,
  contentType: string,
  what: string,
): { mediaType: string; manifest: ImageManifest | ImageIndex } {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw invalid(what, 'not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid(what, 'not a JSON object');
  const m = doc as Record<string, unknown>;
  const mediaType = manifestType(m, contentType, what);
  if (m.schemaVersion !== 2) throw invalid(what, `schemaVersion ${String(m.schemaVersion)}, expected 2`);
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(m.manifests)) throw invalid(what, 'index has no manifests list');
    for (const [i, d] of m.manifests.entries()) checkDescriptor(d, `${what} manifests[${i}]`);
  } else {
    checkDescriptor(m.config, `${what} config`);
    if (!Array.isArray(m.layers)) throw invalid(what, 'manifest has no layers list');
    for (const [i, d] of m.layers.entries()) checkDescriptor(d, `${what} layers[${i}]`);
  }
  return { mediaType, manifest: doc as ImageManifest | ImageIndex };
}

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

/**
 * Picks the child of an index for `platform` (linux/amd64 by default); without a match, the first
 * image manifest, and `matched` says so. Throws when the index lists no image manifest at all.
 */
export function pickPlatform(
  index: ImageIndex,
  platform: Platform = DEFAULT_PLATFORM,
): { descriptor: Descriptor; matched: boolean } {
  const images = index.manifests.filter((d) => isManifestMediaType(d.mediaType));
  const match = images.find(
    (d) =>
      d.platform?.os === platform.os &&
      d.platform.architecture === platform.architecture &&
      (platform.variant === undefined || d.platform.variant === platform.variant),
  );
  if (match) return { descriptor: match, matched: true };
  const first = images[0];
  if (!first) throw invalid('index', 'lists no image manifest');
  return { descriptor: first, matched: false };
}

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return 'unknown platform';
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}
