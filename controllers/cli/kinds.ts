// The kinds the CLI works on, named by the words flux users type (`source git`, `kustomization`, `ks`,
// `helmrelease`, `hr`), with what flux prints for each: the REVISION column, the success line after a
// reconcile, and where `--with-source` goes first.
import {
  AlertKind,
  Annotations,
  BucketKind,
  GitRepositoryKind,
  HelmChartKind,
  HelmReleaseKind,
  HelmRepositoryKind,
  ImagePolicyKind,
  ImageRepositoryKind,
  ImageUpdateAutomationKind,
  type KindDescriptor,
  KustomizationKind,
  OCIRepositoryKind,
  ProviderKind,
  ReceiverKind,
} from '../api/index.ts';
import type { KubeObject } from '../runtime/object.ts';
import { CliError } from './errors.ts';

export interface CliKind {
  descriptor: KindDescriptor;
  /** The Kubernetes kind, e.g. GitRepository; flux's reconcile messages use it. */
  kind: string;
  /** flux's name in suspend/resume messages and usage: `source git`, `kustomization`. */
  human: string;
  /** The controller that reconciles the kind, named in timeout hints. */
  controller: string;
  /** The REVISION column of `get`; kinds without one (notification kinds) have no such column. */
  revision?(obj: KubeObject): string;
  /** False hides the SUSPENDED column of `get` (alert providers, as flux prints them). */
  suspendColumn?: false;
  /**
   * A kind without status or reconciler (v1beta3 Alert and Provider): Ready by definition, with this
   * message; `reconcile` has nothing to ask and `resume` nothing to wait for.
   */
  static?: { message: string };
  /** The last line of a successful reconcile, e.g. `fetched revision main@sha1:…`. */
  success(obj: KubeObject): string | undefined;
  /** The object `--with-source` reconciles first; absent for kinds without a source. */
  source?(obj: KubeObject): SourceTarget;
  /** The columns `get` prints between NAME and READY, when not REVISION and SUSPENDED (flux's per kind). */
  columns?: { headers: string[]; values(obj: KubeObject): string[] };
  /**
   * `reconcile` flags that add an annotation carrying the request token (HelmRelease: --force writes
   * reconcile.fluxcd.io/forceAt, --reset reconcile.fluxcd.io/resetAt), by flag.
   */
  requestFlags?: Readonly<Record<string, string>>;
}

export interface SourceTarget {
  kind: CliKind;
  name: string;
  namespace: string;
}

const artifactRevision = (obj: KubeObject): string => obj.status?.artifact?.revision ?? '';
const fetched = (obj: KubeObject): string | undefined =>
  obj.status?.artifact ? `fetched revision ${artifactRevision(obj)}` : undefined;

function sourceKind(descriptor: KindDescriptor, word: string): CliKind {
  return {
    descriptor,
    kind: descriptor.kind,
    human: `source ${word}`,
    controller: 'source-controller',
    revision: artifactRevision,
    success: fetched,
  };
}

export const gitKind = sourceKind(GitRepositoryKind, 'git');
export const ociKind = sourceKind(OCIRepositoryKind, 'oci');
export const helmRepositoryKind = sourceKind(HelmRepositoryKind, 'helm');
export const bucketKind = sourceKind(BucketKind, 'bucket');

export const helmChartKind: CliKind = {
  ...sourceKind(HelmChartKind, 'chart'),
  success: (obj) =>
    obj.status?.artifact
      ? `pulled '${obj.spec?.chart ?? ''}' chart with version '${artifactRevision(obj)}'`
      : undefined,
  // A chart's sourceRef is local: HelmRepository, GitRepository or Bucket in the chart's namespace.
  source: (obj) => sourceByKind(obj.spec?.sourceRef?.kind, obj.spec?.sourceRef?.name, namespaceOf(obj)),
};

export const kustomizationKind: CliKind = {
  descriptor: KustomizationKind,
  kind: KustomizationKind.kind,
  human: 'kustomization',
  controller: 'kustomize-controller',
  revision: (obj) => obj.status?.lastAppliedRevision ?? '',
  success: (obj) => `applied revision ${obj.status?.lastAppliedRevision ?? ''}`,
  source: (obj) => {
    const ref = obj.spec?.sourceRef ?? {};
    return sourceByKind(ref.kind, ref.name, ref.namespace || namespaceOf(obj));
  },
};

export const helmReleaseKind: CliKind = {
  descriptor: HelmReleaseKind,
  kind: HelmReleaseKind.kind,
  human: 'helmrelease',
  controller: 'helm-controller',
  // The chart version of the latest release, else what was last attempted (flux's getHelmReleaseRevision).
  revision: (obj) => obj.status?.history?.[0]?.chartVersion ?? obj.status?.lastAttemptedRevision ?? '',
  success: (obj) => `applied revision ${obj.status?.lastAttemptedRevision ?? ''}`,
  requestFlags: { force: Annotations.reconcileForceAt, reset: Annotations.reconcileResetAt },
  source: (obj) => {
    const ref = obj.spec?.chartRef;
    if (ref) return sourceByKind(ref.kind, ref.name, ref.namespace || namespaceOf(obj));
    // A chart template: helm-controller keeps its HelmChart `<ns>-<name>` in the source's namespace.
    const [chartNs, chartName] = String(obj.status?.helmChart ?? '').split('/');
    if (chartNs && chartName) return { kind: helmChartKind, name: chartName, namespace: chartNs };
    return {
      kind: helmChartKind,
      name: `${namespaceOf(obj)}-${obj.metadata.name}`,
      namespace: obj.spec?.chart?.spec?.sourceRef?.namespace || namespaceOf(obj),
    };
  },
};

// notification-controller's kinds (flux's `alert`, `alert-provider` and `receiver` commands).
const notificationKind = (
  descriptor: KindDescriptor,
  human: string,
  more: Partial<CliKind> = {},
): CliKind => ({
  descriptor,
  kind: descriptor.kind,
  human,
  controller: 'notification-controller',
  success: () => undefined,
  ...more,
});

export const alertKind = notificationKind(AlertKind, 'alert', { static: { message: 'Alert is Ready' } });
export const alertProviderKind = notificationKind(ProviderKind, 'alert provider', {
  static: { message: 'Provider is Ready' },
  suspendColumn: false,
});
export const receiverKind = notificationKind(ReceiverKind, 'receiver');

const namespaceOf = (obj: KubeObject): string => obj.metadata.namespace ?? '';

const suspended = (obj: KubeObject) => (obj.spec?.suspend === true ? 'True' : 'False');
const imageRef = (r: { name: string; tag: string; digest?: string }) =>
  `${r.name}:${r.tag}${r.digest ? `@${r.digest}` : ''}`;

export const imageRepositoryKind: CliKind = {
  descriptor: ImageRepositoryKind,
  kind: ImageRepositoryKind.kind,
  human: 'image repository',
  controller: 'image-reflector-controller',
  revision: (obj) => obj.status?.lastScanResult?.revision ?? '',
  success: (obj) => `scan fetched ${obj.status?.lastScanResult?.tagCount ?? 0} tags`,
  columns: {
    headers: ['Last scan', 'Suspended'],
    values: (obj) => [obj.status?.lastScanResult?.scanTime ?? '', suspended(obj)],
  },
};

export const imagePolicyKind: CliKind = {
  descriptor: ImagePolicyKind,
  kind: ImagePolicyKind.kind,
  human: 'image policy',
  controller: 'image-reflector-controller',
  revision: (obj) => obj.status?.latestRef?.tag ?? '',
  success: (obj) => (obj.status?.latestRef ? `selected ref ${imageRef(obj.status.latestRef)}` : undefined),
  columns: {
    headers: ['Image', 'Tag'],
    values: (obj) => [obj.status?.latestRef?.name ?? '', obj.status?.latestRef?.tag ?? ''],
  },
};

export const imageUpdateAutomationKind: CliKind = {
  descriptor: ImageUpdateAutomationKind,
  kind: ImageUpdateAutomationKind.kind,
  human: 'image update automation',
  controller: 'image-automation-controller',
  revision: (obj) => obj.status?.lastPushCommit ?? '',
  success: (obj) => {
    const ready = (obj.status?.conditions as { type: string; message: string }[] | undefined)?.find(
      (c) => c.type === 'Ready',
    );
    if (ready) return ready.message;
    const last = obj.status?.lastAutomationRunTime;
    return last ? `last run ${last}` : 'automation not yet run';
  },
  columns: {
    headers: ['Last run', 'Suspended'],
    values: (obj) => [obj.status?.lastAutomationRunTime ?? '', suspended(obj)],
  },
};

/** Image kinds by their word after `image`, in the order `get images all` prints them (flux's). */
export const imageKinds: ReadonlyMap<string, CliKind> = new Map([
  ['repository', imageRepositoryKind],
  ['policy', imagePolicyKind],
  ['update', imageUpdateAutomationKind],
]);

const byKind = new Map(
  [gitKind, ociKind, helmRepositoryKind, helmChartKind, bucketKind].map((k) => [k.kind, k] as const),
);

function sourceByKind(kind: unknown, name: unknown, namespace: string): SourceTarget {
  const found = byKind.get(String(kind));
  if (!found)
    throw new CliError(`cannot reconcile source of kind '${String(kind)}': not a source the CLI knows`);
  if (!name) throw new CliError(`the source reference of kind ${found.kind} has no name`);
  return { kind: found, name: String(name), namespace };
}

/** Source kinds by their word after `source`, in the order `get sources all` prints them (flux's). */
export const sourceKinds: ReadonlyMap<string, CliKind> = new Map([
  ['oci', ociKind],
  ['bucket', bucketKind],
  ['git', gitKind],
  ['helm', helmRepositoryKind],
  ['chart', helmChartKind],
]);

const topLevel: ReadonlyMap<string, CliKind> = new Map([
  ['kustomization', kustomizationKind],
  ['kustomizations', kustomizationKind],
  ['ks', kustomizationKind],
  ['helmrelease', helmReleaseKind],
  ['helmreleases', helmReleaseKind],
  ['hr', helmReleaseKind],
  ['alert', alertKind],
  ['alerts', alertKind],
  ['alert-provider', alertProviderKind],
  ['alert-providers', alertProviderKind],
  ['receiver', receiverKind],
  ['receivers', receiverKind],
]);

export interface Resolved {
  kinds: CliKind[];
  /** `get sources all`: several kinds, names printed as `<kind>/<name>`. */
  all: boolean;
  /** The words after the kind (names). */
  rest: string[];
}

/** `<group word> <kind word>` kinds: `source git`, `image policy`, with `all` where allowed. */
function grouped(
  group: ReadonlyMap<string, CliKind>,
  words: readonly string[],
  verb: string,
  allowAll: boolean,
): Resolved {
  const [first = '', second, ...more] = words;
  const word = first.replace(/s$/, '');
  const list = `${allowAll ? 'all, ' : ''}${[...group.keys()].sort().join(', ')}`;
  if (second === undefined) throw new CliError(`tide ${verb} ${first} needs a ${word} kind: ${list}`);
  if (allowAll && second === 'all') return { kinds: [...group.values()], all: true, rest: more };
  const kind = group.get(second);
  if (!kind) throw new CliError(`unknown ${word} kind "${second}"; want one of: ${list}`);
  return { kinds: [kind], all: false, rest: more };
}

const groups: ReadonlyMap<string, ReadonlyMap<string, CliKind>> = new Map([
  ['source', sourceKinds],
  ['sources', sourceKinds],
  ['image', imageKinds],
  ['images', imageKinds],
]);

/**
 * Reads the kind words after a verb: `source <git|oci|helm|chart|bucket>` (`sources` too, and `all`
 * when allowAll), `image <repository|policy|update>` (`images` too, `all` likewise),
 * `kustomization(s)`/`ks`, `helmrelease(s)`/`hr`, `alert(s)`, `alert-provider(s)`, `receiver(s)`.
 */
export function resolveKind(words: readonly string[], verb: string, allowAll = false): Resolved {
  const [first] = words;
  const all = allowAll ? 'all|' : '';
  const sourceList = `${all}${[...sourceKinds.keys()].sort().join('|')}`;
  const imageList = `${all}${[...imageKinds.keys()].join('|')}`;
  const kindList =
    `source(s) <${sourceList}>, image(s) <${imageList}>, kustomization(s) (ks), helmrelease(s) (hr), ` +
    'alert(s), alert-provider(s), receiver(s)';
  if (first === undefined) throw new CliError(`tide ${verb} needs a kind: ${kindList}`);
  const top = topLevel.get(first);
  if (top) return { kinds: [top], all: false, rest: words.slice(1) };
  const group = groups.get(first);
  if (!group) throw new CliError(`unknown kind "${first}" for "tide ${verb}"; want one of: ${kindList}`);
  return grouped(group, words, verb, allowAll);
}
