// helm.toolkit.fluxcd.io/v2: HelmRelease. Action configuration is in helm-actions.ts.

import { Install, Rollback, Test, Uninstall, Upgrade } from './helm-actions.ts';
import { HELM_API_VERSION } from './kinds.ts';
import {
  CommonMetadata,
  CustomHealthCheck,
  IgnoreRule,
  Image,
  Patch,
  ResourceInventory,
} from './kustomize-types.ts';
import {
  DependencyReference,
  interval,
  KubeConfigReference,
  kindSchema,
  LocalObjectReference,
  STATUS_DEFAULT,
  statusMixin,
  ValuesReference,
} from './meta.ts';
import {
  arr,
  bool,
  dateTime,
  enumOf,
  freeForm,
  int,
  int64,
  mapOf,
  obj,
  optional,
  type Static,
  str,
  stringMap,
} from './schema.ts';

export const HelmChartTemplate = obj(
  {
    metadata: optional(
      obj(
        {
          labels: optional(stringMap('Labels of the generated HelmChart.')),
          annotations: optional(stringMap('Annotations of the generated HelmChart.')),
        },
        'Labels and annotations of the generated HelmChart.',
      ),
    ),
    spec: obj(
      {
        chart: str('Chart name in a HelmRepository, or chart path in a GitRepository or Bucket.', {
          minLength: 1,
          maxLength: 2048,
        }),
        version: optional(
          str('SemVer range of the chart version; ignored for GitRepository and Bucket sources.', {
            default: '*',
          }),
        ),
        sourceRef: obj(
          {
            apiVersion: optional(str('API version of the source.')),
            kind: enumOf(['HelmRepository', 'GitRepository', 'Bucket'] as const, 'Kind of the source.'),
            name: str('Name of the source.', { minLength: 1, maxLength: 253 }),
            namespace: optional(
              str('Namespace of the source; defaults to the namespace of the HelmRelease.', {
                minLength: 1,
                maxLength: 63,
              }),
            ),
          },
          'Source the chart is fetched from; the HelmChart is created in its namespace.',
        ),
        interval: optional(
          interval('How often the source is checked for a new chart; defaults to spec.interval.'),
        ),
        reconcileStrategy: optional(
          enumOf(
            ['ChartVersion', 'Revision'] as const,
            'What produces a new chart artifact: a new chart version, or any new source revision.',
            { default: 'ChartVersion' },
          ),
        ),
        valuesFiles: optional(
          arr(
            str('Path relative to the source root.'),
            'Values files replacing the chart defaults, merged in order.',
          ),
        ),
        ignoreMissingValuesFiles: optional(bool('Skip values files that do not exist instead of failing.')),
        verify: optional(
          obj(
            {
              provider: enumOf(['cosign', 'notation'] as const, 'Signing technology to verify with.', {
                default: 'cosign',
              }),
              secretRef: optional(LocalObjectReference('Secret holding the trusted public keys.')),
            },
            'Signature verification of the chart; only for OCI sources.',
          ),
        ),
      },
      'Specification of the HelmChart to generate.',
    ),
  },
  'Template of the HelmChart the controller creates for this release (named `<namespace>-<name>`).',
);

export const HelmReleaseSpec = obj(
  {
    chart: optional(HelmChartTemplate),
    chartRef: optional(
      obj(
        {
          apiVersion: optional(str('API version of the source.')),
          kind: enumOf(
            ['OCIRepository', 'HelmChart', 'ExternalArtifact'] as const,
            'Kind of the source holding the chart artifact.',
          ),
          name: str('Name of the source.', { minLength: 1, maxLength: 253 }),
          namespace: optional(
            str('Namespace of the source; defaults to the namespace of the HelmRelease.', {
              minLength: 1,
              maxLength: 63,
            }),
          ),
        },
        'Existing source whose artifact is the chart; the alternative to chart.',
      ),
    ),
    interval: interval('How often the release is reconciled; approximate, with jitter.'),
    kubeConfig: optional(
      KubeConfigReference(
        'Cluster to release to instead of the local one; serviceAccountName applies there.',
      ),
    ),
    suspend: optional(bool('Stop reconciling until set back to false; a running reconciliation finishes.')),
    releaseName: optional(
      str('Name of the Helm release; `[<targetNamespace>-]<name>` when unset.', {
        minLength: 1,
        maxLength: 53,
      }),
    ),
    targetNamespace: optional(
      str('Namespace the release is installed into; the namespace of the HelmRelease when unset.', {
        minLength: 1,
        maxLength: 63,
      }),
    ),
    storageNamespace: optional(
      str('Namespace of the Helm release storage; the namespace of the HelmRelease when unset.', {
        minLength: 1,
        maxLength: 63,
      }),
    ),
    dependsOn: optional(
      arr(
        DependencyReference('A HelmRelease that must be ready first.'),
        'HelmReleases that must be ready before this one is reconciled.',
      ),
    ),
    timeout: optional(
      interval('Time to wait for each Kubernetes operation of a Helm action; 5m when unset.'),
    ),
    maxHistory: optional(int('Release revisions Helm keeps; 5 when unset, 0 for unlimited.')),
    serviceAccountName: optional(
      str('ServiceAccount to impersonate for the Helm actions.', { minLength: 1, maxLength: 253 }),
    ),
    persistentClient: optional(
      bool(
        'Reuse one Kubernetes client for a whole reconciliation instead of one per Helm action; true when unset.',
      ),
    ),
    driftDetection: optional(
      obj(
        {
          mode: optional(
            enumOf(
              ['enabled', 'warn', 'disabled'] as const,
              'What to do about drift between the release manifest and the cluster: correct it (`enabled`), ' +
                'only report it (`warn`), or nothing (`disabled`, the default).',
            ),
          ),
          ignore: optional(arr(IgnoreRule('release'), 'Fields excluded from drift detection.')),
        },
        'Detection and correction of changes made to the release resources outside Helm.',
      ),
    ),
    install: optional(Install),
    upgrade: optional(Upgrade),
    test: optional(Test),
    rollback: optional(Rollback),
    uninstall: optional(Uninstall),
    valuesFrom: optional(
      arr(
        ValuesReference('Secret or ConfigMap with values.'),
        'Secrets and ConfigMaps with values, merged in order before spec.values.',
      ),
    ),
    values: optional(freeForm('Values of the release, merged over valuesFrom.')),
    postRenderers: optional(
      arr(
        obj(
          {
            kustomize: optional(
              obj(
                {
                  patches: optional(arr(Patch, 'Patches applied to the rendered manifests.')),
                  images: optional(arr(Image, 'Image replacements applied to the rendered manifests.')),
                },
                'Kustomize patches and image replacements.',
              ),
            ),
          },
          'A post-renderer.',
        ),
        'Post-renderers applied in order to the rendered manifests.',
      ),
    ),
    postRenderStrategy: optional(
      enumOf(
        ['nohooks', 'combined', 'separate'] as const,
        'Which manifests the post-renderers see: `combined` (templates and hooks in one stream, the ' +
          'default), `separate` (hooks and templates in separate streams) or `nohooks` (templates only).',
      ),
    ),
    waitStrategy: optional(
      obj(
        {
          name: enumOf(
            ['poller', 'legacy'] as const,
            "How Helm waits for the release's resources: `poller` (kstatus, the default) or `legacy` (Helm 3's waiter).",
          ),
        },
        "Helm's strategy for waiting until the applied resources are ready.",
      ),
    ),
    commonMetadata: optional(CommonMetadata('Labels and annotations set on every object of the release.')),
    healthCheckExprs: optional(
      arr(CustomHealthCheck, 'CEL health rules for the custom resources of the release.'),
    ),
  },
  'Desired state of a HelmRelease: the chart, its values, and how the Helm actions run.',
  {
    rules: [
      {
        rule: '(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))',
        message: 'either chart or chartRef must be set',
      },
    ],
  },
);

export const Snapshot = obj(
  {
    apiVersion: optional(str('Version of the snapshot format, for changes to how digest is computed.')),
    digest: str('Checksum (`<algo>:<hex>`) of the release object in storage.'),
    name: str('Name of the release.'),
    namespace: str('Namespace of the release.'),
    version: int('Version (revision) of the release.'),
    status: str('Status of the release, e.g. deployed, superseded or failed.'),
    action: optional(str('Helm action that produced the release.')),
    chartName: str('Name of the chart of the release.'),
    chartVersion: str('Version of the chart of the release.'),
    appVersion: optional(str('App version of the chart of the release.')),
    configDigest: str('Checksum (`<algo>:<hex>`) of the values of the release.'),
    firstDeployed: dateTime('Time the release was first deployed.'),
    lastDeployed: dateTime('Time the release was last deployed.'),
    deleted: optional(dateTime('Time the release was deleted.')),
    testHooks: optional(
      mapOf(
        obj(
          {
            lastStarted: optional(dateTime('Time the test last started.')),
            lastCompleted: optional(dateTime('Time the test last completed.')),
            phase: optional(str('Phase the test was last seen in.')),
          },
          'Observed run of a test hook.',
        ),
        'Test hooks of the release seen to run, by name; empty when the chart has no tests.',
      ),
    ),
    ociDigest: optional(str('Digest of the OCI artifact the chart came from.')),
  },
  'Point-in-time record of a Helm release made by the controller.',
);
export type Snapshot = Static<typeof Snapshot>;

export const HelmReleaseStatus = obj(
  {
    ...statusMixin('HelmRelease'),
    observedPostRenderersDigest: optional(
      str('Digest of the post-renderers of the last successful attempt.'),
    ),
    observedCommonMetadataDigest: optional(
      str('Digest of spec.commonMetadata of the last successful attempt.'),
    ),
    lastAttemptedGeneration: optional(int64('Last generation the controller attempted to reconcile.')),
    helmChart: optional(str('`<namespace>/<name>` of the HelmChart created for spec.chart.')),
    storageNamespace: optional(
      str('Namespace of the Helm storage of the current release.', { minLength: 1, maxLength: 63 }),
    ),
    history: optional(
      arr(Snapshot, 'Releases made by the controller, newest first, back to the last success.'),
    ),
    lastAttemptedReleaseAction: optional(
      enumOf(
        ['install', 'upgrade'] as const,
        'Last release action attempted; selects the active remediation.',
      ),
    ),
    lastAttemptedReleaseActionDuration: optional(
      str('How long the last release action took, e.g. `1m2.5s`.'),
    ),
    failures: optional(int64('Failed reconciliations against the current desired state; reset on success.')),
    installFailures: optional(int64('Failed installs against the current desired state; reset on success.')),
    upgradeFailures: optional(int64('Failed upgrades against the current desired state; reset on success.')),
    lastAttemptedRevision: optional(
      str(
        'Chart revision of the last attempt; for OCI sources the version plus `+` and 12 digest characters.',
      ),
    ),
    lastAttemptedRevisionDigest: optional(
      str('Digest of the last attempted revision; only for OCI sources.'),
    ),
    lastAttemptedValuesChecksum: optional(str('Deprecated: SHA1 of the values of the last attempt.')),
    lastReleaseRevision: optional(int('Deprecated: revision of the last successful release.')),
    lastAttemptedConfigDigest: optional(str('Digest of the values of the last attempt.')),
    lastHandledForceAt: optional(str('Last reconcile.fluxcd.io/forceAt value the controller acted on.')),
    lastHandledResetAt: optional(str('Last reconcile.fluxcd.io/resetAt value the controller acted on.')),
    inventory: optional(ResourceInventory('Objects of the current release.')),
  },
  'Observed state of a HelmRelease.',
  { default: STATUS_DEFAULT },
);

export const HelmReleaseSchema = kindSchema(
  'HelmRelease',
  'HelmRelease installs and upgrades a Helm chart release and keeps it in the desired state.',
  HELM_API_VERSION,
  HelmReleaseSpec,
  HelmReleaseStatus,
);
export type HelmRelease = Static<typeof HelmReleaseSchema>;
export type HelmReleaseSpec = Static<typeof HelmReleaseSpec>;
export type HelmReleaseStatus = Static<typeof HelmReleaseStatus>;
