// The HelmChart of spec.chart (Flux's internal/reconcile/helmchart_template.go): the controller owns a
// HelmChart named `<namespace>-<name>` in the namespace of the chart's source, applied from the
// template (chart, version, sourceRef, interval, reconcileStrategy, valuesFiles, verify, metadata) and
// labelled with the HelmRelease's name and namespace; status.helmChart names it. A HelmChart the
// HelmRelease no longer uses (chartRef instead, another source namespace) is deleted, and so is the
// HelmChart of a deleted HelmRelease.

import type { HelmRelease } from '../api/helm.ts';
import { HelmChartKind } from '../api/kinds.ts';
import { Labels, Reasons } from '../api/names.ts';

import { StallingError } from '../runtime/errors.ts';
import { jsonEqual, type KubeObject, objectKey } from '../runtime/object.ts';
import type { ReconcileContext } from '../runtime/reconciler.ts';

const nsOf = (obj: HelmRelease) => obj.metadata.namespace ?? '';

/** `namespace/name` of the HelmChart spec.chart asks for; undefined with chartRef. */
export function templateChartKey(obj: HelmRelease): string | undefined {
  const tpl = obj.spec.chart;
  if (!tpl) return undefined;
  return objectKey(tpl.spec.sourceRef.namespace || nsOf(obj), `${nsOf(obj)}-${obj.metadata.name}`);
}

/** The HelmChart built from the template, as Flux's buildHelmChartFromTemplate. */
export function helmChartFromTemplate(obj: HelmRelease): KubeObject {
  const tpl = obj.spec.chart;
  if (!tpl) throw new Error('spec.chart is not set');
  const s = tpl.spec;
  const spec: Record<string, unknown> = {
    chart: s.chart,
    sourceRef: { kind: s.sourceRef.kind, name: s.sourceRef.name },
    interval: s.interval ?? obj.spec.interval,
  };
  if (s.version) spec.version = s.version;
  if (s.reconcileStrategy) spec.reconcileStrategy = s.reconcileStrategy;
  if (s.valuesFiles?.length) spec.valuesFiles = s.valuesFiles;
  if (s.ignoreMissingValuesFiles) spec.ignoreMissingValuesFiles = true;
  if (s.verify)
    spec.verify = {
      provider: s.verify.provider,
      ...(s.verify.secretRef ? { secretRef: s.verify.secretRef } : {}),
    };
  return {
    apiVersion: HelmChartKind.apiVersion,
    kind: HelmChartKind.kind,
    metadata: {
      name: `${nsOf(obj)}-${obj.metadata.name}`,
      namespace: s.sourceRef.namespace || nsOf(obj),
      labels: {
        ...tpl.metadata?.labels,
        [Labels.helmName]: obj.metadata.name ?? '',
        [Labels.helmNamespace]: nsOf(obj),
      },
      ...(tpl.metadata?.annotations ? { annotations: tpl.metadata.annotations } : {}),
    },
    spec,
  };
}

/** Whether the live HelmChart lacks something the template sets (a field, a label, an annotation). */
function differs(want: KubeObject, live: KubeObject): boolean {
  const sub = (a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined) =>
    Object.entries(a ?? {}).some(([k, v]) => !jsonEqual(v, b?.[k]));
  return (
    sub(want.spec, live.spec) ||
    sub(want.metadata.labels, live.metadata.labels) ||
    sub(want.metadata.annotations, live.metadata.annotations)
  );
}

async function deleteChart(obj: HelmRelease, ctx: ReconcileContext, key: string): Promise<void> {
  const [namespace, name] = key.split('/') as [string, string];
  const gone = await ctx.client.delete({
    apiVersion: HelmChartKind.apiVersion,
    kind: HelmChartKind.kind,
    namespace,
    name,
  });
  if (gone) ctx.event('Trace', Reasons.HelmChartDeleted, `deleted HelmChart '${key}'`);
  obj.status = { ...obj.status, helmChart: undefined };
}

export interface TemplateOptions {
  fieldManager: string;
  noCrossNamespaceRefs?: boolean;
}

/**
 * Creates or updates the HelmChart of spec.chart and records it in status.helmChart, deleting the one
 * it replaces. It writes only when the HelmChart is missing, differs from the template, or the
 * HelmRelease has a new generation (so a field removed from the template is removed from it).
 * A HelmChart in another namespace is refused with --no-cross-namespace-refs (Stalled, AccessDenied).
 */
export async function reconcileChartTemplate(
  obj: HelmRelease,
  ctx: ReconcileContext,
  opts: TemplateOptions,
): Promise<void> {
  const key = templateChartKey(obj);
  const recorded = obj.status?.helmChart;
  if (recorded && recorded !== key) await deleteChart(obj, ctx, recorded);
  if (!key) return;
  const want = helmChartFromTemplate(obj);
  const sourceNs = want.metadata.namespace ?? '';
  if (opts.noCrossNamespaceRefs && sourceNs !== nsOf(obj))
    throw new StallingError(
      Reasons.AccessDenied,
      `can't access 'HelmChart/${key}', cross-namespace references have been blocked`,
    );
  const live = ctx.cached(HelmChartKind, key);
  const newGeneration = obj.status?.observedGeneration !== obj.metadata.generation;
  if (!live || newGeneration || differs(want, live)) {
    await ctx.client.apply(want, { fieldManager: opts.fieldManager, force: true });
    const src = obj.spec.chart?.spec.sourceRef;
    const action = live ? 'Configured' : 'Created';
    if (!live || differs(want, live))
      ctx.event(
        'Trace',
        live ? Reasons.HelmChartConfigured : Reasons.HelmChartCreated,
        `${action} HelmChart/${key} with SourceRef '${src?.kind}/${sourceNs}/${src?.name}'`,
      );
  }
  obj.status = { ...obj.status, helmChart: key };
}

/** Deletes the HelmChart the HelmRelease owns (finalization). */
export async function deleteChartTemplate(obj: HelmRelease, ctx: ReconcileContext): Promise<void> {
  if (obj.status?.helmChart) await deleteChart(obj, ctx, obj.status.helmChart);
}
