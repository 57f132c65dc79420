// The kinds the CLI works on, one row each: the words flux users type for it (`source git`,
// `kustomization`/`ks`, `image policy`), what `get` prints (REVISION or the kind's own columns), the
// success line after a reconcile, and where `--with-source` goes first. Every verb reads the kinds from
// `cliKinds`; a new kind is one more row.
import {
  AlertKind,
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

/** Kinds typed after a group word: `source git`, `image policy`. */
export type KindGroup = 'source' | 'image';

export interface Column {
  name: string;
  value(obj: KubeObject): string;
}

export interface CliKind {
  descriptor: KindDescriptor;
  /** The Kubernetes kind, e.g. GitRepository; flux's reconcile messages use it. */
  kind: string;
  /** flux's name in suspend/resume messages and usage: `source git`, `kustomization`. */
  human: string;
  /** The words that name the kind (after its group word, if any); the first is the canonical one. */
  words: readonly string[];
  group?: KindGroup;
  /** The controller that reconciles the kind, named in timeout hints. */
  controller: string;
  /** The REVISION column of `get`; kinds without one (notification kinds) have no such column. */
  revision?(obj: KubeObject): string;
  /** Columns `get` prints instead of REVISION (flux's image kinds: LAST SCAN, IMAGE and TAG, ...). */
  columns?: readonly Column[];
  /** False hides the SUSPENDED column of `get` (alert providers and image policies, as flux prints them). */
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
  /** `reconcile --force` and `--reset` (HelmRelease): one-off release, failure counters reset. */
  forceable?: true;
}

export interface SourceTarget {
  kind: CliKind;
  name: string;
  namespace: string;
}

const artifactRevision = (obj: KubeObject): string => obj.status?.artifact?.revision ?? '';
const fetched = (obj: KubeObject): string | undefined =>
  obj.status?.artifact ? `fetched revision ${artifactRevision(obj)}` : undefined;
const namespaceOf = (obj: KubeObject): string => obj.metadata.namespace ?? '';

function sourceKind(descriptor: KindDescriptor, word: string, more: Partial<CliKind> = {}): CliKind {
  return {
    descriptor,
    kind: descriptor.kind,
    human: `source ${word}`,
    words: [word],
    group: 'source',
    controller: 'source-controller',
    revision: artifactRevision,
    success: fetched,
    ...more,
  };
}

export const ociKind = sourceKind(OCIRepositoryKind, 'oci');
export const bucketKind = sourceKind(BucketKind, 'bucket');
export const gitKind = sourceKind(GitRepositoryKind, 'git');
export const helmRepositoryKind = sourceKind(HelmRepositoryKind, 'helm');
export const helmChartKind: CliKind = sourceKind(HelmChartKind, 'chart', {
  success: (obj) =>
    obj.status?.artifact
      ? `pulled '${obj.spec?.chart ?? ''}' chart with version '${artifactRevision(obj)}'`
      : undefined,
  // A chart's sourceRef is local: HelmRepository, GitRepository or Bucket in the chart's namespace.
  source: (obj) => sourceByKind(obj.spec?.sourceRef?.kind, obj.spec?.sourceRef?.name, namespaceOf(obj)),
});

function imageKind(descriptor: KindDescriptor, word: string, more: Partial<CliKind>): CliKind {
  return {
    descriptor,
    kind: descriptor.kind,
    human: `image ${word}`,
    words: [word],
    group: 'image',
    controller:
      descriptor === ImageUpdateAutomationKind ? 'image-automation-controller' : 'image-reflector-controller',
    success: () => undefined,
    ...more,
  };
}

export const imageRepositoryKind = imageKind(ImageRepositoryKind, 'repository', {
  columns: [{ name: 'Last scan', value: (o) => o.status?.lastScanResult?.scanTime ?? '' }],
  success: (o) =>
    o.status?.lastScanResult ? `scan fetched ${o.status.lastScanResult.tagCount ?? 0} tags` : undefined,
});
export const imagePolicyKind = imageKind(ImagePolicyKind, 'policy', {
  columns: [
    { name: 'Image', value: (o) => o.status?.latestRef?.name ?? '' },
    { name: 'Tag', value: (o) => o.status?.latestRef?.tag ?? '' },
  ],
  suspendColumn: false,
  success: (o) => {
    const ref = o.status?.latestRef;
    // flux prints the ref as ImageRef.String(): name:tag, then @digest when reflected.
    return ref ? `selected ref ${ref.name}:${ref.tag}${ref.digest ? `@${ref.digest}` : ''}` : undefined;
  },
});
export const imageUpdateKind = imageKind(ImageUpdateAutomationKind, 'update', {
  human: 'image update automation',
  columns: [{ name: 'Last run', value: (o) => o.status?.lastAutomationRunTime ?? '' }],
  success: (o) =>
    o.status?.lastPushCommit
      ? `last push commit ${o.status.lastPushCommit}`
      : o.status?.lastAutomationRunTime
        ? `last run ${o.status.lastAutomationRunTime}`
        : undefined,
  source: (o) =>
    sourceByKind(
      o.spec?.sourceRef?.kind ?? 'GitRepository',
      o.spec?.sourceRef?.name,
      o.spec?.sourceRef?.namespace || namespaceOf(o),
    ),
});

export const helmReleaseKind: CliKind = {
  descriptor: HelmReleaseKind,
  kind: HelmReleaseKind.kind,
  human: 'helmrelease',
  words: ['helmrelease', 'helmreleases', 'hr'],
  controller: 'helm-controller',
  // The chart version of the latest release, else what was last attempted (flux's getHelmReleaseRevision).
  revision: (obj) => obj.status?.history?.[0]?.chartVersion ?? obj.status?.lastAttemptedRevision ?? '',
  success: (obj) => `applied revision ${obj.status?.lastAttemptedRevision ?? ''}`,
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
  forceable: true,
};

export const kustomizationKind: CliKind = {
  descriptor: KustomizationKind,
  kind: KustomizationKind.kind,
  human: 'kustomization',
  words: ['kustomization', 'kustomizations', 'ks'],
  controller: 'kustomize-controller',
  revision: (obj) => obj.status?.lastAppliedRevision ?? '',
  success: (obj) => `applied revision ${obj.status?.lastAppliedRevision ?? ''}`,
  source: (obj) => {
    const ref = obj.spec?.sourceRef ?? {};
    return sourceByKind(ref.kind, ref.name, ref.namespace || namespaceOf(obj));
  },
};

// notification-controller's kinds (flux's `alert`, `alert-provider` and `receiver` commands).
const notificationKind = (
  descriptor: KindDescriptor,
  human: string,
  words: string[],
  more: Partial<CliKind> = {},
): CliKind => ({
  descriptor,
  kind: descriptor.kind,
  human,
  words,
  controller: 'notification-controller',
  success: () => undefined,
  ...more,
});

export const receiverKind = notificationKind(ReceiverKind, 'receiver', ['receiver', 'receivers']);
export const alertProviderKind = notificationKind(
  ProviderKind,
  'alert provider',
  ['alert-provider', 'alert-providers'],
  { static: { message: 'Provider is Ready' }, suspendColumn: false },
);
export const alertKind = notificationKind(AlertKind, 'alert', ['alert', 'alerts'], {
  static: { message: 'Alert is Ready' },
});

/** Every kind, in the order `get all` prints them (flux's). */
export const cliKinds: readonly CliKind[] = [
  ociKind,
  bucketKind,
  gitKind,
  helmRepositoryKind,
  helmChartKind,
  imageRepositoryKind,
  imagePolicyKind,
  imageUpdateKind,
  helmReleaseKind,
  kustomizationKind,
  receiverKind,
  alertProviderKind,
  alertKind,
];

/** The kind of a Kubernetes kind name (`GitRepository`), if the CLI serves it. */
export const kindByName = (kind: unknown): CliKind | undefined => cliKinds.find((k) => k.kind === kind);

function sourceByKind(kind: unknown, name: unknown, namespace: string): SourceTarget {
  const found = kindByName(kind);
  if (found?.group !== 'source')
    throw new CliError(`cannot reconcile source of kind '${String(kind)}': not a source the CLI knows`);
  if (!name) throw new CliError(`the source reference of kind ${found.kind} has no name`);
  return { kind: found, name: String(name), namespace };
}

/** The kinds of a group by their word, in `cliKinds` order. */
export const groupKinds = (group: KindGroup): ReadonlyMap<string, CliKind> =>
  new Map(cliKinds.filter((k) => k.group === group).flatMap((k) => k.words.map((w) => [w, k] as const)));

/** Source kinds by their word after `source`, in the order `get sources all` prints them (flux's). */
export const sourceKinds: ReadonlyMap<string, CliKind> = groupKinds('source');

const groupWords: Record<KindGroup, readonly string[]> = {
  source: ['source', 'sources'],
  image: ['image', 'images'],
};

export interface Resolved {
  kinds: CliKind[];
  /** `get sources all`, `get all`: several kinds, names printed as `<kind>/<name>`. */
  all: boolean;
  /** The words after the kind (names). */
  rest: string[];
}

/** The words a user can type for the kinds, for messages and completion: `source(s) <git|…>`, `ks`, … */
export function kindWords(allowAll = false): string {
  const groups = (Object.keys(groupWords) as KindGroup[]).map((g) => {
    const words = [...(allowAll ? ['all'] : []), ...[...groupKinds(g).keys()].sort()];
    return `${g}(s) <${words.join('|')}>`;
  });
  const top = cliKinds
    .filter((k) => !k.group)
    .map((k) => {
      const [canonical = '', ...aliases] = k.words;
      const short = aliases.filter((a) => a !== `${canonical}s`);
      return `${canonical}(s)${short.length ? ` (${short.join(', ')})` : ''}`;
    });
  return [...groups, ...top, ...(allowAll ? ['all'] : [])].join(', ');
}

/**
 * Reads the kind words after a verb: `source <git|oci|helm|chart|bucket>` (`sources` too, and `all`
 * when allowAll), `image <repository|policy|update>`, `kustomization(s)`/`ks`, `helmrelease(s)`/`hr`,
 * `alert(s)`, `alert-provider(s)`, `receiver(s)`, and with allowAll a bare `all` for every kind.
 */
export function resolveKind(words: readonly string[], verb: string, allowAll = false): Resolved {
  const [first, second, ...more] = words;
  const kindList = kindWords(allowAll);
  if (first === undefined) throw new CliError(`tide ${verb} needs a kind: ${kindList}`);
  if (allowAll && first === 'all') return { kinds: [...cliKinds], all: true, rest: words.slice(1) };
  const top = cliKinds.find((k) => !k.group && k.words.includes(first));
  if (top) return { kinds: [top], all: false, rest: words.slice(1) };
  const group = (Object.keys(groupWords) as KindGroup[]).find((g) => groupWords[g].includes(first));
  if (!group) throw new CliError(`unknown kind "${first}" for "tide ${verb}"; want one of: ${kindList}`);
  const members = groupKinds(group);
  const list = `${allowAll ? 'all, ' : ''}${[...members.keys()].sort().join(', ')}`;
  if (second === undefined) throw new CliError(`tide ${verb} ${first} needs a ${group} kind: ${list}`);
  if (allowAll && second === 'all') return { kinds: [...new Set(members.values())], all: true, rest: more };
  const kind = members.get(second);
  if (!kind) throw new CliError(`unknown ${group} kind "${second}"; want one of: ${list}`);
  return { kinds: [kind], all: false, rest: more };
}
