// source.toolkit.fluxcd.io/v1: HelmRepository and HelmChart.
import { SOURCE_API_VERSION } from './kinds.ts';
import {
  AccessFrom,
  Artifact,
  interval,
  kindSchema,
  LocalObjectReference,
  STATUS_DEFAULT,
  statusMixin,
  timeout,
} from './meta.ts';
import { arr, bool, enumOf, obj, optional, type Static, str } from './schema.ts';
import { certSecretRefField, OCIVerification, statusUrlField, suspendField } from './source.ts';

// ---- HelmRepository --------------------------------------------------------------------------

export const HelmRepositorySpec = obj(
  {
    url: str(
      'Address of the Helm repository: an http(s) chart repository or, with type oci, an oci:// registry.',
      {
        pattern: '^(http|https|oci)://.*$',
      },
    ),
    secretRef: optional(
      LocalObjectReference(
        'Secret with credentials: `username` and `password` for basic auth. TLS keys in this Secret ' +
          'are deprecated; use certSecretRef.',
      ),
    ),
    certSecretRef: certSecretRefField('repository (it takes precedence over TLS keys in secretRef)'),
    passCredentials: optional(
      bool(
        'Send the secretRef credentials also to hosts other than the one in url, e.g. when chart URLs ' +
          'in the index point elsewhere. Beware of leaking credentials.',
      ),
    ),
    interval: optional(interval('How often the index is fetched; approximate, with jitter.')),
    insecure: optional(bool('Allow plain HTTP to the registry; only for type oci.')),
    timeout: optional(
      timeout(
        'Time limit for fetching the index, and for pulling OCI charts through HelmCharts; 60s when unset.',
      ),
    ),
    suspend: suspendField('HelmRepository'),
    accessFrom: optional(
      AccessFrom('Namespaces allowed to refer to this object (provisional, not enforced).'),
    ),
    type: optional(
      enumOf(
        ['default', 'oci'] as const,
        'Repository type: `default` for an index.yaml repository, `oci` for an OCI registry (url must start with oci://).',
      ),
    ),
    provider: optional(
      enumOf(
        ['generic', 'aws', 'azure', 'gcp'] as const,
        'Authentication provider for type oci: `generic` uses secretRef, the others workload identity.',
        { default: 'generic' },
      ),
    ),
  },
  'Desired state of a HelmRepository.',
);

export const HelmRepositoryStatus = obj(
  {
    ...statusMixin('HelmRepository'),
    url: statusUrlField(),
    artifact: optional(Artifact('Artifact holding the last fetched index (not produced for type oci).')),
  },
  'Observed state of a HelmRepository.',
  { default: STATUS_DEFAULT },
);

export const HelmRepositorySchema = kindSchema(
  'HelmRepository',
  'HelmRepository makes the index of a Helm chart repository, or an OCI registry of charts, available to HelmCharts.',
  SOURCE_API_VERSION,
  HelmRepositorySpec,
  HelmRepositoryStatus,
);
export type HelmRepository = Static<typeof HelmRepositorySchema>;
export type HelmRepositorySpec = Static<typeof HelmRepositorySpec>;
export type HelmRepositoryStatus = Static<typeof HelmRepositoryStatus>;

// ---- HelmChart -------------------------------------------------------------------------------

export const HelmChartSpec = obj(
  {
    chart: str(
      'Chart name in a HelmRepository, or path of the chart directory in a GitRepository or Bucket.',
    ),
    version: optional(
      str(
        'SemVer range of the chart version; the latest when `*`. Ignored for GitRepository and Bucket sources.',
        {
          default: '*',
        },
      ),
    ),
    sourceRef: obj(
      {
        apiVersion: optional(str('API version of the source.')),
        kind: enumOf(['HelmRepository', 'GitRepository', 'Bucket'] as const, 'Kind of the source.'),
        name: str('Name of the source, in the same namespace.'),
      },
      'Source the chart is fetched from.',
    ),
    interval: interval('How often the source is checked for a new chart; approximate, with jitter.'),
    reconcileStrategy: optional(
      enumOf(
        ['ChartVersion', 'Revision'] as const,
        'What produces a new artifact: `ChartVersion` a new chart version; `Revision` any new source revision.',
        { default: 'ChartVersion' },
      ),
    ),
    valuesFiles: optional(
      arr(
        str('Path relative to the source root.'),
        'Values files merged in order (later wins) to replace the chart default values; values.yaml is not implied.',
      ),
    ),
    valuesFile: optional(str('Deprecated: a single values file merged before valuesFiles.')),
    ignoreMissingValuesFiles: optional(bool('Skip values files that do not exist instead of failing.')),
    suspend: suspendField('HelmChart'),
    accessFrom: optional(
      AccessFrom('Namespaces allowed to refer to this object (provisional, not enforced).'),
    ),
    verify: optional(
      OCIVerification(
        'Signature verification of the chart; only for HelmRepository sources of type oci. ' +
          'Dependencies not bundled in the chart are not verified.',
      ),
    ),
  },
  'Desired state of a HelmChart.',
  {
    rules: [
      {
        rule: "!has(self.verify) || self.sourceRef.kind == 'HelmRepository'",
        message: "spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'",
      },
    ],
  },
);

export const HelmChartStatus = obj(
  {
    ...statusMixin('HelmChart'),
    observedSourceArtifactRevision: optional(
      str('Revision of the source artifact the chart was last built from.'),
    ),
    observedChartName: optional(str('Chart name resolved from the chart reference.')),
    observedValuesFiles: optional(
      arr(str('Path relative to the source root.'), 'Values files used for the current artifact.'),
    ),
    url: statusUrlField(),
    artifact: optional(Artifact('Packaged chart of the last successful reconciliation.')),
  },
  'Observed state of a HelmChart.',
  { default: STATUS_DEFAULT },
);

export const HelmChartSchema = kindSchema(
  'HelmChart',
  'HelmChart produces a packaged Helm chart artifact from a HelmRepository, GitRepository or Bucket.',
  SOURCE_API_VERSION,
  HelmChartSpec,
  HelmChartStatus,
);
export type HelmChart = Static<typeof HelmChartSchema>;
export type HelmChartSpec = Static<typeof HelmChartSpec>;
export type HelmChartStatus = Static<typeof HelmChartStatus>;
