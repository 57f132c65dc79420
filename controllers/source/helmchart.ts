// HelmChart: a packaged chart `<name>-<version>.tgz` from a HelmRepository (selected from the index
// the HelmRepository stored, or from the tags of an OCI registry for type oci, and downloaded with
// its credentials) or from a chart directory in a GitRepository or Bucket artifact (packaged with its
// dependencies, remote ones fetched from their repositories). Steps, as Flux's reconciler:
// storage → source (resolve the source, the chart name and version; skip the build when the stored
// artifact already holds them) → build → artifact.

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { BucketKind, GitRepositoryKind, HelmChartKind, HelmRepositoryKind } from '../api/kinds.ts';
import type { Artifact, KindDescriptor } from '../api/meta.ts';
import { ConditionTypes, EventMetadata, Reasons } from '../api/names.ts';

import type { HelmChart, HelmRepository } from '../api/source-helm.ts';
import { extractTarGz } from '../runtime/artifact/extract.ts';
import { deleteCondition, markTrue } from '../runtime/conditions.ts';
import { GenericError, StallingError, WaitingError } from '../runtime/errors.ts';
import type { UnsupportedField } from '../runtime/fields.ts';
import { readChartMetadata } from '../runtime/helm/chart.ts';
import { isHelmError } from '../runtime/helm/errors.ts';
import { isMap, parseYaml, yamlErrorMessage } from '../runtime/helm/yaml.ts';
import { type KubeObject, objectKey } from '../runtime/object.ts';
import { createRegistryClient } from '../runtime/oci/client.ts';
import { defineController, type ReconcileContext } from '../runtime/reconciler.ts';
import { sourceIndex, sourceWatch as watchSource } from '../runtime/sourceref.ts';
import {
  fetchFailed,
  markArtifactStored,
  reconcileStorage,
  recordNewArtifact,
  type SourceDeps,
  storageFailed,
} from './common.ts';
import {
  type DependencyRepositories,
  dependencyFetcher,
  normalizeRepositoryUrl,
} from './helm/dependencies.ts';
import { downloadChart, type HelmIndex, parseIndex, selectChartVersion } from './helm/index.ts';
import { isOciAuthFailure, ociChartRepository, pullOciChart, resolveOciChartVersion } from './helm/oci.ts';
import { type FetchDependency, packageChartDir, repackageChart } from './helm/package.ts';
import { type ChartSourceKind, chartVersionForStrategy } from './helm/strategy.ts';
import { mergeValuesFiles } from './helm/valuesfiles.ts';
import { repositoryHttpOptions, repositoryOciOptions } from './helmrepository.ts';

const kindName = 'helmchart';

type BuildReason = (typeof Reasons)[
  | 'InvalidChartReference'
  | 'ChartPullError'
  | 'MetadataPatchError'
  | 'ValuesFilesError'
  | 'DependencyBuildError'
  | 'ChartPackageError'];

// Flux's BuildErrorReason summaries, which prefix the messages.
const buildSummaries: Record<BuildReason, string> = {
  InvalidChartReference: 'invalid chart reference',
  ChartPullError: 'chart pull error',
  MetadataPatchError: 'chart metadata patch error',
  ValuesFilesError: 'values files merge error',
  DependencyBuildError: 'dependency build error',
  ChartPackageError: 'chart package error',
};
// Only a spec change (or a new source revision, which the watches deliver) fixes these.
const persistent = new Set<BuildReason>(['InvalidChartReference', 'MetadataPatchError', 'ValuesFilesError']);
// Packaging failures are BuildFailed; failing to get the chart is FetchFailed.
const buildFailures = new Set<BuildReason>([
  'MetadataPatchError',
  'ValuesFilesError',
  'DependencyBuildError',
  'ChartPackageError',
]);

class BuildError extends Error {
  readonly reason: BuildReason;
  constructor(reason: BuildReason, message: string) {
    super(`${buildSummaries[reason]}: ${message}`);
    this.name = 'BuildError';
    this.reason = reason;
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Runs fn, turning a HelmError (or any error) into a BuildError with the reason. */
async function step<T>(reason: BuildReason, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof BuildError) throw err;
    const r = isHelmError(err, 'Dependency') ? Reasons.DependencyBuildError : reason;
    throw new BuildError(r, errorText(err));
  }
}

/** Conditions summarized into Ready, worst first (Flux's helmChartReadyCondition). */
export const helmChartConditionPolicy = {
  owned: [
    ConditionTypes.StorageOperationFailed,
    ConditionTypes.FetchFailed,
    ConditionTypes.BuildFailed,
    ConditionTypes.ArtifactOutdated,
    ConditionTypes.ArtifactInStorage,
    ConditionTypes.SourceVerified,
  ],
  negativePolarity: [
    ConditionTypes.StorageOperationFailed,
    ConditionTypes.FetchFailed,
    ConditionTypes.BuildFailed,
    ConditionTypes.ArtifactOutdated,
  ],
};

/** What Tide does not implement: the runner stalls an object setting them (UnsupportedField). */
export const helmChartUnsupportedFields: readonly UnsupportedField[] = [
  {
    path: 'spec.accessFrom',
    why: 'Flux reserves it for cross-namespace access lists but does not implement it (flux2#2092); remove it',
  },
  {
    path: 'spec.verify',
    why: 'signature verification (cosign, notation) of charts from OCI registries is not implemented',
  },
];

type SourceObject = KubeObject & { status?: { artifact?: Artifact } };

interface ChartSource {
  kind: ChartSourceKind;
  obj: SourceObject;
  /** Absent for a HelmRepository of type oci, which has none. */
  artifact?: Artifact;
}

/** What a build produced; `data` is absent when the stored artifact already holds this chart. */
interface Build {
  name: string;
  version: string;
  packaged: boolean;
  valuesFiles: string[];
  data?: Buffer;
}

/** Flux's Build.Summary, the Ready message and event text. */
function summary(b: Build): string {
  const files = b.valuesFiles.length ? ` and merged values files [${b.valuesFiles.join(' ')}]` : '';
  return `${b.packaged ? 'packaged' : 'pulled'} '${b.name}' chart with version '${b.version}'${files}`;
}

/** spec.valuesFile (deprecated) then spec.valuesFiles; a lone `values.yaml` means none (Flux). */
export function valuesFilesOf(spec: HelmChart['spec']): string[] {
  const files = [...(spec.valuesFile ? [spec.valuesFile] : []), ...(spec.valuesFiles ?? [])];
  if (files.length === 1 && posix.normalize(files[0] ?? '') === 'values.yaml') return [];
  return files;
}

const kinds: Record<ChartSourceKind, KindDescriptor> = {
  HelmRepository: HelmRepositoryKind,
  GitRepository: GitRepositoryKind,
  Bucket: BucketKind,
};

/**
 * The source step's first half: the referenced source from the cache with an artifact in this
 * storage (a HelmRepository of type oci has none and needs none). Sets FetchFailed
 * (SourceUnavailable, NoSourceArtifact) and waits otherwise: the watches reconcile again as soon as
 * the source gets an artifact.
 */
async function resolveSource(obj: HelmChart, ctx: ReconcileContext, deps: SourceDeps): Promise<ChartSource> {
  const { kind, name } = obj.spec.sourceRef;
  const src = ctx.cached(kinds[kind], objectKey(obj.metadata.namespace, name)) as SourceObject | undefined;
  if (!src) {
    const msg = `failed to get source: ${kind} '${obj.metadata.namespace}/${name}' not found`;
    markTrue(obj, ConditionTypes.FetchFailed, Reasons.SourceUnavailable, msg);
    throw new WaitingError(Reasons.SourceUnavailable, msg, 30_000);
  }
  if (kind === 'HelmRepository' && (src as HelmRepository).spec.type === 'oci') return { kind, obj: src };
  const artifact = src.status?.artifact;
  if (!artifact || !(await deps.storage.exists(artifact))) {
    const msg = `no artifact available for ${kind} source '${name}'`;
    markTrue(obj, ConditionTypes.FetchFailed, Reasons.NoSourceArtifact, msg);
    throw new WaitingError(Reasons.NoSourceArtifact, msg, 30_000);
  }
  return { kind, obj: src, artifact };
}

/**
 * The version the artifact gets (chartVersionForStrategy); with valuesFiles the generation goes in
 * too, so consumers notice spec changes.
 */
function artifactVersion(obj: HelmChart, source: ChartSource, chartVersion: string): Promise<string> {
  const valuesFiles = valuesFilesOf(obj.spec);
  return step(Reasons.MetadataPatchError, () =>
    chartVersionForStrategy(chartVersion, obj.spec.reconcileStrategy, source.artifact?.revision, {
      sourceKind: source.kind,
      valuesFilesGeneration: valuesFiles.length ? obj.metadata.generation : undefined,
    }),
  );
}

/**
 * Once the chart name and version are known: whether the stored artifact already is this chart and
 * the spec is unchanged (Flux's cached-chart check, forced by a new generation). Otherwise marks
 * ArtifactOutdated=True NewChart while a previous artifact exists.
 */
function upToDate(obj: HelmChart, name: string, version: string): boolean {
  const current = obj.status?.artifact;
  if (!current) return false;
  const same = obj.status?.observedChartName === name && current.revision === version;
  if (same && obj.metadata.generation === obj.status?.observedGeneration) return true;
  if (!same) {
    markTrue(
      obj,
      ConditionTypes.ArtifactOutdated,
      Reasons.NewChart,
      `new '${name}' chart with version '${version}'`,
    );
  }
  return false;
}

const cachedBuild = (obj: HelmChart, name: string, version: string, packaged: boolean): Build => ({
  name,
  version,
  packaged,
  valuesFiles: obj.status?.observedValuesFiles ?? valuesFilesOf(obj.spec),
});

/** Indexes parsed from stored HelmRepository artifacts, by path (the path names the index digest). */
function indexCache(max = 16) {
  const cache = new Map<string, HelmIndex>();
  return async (path: string): Promise<HelmIndex> => {
    const hit = cache.get(path);
    if (hit) return hit;
    const index = parseIndex(await readFile(path), 'stored repository index');
    cache.set(path, index);
    if (cache.size > max) cache.delete(cache.keys().next().value as string);
    return index;
  };
}

/** Whether the artifact for this chart version must be packaged rather than stored as pulled. */
const needsPackaging = (obj: HelmChart, version: string, chartVersion: string) =>
  valuesFilesOf(obj.spec).length > 0 || version !== chartVersion;

/**
 * A downloaded chart archive as the artifact: stored as pulled, or repackaged when valuesFiles (the
 * paths are inside the chart) or the artifact version change it.
 */
async function remoteBuild(
  obj: HelmChart,
  cv: { name: string; version: string },
  version: string,
  data: Buffer,
): Promise<Build> {
  const valuesFiles = valuesFilesOf(obj.spec);
  const packaged = needsPackaging(obj, version, cv.version);
  if (!packaged) return { name: cv.name, version, packaged, valuesFiles: [], data };
  const merged = valuesFiles.length
    ? await step(Reasons.ValuesFilesError, () =>
        mergeValuesFiles(data, valuesFiles, { ignoreMissing: obj.spec.ignoreMissingValuesFiles }),
      )
    : undefined;
  const values = merged?.files.length ? merged.yaml : undefined;
  const pkg = await step(Reasons.ChartPackageError, () => repackageChart(data, { version, values }));
  return { name: cv.name, version: pkg.version, packaged, valuesFiles: merged?.files ?? [], data: pkg.data };
}

/**
 * A chart from a HelmRepository of type default: the version is selected from the index the
 * HelmRepository stored (no refetch) and downloaded with the repository's credentials.
 */
async function buildFromRepository(
  obj: HelmChart,
  ctx: ReconcileContext,
  source: ChartSource & { artifact: Artifact },
  loadIndex: (path: string) => Promise<HelmIndex>,
  deps: SourceDeps,
): Promise<Build> {
  const repo = source.obj as HelmRepository;
  const index = await step(Reasons.ChartPullError, () => loadIndex(deps.storage.localPath(source.artifact)));
  const cv = await step(Reasons.InvalidChartReference, () =>
    selectChartVersion(index, obj.spec.chart, obj.spec.version ?? '*'),
  );
  const version = await artifactVersion(obj, source, cv.version);
  if (upToDate(obj, cv.name, version)) {
    return cachedBuild(obj, cv.name, version, needsPackaging(obj, version, cv.version));
  }

  let opts: Awaited<ReturnType<typeof repositoryHttpOptions>>;
  try {
    opts = await repositoryHttpOptions(repo, ctx.client);
  } catch (err) {
    throw fetchFailed(obj, Reasons.AuthenticationFailed, errorText(err));
  }
  const data = await step(Reasons.ChartPullError, async () => {
    const downloaded = await downloadChart(repo.spec.url, cv, opts);
    await readChartMetadata(downloaded.data, `chart '${cv.name}' ${cv.version}`);
    return downloaded.data;
  });
  return remoteBuild(obj, cv, version, data);
}

// Flux's RemoteReference.Validate.
const chartNamePattern = /^([-a-z0-9]+\/?\.?)+$/;

/**
 * A ChartPullError step of an OCI pull with Flux's `<prefix>: <error>` message. Refused credentials
 * and untrusted TLS are FetchFailed=True AuthenticationFailed instead, as Flux words them.
 */
async function pullStep<T>(obj: HelmChart, prefix: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const message = `${prefix}: ${errorText(err)}`;
    if (!isOciAuthFailure(err)) throw new BuildError(Reasons.ChartPullError, message);
    deleteCondition(obj, ConditionTypes.BuildFailed);
    throw fetchFailed(
      obj,
      Reasons.AuthenticationFailed,
      `failed to authenticate with the Helm repository: ${buildSummaries.ChartPullError}: ${message}`,
    );
  }
}

/**
 * A chart from a HelmRepository of type oci (Flux's OCIChartRepository): `<url>/<chart>` in the
 * registry, the version a tag or the highest tag in the range, pulled with the repository's
 * secretRef (dockerconfigjson or username/password), certSecretRef, insecure and timeout. A URL that
 * makes no repository stalls (URLInvalid); unusable Secrets are AuthenticationFailed.
 */
async function buildFromOciRepository(
  obj: HelmChart,
  ctx: ReconcileContext,
  source: ChartSource,
): Promise<Build> {
  const repo = source.obj as HelmRepository;
  const name = obj.spec.chart;
  if (!chartNamePattern.test(name)) {
    throw new BuildError(
      Reasons.InvalidChartReference,
      `invalid chart name '${name}': a valid name must be lower case letters and numbers and MAY be ` +
        'separated with dashes (-), slashes (/) or periods (.)',
    );
  }
  let registry: string;
  try {
    registry = ociChartRepository(repo.spec.url, name).repository.registry;
  } catch (err) {
    throw fetchFailed(obj, Reasons.URLInvalid, `invalid Helm repository URL: ${errorText(err)}`, true);
  }
  let opts: Awaited<ReturnType<typeof repositoryOciOptions>>;
  try {
    opts = await repositoryOciOptions(repo, ctx.client, registry);
  } catch (err) {
    throw fetchFailed(obj, Reasons.AuthenticationFailed, errorText(err));
  }
  const client = createRegistryClient(opts);
  // One deadline for resolving and pulling, as Flux's context timeout of the repository.
  const req = { signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000) };
  try {
    const cv = await pullStep(obj, 'failed to get chart version for remote reference', () =>
      resolveOciChartVersion(client, repo.spec.url, name, obj.spec.version ?? '*', req),
    );
    const version = await artifactVersion(obj, source, cv.version);
    if (upToDate(obj, cv.name, version)) {
      return cachedBuild(obj, cv.name, version, needsPackaging(obj, version, cv.version));
    }
    const data = await pullStep(obj, 'failed to download chart for remote reference', () =>
      pullOciChart(client, cv, req),
    );
    await step(Reasons.ChartPullError, () => readChartMetadata(data, cv.url));
    return remoteBuild(obj, cv, version, data);
  } finally {
    await client.close();
  }
}

/** Name and version from Chart.yaml of a chart directory, or from a packaged chart file. */
async function chartIdentity(abs: string, isDir: boolean, shown: string) {
  if (!isDir) {
    const md = await readChartMetadata(await readFile(abs), `chart '${shown}'`);
    return { name: md.name, version: md.version };
  }
  const text = await readFile(join(abs, 'Chart.yaml'), 'utf8').catch(() => {
    throw new Error(`no Chart.yaml found in '${shown}': the path is not a chart directory`);
  });
  let md: unknown;
  try {
    md = parseYaml(text);
  } catch (err) {
    throw new Error(`cannot load Chart.yaml of '${shown}': ${yamlErrorMessage(err)}`);
  }
  const { name, version } = isMap(md) ? md : {};
  if (typeof name !== 'string' || name === '' || typeof version !== 'string' || version === '') {
    throw new Error(`Chart.yaml of '${shown}' must set a name and a version`);
  }
  return { name, version };
}

/**
 * A chart from a GitRepository or Bucket artifact: extracted from this storage, the chart at
 * spec.chart (a directory, or a packaged .tgz) packaged with its dependencies (vendored, file://, or
 * fetched from their repositories), values files (relative to the source root) merged, and the
 * version set per reconcileStrategy.
 */
async function buildFromTarball(
  obj: HelmChart,
  source: ChartSource & { artifact: Artifact },
  deps: SourceDeps,
  fetchDependency: FetchDependency,
): Promise<Build> {
  const work = await mkdtemp(join(tmpdir(), 'tide-helmchart-'));
  try {
    await step(Reasons.ChartPullError, () =>
      extractTarGz(deps.storage.localPath(source.artifact), work, { maxBytes: deps.maxSourceBytes }),
    );
    // Like Flux's securejoin: the chart path cannot climb out of the source.
    const rel = posix.normalize(`/${obj.spec.chart.replace(/\\/g, '/')}`).slice(1) || '.';
    const abs = join(work, rel);
    const where = `${source.kind} '${source.obj.metadata.name}'`;
    const st = await stat(abs).catch(() => undefined);
    if (!st) {
      throw new BuildError(Reasons.InvalidChartReference, `no chart found at path '${rel}' in ${where}`);
    }
    const id = await step(Reasons.InvalidChartReference, () => chartIdentity(abs, st.isDirectory(), rel));
    const version = await artifactVersion(obj, source, id.version);
    const valuesFiles = valuesFilesOf(obj.spec);
    const packaged = st.isDirectory() || valuesFiles.length > 0 || version !== id.version;
    if (upToDate(obj, id.name, version)) return cachedBuild(obj, id.name, version, packaged);

    const merged = valuesFiles.length
      ? await step(Reasons.ValuesFilesError, () =>
          mergeValuesFiles(work, valuesFiles, { ignoreMissing: obj.spec.ignoreMissingValuesFiles }),
        )
      : undefined;
    const values = merged?.files.length ? merged.yaml : undefined;
    const files = merged?.files ?? [];
    if (!packaged) return { ...id, version, packaged, valuesFiles: [], data: await readFile(abs) };
    const pkg = await step(Reasons.ChartPackageError, async () =>
      st.isDirectory()
        ? packageChartDir(abs, { rootDir: work, version, values, fetchDependency })
        : repackageChart(await readFile(abs), { version, values }),
    );
    return { name: pkg.name, version: pkg.version, packaged, valuesFiles: files, data: pkg.data };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Records a failed build: BuildFailed or FetchFailed with its reason; the typed error to throw. */
function buildFailed(obj: HelmChart, err: BuildError): Error {
  const [set, drop] = buildFailures.has(err.reason)
    ? [ConditionTypes.BuildFailed, ConditionTypes.FetchFailed]
    : [ConditionTypes.FetchFailed, ConditionTypes.BuildFailed];
  deleteCondition(obj, drop);
  markTrue(obj, set, err.reason, err.message);
  return persistent.has(err.reason)
    ? new StallingError(err.reason, err.message)
    : new GenericError(err.reason, err.message);
}

/**
 * The artifact step: stores a new build as `<name>-<version>.tgz` (StorageOperationFailed on
 * failure), records ArtifactInStorage with the build summary and the observed chart name and values
 * files, and emits ChartPullSucceeded or ChartPackageSucceeded when the digest changed.
 */
async function storeBuild(obj: HelmChart, ctx: ReconcileContext, deps: SourceDeps, build: Build) {
  const { storage } = deps;
  const reason = build.packaged ? Reasons.ChartPackageSucceeded : Reasons.ChartPullSucceeded;
  const message = summary(build);
  const current = obj.status?.artifact;
  if (!build.data) {
    // upToDate() found the stored artifact, which reconcileStorage saw in storage, to be this chart.
    if (current) markArtifactStored(obj, storage.setArtifactUrl(current), message, reason);
    return { readyMessage: message };
  }
  const { namespace = '', name = '' } = obj.metadata;
  const target = storage.artifactFor(
    kindName,
    namespace,
    name,
    build.version,
    // An OCI chart name may have path segments (`team/app`); the file is named after the last.
    `${posix.basename(build.name)}-${build.version}.tgz`,
  );
  let artifact: Artifact;
  try {
    artifact = await storage.writeBytes(target, build.data);
  } catch (err) {
    throw storageFailed(
      obj,
      Reasons.ArchiveOperationFailed,
      `unable to copy Helm chart to storage: ${errorText(err)}`,
    );
  }
  obj.status = {
    ...obj.status,
    observedChartName: build.name,
    observedValuesFiles: obj.spec.ignoreMissingValuesFiles ? build.valuesFiles : undefined,
  };
  const metadata = {
    [EventMetadata.sourceRevision]: artifact.revision,
    [EventMetadata.sourceDigest]: artifact.digest,
  };
  await recordNewArtifact(obj, ctx, deps, {
    kind: kindName,
    artifact,
    stored: { message, reason },
    event: { message, metadata, reason },
  });
  return { readyMessage: message, eventMetadata: metadata };
}

/**
 * Where remote dependencies of a chart in the namespace of `obj` come from: the HelmRepositories of
 * that namespace from the cache, their stored indexes and Secrets.
 */
function dependencyRepositories(
  obj: HelmChart,
  ctx: ReconcileContext,
  deps: SourceDeps,
  loadIndex: (path: string) => Promise<HelmIndex>,
): DependencyRepositories {
  const ns = obj.metadata.namespace;
  return {
    find: (url) =>
      (ctx.listCached(HelmRepositoryKind) as HelmRepository[])
        .filter((r) => r.metadata.namespace === ns && normalizeRepositoryUrl(r.spec.url) === url)
        .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))[0],
    storedIndex: async (repo) => {
      const a = repo.status?.artifact;
      if (!a || !(await deps.storage.exists(a))) return undefined;
      return loadIndex(deps.storage.localPath(a));
    },
    httpOptions: (repo) => repositoryHttpOptions(repo, ctx.client),
    ociOptions: (repo, registry) => repositoryOciOptions(repo, ctx.client, registry),
  };
}

// HelmCharts filed under the source they build from, so a source watch finds them without a scan.
const bySource = 'sourceRef';

/** Reconciles HelmCharts referring to `src` when its artifact revision differs from what they built from. */
function sourceWatch(kind: ChartSourceKind) {
  return watchSource(kinds[kind], {
    index: bySource,
    skip: (hc, src) => {
      const revision = src.status?.artifact?.revision;
      return !revision || (hc as HelmChart).status?.observedSourceArtifactRevision === revision;
    },
  });
}

export function helmChartController(deps: SourceDeps) {
  const loadIndex = indexCache();
  return defineController<HelmChart>({
    name: 'helmchart',
    kind: HelmChartKind,
    conditionPolicy: helmChartConditionPolicy,
    indexes: { [bySource]: sourceIndex((o) => (o as HelmChart).spec.sourceRef) },
    unsupportedFields: helmChartUnsupportedFields,
    watches: [sourceWatch('HelmRepository'), sourceWatch('GitRepository'), sourceWatch('Bucket')],

    /**
     * Sets FetchFailed, BuildFailed, ArtifactOutdated, ArtifactInStorage and StorageOperationFailed;
     * a bad reference, version or values file stalls until the spec or the source changes.
     */
    async reconcile(obj, ctx) {
      await reconcileStorage(obj, deps.storage, kindName, deps.gc);
      const source = await resolveSource(obj, ctx, deps);
      const { artifact } = source;
      if (artifact) obj.status = { ...obj.status, observedSourceArtifactRevision: artifact.revision };
      let build: Build;
      try {
        if (!artifact) build = await buildFromOciRepository(obj, ctx, source);
        else if (source.kind === 'HelmRepository') {
          build = await buildFromRepository(obj, ctx, { ...source, artifact }, loadIndex, deps);
        } else {
          const fetch = dependencyFetcher(dependencyRepositories(obj, ctx, deps, loadIndex));
          build = await buildFromTarball(obj, { ...source, artifact }, deps, fetch);
        }
      } catch (err) {
        if (err instanceof BuildError) throw buildFailed(obj, err);
        throw err;
      }
      deleteCondition(obj, ConditionTypes.FetchFailed);
      deleteCondition(obj, ConditionTypes.BuildFailed);
      return storeBuild(obj, ctx, deps, build);
    },

    async finalize(obj) {
      await deps.storage.removeAll(kindName, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
    },
  });
}
