// The Tide API: schemas, static types and descriptors of every kind Tide serves, at the Flux
// versions, plus the shared pieces, well-known names and the CRD renderer. For each kind X:
// `XSchema` (openAPIV3Schema), `X` (static type), `XSpec`/`XStatus` (schema and type),
// `XKind` (descriptor).

import { HelmReleaseSchema } from './helm.ts';
import { ImagePolicySchema, ImageRepositorySchema, ImageUpdateAutomationSchema } from './image.ts';
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
} from './kinds.ts';
import { KustomizationSchema } from './kustomize.ts';
import { AlertSchema, ProviderSchema, ReceiverSchema } from './notification.ts';
import type { TSchema } from './schema.ts';
import { GitRepositorySchema, OCIRepositorySchema } from './source.ts';
import { BucketSchema } from './source-bucket.ts';
import { HelmChartSchema, HelmRepositorySchema } from './source-helm.ts';

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
  HelmChartTemplate,
  type HelmRelease,
  HelmReleaseSchema,
  HelmReleaseSpec,
  HelmReleaseStatus,
  Snapshot,
} from './helm.ts';
export {
  Install,
  Rollback,
  Test,
  Uninstall,
  Upgrade,
} from './helm-actions.ts';
export {
  GitSpec,
  type ImagePolicy,
  ImagePolicySchema,
  ImagePolicySpec,
  ImagePolicyStatus,
  ImageRef,
  type ImageRepository,
  ImageRepositorySchema,
  ImageRepositorySpec,
  ImageRepositoryStatus,
  type ImageUpdateAutomation,
  ImageUpdateAutomationSchema,
  ImageUpdateAutomationSpec,
  ImageUpdateAutomationStatus,
} from './image.ts';
export {
  AlertKind,
  allKinds,
  BucketKind,
  COMMIT_STATUS_TYPES,
  Columns,
  describeKind,
  findKind,
  GitRepositoryKind,
  HELM_API_VERSION,
  HELM_GROUP,
  HELM_VERSION,
  HelmChartKind,
  HelmReleaseKind,
  HelmRepositoryKind,
  IMAGE_API_VERSION,
  IMAGE_CATEGORIES,
  IMAGE_GROUP,
  IMAGE_VERSION,
  ImagePolicyKind,
  ImageRepositoryKind,
  ImageUpdateAutomationKind,
  type KindDescriptor,
  KUSTOMIZE_API_VERSION,
  KUSTOMIZE_GROUP,
  KUSTOMIZE_VERSION,
  KustomizationKind,
  NOTIFIABLE_KINDS,
  NOTIFICATION_GROUP,
  NOTIFICATION_V1,
  NOTIFICATION_V1BETA3,
  OCIRepositoryKind,
  PROVIDER_TYPES,
  type PrinterColumn,
  ProviderKind,
  RECEIVER_TYPES,
  ReceiverKind,
  SOURCE_API_VERSION,
  SOURCE_CATEGORIES,
  SOURCE_GROUP,
  SOURCE_VERSION,
} from './kinds.ts';
export {
  type Kustomization,
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
  Condition,
  DependencyReference,
  DIGEST_PATTERN,
  INTERVAL_PATTERN,
  KubeConfigReference,
  kindSchema,
  LocalObjectReference,
  NamespacedObjectKindReference,
  NamespacedObjectReference,
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
  AlertSchema,
  AlertSpec,
  CrossNamespaceObjectReference,
  OIDCProvider,
  type Provider,
  ProviderSchema,
  ProviderSpec,
  type Receiver,
  ReceiverSchema,
  ReceiverSpec,
  ReceiverStatus,
} from './notification.ts';
export type { CelRule, Static } from './schema.ts';
export {
  type GitRepository,
  GitRepositoryInclude,
  GitRepositoryRef,
  GitRepositorySchema,
  GitRepositorySpec,
  GitRepositoryStatus,
  OCILayerSelector,
  type OCIRepository,
  OCIRepositorySchema,
  OCIRepositorySpec,
  OCIRepositoryStatus,
  OCIVerification,
} from './source.ts';
export {
  type Bucket,
  BucketSchema,
  BucketSpec,
  BucketStatus,
} from './source-bucket.ts';
export {
  type HelmChart,
  HelmChartSchema,
  HelmChartSpec,
  HelmChartStatus,
  type HelmRepository,
  HelmRepositorySchema,
  HelmRepositorySpec,
  HelmRepositoryStatus,
} from './source-helm.ts';

const schemas = new Map<KindDescriptor, TSchema>([
  [GitRepositoryKind, GitRepositorySchema],
  [OCIRepositoryKind, OCIRepositorySchema],
  [HelmRepositoryKind, HelmRepositorySchema],
  [HelmChartKind, HelmChartSchema],
  [BucketKind, BucketSchema],
  [KustomizationKind, KustomizationSchema],
  [HelmReleaseKind, HelmReleaseSchema],
  [ImageRepositoryKind, ImageRepositorySchema],
  [ImagePolicyKind, ImagePolicySchema],
  [ImageUpdateAutomationKind, ImageUpdateAutomationSchema],
  [ProviderKind, ProviderSchema],
  [AlertKind, AlertSchema],
  [ReceiverKind, ReceiverSchema],
]);

/** The openAPIV3Schema of a served kind (for CRDs, explain and the spec field audit). */
export function schemaOf(kind: KindDescriptor): TSchema {
  const schema = schemas.get(kind);
  if (!schema) throw new Error(`no schema for ${kind.apiVersion} ${kind.kind}`);
  return schema;
}
