// The version a HelmChart artifact gets, which is also its revision (source-controller
// HelmChartReconciler.buildFromTarballArtifact / buildFromHelmRepository):
// - `ChartVersion`: the chart's version.
// - `Revision` with a GitRepository or Bucket source: `<version>+<first 12 hex of the source revision>`,
//   so every new commit or bucket content gives a new artifact.
// - with valuesFiles, the HelmChart generation is appended too (`+<gen>` or `+<rev>.<gen>`), so a
//   spec change reaches consumers.

import { HelmError, HelmErrorCode } from '../../runtime/helm/errors.ts';
import { formatVersion, parseVersion, withMetadata } from '../../runtime/semver.ts';

export type ReconcileStrategy = 'ChartVersion' | 'Revision';
export type ChartSourceKind = 'HelmRepository' | 'GitRepository' | 'Bucket';

export interface StrategyOptions {
  /** Kind of `.spec.sourceRef`; `Revision` has no effect for HelmRepository. Default GitRepository. */
  sourceKind?: ChartSourceKind;
  /** `.metadata.generation` of the HelmChart when it has valuesFiles. */
  valuesFilesGeneration?: number;
}

/**
 * The hash of a source revision: `main@sha1:<hex>` and `sha1:<hex>` (Git), `sha256:<hex>` (Bucket),
 * legacy `main/<hex>`, or a bare hash.
 */
export function revisionHash(revision: string): string {
  const afterAt = revision.slice(revision.lastIndexOf('@') + 1);
  const colon = afterAt.indexOf(':');
  if (colon >= 0) return afterAt.slice(colon + 1);
  return afterAt.slice(afterAt.lastIndexOf('/') + 1);
}

/** The artifact version for a chart version under a reconcile strategy; see the file comment. */
export function chartVersionForStrategy(
  chartVersion: string,
  strategy: ReconcileStrategy | undefined,
  sourceRevision?: string,
  opts: StrategyOptions = {},
): string {
  const kind = opts.sourceKind ?? 'GitRepository';
  const metadata: string[] = [];
  if (strategy === 'Revision' && kind !== 'HelmRepository' && sourceRevision) {
    // Flux shortens to 12 characters: chart versions end up in labels limited to 63.
    metadata.push(revisionHash(sourceRevision).slice(0, 12));
  }
  if (opts.valuesFilesGeneration !== undefined) metadata.push(String(opts.valuesFilesGeneration));
  if (metadata.length === 0) return chartVersion;
  const v = parseVersion(chartVersion);
  if (!v) {
    throw new HelmError(
      HelmErrorCode.Version,
      `failed to parse version '${chartVersion}' from chart metadata as SemVer`,
    );
  }
  try {
    return formatVersion(withMetadata(v, metadata.join('.')));
  } catch (err) {
    throw new HelmError(
      HelmErrorCode.Version,
      `failed to set SemVer metadata on chart version '${chartVersion}': ${(err as Error).message}`,
    );
  }
}
