// One line of the dashboard per Tide object: its state (failing, progressing, suspended, ready), the
// Ready reason and message, the revision, and the references the dependency graph follows. Computed on
// the server from the watched object and sent to the browser; pure, shared by both.
import { ConditionTypes, Reasons } from '../../api/names.ts';

export const States = {
  Failing: 'failing',
  Progressing: 'progressing',
  Suspended: 'suspended',
  Ready: 'ready',
} as const;
export type State = (typeof States)[keyof typeof States];

/** Failures first, then what is still moving, then what is on hold, then the healthy rest. */
export const stateOrder: readonly State[] = [
  States.Failing,
  States.Progressing,
  States.Suspended,
  States.Ready,
];

/** What the browser knows of a kind Tide serves. */
export interface KindInfo {
  kind: string;
  group: string;
  version: string;
  apiVersion: string;
  plural: string;
  /** False for kinds the controllers never write a status for (v1beta3 Alert and Provider). */
  hasStatus: boolean;
  /** spec.suspend exists. */
  suspendable: boolean;
  /** spec.dependsOn exists: the kind is a node of the dependency graph. */
  hasDependsOn: boolean;
  /** ok, or why its objects are not shown: the CRD is not installed, or listing is forbidden. */
  availability: 'ok' | 'not-installed' | 'forbidden' | 'error' | 'pending';
  message?: string;
}

export interface Ref {
  kind: string;
  namespace: string;
  name: string;
}

export interface DependencyRef {
  namespace: string;
  name: string;
  readyExpr?: string;
}

export interface Row {
  /** `Kind/namespace/name`. */
  key: string;
  kind: string;
  namespace: string;
  name: string;
  state: State;
  /** Ready's status, reason and message (or why there is none). */
  ready: 'True' | 'False' | 'Unknown' | '';
  reason: string;
  message: string;
  /** What the object last applied, stored or released. */
  revision: string;
  /** When Ready last changed (RFC 3339), for "since". */
  since?: string;
  suspended: boolean;
  /** The source (or chart, image repository, provider) the object reads. */
  source?: Ref;
  dependsOn?: DependencyRef[];
  lastHandledReconcileAt?: string;
  /** `metadata.generation` and `status.observedGeneration`. */
  generation?: number;
  observedGeneration?: number;
}

export const rowKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

interface Cond {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** The unstructured shape rows are computed from (a KubeObject). */
export interface ObjectLike {
  kind?: string;
  metadata: { name?: string; namespace?: string; generation?: number };
  // biome-ignore lint/suspicious/noExplicitAny: free-form spec of any Tide kind
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: free-form status of any Tide kind
  status?: any;
}

const conditionOf = (obj: ObjectLike, type: string): Cond | undefined =>
  (obj.status?.conditions as Cond[] | undefined)?.find((c) => c.type === type);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The revision to show, whichever the kind records: applied (Kustomization), stored artifact (sources),
 * released chart (HelmRelease), latest image (ImagePolicy), last push (ImageUpdateAutomation), else what
 * was last attempted.
 */
export function revisionOf(obj: ObjectLike): string {
  const s = obj.status ?? {};
  const image = s.latestRef ? `${s.latestRef.name ?? ''}:${s.latestRef.tag ?? ''}` : undefined;
  return (
    str(s.lastAppliedRevision) ??
    str(s.artifact?.revision) ??
    str(s.history?.[0]?.chartVersion) ??
    str(image) ??
    str(s.latestImage) ??
    str(s.lastPushCommit) ??
    str(s.lastAttemptedRevision) ??
    ''
  );
}

/**
 * The object the spec reads its input from: spec.sourceRef, spec.chartRef, the HelmChart of a chart
 * template (status.helmChart, else `<namespace>-<name>` in the source's namespace, as helm-controller
 * names it), spec.imageRepositoryRef or spec.providerRef.
 */
export function sourceOf(obj: ObjectLike): Ref | undefined {
  const ns = obj.metadata.namespace ?? '';
  const spec = obj.spec ?? {};
  const ref = (r: { kind?: string; name?: string; namespace?: string } | undefined, kind?: string) =>
    r?.name && (r.kind ?? kind)
      ? { kind: (r.kind ?? kind) as string, namespace: r.namespace || ns, name: r.name }
      : undefined;
  if (spec.sourceRef) return ref(spec.sourceRef);
  if (spec.chartRef) return ref(spec.chartRef);
  if (spec.chart?.spec) {
    const [chartNs, chartName] = String(obj.status?.helmChart ?? '').split('/');
    if (chartNs && chartName) return { kind: 'HelmChart', namespace: chartNs, name: chartName };
    return {
      kind: 'HelmChart',
      namespace: spec.chart.spec.sourceRef?.namespace || ns,
      name: `${ns}-${obj.metadata.name ?? ''}`,
    };
  }
  if (spec.imageRepositoryRef) return ref(spec.imageRepositoryRef, 'ImageRepository');
  if (spec.providerRef) return ref(spec.providerRef, 'Provider');
  return undefined;
}

/**
 * The state of an object as an operator reads it:
 * - suspended: spec.suspend, whatever Ready says (nothing changes until it is resumed);
 * - failing: Stalled=True, or Ready=False for any reason but waiting on a dependency;
 * - progressing: Ready=Unknown, no Ready yet, waiting on a dependency, or Ready about an older generation;
 * - ready: Ready=True at the current generation, or a kind without status.
 */
export function stateOf(obj: ObjectLike, kind: Pick<KindInfo, 'hasStatus'>): State {
  if (obj.spec?.suspend === true) return States.Suspended;
  if (!kind.hasStatus) return States.Ready;
  if (conditionOf(obj, ConditionTypes.Stalled)?.status === 'True') return States.Failing;
  const ready = conditionOf(obj, ConditionTypes.Ready);
  if (!ready) return States.Progressing;
  if (ready.status === 'False')
    return ready.reason === Reasons.DependencyNotReady ? States.Progressing : States.Failing;
  if (ready.status !== 'True') return States.Progressing;
  const observed = obj.status?.observedGeneration;
  const generation = obj.metadata.generation;
  if (typeof observed === 'number' && typeof generation === 'number' && observed < generation)
    return States.Progressing;
  return States.Ready;
}

function readyText(
  obj: ObjectLike,
  kind: Pick<KindInfo, 'hasStatus'>,
): Pick<Row, 'ready' | 'reason' | 'message'> {
  if (!kind.hasStatus) return { ready: '', reason: '', message: 'static configuration: no status' };
  const stalled = conditionOf(obj, ConditionTypes.Stalled);
  const ready = conditionOf(obj, ConditionTypes.Ready);
  if (stalled?.status === 'True' && ready?.status !== 'False')
    return {
      ready: (ready?.status ?? '') as Row['ready'],
      reason: stalled.reason ?? '',
      message: stalled.message ?? '',
    };
  if (!ready) return { ready: '', reason: '', message: 'waiting for the controller' };
  return { ready: ready.status as Row['ready'], reason: ready.reason ?? '', message: ready.message ?? '' };
}

/** The row of one object. */
export function summarize(obj: ObjectLike, kind: Pick<KindInfo, 'kind' | 'hasStatus'>): Row {
  const namespace = obj.metadata.namespace ?? '';
  const name = obj.metadata.name ?? '';
  const deps = Array.isArray(obj.spec?.dependsOn)
    ? (obj.spec.dependsOn as { name: string; namespace?: string; readyExpr?: string }[]).map((d) => ({
        namespace: d.namespace || namespace,
        name: d.name,
        ...(d.readyExpr ? { readyExpr: d.readyExpr } : {}),
      }))
    : undefined;
  const source = sourceOf(obj);
  return {
    key: rowKey(kind.kind, namespace, name),
    kind: kind.kind,
    namespace,
    name,
    state: stateOf(obj, kind),
    ...readyText(obj, kind),
    revision: revisionOf(obj),
    since: conditionOf(obj, ConditionTypes.Ready)?.lastTransitionTime,
    suspended: obj.spec?.suspend === true,
    ...(source ? { source } : {}),
    ...(deps?.length ? { dependsOn: deps } : {}),
    lastHandledReconcileAt: str(obj.status?.lastHandledReconcileAt),
    generation: obj.metadata.generation,
    observedGeneration:
      typeof obj.status?.observedGeneration === 'number' ? obj.status.observedGeneration : undefined,
  };
}
