// Packaging a chart for a HelmChart artifact `<name>-<version>.tgz`: from a directory of a
// GitRepository or Bucket artifact, or by repackaging a downloaded archive when valuesFiles or the
// version change it (Flux's local and remote chart builders).
//
// Dependencies of a chart directory: those vendored under charts/ (directories or .tgz) go in as
// they are. Declared ones missing from charts/ (Chart.lock takes precedence over Chart.yaml, as in
// Flux) are resolved when `file://` (loaded from the source tree, version range checked);
// remote ones are not fetched: packaging fails and names them.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { posix, relative, resolve, sep } from 'node:path';
import {
  type Chart,
  type ChartDependency,
  loadChartArchive,
  loadChartDir,
  writeChartArchive,
} from '../../runtime/helm/chart.ts';
import { HelmError, HelmErrorCode } from '../../runtime/helm/errors.ts';
import { parseConstraint, parseVersion, type SemVer } from '../../runtime/semver.ts';

export interface PackageOptions {
  /** The chart version in the package (e.g. from chartVersionForStrategy); Chart.yaml's by default. */
  version?: string;
  /** Replaces values.yaml (e.g. MergedValues.yaml); the chart's own by default. */
  values?: string | Buffer;
}

export interface PackageDirOptions extends PackageOptions {
  /**
   * The source root: symlinks and `file://` dependencies must stay inside it. The chart
   * directory by default.
   */
  rootDir?: string;
}

export interface PackagedChart {
  name: string;
  version: string;
  /** `<name>-<version>.tgz`. */
  fileName: string;
  data: Buffer;
  /** `sha256:<hex>` of `data`. */
  digest: string;
  /** Names of dependencies added from `file://` references (not vendored in charts/). */
  resolvedDependencies: string[];
}

const depError = (message: string) => new HelmError(HelmErrorCode.Dependency, message);

async function loadLocalDependency(dep: ChartDependency, chartDir: string, root: string): Promise<Chart> {
  const ref = dep.repository ?? '';
  // file://../lib is relative to the chart; like Flux's securejoin it cannot leave the root.
  const relChart = relative(root, chartDir).split(sep).join('/');
  const inside = posix.normalize(`/${posix.join(relChart, ref.slice('file://'.length))}`);
  const abs = resolve(root, `.${inside}`);
  const st = await stat(abs).catch(() => undefined);
  if (!st) throw depError(`no chart found at '${inside}' (reference '${ref}') for dependency '${dep.name}'`);
  let chart: Chart;
  try {
    chart = st.isDirectory()
      ? await loadChartDir(abs, root)
      : await loadChartArchive(await readFile(abs), inside);
  } catch (err) {
    throw depError(
      `failed to load dependency '${dep.name}' from '${inside}' (reference '${ref}'): ${(err as Error).message}`,
    );
  }
  const range = dep.version?.trim() || '*';
  let ok: boolean;
  try {
    // The version was validated when the chart loaded.
    ok = parseConstraint(range).check(parseVersion(chart.metadata.version) as SemVer);
  } catch (err) {
    throw depError(
      `invalid version/constraint format '${range}' of dependency '${dep.name}': ${(err as Error).message}`,
    );
  }
  if (!ok) {
    throw depError(
      `dependency '${dep.name}' at '${ref}' has version ${chart.metadata.version}, which does not match '${range}'`,
    );
  }
  return chart;
}

/** Adds missing declared dependencies; returns the names added from file:// references. */
async function resolveDependencies(chart: Chart, chartDir: string, root: string): Promise<string[]> {
  const declared =
    (chart.lock?.dependencies as ChartDependency[] | undefined) ?? chart.metadata.dependencies ?? [];
  const present = new Set(chart.dependencies.map((d) => d.metadata.name));
  const missing = declared.filter((d) => !present.has(d.name));
  const remote = missing.filter((d) => !d.repository?.startsWith('file://'));
  if (remote.length > 0) {
    const list = remote.map(
      (d) => `'${d.name}' (${d.repository || 'no repository'}${d.version ? ` ${d.version}` : ''})`,
    );
    throw depError(
      `chart '${chart.metadata.name}' depends on ${list.join(', ')}, not vendored in charts/: ` +
        'remote dependencies are not downloaded; run `helm dependency build` and commit the charts/ directory',
    );
  }
  const added: string[] = [];
  for (const dep of missing) {
    chart.dependencies.push(await loadLocalDependency(dep, chartDir, root));
    added.push(dep.name);
  }
  chart.dependencies.sort((a, b) =>
    a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0,
  );
  return added;
}

function finish(chart: Chart, opts: PackageOptions, resolvedDependencies: string[]): PackagedChart {
  if (opts.version !== undefined) {
    if (!parseVersion(opts.version)) {
      throw new HelmError(HelmErrorCode.Version, `invalid chart version '${opts.version}'`);
    }
    chart.metadata.version = opts.version;
  }
  if (opts.values !== undefined) chart.values = Buffer.from(opts.values);
  const data = writeChartArchive(chart);
  const { name, version } = chart.metadata;
  return {
    name,
    version,
    fileName: `${name}-${version}.tgz`,
    data,
    digest: `sha256:${createHash('sha256').update(data).digest('hex')}`,
    resolvedDependencies,
  };
}

/** Packages a chart directory with its dependencies; see the file comment. */
export async function packageChartDir(
  chartDir: string,
  opts: PackageDirOptions = {},
): Promise<PackagedChart> {
  const root = resolve(opts.rootDir ?? chartDir);
  const dir = resolve(chartDir);
  const chart = await loadChartDir(dir, root);
  const added = await resolveDependencies(chart, dir, root);
  return finish(chart, opts, added);
}

/** Rewrites a packaged chart with another version and/or values.yaml, in the same layout. */
export async function repackageChart(archive: Buffer, opts: PackageOptions = {}): Promise<PackagedChart> {
  return finish(await loadChartArchive(archive), opts, []);
}
