// The Tide API: schemas, static types and descriptors of every kind Tide serves, at the Flux
// versions, plus the shared pieces, well-known names and the CRD renderer. For each kind X:
// `XSchema` (openAPIV3Schema), `X` (static type), `XSpec`/`XStatus` (schema and type),
// `XKind` (descriptor).
import { HelmReleaseKind } from './helm.ts';
import { ImagePolicyKind, ImageRepositoryKind, ImageUpdateAutomationKind } from './image.ts';
import { KustomizationKind } from './kustomize.ts';
import type { KindDescriptor } from './meta.ts';
import { AlertKind, ProviderKind, ReceiverKind } from './notification.ts';
import { GitRepositoryKind, OCIRepositoryKind } from './source.ts';
import { BucketKind } from './source-bucket.ts';
import { HelmChartKind, HelmRepositoryKind } from './source-helm.ts';

export {
  CRD_HEADER,
  crdFileName,
  crdName,
  type JsonSchema,
  renderCrd,
  SchemaError,
  structural,
  toCRD,
} from './crd.ts';
export {
  HELM_API_VERSION,
  HELM_GROUP,
  HELM_VERSION,
  HelmChartTemplate,
  type HelmRelease,
  HelmReleaseKind,
  HelmReleaseSchema,
  HelmReleaseSpec,
  HelmReleaseStatus,
  Snapshot,
} from './helm.ts';
export { Install, Rollback, Test, Uninstall, Upgrade } from './helm-actions.ts';
export {
  GitSpec,
  IMAGE_API_VERSION,
  IMAGE_GROUP,
  IMAGE_VERSION,
  type ImagePolicy,
  ImagePolicyKind,
  ImagePolicySchema,
  ImagePolicySpec,
  ImagePolicyStatus,
  ImageRef,
  type ImageRepository,
  ImageRepositoryKind,
  ImageRepositorySchema,
  ImageRepositorySpec,
  ImageRepositoryStatus,
  type ImageUpdateAutomation,
  ImageUpdateAutomationKind,
  ImageUpdateAutomationSchema,
  ImageUpdateAutomationSpec,
  ImageUpdateAutomationStatus,
} from './image.ts';
export {
  KUSTOMIZE_API_VERSION,
  KUSTOMIZE_GROUP,
  KUSTOMIZE_VERSION,
  type Kustomization,
  KustomizationKind,
  KustomizationSchema,
  KustomizationSpec,
  KustomizationStatus,
  PostBuild,
} from './kustomize.ts';
export {
  CommonMetadata,
  CustomHealthCheck,
  IgnoreRule,
  Image,
  Patch,
  ResourceInventory,
  Selector,
} from './kustomize-types.ts';
export {
  AccessFrom,
  Artifact,
  Columns,
  Condition,
  DependencyReference,
  DIGEST_PATTERN,
  describeKind,
  INTERVAL_PATTERN,
  type KindDescriptor,
  KubeConfigReference,
  kindSchema,
  LocalObjectReference,
  NamespacedObjectKindReference,
  NamespacedObjectReference,
  type PrinterColumn,
  SecretKeyReference,
  STATUS_DEFAULT,
  statusMixin,
  TIMEOUT_PATTERN,
  ValuesReference,
} from './meta.ts';
export {
  Annotations,
  type ConditionType,
  ConditionTypes,
  EventMetadata,
  FINALIZER,
  Labels,
  PART_OF,
  type Reason,
  Reasons,
} from './names.ts';
export {
  type Alert,
  AlertKind,
  AlertSchema,
  AlertSpec,
  CrossNamespaceObjectReference,
  NOTIFIABLE_KINDS,
  NOTIFICATION_GROUP,
  NOTIFICATION_V1,
  NOTIFICATION_V1BETA3,
  OIDCProvider,
  PROVIDER_TYPES,
  type Provider,
  ProviderKind,
  ProviderSchema,
  ProviderSpec,
  RECEIVER_TYPES,
  type Receiver,
  ReceiverKind,
  ReceiverSchema,
  ReceiverSpec,
  ReceiverStatus,
} from './notification.ts';
export type { CelRule, Static } from './schema.ts';
export {
  type GitRepository,
  GitRepositoryInclude,
  GitRepositoryKind,
  GitRepositoryRef,
  GitRepositorySchema,
  GitRepositorySpec,
  GitRepositoryStatus,
  OCILayerSelector,
  type OCIRepository,
  OCIRepositoryKind,
  OCIRepositorySchema,
  OCIRepositorySpec,
  OCIRepositoryStatus,
  OCIVerification,
  SOURCE_API_VERSION,
  SOURCE_GROUP,
  SOURCE_VERSION,
} from './source.ts';
export { type Bucket, BucketKind, BucketSchema, BucketSpec, BucketStatus } from './source-bucket.ts';
export {
  type HelmChart,
  HelmChartKind,
  HelmChartSchema,
  HelmChartSpec,
  HelmChartStatus,
  type HelmRepository,
  HelmRepositoryKind,
  HelmRepositorySchema,
  HelmRepositorySpec,
  HelmRepositoryStatus,
} from './source-helm.ts';

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
