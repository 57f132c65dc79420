// Every well-known name of the Flux APIs that Tide speaks, declared once: condition types, reasons,
// annotations, labels, the finalizer and event metadata keys. Controllers, the CLI and the tests import
// them from here; a string literal of one of these names elsewhere is a second copy.

/** Flux's finalizer on every kind it reconciles. */
export const FINALIZER = 'finalizers.fluxcd.io';

export const ConditionTypes = {
  // kstatus trio, on every kind; only the runtime's summarize writes them.
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  // Sources.
  ArtifactInStorage: 'ArtifactInStorage',
  ArtifactOutdated: 'ArtifactOutdated',
  FetchFailed: 'FetchFailed',
  StorageOperationFailed: 'StorageOperationFailed',
  IncludeUnavailable: 'IncludeUnavailable',
  SourceVerified: 'SourceVerified',
  /** HelmChart: the chart could not be packaged (values files, dependencies, metadata). */
  BuildFailed: 'BuildFailed',
  // Kustomization.
  Healthy: 'Healthy',
  // HelmRelease.
  Released: 'Released',
  TestSuccess: 'TestSuccess',
  Remediated: 'Remediated',
  Drifted: 'Drifted',
} as const;
export type ConditionType = (typeof ConditionTypes)[keyof typeof ConditionTypes];

/** Condition and event reasons of every kind (one namespace: Flux's controllers share many of them). */
export const Reasons = {
  // fluxcd/pkg apis/meta, every kind.
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Progressing: 'Progressing',
  ProgressingWithRetry: 'ProgressingWithRetry',
  Suspended: 'Suspended',
  DependencyNotReady: 'DependencyNotReady',
  ArtifactFailed: 'ArtifactFailed',
  BuildFailed: 'BuildFailed',
  HealthCheckFailed: 'HealthCheckFailed',
  HealthCheckCanceled: 'HealthCheckCanceled',
  PruneFailed: 'PruneFailed',
  ReconciliationSucceeded: 'ReconciliationSucceeded',
  ReconciliationFailed: 'ReconciliationFailed',
  InvalidCELExpression: 'InvalidCELExpression',
  FeatureGateDisabled: 'FeatureGateDisabled',
  AccessDenied: 'AccessDenied',
  /** Tide: a spec field the CRD accepts but this implementation does not (Stalled, naming the field). */
  UnsupportedField: 'UnsupportedField',

  // source-controller (api/v1/condition_types.go).
  NewRevision: 'NewRevision',
  GitOperationFailed: 'GitOperationFailed',
  AuthenticationFailed: 'AuthenticationFailed',
  URLInvalid: 'URLInvalid',
  StorageOperationFailed: 'StorageOperationFailed',
  ArchiveOperationFailed: 'ArchiveOperationFailed',
  StatOperationFailed: 'StatOperationFailed',
  InvalidChartReference: 'InvalidChartReference',
  ChartPullFailed: 'ChartPullFailed',
  ChartPackageFailed: 'ChartPackageFailed',
  IndexationFailed: 'IndexationFailed',
  IndexationSucceeded: 'IndexationSucceeded',
  OCIArtifactPullFailed: 'OCIArtifactPullFailed',
  OCIArtifactLayerOperationFailed: 'OCIArtifactLayerOperationFailed',
  /** Listing what to pull failed (OCIRepository tags for a semver ref). */
  ReadOperationFailed: 'ReadOperationFailed',
  /** SourceVerified=False: the signature could not be verified. */
  VerificationError: 'VerificationError',
  /** SourceVerified=False (GitRepository): the commit's signature is missing or not by a trusted key. */
  InvalidCommitSignature: 'InvalidCommitSignature',
  /** SourceVerified=False (GitRepository): the tag's signature is not by a trusted key. */
  InvalidTagSignature: 'InvalidTagSignature',
  /** SourceVerified=False (GitRepository): the tag to verify is unsigned or lightweight. */
  InvalidGitObject: 'InvalidGitObject',
  /** SourceVerified=False, Stalled (GitRepository): tag verification of a ref that is no tag. */
  InvalidVerificationMode: 'InvalidVerificationMode',
  InvalidSTSConfiguration: 'InvalidSTSConfiguration',
  InvalidProviderConfiguration: 'InvalidProviderConfiguration',
  NotFound: 'NotFound',
  NoArtifact: 'NoArtifact',
  NewArtifact: 'NewArtifact',
  ArtifactUpToDate: 'ArtifactUpToDate',
  GarbageCollectionFailed: 'GarbageCollectionFailed',
  // HelmChart build reasons.
  SourceUnavailable: 'SourceUnavailable',
  NoSourceArtifact: 'NoSourceArtifact',
  ChartPullError: 'ChartPullError',
  MetadataPatchError: 'MetadataPatchError',
  ValuesFilesError: 'ValuesFilesError',
  DependencyBuildError: 'DependencyBuildError',
  ChartPackageError: 'ChartPackageError',
  NewChart: 'NewChart',
  ChartPullSucceeded: 'ChartPullSucceeded',
  ChartPackageSucceeded: 'ChartPackageSucceeded',

  // helm-controller (api/v2/condition_types.go).
  InstallSucceeded: 'InstallSucceeded',
  InstallFailed: 'InstallFailed',
  UpgradeSucceeded: 'UpgradeSucceeded',
  UpgradeFailed: 'UpgradeFailed',
  TestSucceeded: 'TestSucceeded',
  TestFailed: 'TestFailed',
  RollbackSucceeded: 'RollbackSucceeded',
  RollbackFailed: 'RollbackFailed',
  UninstallSucceeded: 'UninstallSucceeded',
  UninstallFailed: 'UninstallFailed',
  InitFailed: 'InitFailed',
  GetLastReleaseFailed: 'GetLastReleaseFailed',
  DriftDetected: 'DriftDetected',
  NoDriftDetected: 'NoDriftDetected',

  // notification-controller (api/v1/condition_types.go, internal/server).
  /** Receiver: the Secret or its `token` key is missing. */
  TokenNotFound: 'TokenNotFound',
  /** Receiver: the spec fails a check the CRD cannot express. */
  ValidationFailed: 'ValidationFailed',
  /** Warning on an Alert: an event could not be delivered through its Provider. */
  NotificationDispatchFailed: 'NotificationDispatchFailed',
  /** Warning on an Alert: a regular expression or matchLabels entry is invalid. */
  InvalidConfig: 'InvalidConfig',
  /** Warning on an Alert: the object of an event could not be read for matchLabels. */
  SourceFetchFailed: 'SourceFetchFailed',
  /** Warning on an Alert: eventMetadata or summary collides with the event's own metadata. */
  MetadataAppendFailed: 'MetadataAppendFailed',
  // image-reflector-controller (api/v1/condition_types.go).
  /** metav1.StatusFailure: ImagePolicy's reason when no tag can be selected or the access check fails. */
  Failure: 'Failure',
  /** Stalled: spec.image is not a valid image reference. */
  ImageURLInvalid: 'ImageURLInvalid',
  /** Stalled (ImagePolicy): digestReflectionPolicy Always without spec.interval. */
  IntervalNotConfigured: 'IntervalNotConfigured',
  /** Stalled (ImagePolicy): the policy or its tag filter cannot be evaluated. */
  InvalidPolicy: 'InvalidPolicy',

  // image-automation-controller (api/v1/condition_types.go).
  InvalidUpdateStrategy: 'InvalidUpdateStrategy',
  InvalidSourceConfiguration: 'InvalidSourceConfiguration',
  SourceManagerFailed: 'SourceManagerFailed',
  UpdateFailed: 'UpdateFailed',
  InvalidPolicySelector: 'InvalidPolicySelector',
  /** Stalled: the commit message template uses `.Updated` or `.Changed.ImageResult`, removed in v1. */
  RemovedTemplateField: 'RemovedTemplateField',
  /** Events of the correction of drift (driftDetection.mode enabled). */
  DriftCorrected: 'DriftCorrected',
  DriftCorrectionFailed: 'DriftCorrectionFailed',
  /** TestSuccess=Unknown: the release is waiting for its tests. */
  AwaitingTests: 'AwaitingTests',
  /** Released=False: a release left pending by an interrupted action was marked failed. */
  PendingRelease: 'PendingRelease',
  /** Stalled: the remediation retries of the last action are used up. */
  RetriesExceeded: 'RetriesExceeded',
  /** Stalled: the release to roll back to is gone from the Helm storage. */
  MissingRollbackTarget: 'MissingRollbackTarget',
  /** Ready=False: the chart source exists but is not ready (not reconciled, stalled, no artifact). */
  SourceNotReady: 'SourceNotReady',
  /** Ready=False: valuesFrom could not be resolved. */
  ValuesError: 'ValuesError',
  /** Ready=False: the state of the release in the Helm storage could not be read. */
  StateError: 'StateError',
  /** Ready=False: a release action failed without changing the release. */
  ReconcileError: 'ReconcileError',
  /** Events about the HelmChart made from spec.chart. */
  HelmChartCreated: 'HelmChartCreated',
  HelmChartConfigured: 'HelmChartConfigured',
  HelmChartDeleted: 'HelmChartDeleted',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

export const Annotations = {
  /** Any new value asks the controller to reconcile now; echoed in status.lastHandledReconcileAt. */
  reconcileRequestedAt: 'reconcile.fluxcd.io/requestedAt',
  /** Together with requestedAt, forces a one-off Helm release. */
  reconcileForceAt: 'reconcile.fluxcd.io/forceAt',
  /** Together with requestedAt, resets the HelmRelease failure counters. */
  reconcileResetAt: 'reconcile.fluxcd.io/resetAt',
  /** Per object: Override (default) | Merge | IfNotPresent | Ignore. */
  ssa: 'kustomize.toolkit.fluxcd.io/ssa',
  /** Per object, Enabled: recreate on an immutable-field change, as spec.force does for all. */
  force: 'kustomize.toolkit.fluxcd.io/force',
  /** Per object, Disabled: neither apply nor prune the object. */
  reconcile: 'kustomize.toolkit.fluxcd.io/reconcile',
  /** Per object, Disabled: never prune the object. */
  prune: 'kustomize.toolkit.fluxcd.io/prune',
  /** Per object, disabled: no postBuild substitution. */
  substitute: 'kustomize.toolkit.fluxcd.io/substitute',
  /** Per object, disabled: no SOPS decryption. */
  decrypt: 'kustomize.toolkit.fluxcd.io/decrypt',
  /** Per HelmRelease object, disabled: no drift detection for it. */
  driftDetection: 'helm.toolkit.fluxcd.io/driftDetection',
  /** Helm's ownership marks on every object of a release (meta.helm.sh). */
  helmReleaseName: 'meta.helm.sh/release-name',
  helmReleaseNamespace: 'meta.helm.sh/release-namespace',
  /** Object annotations with this prefix are copied into the metadata of its events. */
  eventPrefix: 'event.toolkit.fluxcd.io/',
  /** kubectl's client-side apply record, removed before server-side apply. */
  lastAppliedConfiguration: 'kubectl.kubernetes.io/last-applied-configuration',
  /** Flux v1 and early v2 markers, removed before server-side apply. */
  legacyChecksum: 'kustomize.toolkit.fluxcd.io/checksum',
  legacySyncChecksum: 'fluxcd.io/sync-checksum',
} as const;

export const Labels = {
  /** On every object a Kustomization applied: its name and namespace (prune only deletes those). */
  kustomizeName: 'kustomize.toolkit.fluxcd.io/name',
  kustomizeNamespace: 'kustomize.toolkit.fluxcd.io/namespace',
  /** On every object a HelmRelease released. */
  helmName: 'helm.toolkit.fluxcd.io/name',
  helmNamespace: 'helm.toolkit.fluxcd.io/namespace',
  /** Labels of Helm's release storage objects (sh.helm.release.v1.<name>.v<version>). */
  helmStorageOwner: 'owner',
  helmStorageName: 'name',
  helmStorageStatus: 'status',
  helmStorageVersion: 'version',
  helmStorageModifiedAt: 'modifiedAt',
  /** On a Secret or ConfigMap, Enabled: referrers reconcile at once when it changes. */
  watch: 'reconcile.fluxcd.io/watch',
  /** Flux v1's garbage-collection mark, removed before server-side apply. */
  legacyGcMark: 'fluxcd.io/sync-gc-mark',
  /** On every object of the Tide chart: `tide` (PART_OF), so install, check, logs and uninstall find them. */
  partOf: 'app.kubernetes.io/part-of',
  /** On every object of the Tide chart: the namespace Tide is installed in. */
  instance: 'app.kubernetes.io/instance',
  /** On a controller's objects of the Tide chart: its name, e.g. source-controller. */
  component: 'app.kubernetes.io/component',
  /** On every object of the Tide chart: the chart's appVersion. */
  version: 'app.kubernetes.io/version',
  /** Who applies an object: Helm's mark on every object of a release (`Helm`), and on the Tide chart's. */
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** The value of Labels.partOf on Tide's own objects. */
export const PART_OF = 'tide';

/**
 * Keys of the metadata Flux's controllers attach to their events (`<group>/<key>`), and the short keys
 * (fluxcd/pkg apis/event/v1beta1) notification-controller reads once it has stripped the group.
 */
export const EventMetadata = {
  sourceRevision: 'source.toolkit.fluxcd.io/revision',
  sourceDigest: 'source.toolkit.fluxcd.io/digest',
  kustomizeRevision: 'kustomize.toolkit.fluxcd.io/revision',
  /** `update` on a Kustomization's success event: Git providers set a commit status from it. */
  kustomizeCommitStatus: 'kustomize.toolkit.fluxcd.io/commit_status',
  helmRevision: 'helm.toolkit.fluxcd.io/revision',
  /** HelmRelease events: the config digest of the values, the app version and the OCI digest of the chart. */
  helmToken: 'helm.toolkit.fluxcd.io/token',
  helmAppVersion: 'helm.toolkit.fluxcd.io/app-version',
  helmOciDigest: 'helm.toolkit.fluxcd.io/oci-digest',
  /** The upstream revision an artifact was built from (OCI `org.opencontainers.image.revision`). */
  originRevision: 'originRevision',
  revision: 'revision',
  /** A Git commit hash, set by users through `event.toolkit.fluxcd.io/commit`. */
  commit: 'commit',
  commitStatus: 'commit_status',
  checksum: 'checksum',
  digest: 'digest',
  /** An emitter's own identity of the event's content, part of the rate-limit key. */
  token: 'token',
  /** The Alert's summary (spec.summary or eventMetadata.summary). */
  summary: 'summary',
} as const;

/** The value of the commit_status metadata that asks Git providers for a commit status. */
export const COMMIT_STATUS_UPDATE = 'update';
