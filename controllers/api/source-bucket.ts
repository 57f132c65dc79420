// source.toolkit.fluxcd.io/v1: Bucket.
import { SOURCE_API_VERSION } from './kinds.ts';
import {
  Artifact,
  interval,
  kindSchema,
  LocalObjectReference,
  STATUS_DEFAULT,
  statusMixin,
  timeout,
} from './meta.ts';
import { bool, type CelRule, enumOf, obj, optional, type Static, str } from './schema.ts';
import {
  certSecretRefField,
  ignoreField,
  proxySecretRefField,
  statusUrlField,
  suspendField,
} from './source.ts';

const bucketRules: CelRule[] = [
  {
    rule: "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)",
    message: "STS configuration is only supported for the 'aws' and 'generic' Bucket providers",
  },
  {
    rule: "self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'",
    message: "'aws' is the only supported STS provider for the 'aws' Bucket provider",
  },
  {
    rule: "self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'",
    message: "'ldap' is the only supported STS provider for the 'generic' Bucket provider",
  },
  {
    rule: "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)",
    message: "spec.sts.secretRef is not required for the 'aws' STS provider",
  },
  {
    rule: "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)",
    message: "spec.sts.certSecretRef is not required for the 'aws' STS provider",
  },
  {
    rule: "self.provider != 'generic' || !has(self.serviceAccountName)",
    message: "ServiceAccountName is not supported for the 'generic' Bucket provider",
  },
  {
    rule: '!has(self.secretRef) || !has(self.serviceAccountName)',
    message: 'cannot set both .spec.secretRef and .spec.serviceAccountName',
  },
];

export const BucketSpec = obj(
  {
    provider: optional(
      enumOf(
        ['generic', 'aws', 'gcp', 'azure'] as const,
        'Object storage API: `generic` for any S3-compatible store, or the aws, gcp and azure native APIs.',
        { default: 'generic' },
      ),
    ),
    bucketName: str('Name of the bucket.'),
    endpoint: str(
      'Address of the object storage service, e.g. `minio.example.com:9000` or `s3.amazonaws.com`.',
    ),
    sts: optional(
      obj(
        {
          provider: enumOf(['aws', 'ldap'] as const, 'Security Token Service implementation.'),
          endpoint: str('HTTP(S) address of the Security Token Service.', { pattern: '^(http|https)://.*$' }),
          secretRef: optional(
            LocalObjectReference(
              'Secret with `username` and `password` for the STS; only for the ldap provider.',
            ),
          ),
          certSecretRef: optional(
            LocalObjectReference(
              'Secret with TLS material (`ca.crt`, `tls.crt`, `tls.key`) for the STS; only for the ldap provider.',
            ),
          ),
        },
        'Security Token Service that issues temporary credentials; only for the aws and generic providers.',
      ),
    ),
    insecure: optional(bool('Allow plain HTTP (no TLS) to the endpoint.')),
    region: optional(str('Region of the bucket.')),
    prefix: optional(
      str('Only objects whose key starts with this prefix are fetched (filtered server-side).'),
    ),
    secretRef: optional(
      LocalObjectReference(
        'Secret with credentials, e.g. `accesskey` and `secretkey` for S3-compatible stores.',
      ),
    ),
    serviceAccountName: optional(
      str(
        'ServiceAccount whose workload identity authenticates to the bucket; only for the aws and gcp providers.',
      ),
    ),
    certSecretRef: certSecretRefField('endpoint (generic provider only)'),
    proxySecretRef: proxySecretRefField('endpoint'),
    interval: interval('How often the bucket is checked for changes; approximate, with jitter.'),
    timeout: optional(timeout('Time limit for listing and downloading objects.', { default: '60s' })),
    ignore: ignoreField(),
    suspend: suspendField('Bucket'),
  },
  'Desired state of a Bucket.',
  { rules: bucketRules },
);

export const BucketStatus = obj(
  {
    ...statusMixin('Bucket'),
    url: statusUrlField(),
    artifact: optional(Artifact('Artifact of the last successful reconciliation.')),
    observedIgnore: optional(str('Exclusion patterns used for the current artifact.')),
  },
  'Observed state of a Bucket.',
  { default: STATUS_DEFAULT },
);

export const BucketSchema = kindSchema(
  'Bucket',
  'Bucket produces an artifact from the objects of an S3-compatible, GCS or Azure Blob storage bucket.',
  SOURCE_API_VERSION,
  BucketSpec,
  BucketStatus,
);
export type Bucket = Static<typeof BucketSchema>;
export type BucketSpec = Static<typeof BucketSpec>;
export type BucketStatus = Static<typeof BucketStatus>;
