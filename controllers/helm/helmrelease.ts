// HelmRelease: releases a Helm chart from a source with the values of the spec and keeps the release in
// the desired state, following Flux's helm-controller:
//   HelmChart template → dependsOn → chart source (HelmChart or OCIRepository artifact) → values →
//   chart → release client (impersonation, remote cluster) → target change → failure counters →
//   the release state machine (atomic.ts) over the Helm storage, with the pinned helm binary.
// A reconcile with nothing to do reads the Helm storage natively and starts no process.

import type { HelmRelease } from '../api/helm.ts';
import { HelmChartKind, HelmReleaseKind, OCIRepositoryKind } from '../api/kinds.ts';
import type { KindDescriptor, ValuesReference } from '../api/meta.ts';
import { Annotations, ConditionTypes, EventMetadata, Labels, Reasons } from '../api/names.ts';

import { isArtifactError } from '../runtime/artifact/errors.ts';
import type { Client } from '../runtime/client.ts';
import { clientForObject, createClients } from '../runtime/clients.ts';
import { getCondition } from '../runtime/conditions.ts';
import { configWatch, decodeData, readData } from '../runtime/configdata.ts';
import {
  checkDependencies,
  dependencyWatch,
  dependsOnIndex,
  validateReadyExprs,
} from '../runtime/dependencies.ts';
import { GenericError, StallingError, WaitingError } from '../runtime/errors.ts';
import type { UnsupportedField } from '../runtime/fields.ts';
import { composeValues, DEFAULT_VALUES_KEY, valuesDigest, valuesSourceKey } from '../runtime/helm/values.ts';
import type { KubeConfigSource } from '../runtime/kubeconfig.ts';
import type { KubeObject } from '../runtime/object.ts';
import { defineController, type ReconcileContext } from '../runtime/reconciler.ts';
import {
  refKey,
  resolveSource,
  type SourceReference,
  sourceIndex,
  sourceWatch,
} from '../runtime/sourceref.ts';
import { decodeUtf8 } from '../runtime/yamlguard.ts';
import { type HelmAction, NoLatestError, type ReleaseEnv, type Request, uninstallAction } from './actions.ts';
import { CHART_FILE, helmArgs, VALUES_FILE } from './args.ts';
import { atomicRelease, handleAnnotationRequest } from './atomic.ts';
import { type ChartLoader, chartLoader, type LoadedChart } from './chart.ts';
import { applyCrds, CrdPolicies, type CrdPolicy, chartCrds } from './crds.ts';
import { correctDrift, detectDrift } from './drift.ts';
import { type HelmRun, runHelm } from './helm.ts';
import { releaseInventory } from './manifest.ts';
import {
  actionTimeoutMs,
  clearFailures,
  releaseName,
  releaseNamespace,
  shortenName,
  storageNamespace,
} from './release.ts';
import { latest } from './snapshot.ts';
import { releaseStorage, type StorageDriver, StorageDrivers } from './storage.ts';
import { deleteChartTemplate, reconcileChartTemplate, templateChartKey } from './template.ts';

export interface HelmDeps {
  /** The controller's own credentials, for impersonated clients. */
  kubeConfig: KubeConfigSource;
  fieldManager: string;
  helmBin: string;
  kustomizeBin: string;
  /** Wait before checking a dependency or a chart source again (Flux --requeue-dependency, 30s). */
  requeueDependencyMs: number;
  /** ServiceAccount impersonated when spec.serviceAccountName is empty (Flux --default-service-account). */
  defaultServiceAccount?: string;
  /** Refuse chart sources in other namespaces (Flux --no-cross-namespace-refs). */
  noCrossNamespaceRefs?: boolean;
  /** Helm storage driver ($HELM_DRIVER): secret (default) or configmap. */
  storageDriver?: StorageDriver;
  maxArtifactBytes?: number;
}

const chartRefKinds: Record<string, KindDescriptor> = {
  OCIRepository: OCIRepositoryKind,
  HelmChart: HelmChartKind,
};

/** Spec fields the CRD accepts that Tide refuses (Stalled, UnsupportedField), with why. */
export const helmReleaseUnsupportedFields: UnsupportedField[] = [
  {
    path: 'spec.chartRef.kind',
    allowed: Object.keys(chartRefKinds),
    why: 'ExternalArtifact sources are not implemented; use an OCIRepository or a HelmChart',
  },
  {
    path: 'spec.healthCheckExprs',
    why: "CEL health checks run in the wait of Flux's in-process Helm; the pinned helm binary waits with kstatus",
  },
  {
    path: 'spec.postRenderStrategy',
    allowed: ['combined'],
    why: 'the helm binary sends hooks and templates to post-renderers together (combined) only',
  },
];

const nsOf = (obj: HelmRelease) => obj.metadata.namespace ?? '';

// Index names of the HelmRelease informer.
const bySource = 'chartSource';
const byDependency = 'dependsOn';
const byConfig = 'configRef';

/** The source whose artifact is the chart: chartRef, or the HelmChart of the template. */
function chartSourceRef(obj: HelmRelease): SourceReference | undefined {
  if (obj.spec.chartRef) return obj.spec.chartRef;
  const key = templateChartKey(obj);
  if (!key) return undefined;
  const [namespace, name] = key.split('/') as [string, string];
  return { kind: HelmChartKind.kind, name, namespace };
}

/** `Kind/namespace/name` of every Secret and ConfigMap the spec reads, for the config watches. */
function configRefs(o: KubeObject): string[] {
  const hr = o as HelmRelease;
  const ns = nsOf(hr);
  const refs = (hr.spec.valuesFrom ?? []).map((v) => refKey(v.kind, ns, v.name));
  if (hr.spec.kubeConfig?.secretRef?.name) refs.push(refKey('Secret', ns, hr.spec.kubeConfig.secretRef.name));
  if (hr.spec.kubeConfig?.configMapRef?.name)
    refs.push(refKey('ConfigMap', ns, hr.spec.kubeConfig.configMapRef.name));
  return refs;
}

/**
 * The chart source's artifact, once the source is ready (Flux's isSourceReady): waits with
 * SourceNotReady while the source has not reconciled its generation, is stalled or has no artifact.
 */
function chartSource(obj: HelmRelease, ctx: ReconcileContext, deps: HelmDeps) {
  const ref = chartSourceRef(obj);
  if (!ref) throw new StallingError(Reasons.InvalidChartReference, 'either chart or chartRef must be set');
  const { source, artifact } = resolveSource(obj, ref, ctx, {
    kinds: chartRefKinds,
    noCrossNamespaceRefs: deps.noCrossNamespaceRefs,
    retryMs: deps.requeueDependencyMs,
    artifactRetryMs: deps.requeueDependencyMs,
  });
  const id = `${ref.kind} '${source.metadata.namespace}/${source.metadata.name}'`;
  const status = source.status as {
    observedGeneration?: number;
    conditions?: { type: string; status: string; message: string }[];
  };
  const cond = (t: string) => status?.conditions?.find((c) => c.type === t);
  let why: string | undefined;
  if (source.metadata.generation !== status?.observedGeneration)
    why =
      cond(ConditionTypes.Ready)?.status === 'False'
        ? cond(ConditionTypes.Ready)?.message
        : 'latest generation of object has not been reconciled';
  else if (cond(ConditionTypes.Stalled)?.status === 'True') why = cond(ConditionTypes.Stalled)?.message;
  if (why)
    throw new WaitingError(Reasons.SourceNotReady, `${id} is not ready: ${why}`, deps.requeueDependencyMs);
  return { kind: ref.kind, artifact };
}

/** spec.values and valuesFrom composed in Flux's order; a reference that cannot be resolved fails with ValuesError. */
async function releaseValues(obj: HelmRelease, ctx: ReconcileContext) {
  const objects: Record<string, Record<string, string> | undefined> = {};
  for (const ref of obj.spec.valuesFrom ?? []) {
    const key = valuesSourceKey(ref);
    if (key in objects) continue;
    const data = await readData(ctx.client, { kind: ref.kind, namespace: nsOf(obj), name: ref.name });
    if (ref.kind === 'Secret') checkUtf8Values(obj, ref, data);
    objects[key] = data && decodeData(ref.kind, data);
  }
  try {
    const { values, skipped } = composeValues({
      namespace: nsOf(obj),
      valuesFrom: obj.spec.valuesFrom,
      values: obj.spec.values as Record<string, unknown> | undefined,
      objects,
    });
    for (const s of skipped) ctx.log.info(`skipped optional values reference: ${s}`);
    return values;
  } catch (err) {
    throw new GenericError(Reasons.ValuesError, (err as Error).message);
  }
}

// Secret data is bytes, read as UTF-8: a values key that is not UTF-8 fails, as go-yaml refuses it,
// instead of reaching the chart with U+FFFD in place of what could not be read.
function checkUtf8Values(obj: HelmRelease, ref: ValuesReference, data: Record<string, string> | undefined) {
  const key = ref.valuesKey || DEFAULT_VALUES_KEY;
  const b64 = data?.[key];
  if (b64 === undefined) return;
  try {
    decodeUtf8(Buffer.from(b64, 'base64'));
  } catch (err) {
    const what = `'Secret/${nsOf(obj)}/${ref.name}' key '${key}'`;
    throw new GenericError(
      Reasons.ValuesError,
      `unmarshaling values from ${what} failed: ${(err as Error).message}`,
    );
  }
}

/** The chart of the artifact; a missing artifact waits, anything else fails with ArtifactFailed. */
async function loadChart(loader: ChartLoader, src: ReturnType<typeof chartSource>, deps: HelmDeps) {
  try {
    return await loader.load(src.artifact, src.kind === OCIRepositoryKind.kind);
  } catch (err) {
    if (isArtifactError(err) && err.code === 'ArtifactNotFound') {
      const wait = Math.round(deps.requeueDependencyMs / 1000);
      throw new WaitingError(
        Reasons.ArtifactFailed,
        `Source not ready: artifact not found. Retrying in ${wait}s`,
        deps.requeueDependencyMs,
      );
    }
    throw new GenericError(Reasons.ArtifactFailed, `Could not load chart: ${(err as Error).message}`);
  }
}

/** Where a release is: its name, its namespace and the namespace of its storage. */
interface Target {
  name: string;
  namespace: string;
  storageNamespace: string;
}

const crdPolicy = (obj: HelmRelease, action: 'install' | 'upgrade'): CrdPolicy => {
  if (action === 'install') {
    const s = obj.spec.install;
    // skipCRDs is deprecated in favour of crds: Skip; it still means what it says when crds is unset.
    return s?.crds ?? (s?.skipCRDs ? CrdPolicies.Skip : CrdPolicies.Create);
  }
  return obj.spec.upgrade?.crds ?? CrdPolicies.Skip;
};

/** The environment the state machine acts through for one release target. */
function releaseEnv(
  obj: HelmRelease,
  ctx: ReconcileContext,
  deps: HelmDeps,
  client: Client,
  target: Target,
): ReleaseEnv {
  const driver = deps.storageDriver ?? StorageDrivers.Secret;
  const storage = releaseStorage(client, driver, target.storageNamespace);
  const originLabels = { [Labels.helmName]: obj.metadata.name ?? '', [Labels.helmNamespace]: nsOf(obj) };

  /** What install and upgrade render with: the chart, the values, the post-renderer. */
  async function rendering(kind: 'install' | 'upgrade', req: Request): Promise<Partial<HelmRun>> {
    const crds = chartCrds(req.chart.chart, req.values);
    const applied = await applyCrds(client, crds, crdPolicy(obj, kind), originLabels).catch((err: Error) => {
      throw new Error(`failed to apply CustomResourceDefinitions: ${err.message}`);
    });
    if (applied) ctx.log.info(`applied ${applied} CustomResourceDefinition(s)`);
    return {
      files: { [CHART_FILE]: req.chart.archive, [VALUES_FILE]: JSON.stringify(req.values) },
      postRender: {
        kustomizeBin: deps.kustomizeBin,
        renderers: (obj.spec.postRenderers ?? []).flatMap((p) => (p.kustomize ? [p.kustomize] : [])),
        ...(obj.spec.commonMetadata ? { commonMetadata: obj.spec.commonMetadata } : {}),
        originLabels,
        timeoutMs: 60_000,
      },
    };
  }

  /** The release an upgrade or a rollback starts from: serverSideApply auto follows its apply method. */
  const startingFrom = (action: HelmAction) =>
    action.kind === 'rollback'
      ? storage.get(target.name, action.version)
      : action.kind === 'upgrade'
        ? storage.last(target.name)
        : Promise.resolve(undefined);

  async function helm(action: HelmAction, req: Request) {
    const render =
      action.kind === 'install' || action.kind === 'upgrade' ? await rendering(action.kind, req) : {};
    const from = await startingFrom(action);
    if (action.kind === 'rollback' && obj.spec.rollback?.recreate)
      ctx.log.info('spec.rollback.recreate is deprecated and has no effect');
    const args = helmArgs(action, obj, {
      releaseName: target.name,
      lastAppliedServerSide: from?.apply_method === 'ssa',
    });
    return runHelm(
      {
        bin: deps.helmBin,
        client,
        driver,
        releaseNamespace: target.namespace,
        storageNamespace: target.storageNamespace,
        // Pre hooks, the wait and post hooks each have the action's timeout.
        timeoutMs: 3 * actionTimeoutOf(obj, action) + 60_000,
        ...render,
      },
      args,
    );
  }

  return {
    releaseName: target.name,
    releaseNamespace: target.namespace,
    storage,
    helm,
    diff: (rel) => detectDrift(client, rel, obj.spec.driftDetection?.ignore),
    correct: (drifts) => correctDrift(client, drifts),
    inventory: (rel) => releaseInventory(client, rel),
    event: (type, reason, message, metadata) =>
      ctx.event(type, reason, message, metadata ? { metadata } : undefined),
    patchStatus: () => ctx.patchStatus(),
    now: () => ctx.now(),
    log: ctx.log,
  };
}

function actionTimeoutOf(obj: HelmRelease, action: HelmAction): number {
  const spec = {
    install: obj.spec.install,
    upgrade: obj.spec.upgrade,
    test: obj.spec.test,
    rollback: obj.spec.rollback,
    uninstall: obj.spec.uninstall,
  }[action.kind];
  return actionTimeoutMs(obj, spec?.timeout);
}

const noChart: LoadedChart = {
  name: '',
  version: '',
  archive: Buffer.alloc(0),
  chart: {
    metadata: { apiVersion: 'v2', name: '', version: '' },
    templates: [],
    files: [],
    dependencies: [],
  },
  ociDigest: '',
};

/**
 * Uninstalls the release recorded in the history (HelmRelease deletion, release target change) with
 * the storage namespace in status; a HelmRelease with no release made is left alone.
 */
async function uninstallRecorded(obj: HelmRelease, ctx: ReconcileContext, deps: HelmDeps, client: Client) {
  const cur = latest(obj.status?.history);
  const storageNs = obj.status?.storageNamespace;
  if (!cur || !storageNs) return;
  const env = releaseEnv(obj, ctx, deps, client, {
    name: cur.name,
    namespace: cur.namespace,
    storageNamespace: storageNs,
  });
  try {
    await uninstallAction().run({ obj, chart: noChart, values: {}, configDigest: '' }, env);
  } catch (err) {
    if (!(err instanceof NoLatestError))
      throw new GenericError(Reasons.UninstallFailed, (err as Error).message);
  }
}

/**
 * Flux's ReleaseTargetChanged: the storage namespace, release namespace or name, or (with
 * chartNameChangeStrategy Reinstall) the chart name differs from the recorded release.
 */
function targetChanged(obj: HelmRelease, chartName: string): string | undefined {
  const cur = latest(obj.status?.history);
  if (!obj.status?.storageNamespace || !cur) return undefined;
  if (storageNamespace(obj) !== obj.status.storageNamespace) return 'storage namespace';
  if (releaseNamespace(obj) !== cur.namespace) return 'release namespace';
  if (shortenName(releaseName(obj)) !== cur.name) return 'release name';
  if (
    chartName !== cur.chartName &&
    (obj.spec.upgrade?.chartNameChangeStrategy ?? 'Reinstall') === 'Reinstall'
  )
    return 'chart name';
  return undefined;
}

/** Flux's MustResetFailures: a new generation, chart version or values (or resetAt) clears the counters. */
function resetFailures(obj: HelmRelease, chartVersion: string, configDigest: string): void {
  const requested = handleAnnotationRequest(obj, Annotations.reconcileResetAt, 'lastHandledResetAt');
  const s = obj.status;
  if (
    s?.lastAttemptedGeneration !== obj.metadata.generation ||
    s?.lastAttemptedRevision !== chartVersion ||
    (s?.lastAttemptedConfigDigest && s.lastAttemptedConfigDigest !== configDigest) ||
    requested
  )
    clearFailures(obj);
}

export function helmReleaseController(deps: HelmDeps) {
  const clients = createClients({
    kubeConfig: deps.kubeConfig,
    fieldManager: deps.fieldManager,
    defaultServiceAccount: deps.defaultServiceAccount,
  });
  const charts = chartLoader({ maxBytes: deps.maxArtifactBytes });

  return defineController<HelmRelease>({
    name: 'helmrelease',
    kind: HelmReleaseKind,
    conditionPolicy: {
      owned: [
        ConditionTypes.Released,
        ConditionTypes.TestSuccess,
        ConditionTypes.Remediated,
        ConditionTypes.Drifted,
      ],
      negativePolarity: [],
    },
    unsupportedFields: helmReleaseUnsupportedFields,
    indexes: {
      [bySource]: sourceIndex((o) => chartSourceRef(o as HelmRelease)),
      [byDependency]: dependsOnIndex,
      [byConfig]: configRefs,
    },
    watches: [
      sourceWatch(HelmChartKind, { index: bySource }),
      sourceWatch(OCIRepositoryKind, { index: bySource }),
      dependencyWatch(
        HelmReleaseKind,
        byDependency,
        (a, b) =>
          a.metadata.generation !== b.metadata.generation ||
          JSON.stringify(a.status?.conditions) !== JSON.stringify(b.status?.conditions),
      ),
      configWatch('Secret', byConfig),
      configWatch('ConfigMap', byConfig),
    ],

    /**
     * Sets status.helmChart, storageNamespace, lastAttempted*, failure counters, history and inventory,
     * and the conditions Released, TestSuccess, Remediated and Drifted, from which Ready follows (as
     * Flux's summarize). Waits with DependencyNotReady, ArtifactFailed or SourceNotReady; fails with
     * ValuesError, ArtifactFailed or an action's reason; stalls with RetriesExceeded,
     * MissingRollbackTarget, AccessDenied or InvalidCELExpression.
     */
    async reconcile(obj, ctx) {
      await reconcileChartTemplate(obj, ctx, {
        fieldManager: deps.fieldManager,
        noCrossNamespaceRefs: deps.noCrossNamespaceRefs,
      });
      validateReadyExprs(obj);
      checkDependencies<HelmRelease>(obj, ctx, {
        kind: HelmReleaseKind,
        requeueMs: deps.requeueDependencyMs,
      });
      const source = chartSource(obj, ctx, deps);
      const values = await releaseValues(obj, ctx);
      const configDigest = valuesDigest(values);
      const chart = await loadChart(charts, source, deps);
      // persistentClient is Flux's Helm client cache; each helm run here is its own process.
      if (obj.spec.persistentClient === false) ctx.log.debug('persistentClient: false has no effect in Tide');
      const client = await clientForObject(clients, obj, ctx.client);

      const changed = targetChanged(obj, chart.name);
      if (changed) {
        ctx.log.info(
          `release target configuration changed (${changed}): running uninstall for current release`,
        );
        await uninstallRecorded(obj, ctx, deps, client);
        obj.status = { ...obj.status, history: [], storageNamespace: undefined };
        clearFailures(obj);
      }
      obj.status = { ...obj.status, storageNamespace: storageNamespace(obj) };
      resetFailures(obj, chart.version, configDigest);
      obj.status = {
        ...obj.status,
        lastAttemptedGeneration: obj.metadata.generation,
        lastAttemptedRevision: chart.version,
        lastAttemptedRevisionDigest: chart.ociDigest || undefined,
        lastAttemptedConfigDigest: configDigest,
        lastAttemptedValuesChecksum: undefined,
        lastReleaseRevision: undefined,
      };

      const target = {
        name: releaseName(obj),
        namespace: releaseNamespace(obj),
        storageNamespace: storageNamespace(obj),
      };
      const env = releaseEnv(obj, ctx, deps, client, target);
      const req: Request = { obj, chart, values, configDigest };
      const outcome = await atomicRelease(req, env).catch((err: Error) => {
        const ready = getCondition(obj, ConditionTypes.Ready);
        const reason = ready?.status === 'False' ? ready.reason : Reasons.ReconcileError;
        const message = ready?.status === 'False' ? ready.message : err.message;
        throw new GenericError(reason, message, { event: false, cause: err });
      });
      const ready = getCondition(obj, ConditionTypes.Ready);
      const readyNow = { reason: ready?.reason ?? Reasons.Progressing, message: ready?.message ?? '' };
      const quiet = { event: false, ready: readyNow };
      switch (outcome.kind) {
        case 'stalled':
          throw new StallingError(outcome.reason, outcome.message, quiet);
        case 'retry':
          throw new WaitingError(readyNow.reason, readyNow.message, outcome.afterMs, quiet);
        case 'requeue':
          throw new GenericError(readyNow.reason, readyNow.message, quiet);
        default:
          if (ready?.status !== 'True') throw new GenericError(readyNow.reason, readyNow.message, quiet);
          return {
            readyReason: readyNow.reason,
            readyMessage: readyNow.message,
            eventMetadata: { [EventMetadata.helmRevision]: chart.version },
          };
      }
    },

    /**
     * Uninstalls the release (spec.uninstall: keepHistory, deletionPropagation, ...) and deletes the
     * HelmChart of the template; nothing for a suspended HelmRelease. As Flux, a ServiceAccount to
     * impersonate that is gone skips the uninstall instead of blocking the deletion.
     */
    async finalize(obj, ctx) {
      if (obj.spec.suspend) return;
      if (obj.status?.storageNamespace && latest(obj.status.history)) {
        const sa = obj.spec.serviceAccountName || deps.defaultServiceAccount;
        const saRef = { apiVersion: 'v1', kind: 'ServiceAccount', namespace: nsOf(obj), name: sa ?? '' };
        if (sa && !obj.spec.kubeConfig && !(await ctx.client.tryGet(saRef))) {
          ctx.log.info(`skipping Helm release uninstallation: ServiceAccount '${sa}' not found`);
        } else {
          const client = await clientForObject(clients, obj, ctx.client);
          await uninstallRecorded(obj, ctx, deps, client);
          ctx.log.info('uninstalled Helm release for deleted resource');
        }
      }
      await deleteChartTemplate(obj, ctx);
    },
  });
}
