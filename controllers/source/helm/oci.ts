// Charts in OCI registries (HelmRepository type oci, `oci://` chart dependencies), as Flux's
// OCIChartRepository over Helm's registry client: the chart `<name>` of repository URL `oci://host/path`
// is the OCI repository `host/path/<name>`, each chart version a tag (`+` written as `_`, tags cannot
// hold `+`), and the chart archive the manifest's chart layer.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryClient, RequestOptions } from '../../runtime/oci/client.ts';
import { isOciError } from '../../runtime/oci/errors.ts';
import { type ImageManifest, isIndex } from '../../runtime/oci/manifest.ts';
import { parseOciUrl, type RepositoryName } from '../../runtime/oci/reference.ts';
import {
  compareVersions,
  formatVersion,
  parseConstraint,
  parseStrictVersion,
  type SemVer,
} from '../../runtime/semver.ts';
import { MAX_CHART_BYTES } from './index.ts';

/** Helm's media types (helm.sh/helm/v4/pkg/registry/constants.go). */
export const HelmMediaType = {
  config: 'application/vnd.cncf.helm.config.v1+json',
  chart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  /** Still read, as Helm does. */
  legacyChart: 'application/tar+gzip',
} as const;

/** A chart version in an OCI registry, as Flux's OCIChartRepository.GetChartVersion returns it. */
export interface OciChartVersion {
  name: string;
  /** The version asked for when it is one, else the matching tag as Helm normalizes it. */
  version: string;
  /** `oci://host/path/<name>:<version>`, for messages. */
  url: string;
  /** Where to pull it from. */
  repository: RepositoryName;
  tag: string;
}

/** Flux's NormalizeURL for `oci://` URLs: trailing slashes go. */
export function normalizeOciUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * The OCI repository of chart `name` under the repository URL. Throws the reference parser's error
 * for a URL or name that makes no valid repository.
 */
export function ociChartRepository(
  repoUrl: string,
  name: string,
): { url: string; repository: RepositoryName } {
  const url = `${normalizeOciUrl(repoUrl)}/${name}`;
  return { url, repository: parseOciUrl(url) };
}

/**
 * The tags of a chart repository as chart versions, highest first, as Helm's registry client lists
 * them: `_` read as `+`, strict SemVer 2 only (no `v`), normalized.
 */
export function chartTagVersions(tags: readonly string[]): string[] {
  const versions: SemVer[] = [];
  for (const tag of tags) {
    const text = tag.replaceAll('_', '+');
    const v = text.startsWith('v') ? undefined : parseStrictVersion(text);
    if (v) versions.push(v);
  }
  return versions.sort((a, b) => compareVersions(b, a)).map(formatVersion);
}

/**
 * The version Flux's getLastMatchingVersionOrConstraint picks among `versions` (highest first): the
 * exact string first, then the highest version within the range (`*` when empty: the latest stable).
 * Throws with Flux's message when none matches or the range does not parse.
 */
export function matchChartVersion(versions: readonly string[], wanted: string): string {
  if (wanted !== '' && versions.includes(wanted)) return wanted;
  const constraint = parseConstraint(wanted === '' ? '*' : wanted);
  const match = versions.find((v) => {
    const parsed = parseStrictVersion(v);
    return parsed !== undefined && constraint.check(parsed);
  });
  if (match === undefined) {
    throw new Error(`could not locate a version matching provided version string ${wanted}`);
  }
  return match;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Flux's OCIChartRepository.GetChartVersion: a version string (strict SemVer, optional `v`) is
 * taken as is, without listing tags (a missing tag shows when pulling); a range is resolved against
 * the repository's tags. Errors carry Flux's messages; the caller prefixes them.
 */
export async function resolveOciChartVersion(
  client: RegistryClient,
  repoUrl: string,
  name: string,
  wanted: string,
  opts: RequestOptions = {},
): Promise<OciChartVersion> {
  const { url, repository } = ociChartRepository(repoUrl, name);
  const found = (version: string): OciChartVersion => ({
    name,
    version,
    url: `${url}:${version}`,
    repository,
    tag: version.replaceAll('+', '_'),
  });
  if (parseStrictVersion(wanted)) return found(wanted);
  let tags: string[];
  try {
    tags = await client.listTags(repository.repository, opts);
  } catch (err) {
    throw new Error(`could not get tags for "${name}": could not fetch tags for "${url}": ${message(err)}`, {
      cause: err,
    });
  }
  const versions = chartTagVersions(tags);
  if (versions.length === 0) {
    throw new Error(
      `could not get tags for "${name}": unable to locate any tags in provided repository: ${url}`,
    );
  }
  return found(matchChartVersion(versions, wanted));
}

/**
 * The chart layer of a Helm chart manifest; throws Helm's messages for a manifest that is no chart.
 */
export function chartLayer(manifest: ImageManifest) {
  const found = 1 + manifest.layers.length;
  if (found < 2) {
    throw new Error(
      `manifest does not contain minimum number of descriptors (2), descriptors found: ${found}`,
    );
  }
  if (manifest.config.mediaType !== HelmMediaType.config) {
    throw new Error(`could not load config with mediatype ${HelmMediaType.config}`);
  }
  const layer = manifest.layers.find(
    (l) => l.mediaType === HelmMediaType.chart || l.mediaType === HelmMediaType.legacyChart,
  );
  if (!layer) throw new Error(`manifest does not contain a layer with mediatype ${HelmMediaType.chart}`);
  return layer;
}

/**
 * Pulls the chart archive of a chart version: the manifest of its tag, then the chart layer (digest
 * and size checked, at most `maxBytes`, MAX_CHART_BYTES by default). Errors say
 * `failed to get '<url>': …` as Flux's DownloadChart.
 */
export async function pullOciChart(
  client: RegistryClient,
  cv: OciChartVersion,
  opts: RequestOptions & { maxBytes?: number } = {},
): Promise<Buffer> {
  const repo = cv.repository.repository;
  const req = opts.signal ? { signal: opts.signal } : {};
  const dir = await mkdtemp(join(tmpdir(), 'tide-oci-chart-'));
  try {
    const fetched = await client.getManifest(repo, cv.tag, req);
    if (isIndex(fetched.manifest)) {
      throw new Error(`${cv.url} is an image index, not a Helm chart manifest`);
    }
    const layer = chartLayer(fetched.manifest);
    const file = join(dir, 'chart.tgz');
    await client.fetchBlob(repo, layer.digest, file, {
      ...req,
      size: layer.size,
      maxBytes: opts.maxBytes ?? MAX_CHART_BYTES,
    });
    return await readFile(file);
  } catch (err) {
    throw new Error(`failed to get '${cv.url}': ${message(err)}`, { cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Whether a registry failure (or what it was caused by) is about credentials or TLS trust, which
 * Flux reports as AuthenticationFailed instead of a pull error.
 */
export function isOciAuthFailure(err: unknown): boolean {
  if (isOciError(err, 'Unauthorized') || isOciError(err, 'InvalidCredentials')) return true;
  if (isOciError(err, 'Network')) return /certificate|tls|ssl/i.test(err.message);
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause !== undefined && cause !== err && isOciAuthFailure(cause);
}
