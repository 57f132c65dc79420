// image.toolkit.fluxcd.io/v1: ImageRepository, ImagePolicy and ImageUpdateAutomation.
import { IMAGE_API_VERSION } from './kinds.ts';
import {
  AccessFrom,
  interval,
  kindSchema,
  LocalObjectReference,
  NamespacedObjectReference,
  STATUS_DEFAULT,
  statusMixin,
  timeout,
} from './meta.ts';
import {
  arr,
  bool,
  dateTime,
  enumOf,
  int,
  mapOf,
  obj,
  optional,
  type Static,
  str,
  stringMap,
} from './schema.ts';
import { certSecretRefField, GitRepositoryRef, proxySecretRefField } from './source.ts';

export const ImageRef = (description: string) =>
  obj(
    {
      name: str('Image name without tag.'),
      tag: str('Tag of the image.'),
      digest: optional(str('Digest of the image.')),
    },
    description,
  );
export type ImageRef = Static<ReturnType<typeof ImageRef>>;

// ---- ImageRepository -------------------------------------------------------------------------

export const ImageRepositorySpec = obj(
  {
    image: str('Image repository to scan, e.g. `ghcr.io/org/app`; Docker Hub names may be short.'),
    interval: interval('How often the tags are scanned; approximate, with jitter.'),
    timeout: optional(timeout('Time limit for a scan; defaults to interval.')),
    secretRef: optional(
      LocalObjectReference('Secret of type kubernetes.io/dockerconfigjson with registry credentials.'),
    ),
    proxySecretRef: proxySecretRefField('registry'),
    serviceAccountName: optional(
      str('ServiceAccount whose image pull secrets authenticate the scan.', { maxLength: 253 }),
    ),
    certSecretRef: certSecretRefField('registry'),
    suspend: optional(bool('Stop scanning until set back to false; a running scan finishes.')),
    accessFrom: optional(AccessFrom('Namespaces whose ImagePolicies may refer to this ImageRepository.')),
    exclusionList: optional(
      arr(str('Regular expression.'), 'Regular expressions of tags that are not stored.', {
        default: ['^.*\\.sig$'],
        maxItems: 25,
      }),
    ),
    provider: optional(
      enumOf(
        ['generic', 'aws', 'azure', 'gcp'] as const,
        'Authentication provider: `generic` uses secretRef, the others workload identity.',
        { default: 'generic' },
      ),
    ),
    insecure: optional(bool('Allow plain HTTP (no TLS) to the registry.')),
  },
  'Desired state of an ImageRepository: which image to scan and how often.',
);

export const ImageRepositoryStatus = obj(
  {
    ...statusMixin('ImageRepository'),
    canonicalImageName: optional(
      str('Fully qualified image name, e.g. `index.docker.io/library/alpine` for `alpine`.'),
    ),
    lastScanResult: optional(
      obj(
        {
          revision: optional(str('Stable hash of the scanned tags.')),
          tagCount: int('Number of tags found.'),
          scanTime: optional(dateTime('Time of the scan.')),
          latestTags: optional(
            arr(str('Tag.'), 'Up to 10 tags, the first in descending alphabetical order.'),
          ),
        },
        'Outcome of the last scan.',
      ),
    ),
    observedExclusionList: optional(
      arr(str('Regular expression.'), 'Exclusion list used for the last scan.'),
    ),
  },
  'Observed state of an ImageRepository.',
  { default: STATUS_DEFAULT },
);

export const ImageRepositorySchema = kindSchema(
  'ImageRepository',
  'ImageRepository scans a container image repository and records its tags.',
  IMAGE_API_VERSION,
  ImageRepositorySpec,
  ImageRepositoryStatus,
);
export type ImageRepository = Static<typeof ImageRepositorySchema>;
export type ImageRepositorySpec = Static<typeof ImageRepositorySpec>;
export type ImageRepositoryStatus = Static<typeof ImageRepositoryStatus>;

// ---- ImagePolicy -----------------------------------------------------------------------------

const order = (example: string) =>
  optional(
    enumOf(['asc', 'desc'] as const, `Sort order; \`asc\` selects the highest tag (${example}).`, {
      default: 'asc',
    }),
  );

export const ImagePolicySpec = obj(
  {
    imageRepositoryRef: NamespacedObjectReference('ImageRepository whose tags are evaluated.'),
    policy: obj(
      {
        semver: optional(
          obj(
            { range: str('SemVer range; the highest tag within it is selected.') },
            'Select the highest semantic version.',
          ),
        ),
        alphabetical: optional(obj({ order: order('Z of A-Z') }, 'Select by alphabetical order.')),
        numerical: optional(obj({ order: order('9 of 0-9') }, 'Select by numerical order.')),
      },
      'How the latest tag is chosen; set exactly one policy.',
    ),
    filterTags: optional(
      obj(
        {
          pattern: optional(str('Regular expression tags must match to be considered.')),
          extract: optional(
            str('Replacement (e.g. `$ts`) built from pattern groups; the value that is compared.'),
          ),
        },
        'Tag filter applied before the policy; all tags when unset.',
      ),
    ),
    digestReflectionPolicy: optional(
      enumOf(
        ['Always', 'IfNotPresent', 'Never'] as const,
        'When status.latestRef.digest is set: `Never` (default), `IfNotPresent` (once per tag), or `Always` ' +
          '(refreshed every interval).',
        { default: 'Never' },
      ),
    ),
    interval: optional(
      interval(
        'How often the digest of the latest tag is refreshed; only with digestReflectionPolicy Always (10m).',
      ),
    ),
    suspend: optional(bool('Stop evaluating the policy until set back to false.')),
  },
  'Desired state of an ImagePolicy: which repository and how to pick the latest tag.',
  {
    rules: [
      {
        rule: "!has(self.interval) || (has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')",
        message: "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
      },
      {
        rule: "has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'",
        message: "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
      },
    ],
  },
);

export const ImagePolicyStatus = obj(
  {
    ...statusMixin('ImagePolicy'),
    latestRef: optional(ImageRef('Image selected by the policy.')),
    observedPreviousRef: optional(ImageRef('Image selected before latestRef.')),
  },
  'Observed state of an ImagePolicy.',
  { default: STATUS_DEFAULT },
);

export const ImagePolicySchema = kindSchema(
  'ImagePolicy',
  'ImagePolicy selects the latest image of an ImageRepository by a SemVer, alphabetical or numerical policy.',
  IMAGE_API_VERSION,
  ImagePolicySpec,
  ImagePolicyStatus,
);
export type ImagePolicy = Static<typeof ImagePolicySchema>;
export type ImagePolicySpec = Static<typeof ImagePolicySpec>;
export type ImagePolicyStatus = Static<typeof ImagePolicyStatus>;

// ---- ImageUpdateAutomation -------------------------------------------------------------------

const LabelSelector = obj(
  {
    matchLabels: optional(stringMap('Labels the object must carry.')),
    matchExpressions: optional(
      arr(
        obj(
          {
            key: str('Label key the requirement applies to.'),
            operator: str('One of In, NotIn, Exists and DoesNotExist.'),
            values: optional(
              arr(str('Label value.'), 'Values for In and NotIn; empty for Exists and DoesNotExist.'),
            ),
          },
          'A label requirement.',
        ),
        'Label requirements, combined with AND.',
      ),
    ),
  },
  'ImagePolicies to apply, by label; every ImagePolicy in the namespace when unset.',
);

export const GitSpec = obj(
  {
    checkout: optional(
      obj(
        { ref: GitRepositoryRef },
        'Reference to clone and change; the ref of the GitRepository (or its default) when unset.',
      ),
    ),
    commit: obj(
      {
        author: obj(
          {
            name: optional(str('Author name of the commits.')),
            email: str('Author email of the commits.'),
          },
          'Author of the commits.',
        ),
        signingKey: optional(
          obj(
            {
              secretRef: LocalObjectReference(
                'Secret with the key: `git.asc` (and optional `passphrase`) for gpg, `identity` (and optional ' +
                  '`password`) for ssh.',
              ),
              type: optional(enumOf(['gpg', 'ssh'] as const, 'Format of the signing key; gpg when unset.')),
            },
            'Key the commits are signed with.',
          ),
        ),
        messageTemplate: optional(str('Go template of the commit message, given the changes made.')),
        messageTemplateValues: optional(stringMap('Extra values available to the message template.')),
      },
      'How commits are made.',
    ),
    push: optional(
      obj(
        {
          branch: optional(
            str(
              'Branch to push to; created from the checkout branch when missing. The checkout branch when unset.',
            ),
          ),
          refspec: optional(
            str(
              'Refspec to push with, in addition to branch; refspecs that delete or force-update are refused.',
              {
                pattern: '^$|^[^+:]',
              },
            ),
          ),
          options: optional(stringMap('Git push options sent to the server.')),
        },
        'Where commits are pushed.',
      ),
    ),
  },
  'Git settings: checkout, commit and push.',
);

export const ImageUpdateAutomationSpec = obj(
  {
    sourceRef: obj(
      {
        apiVersion: optional(str('API version of the source.')),
        kind: enumOf(['GitRepository'] as const, 'Kind of the source.', { default: 'GitRepository' }),
        name: str('Name of the GitRepository.'),
        namespace: optional(str('Namespace of the GitRepository; defaults to the namespace of this object.')),
      },
      'GitRepository with the manifests to update.',
    ),
    git: optional(GitSpec),
    interval: interval('How often the automation runs at most; approximate, with jitter.'),
    policySelector: optional(LabelSelector),
    update: optional(
      obj(
        {
          strategy: optional(
            enumOf(
              ['Setters'] as const,
              'Update strategy; Setters rewrites fields marked with image policy markers.',
              {
                default: 'Setters',
              },
            ),
          ),
          path: optional(str('Directory of the manifests to update; the repository root when unset.')),
        },
        'How the files in the repository are updated.',
        { default: { strategy: 'Setters' } },
      ),
    ),
    suspend: optional(bool('Stop running the automation until set back to false.')),
  },
  'Desired state of an ImageUpdateAutomation: which repository, which policies, how to commit.',
);

export const ImageUpdateAutomationStatus = obj(
  {
    ...statusMixin('ImageUpdateAutomation'),
    lastAutomationRunTime: optional(
      dateTime('Time the automation last ran to completion, with or without changes.'),
    ),
    lastPushCommit: optional(str('SHA of the last commit pushed.')),
    lastPushTime: optional(dateTime('Time of the last push.')),
    observedPolicies: optional(
      mapOf(ImageRef('Latest image of the policy.'), 'ImagePolicies considered by the last run, by name.'),
    ),
    observedSourceRevision: optional(str('Source revision seen by the last run.')),
  },
  'Observed state of an ImageUpdateAutomation.',
  { default: STATUS_DEFAULT },
);

export const ImageUpdateAutomationSchema = kindSchema(
  'ImageUpdateAutomation',
  'ImageUpdateAutomation commits the latest images selected by ImagePolicies to a Git repository.',
  IMAGE_API_VERSION,
  ImageUpdateAutomationSpec,
  ImageUpdateAutomationStatus,
);
export type ImageUpdateAutomation = Static<typeof ImageUpdateAutomationSchema>;
export type ImageUpdateAutomationSpec = Static<typeof ImageUpdateAutomationSpec>;
export type ImageUpdateAutomationStatus = Static<typeof ImageUpdateAutomationStatus>;
