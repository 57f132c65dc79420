// The chart of a HelmRelease, from its source's artifact: downloaded (digest checked), loaded and
// validated, and kept in memory by artifact digest, so that the releases of one chart download it once
// and a reconcile with nothing to do downloads nothing. For an OCIRepository source the chart version
// carries the first 12 hex digits of the artifact digest as build metadata (`6.9.2+abcdef123456`), as
// Flux does, so that a new artifact of the same version is a new chart version.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Artifact } from '../api/meta.ts';
import { fetchArtifact } from '../runtime/artifact/fetch.ts';
import { type Chart, loadChartDir, writeChartArchive } from '../runtime/helm/chart.ts';
import { compareVersions, formatVersion, parseVersion, withMetadata } from '../runtime/semver.ts';

export interface LoadedChart {
  name: string;
  /** The version the release records (with the OCI digest for OCIRepository sources). */
  version: string;
  appVersion?: string;
  /** The chart as helm gets it. */
  archive: Buffer;
  chart: Chart;
  /** The OCI artifact digest the chart came from; empty for other sources. */
  ociDigest: string;
}

export interface ChartLoaderOptions {
  maxBytes?: number;
  retries?: number;
  /** Charts kept in memory (by artifact digest). */
  cacheSize?: number;
}

/** The chart root in an extracted artifact: the directory itself or its one subdirectory with Chart.yaml. */
async function chartRoot(dir: string): Promise<string> {
  const has = (d: string) =>
    stat(join(d, 'Chart.yaml')).then(
      (s) => s.isFile(),
      () => false,
    );
  if (await has(dir)) return dir;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory() && (await has(join(dir, e.name)))) return join(dir, e.name);
  }
  throw new Error('the artifact holds no chart (no Chart.yaml)');
}

/**
 * Flux's mutateChartWithSourceRevision: the OCI revision `<tag>@sha256:<hex>` (or `sha256:<hex>`) as
 * build metadata of the chart version. A semver tag must be the chart version. Returns the version and
 * the digest recorded as lastAttemptedRevisionDigest.
 */
export function ociVersion(chartVersion: string, revision: string): { version: string; digest: string } {
  const ver = parseVersion(chartVersion);
  if (!ver) throw new Error(`invalid chart version ${chartVersion}`);
  const at = revision.lastIndexOf('@');
  const tag = at >= 0 ? revision.slice(0, at) : '';
  const tagVer = at >= 0 ? parseVersion(tag.replaceAll('_', '+')) : undefined;
  const digest = tagVer ? revision.slice(at + 1) : revision;
  if (tagVer && compareVersions(tagVer, ver) !== 0)
    throw new Error(`artifact revision ${tag} does not match chart version ${chartVersion}`);
  const parts = digest.split(':');
  const hex = parts.length === 2 ? (parts[1] ?? '') : '';
  if (hex.length < 12) throw new Error(`invalid artifact revision ${revision}`);
  return { version: formatVersion(withMetadata(ver, hex.slice(0, 12))), digest };
}

export interface ChartLoader {
  /** The chart of `artifact`; `oci` applies the OCI version rule. Throws ArtifactError or HelmError. */
  load(artifact: Artifact, oci: boolean): Promise<LoadedChart>;
}

export function chartLoader(opts: ChartLoaderOptions = {}): ChartLoader {
  const cache = new Map<string, Promise<LoadedChart>>();
  const max = opts.cacheSize ?? 64;

  async function fetchChart(artifact: Artifact, oci: boolean): Promise<LoadedChart> {
    const dir = await mkdtemp(join(tmpdir(), 'tide-chart-'));
    try {
      await fetchArtifact(artifact.url, {
        digest: artifact.digest ?? '',
        dest: join(dir, 'x'),
        maxDownloadBytes: opts.maxBytes,
        maxUntarBytes: opts.maxBytes,
        retries: opts.retries ?? 3,
        backoff: { minMs: 1000, maxMs: 5000 },
      });
      const chart = await loadChartDir(await chartRoot(join(dir, 'x')));
      let ociDigest = '';
      if (oci) {
        const v = ociVersion(chart.metadata.version, artifact.revision);
        chart.metadata = { ...chart.metadata, version: v.version };
        ociDigest = v.digest;
      }
      const appVersion = chart.metadata.appVersion;
      return {
        name: chart.metadata.name,
        version: chart.metadata.version,
        ...(typeof appVersion === 'string' && appVersion ? { appVersion } : {}),
        archive: writeChartArchive(chart),
        chart,
        ociDigest,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    load(artifact, oci) {
      const key = `${oci}:${artifact.digest}:${artifact.revision}`;
      let p = cache.get(key);
      if (!p) {
        p = fetchChart(artifact, oci);
        // A failure is not kept: the next reconcile tries again.
        p.catch(() => cache.delete(key));
        cache.set(key, p);
        if (cache.size > max) cache.delete(cache.keys().next().value as string);
      }
      return p;
    },
  };
}
