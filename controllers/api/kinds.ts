// The kinds Tide serves as plain data: groups, versions, the descriptor of every kind (names, scope,
// printer columns) and the value lists controllers read at run time. Free of schema code on purpose:
// controllers import their kinds from here and their types with `import type`, so the TypeBox schemas
// (CRD generation, kubectl explain) are never loaded into a running controller. The schemas live in
// the group files; index.ts pairs them with these descriptors (schemaOf).

export interface PrinterColumn {
  name: string;
  type: 'string' | 'date' | 'integer' | 'number' | 'boolean';
  jsonPath: string;
  priority?: number;
  description?: string;
}

export interface KindDescriptor {
  group: string;
  version: string;
  /** `<group>/<version>`, as written in manifests. */
  apiVersion: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  categories: readonly string[];
  namespaced: true;
  /** True when the kind has a status subresource. */
  statusSubresource: boolean;
  printerColumns: readonly PrinterColumn[];
}

export function describeKind(d: {
  group: string;
  version: string;
  kind: string;
  shortNames?: readonly string[];
  categories?: readonly string[];
  printerColumns: readonly PrinterColumn[];
  statusSubresource?: boolean;
  /** Defaults to the lowercase kind plus `s`. */
  plural?: string;
}): KindDescriptor {
  return {
    group: d.group,
    version: d.version,
    apiVersion: `${d.group}/${d.version}`,
    kind: d.kind,
    listKind: `${d.kind}List`,
    plural: d.plural ?? `${d.kind.toLowerCase()}s`,
    singular: d.kind.toLowerCase(),
    shortNames: d.shortNames ?? [],
    categories: d.categories ?? [],
    namespaced: true,
    statusSubresource: d.statusSubresource ?? true,
    printerColumns: d.printerColumns,
  };
}

/** Printer columns shared by kinds with a Ready condition. */
export const Columns = {
  age: { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ready: { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  status: { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].message' },
} as const satisfies Record<string, PrinterColumn>;

export const SOURCE_GROUP = 'source.toolkit.fluxcd.io';

export const SOURCE_VERSION = 'v1';

export const SOURCE_API_VERSION = `${SOURCE_GROUP}/${SOURCE_VERSION}`;

export const SOURCE_CATEGORIES = ['all', 'fluxcd', 'fluxcd-sources'] as const;

export const KUSTOMIZE_GROUP = 'kustomize.toolkit.fluxcd.io';

export const KUSTOMIZE_VERSION = 'v1';

export const KUSTOMIZE_API_VERSION = `${KUSTOMIZE_GROUP}/${KUSTOMIZE_VERSION}`;

export const HELM_GROUP = 'helm.toolkit.fluxcd.io';

export const HELM_VERSION = 'v2';

export const HELM_API_VERSION = `${HELM_GROUP}/${HELM_VERSION}`;

export const IMAGE_GROUP = 'image.toolkit.fluxcd.io';

export const IMAGE_VERSION = 'v1';

export const IMAGE_API_VERSION = `${IMAGE_GROUP}/${IMAGE_VERSION}`;

export const IMAGE_CATEGORIES = ['all', 'fluxcd', 'fluxcd-images'] as const;

export const NOTIFICATION_GROUP = 'notification.toolkit.fluxcd.io';

export const NOTIFICATION_V1BETA3 = `${NOTIFICATION_GROUP}/v1beta3`;

export const NOTIFICATION_V1 = `${NOTIFICATION_GROUP}/v1`;

export const PROVIDER_TYPES = [
  'slack',
  'discord',
  'msteams',
  'rocket',
  'generic',
  'generic-hmac',
  'github',
  'gitlab',
  'gitea',
  'bitbucketserver',
  'bitbucket',
  'azuredevops',
  'googlechat',
  'googlepubsub',
  'webex',
  'sentry',
  'azureeventhub',
  'telegram',
  'lark',
  'matrix',
  'opsgenie',
  'alertmanager',
  'grafana',
  'githubdispatch',
  'githubpullrequestcomment',
  'gitlabmergerequestcomment',
  'giteapullrequestcomment',
  'pagerduty',
  'datadog',
  'nats',
  'zulip',
  'otel',
  'zoom',
  'incident.io',
] as const;

/** Provider types that set Git commit statuses (and may set commitStatusExpr). */
export const COMMIT_STATUS_TYPES = [
  'github',
  'gitlab',
  'gitea',
  'bitbucketserver',
  'bitbucket',
  'azuredevops',
];

export const RECEIVER_TYPES = [
  'generic',
  'generic-hmac',
  'generic-oidc',
  'github',
  'gitlab',
  'bitbucket',
  'harbor',
  'dockerhub',
  'quay',
  'gcr',
  'nexus',
  'acr',
  'cdevents',
] as const;

/** Kinds whose events an Alert can select and whose reconciles a Receiver can request. */
export const NOTIFIABLE_KINDS = [
  'Bucket',
  'GitRepository',
  'Kustomization',
  'HelmRelease',
  'HelmChart',
  'HelmRepository',
  'ImageRepository',
  'ImagePolicy',
  'ImageUpdateAutomation',
  'OCIRepository',
  'ArtifactGenerator',
  'ExternalArtifact',
] as const;

export const GitRepositoryKind = describeKind({
  group: SOURCE_GROUP,
  version: SOURCE_VERSION,
  kind: 'GitRepository',
  plural: 'gitrepositories',
  shortNames: ['gitrepo'],
  categories: SOURCE_CATEGORIES,
  printerColumns: [
    { name: 'URL', type: 'string', jsonPath: '.spec.url' },
    Columns.age,
    Columns.ready,
    Columns.status,
  ],
});

export const OCIRepositoryKind = describeKind({
  group: SOURCE_GROUP,
  version: SOURCE_VERSION,
  kind: 'OCIRepository',
  plural: 'ocirepositories',
  shortNames: ['ocirepo'],
  categories: SOURCE_CATEGORIES,
  printerColumns: [
    { name: 'URL', type: 'string', jsonPath: '.spec.url' },
    Columns.ready,
    Columns.status,
    Columns.age,
  ],
});

export const HelmRepositoryKind = describeKind({
  group: SOURCE_GROUP,
  version: SOURCE_VERSION,
  kind: 'HelmRepository',
  plural: 'helmrepositories',
  shortNames: ['helmrepo'],
  categories: SOURCE_CATEGORIES,
  printerColumns: [
    { name: 'URL', type: 'string', jsonPath: '.spec.url' },
    Columns.age,
    Columns.ready,
    Columns.status,
  ],
});

export const HelmChartKind = describeKind({
  group: SOURCE_GROUP,
  version: SOURCE_VERSION,
  kind: 'HelmChart',
  shortNames: ['hc'],
  categories: SOURCE_CATEGORIES,
  printerColumns: [
    { name: 'Chart', type: 'string', jsonPath: '.spec.chart' },
    { name: 'Version', type: 'string', jsonPath: '.spec.version' },
    { name: 'Source Kind', type: 'string', jsonPath: '.spec.sourceRef.kind' },
    { name: 'Source Name', type: 'string', jsonPath: '.spec.sourceRef.name' },
    Columns.age,
    Columns.ready,
    Columns.status,
  ],
});

export const BucketKind = describeKind({
  group: SOURCE_GROUP,
  version: SOURCE_VERSION,
  kind: 'Bucket',
  categories: SOURCE_CATEGORIES,
  printerColumns: [
    { name: 'Endpoint', type: 'string', jsonPath: '.spec.endpoint' },
    Columns.age,
    Columns.ready,
    Columns.status,
  ],
});

export const KustomizationKind = describeKind({
  group: KUSTOMIZE_GROUP,
  version: KUSTOMIZE_VERSION,
  kind: 'Kustomization',
  shortNames: ['ks'],
  categories: ['all', 'fluxcd', 'fluxcd-appliers'],
  printerColumns: [Columns.age, Columns.ready, Columns.status],
});

export const HelmReleaseKind = describeKind({
  group: HELM_GROUP,
  version: HELM_VERSION,
  kind: 'HelmRelease',
  shortNames: ['hr'],
  categories: ['all', 'fluxcd', 'fluxcd-appliers'],
  printerColumns: [Columns.age, Columns.ready, Columns.status],
});

export const ImageRepositoryKind = describeKind({
  group: IMAGE_GROUP,
  version: IMAGE_VERSION,
  kind: 'ImageRepository',
  plural: 'imagerepositories',
  shortNames: ['imgrepo', 'imagerepo'],
  categories: IMAGE_CATEGORIES,
  printerColumns: [
    { name: 'Image', type: 'string', jsonPath: '.spec.image' },
    { name: 'Tags', type: 'string', jsonPath: '.status.lastScanResult.tagCount' },
    Columns.ready,
    Columns.status,
    { name: 'Last scan', type: 'string', jsonPath: '.status.lastScanResult.scanTime', priority: 1 },
    Columns.age,
  ],
});

export const ImagePolicyKind = describeKind({
  group: IMAGE_GROUP,
  version: IMAGE_VERSION,
  kind: 'ImagePolicy',
  plural: 'imagepolicies',
  shortNames: ['imgpol', 'imagepol'],
  categories: IMAGE_CATEGORIES,
  printerColumns: [
    { name: 'Image', type: 'string', jsonPath: '.status.latestRef.name' },
    { name: 'Tag', type: 'string', jsonPath: '.status.latestRef.tag' },
    Columns.ready,
    Columns.status,
    Columns.age,
  ],
});

export const ImageUpdateAutomationKind = describeKind({
  group: IMAGE_GROUP,
  version: IMAGE_VERSION,
  kind: 'ImageUpdateAutomation',
  shortNames: ['iua', 'imgupd', 'imgauto'],
  categories: IMAGE_CATEGORIES,
  printerColumns: [
    Columns.ready,
    Columns.status,
    { name: 'Last run', type: 'string', jsonPath: '.status.lastAutomationRunTime', priority: 1 },
    Columns.age,
  ],
});

export const ProviderKind = describeKind({
  group: NOTIFICATION_GROUP,
  version: 'v1beta3',
  kind: 'Provider',
  statusSubresource: false,
  printerColumns: [Columns.age],
});

export const AlertKind = describeKind({
  group: NOTIFICATION_GROUP,
  version: 'v1beta3',
  kind: 'Alert',
  statusSubresource: false,
  printerColumns: [Columns.age],
});

export const ReceiverKind = describeKind({
  group: NOTIFICATION_GROUP,
  version: 'v1',
  kind: 'Receiver',
  printerColumns: [Columns.age, Columns.ready, Columns.status],
});

/** Every kind Tide serves, in the order CRDs are listed. */
export const allKinds: readonly KindDescriptor[] = [
  GitRepositoryKind,
  OCIRepositoryKind,
  HelmRepositoryKind,
  HelmChartKind,
  BucketKind,
  KustomizationKind,
  HelmReleaseKind,
  ImageRepositoryKind,
  ImagePolicyKind,
  ImageUpdateAutomationKind,
  ProviderKind,
  AlertKind,
  ReceiverKind,
];

/** The descriptor of a served kind, e.g. `findKind('source.toolkit.fluxcd.io/v1', 'GitRepository')`. */
export function findKind(apiVersion: string, kind: string): KindDescriptor | undefined {
  return allKinds.find((d) => d.apiVersion === apiVersion && d.kind === kind);
}
