// Remote chart dependencies (`repository: https://…` or `oci://…` in Chart.yaml, missing from
// charts/), fetched as Flux's HelmChart reconciler does for charts from a GitRepository or Bucket:
// each repository URL is resolved once per build, to the HelmRepository of the chart's namespace
// whose URL is the same once normalized (it lends its credentials, TLS, timeout and, for an index
// repository, its stored index), else to anonymous access with Flux's defaults.
import type { HelmRepository } from '../../api/source-helm.ts';
import type { ChartDependency } from '../../runtime/helm/chart.ts';
import { createRegistryClient, type RegistryClientOptions } from '../../runtime/oci/client.ts';
import type { HelmHttpOptions } from './http.ts';
import { downloadChart, type HelmIndex, selectChartVersion } from './index.ts';
import { normalizeOciUrl, pullOciChart, resolveOciChartVersion } from './oci.ts';
import type { FetchDependency } from './package.ts';
import { fetchIndex } from './repository.ts';

/** What the fetcher needs from the cluster and the storage. */
export interface DependencyRepositories {
  /** The HelmRepository of the chart's namespace whose normalized URL is `url`, if any. */
  find(url: string): HelmRepository | undefined;
  /** The index a HelmRepository stored, when its artifact is in this storage. */
  storedIndex(repo: HelmRepository): Promise<HelmIndex | undefined>;
  httpOptions(repo: HelmRepository): Promise<HelmHttpOptions>;
  ociOptions(repo: HelmRepository, registry: string): Promise<RegistryClientOptions>;
}

/** Flux's timeout for a repository no HelmRepository describes. */
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Flux's NormalizeURL: `oci://` URLs lose trailing slashes, others end in exactly one. Returns the
 * input for a URL that does not parse.
 */
export function normalizeRepositoryUrl(url: string): string {
  if (url.startsWith('oci://')) return normalizeOciUrl(url);
  try {
    const u = new URL(url);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/`;
    return u.toString();
  } catch {
    return url;
  }
}

/** Flux's ValidateDepURL: http(s) and oci only; `@alias` repositories (helm repo add names) are refused. */
export function validateDependencyUrl(url: string): void {
  if (/^(oci|https?):\/\//.test(url)) return;
  if (url.startsWith('@')) throw new Error(`aliased repository dependency is not supported: ${url}`);
  throw new Error(`invalid dependency repository URL: ${url}`);
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

interface Downloader {
  /** Resolves the dependency's version in the repository; errors are Flux's version messages. */
  version(dep: ChartDependency): Promise<{ version: string; download(): Promise<Buffer> }>;
}

async function indexDownloader(url: string, repos: DependencyRepositories): Promise<Downloader> {
  const repo = repos.find(url);
  const opts = repo ? await repos.httpOptions(repo) : { timeoutMs: DEFAULT_TIMEOUT_MS };
  let index = repo ? await repos.storedIndex(repo) : undefined;
  return {
    async version(dep) {
      index ??= (await fetchIndex(url, opts)).index;
      const cv = selectChartVersion(index, dep.name, dep.version ?? '');
      return { version: cv.version, download: async () => (await downloadChart(url, cv, opts)).data };
    },
  };
}

async function ociDownloader(
  url: string,
  repos: DependencyRepositories,
  signal?: AbortSignal,
): Promise<Downloader> {
  const registry = url.slice('oci://'.length).split('/')[0] ?? '';
  const repo = repos.find(url);
  const opts = repo
    ? await repos.ociOptions(repo, registry)
    : { registry, timeoutMs: DEFAULT_TIMEOUT_MS, userAgent: 'tide-source-controller' };
  const client = createRegistryClient(opts);
  const req = signal ? { signal } : {};
  return {
    async version(dep) {
      const cv = await resolveOciChartVersion(client, url, dep.name, dep.version ?? '', req);
      return { version: cv.version, download: () => pullOciChart(client, cv, req) };
    },
  };
}

/**
 * A FetchDependency for one chart build (Flux's DependencyManager with its repository callback):
 * each normalized repository URL gets one downloader, created on first use. Errors carry Flux's
 * messages: `failed to get chart repository for URL …`, `failed to get chart '<name>' version
 * '<range>' from '<url>': …`, `chart download of version '<v>' failed: …`.
 */
export function dependencyFetcher(repos: DependencyRepositories, signal?: AbortSignal): FetchDependency {
  const downloaders = new Map<string, Promise<Downloader>>();
  const downloader = (repository: string): Promise<Downloader> => {
    validateDependencyUrl(repository);
    const url = normalizeRepositoryUrl(repository);
    let d = downloaders.get(url);
    if (!d) {
      const created = url.startsWith('oci://')
        ? ociDownloader(url, repos, signal)
        : indexDownloader(url, repos);
      d = created.catch((err: unknown) => {
        throw new Error(`failed to get chart repository for URL '${url}': ${errorText(err)}`);
      });
      downloaders.set(url, d);
    }
    return d;
  };
  return async (dep) => {
    const repository = dep.repository ?? '';
    const d = await downloader(repository);
    let resolved: Awaited<ReturnType<Downloader['version']>>;
    try {
      resolved = await d.version(dep);
    } catch (err) {
      throw new Error(
        `failed to get chart '${dep.name}' version '${dep.version ?? ''}' from '${repository}': ${errorText(err)}`,
      );
    }
    try {
      return { version: resolved.version, data: await resolved.download() };
    } catch (err) {
      throw new Error(`chart download of version '${resolved.version}' failed: ${errorText(err)}`);
    }
  };
}
