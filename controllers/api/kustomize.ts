// kustomize.toolkit.fluxcd.io/v1: Kustomization.
import { KUSTOMIZE_API_VERSION } from './kinds.ts';
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
  NamespacedObjectKindReference,
  STATUS_DEFAULT,
  statusMixin,
} from './meta.ts';
import { arr, bool, dateTime, enumOf, int64, obj, optional, type Static, str, stringMap } from './schema.ts';

export const PostBuild = obj(
  {
    substitute: optional(
      stringMap(
        `Variables substituted in the built manifests, e.g. \`\${cluster_env}\`. Bash-style forms are ` +
          `supported: \`\${var:=default}\`, \`\${var:position}\`, \`\${var/substring/replacement}\`.`,
      ),
    ),
    substituteFrom: optional(
      arr(
        obj(
          {
            kind: enumOf(['Secret', 'ConfigMap'] as const, 'Kind of the object holding the variables.'),
            name: str('Name of the Secret or ConfigMap, in the same namespace.', {
              minLength: 1,
              maxLength: 253,
            }),
            optional: optional(
              bool('Treat a missing object as one without variables instead of failing.', { default: false }),
            ),
          },
          'Secret or ConfigMap whose data keys are variable names.',
        ),
        'Secrets and ConfigMaps providing variables; later entries win, inline substitute wins over all.',
      ),
    ),
    substituteStrategy: optional(
      enumOf(
        ['WithVariables', 'Always'] as const,
        'When to substitute: `WithVariables` (default) only when at least one variable is defined; ' +
          '`Always` even when none is.',
      ),
    ),
  },
  'Processing of the manifests after kustomize build: variable substitution.',
);

export const KustomizationSpec = obj(
  {
    sourceRef: obj(
      {
        apiVersion: optional(str('API version of the source.')),
        kind: enumOf(
          ['OCIRepository', 'GitRepository', 'Bucket', 'ExternalArtifact'] as const,
          'Kind of the source.',
        ),
        name: str('Name of the source.'),
        namespace: optional(str('Namespace of the source; defaults to the namespace of the Kustomization.')),
      },
      'Source whose artifact holds the manifests.',
    ),
    path: optional(
      str(
        'Directory in the artifact with a kustomization.yaml, or with plain manifests for which one is ' +
          'generated; the artifact root when unset.',
      ),
    ),
    interval: interval('How often the manifests are built and applied; approximate, with jitter.'),
    retryInterval: optional(interval('Wait before retrying a failed reconciliation; defaults to interval.')),
    timeout: optional(
      interval('Time limit for building, applying and health checking; defaults to interval.'),
    ),
    prune: bool('Delete objects that were applied before but are no longer in the manifests.'),
    deletionPolicy: optional(
      enumOf(
        ['MirrorPrune', 'Delete', 'WaitForTermination', 'Orphan'] as const,
        'What happens to applied objects when the Kustomization is deleted: `MirrorPrune` (default) ' +
          'deletes them when prune is true; `Delete` always deletes; `WaitForTermination` deletes and ' +
          'waits until they are gone; `Orphan` leaves them.',
      ),
    ),
    wait: optional(
      bool('Wait until every applied object is healthy (healthChecks are then ignored). Defaults to false.'),
    ),
    healthChecks: optional(
      arr(
        NamespacedObjectKindReference('Object whose health is checked.'),
        'Objects whose health must be reached after applying.',
      ),
    ),
    healthCheckExprs: optional(
      arr(CustomHealthCheck, 'CEL health rules for custom resources; used when wait or healthChecks is set.'),
    ),
    dependsOn: optional(
      arr(
        DependencyReference('A Kustomization that must be ready first.'),
        'Kustomizations that must be ready before this one is reconciled.',
      ),
    ),
    targetNamespace: optional(
      str('Namespace set on every namespaced object, overriding the one in the manifests.', {
        minLength: 1,
        maxLength: 63,
      }),
    ),
    namePrefix: optional(str('Prefix added to the names of all objects.', { minLength: 1, maxLength: 200 })),
    nameSuffix: optional(str('Suffix added to the names of all objects.', { minLength: 1, maxLength: 200 })),
    commonMetadata: optional(CommonMetadata('Labels and annotations set on every applied object.')),
    patches: optional(arr(Patch, 'Strategic-merge and JSON 6902 patches applied to the built objects.')),
    images: optional(arr(Image, 'Image name, tag and digest replacements.')),
    components: optional(arr(str('Path relative to path.'), 'Kustomize components to include.')),
    ignoreMissingComponents: optional(
      bool('Drop components whose path does not exist in the source instead of failing the build.'),
    ),
    buildMetadata: optional(
      arr(
        enumOf(
          ['originAnnotations', 'transformerAnnotations'] as const,
          'A kustomize build metadata option.',
        ),
        'Build metadata kustomize adds as annotations: the origin of each object and the transformers that changed it.',
      ),
    ),
    postBuild: optional(PostBuild),
    decryption: optional(
      obj(
        {
          provider: enumOf(['sops'] as const, 'Decryption engine.'),
          secretRef: optional(
            LocalObjectReference(
              'Secret with decryption keys (`*.agekey`, `*.asc`) or KMS credentials; static credentials ' +
                'here take priority over serviceAccountName.',
            ),
          ),
          serviceAccountName: optional(
            str('ServiceAccount whose workload identity authenticates to cloud KMS services.'),
          ),
        },
        'Decryption of SOPS-encrypted manifests before they are applied.',
      ),
    ),
    serviceAccountName: optional(str('ServiceAccount to impersonate when applying and pruning.')),
    kubeConfig: optional(
      KubeConfigReference(
        'Cluster to apply to instead of the local one; serviceAccountName is then impersonated on that cluster.',
      ),
    ),
    force: optional(
      bool('Recreate objects whose update fails because of an immutable field change.', { default: false }),
    ),
    ignore: optional(
      arr(IgnoreRule('Kustomization'), 'Fields excluded from drift detection and correction.'),
    ),
    suspend: optional(bool('Stop reconciling until set back to false; a running reconciliation finishes.')),
  },
  'Desired state of a Kustomization: which manifests, how to build them and how to apply them.',
);

export const KustomizationStatus = obj(
  {
    ...statusMixin('Kustomization'),
    lastAppliedRevision: optional(str('Revision of the source artifact last applied successfully.')),
    lastAppliedOriginRevision: optional(
      str('Origin revision (e.g. the Git commit in OCI metadata) of the artifact last applied successfully.'),
    ),
    lastAttemptedRevision: optional(str('Revision of the source artifact of the last attempt.')),
    inventory: optional(ResourceInventory('Objects applied by the last successful reconciliation.')),
    history: optional(
      arr(
        obj(
          {
            digest: str('Digest (`<algo>:<hex>`) of the applied objects.'),
            firstReconciled: dateTime('Time this set of objects was first reconciled.'),
            lastReconciled: dateTime('Time this set of objects was last reconciled.'),
            lastReconciledDuration: str('Duration of the last reconciliation.'),
            lastReconciledStatus: str('Outcome of the last reconciliation.'),
            totalReconciliations: int64('Number of reconciliations of this set of objects.'),
            metadata: optional(stringMap('Extra information, such as the source revision.')),
          },
          'Record of reconciliations of one set of objects.',
        ),
        'Recent reconciliation attempts, newest first.',
      ),
    ),
  },
  'Observed state of a Kustomization.',
  { default: STATUS_DEFAULT },
);

export const KustomizationSchema = kindSchema(
  'Kustomization',
  'Kustomization builds manifests from a source artifact with kustomize and applies them to the cluster.',
  KUSTOMIZE_API_VERSION,
  KustomizationSpec,
  KustomizationStatus,
);
export type Kustomization = Static<typeof KustomizationSchema>;
export type KustomizationSpec = Static<typeof KustomizationSpec>;
export type KustomizationStatus = Static<typeof KustomizationStatus>;
