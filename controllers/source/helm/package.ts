// Packaging a chart for a HelmChart artifact `<name>-<version>.tgz`: from a directory of a
// GitRepository or Bucket artifact, or by repackaging a downloaded archive when valuesFiles or the
// version change it (Flux's local and remote chart builders).
//
// Dependencies of a chart directory, as Flux's DependencyManager (`helm dependency build` without a
// Chart.lock rewrite): those vendored under charts/ (directories or .tgz) go in as they are. Declared
// ones missing from charts/ (Chart.lock takes precedence over Chart.yaml) are added: `file://` ones
// (or without repository: `charts/<name>`) loaded from the source tree with their version range
// checked, remote ones (`https://`, `oci://`) through the caller's FetchDependency. Each goes in
// under its chart name as `helm dependency build` vendors it, and Helm applies aliases when it
// renders (Flux renames an aliased one to its alias, which `helm template` then refuses as missing).
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

/**
 * Downloads the chart archive of a remote dependency: its version range resolved against the
 * repository, the archive fetched with the repository's credentials. Throws an Error saying why.
 */
export type FetchDependency = (dep: ChartDependency) => Promise<{ version: string; data: Buffer }>;

export interface PackageDirOptions extends PackageOptions {
  /**
   * The source root: symlinks and `file://` dependencies must stay inside it. The chart
   * directory by default.
   */
  rootDir?: string;
  /** Fetches remote dependencies missing from charts/; without it they fail the build. */
  fetchDependency?: FetchDependency;
}

/** Limits on what one chart build fetches: remote dependencies, and their archives' bytes in all. */
export const MAX_REMOTE_DEPENDENCIES = 64;
export const MAX_DEPENDENCY_BYTES = 100 << 20;

export interface PackagedChart {
  name: string;
  version: string;
  /** `<name>-<version>.tgz`. */
  fileName: string;
  data: Buffer;
  /** `sha256:<hex>` of `data`. */
  digest: string;
  /** Chart names of the dependencies added because charts/ lacked them. */
  resolvedDependencies: string[];
}

const depError = (message: string) => new HelmError(HelmErrorCode.Dependency, message);
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function loadLocalDependency(dep: ChartDependency, chartDir: string, root: string): Promise<Chart> {
  const ref = dep.repository ?? '';
  // file://../lib is relative to the chart, no repository means charts/<name>; like Flux's
  // securejoin neither can leave the root.
  const relChart = relative(root, chartDir).split(sep).join('/');
  const target = ref === '' ? `charts/${dep.name}` : ref.slice('file://'.length);
  const inside = posix.normalize(`/${posix.join(relChart, target)}`);
  const abs = resolve(root, `.${inside}`);
  const st = await stat(abs).catch(() => undefined);
  if (!st) throw new Error(`no chart found at '${inside}' (reference '${ref}')`);
  let chart: Chart;
  try {
    chart = st.isDirectory()
      ? await loadChartDir(abs, root)
      : await loadChartArchive(await readFile(abs), inside);
  } catch (err) {
    throw new Error(`failed to load chart from '${inside}' (reference '${ref}'): ${errorText(err)}`);
  }
  const range = dep.version?.trim() || '*';
  let ok: boolean;
  try {
    // The version was validated when the chart loaded.
    ok = parseConstraint(range).check(parseVersion(chart.metadata.version) as SemVer);
  } catch (err) {
    throw new Error(`invalid version/constraint format '${range}': ${errorText(err)}`);
  }
  if (!ok) {
    throw new Error(
      `dependency '${dep.name}' at '${ref}' has version ${chart.metadata.version}, which does not match '${range}'`,
    );
  }
  return chart;
}

const isLocal = (dep: ChartDependency) => !dep.repository || dep.repository.startsWith('file://');

/**
 * The declared dependencies (Chart.lock first) no subchart stands for: none when there are as many
 * subcharts as declarations (Flux's collectMissing), else those whose chart name (or alias, as Flux
 * vendors them) no subchart has. Several aliases of one chart need it once.
 */
function collectMissing(chart: Chart): ChartDependency[] {
  const declared =
    (chart.lock?.dependencies as ChartDependency[] | undefined) ?? chart.metadata.dependencies ?? [];
  if (declared.length === chart.dependencies.length) return [];
  const present = new Set(chart.dependencies.map((d) => d.metadata.name));
  const missing: ChartDependency[] = [];
  for (const dep of declared) {
    if (present.has(dep.name) || (dep.alias && present.has(dep.alias))) continue;
    present.add(dep.name);
    missing.push(dep);
  }
  return missing;
}

/** Loads a fetched dependency, keeping the total of fetched bytes under MAX_DEPENDENCY_BYTES. */
async function addRemote(dep: ChartDependency, fetch: FetchDependency | undefined, total: { bytes: number }) {
  if (!fetch) throw new Error(`no chart repository for URL '${dep.repository}'`);
  const { version, data } = await fetch(dep);
  total.bytes += data.length;
  if (total.bytes > MAX_DEPENDENCY_BYTES) {
    throw new Error(`the fetched dependencies exceed ${MAX_DEPENDENCY_BYTES} bytes in all`);
  }
  try {
    return await loadChartArchive(data, `dependency '${dep.name}'`);
  } catch (err) {
    throw new Error(`failed to load downloaded archive of version '${version}': ${errorText(err)}`);
  }
}

/** Adds the missing declared dependencies; returns the chart names added. */
async function resolveDependencies(
  chart: Chart,
  chartDir: string,
  root: string,
  fetch?: FetchDependency,
): Promise<string[]> {
  const missing = collectMissing(chart);
  const remote = missing.filter((d) => !isLocal(d)).length;
  if (remote > MAX_REMOTE_DEPENDENCIES) {
    throw depError(
      `chart '${chart.metadata.name}' has ${remote} remote dependencies missing from charts/, ` +
        `more than the ${MAX_REMOTE_DEPENDENCIES} fetched for one chart`,
    );
  }
  const added: string[] = [];
  const total = { bytes: 0 };
  for (const dep of missing) {
    const local = isLocal(dep);
    let sub: Chart;
    try {
      sub = local ? await loadLocalDependency(dep, chartDir, root) : await addRemote(dep, fetch, total);
    } catch (err) {
      throw depError(
        `failed to add ${local ? 'local' : 'remote'} dependency '${dep.name}': ${errorText(err)}`,
      );
    }
    chart.dependencies.push(sub);
    added.push(sub.metadata.name);
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
  const added = await resolveDependencies(chart, dir, root, opts.fetchDependency);
  return finish(chart, opts, added);
}

/** Rewrites a packaged chart with another version and/or values.yaml, in the same layout. */
export async function repackageChart(archive: Buffer, opts: PackageOptions = {}): Promise<PackagedChart> {
  return finish(await loadChartArchive(archive), opts, []);
}
