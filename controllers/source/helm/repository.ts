// Fetching a Helm repository index: what the HelmRepository reconciler (type default) stores as its
// artifact. Following Flux (source-controller HelmRepositoryReconciler), the revision is the digest
// of the index bytes as served, and the stored file `index-<hex>.yaml` holds the validated,
// sorted index as JSON (see serializeIndex).
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { HelmError, HelmErrorCode } from '../../runtime/helm/errors.ts';
import { type HelmHttpOptions, httpGet, parseHttpUrl, redactUrl } from './http.ts';
import { type HelmIndex, MAX_INDEX_BYTES, parseIndex, serializeIndex } from './index.ts';

export interface FetchIndexOptions extends HelmHttpOptions {
  /** Size cap of index.yaml; MAX_INDEX_BYTES (50 MiB) when unset. */
  maxBytes?: number;
}

export interface FetchedIndex {
  /** The index.yaml URL that was fetched. */
  url: string;
  /** The index as served. */
  bytes: Buffer;
  /** `sha256:<hex>` of `bytes`: the HelmRepository artifact revision. */
  digest: string;
  index: HelmIndex;
}

/** `<url>/index.yaml`, with a trailing slash or none, keeping the query string. */
export function indexUrl(repoUrl: string): string {
  const u = parseHttpUrl(repoUrl, 'repository');
  u.pathname = posix.join(u.pathname || '/', 'index.yaml');
  return u.toString();
}

/** Downloads and parses a repository index; throws HelmError (see errors.ts for the codes). */
export async function fetchIndex(repoUrl: string, opts: FetchIndexOptions = {}): Promise<FetchedIndex> {
  const url = indexUrl(repoUrl);
  const bytes = await httpGet({
    ...opts,
    url,
    repoUrl,
    maxBytes: opts.maxBytes ?? MAX_INDEX_BYTES,
    subject: 'repository index',
    notFound: 'no index.yaml at',
  });
  let index: HelmIndex;
  try {
    index = parseIndex(bytes, redactUrl(url));
  } catch (err) {
    if (err instanceof HelmError) throw err;
    throw new HelmError(HelmErrorCode.InvalidIndex, `failed to load ${redactUrl(url)}: ${err}`, {
      cause: err,
    });
  }
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  return { url, bytes, digest, index };
}

export interface IndexArtifact {
  /** Artifact revision: the digest of the index as served. */
  revision: string;
  /** `index-<hex>.yaml`. */
  fileName: string;
  /** What to store: the normalized index. */
  data: Buffer;
}

/** The HelmRepository artifact for a fetched index. */
export function indexArtifact(fetched: FetchedIndex): IndexArtifact {
  const hex = fetched.digest.slice('sha256:'.length);
  return { revision: fetched.digest, fileName: `index-${hex}.yaml`, data: serializeIndex(fetched.index) };
}
