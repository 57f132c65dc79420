// source.toolkit.fluxcd.io/v1: GitRepository and OCIRepository. The Helm sources and Bucket
// live in source-helm.ts and source-bucket.ts; pieces shared by several sources are here.
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
import { arr, bool, enumOf, obj, optional, type Static, str } from './schema.ts';

// ---- Pieces shared by sources ----------------------------------------------------------------

export const ignoreField = () =>
  optional(
    str(
      'Exclusion patterns in .sourceignore (gitignore) syntax; when set they replace the default ' +
        'exclusions applied while packaging the artifact.',
    ),
  );

export const certSecretRefField = (target: string) =>
  optional(
    LocalObjectReference(
      `Secret (type Opaque or kubernetes.io/tls) with TLS material for connecting to the ${target}: ` +
        'a client certificate and key (`tls.crt`, `tls.key`) and/or a CA certificate (`ca.crt`).',
    ),
  );

export const proxySecretRefField = (target: string) =>
  optional(
    LocalObjectReference(
      `Secret with the proxy to use for the ${target}: \`address\` and optional \`username\` and \`password\`.`,
    ),
  );

export const suspendField = (kind: string) =>
  optional(bool(`Stops reconciling this ${kind} until set back to false; running work is not interrupted.`));

export const OIDCIdentityMatch = obj(
  {
    issuer: str('Go regular expression the OIDC issuer of the signing certificate must match.'),
    subject: str('Go regular expression the identity subject of the signing certificate must match.'),
  },
  'Accepted issuer and subject of a keyless (Fulcio) signing certificate.',
);

export const OCIVerification = (description: string) =>
  obj(
    {
      provider: enumOf(['cosign', 'notation'] as const, 'Signing technology to verify with.', {
        default: 'cosign',
      }),
      secretRef: optional(LocalObjectReference('Secret holding the trusted public keys or certificates.')),
      matchOIDCIdentity: optional(
        arr(
          OIDCIdentityMatch,
          'For cosign keyless signatures: identities accepted as signers; any match verifies the artifact.',
        ),
      ),
      trustedRootSecretRef: optional(
        LocalObjectReference(
          'Secret with a Sigstore `trusted_root.json`, for verifying against a self-hosted Fulcio and Rekor.',
        ),
      ),
    },
    description,
  );

/** `url` in the status of sources whose artifact moves; kept for compatibility. */
export const statusUrlField = () =>
  optional(str('Download address of the latest artifact; prefer status.artifact.url, which is exact.'));

// ---- GitRepository ---------------------------------------------------------------------------

export const GitRepositoryRef = obj(
  {
    branch: optional(str('Branch to check out; `master` when no other field is set.')),
    tag: optional(str('Tag to check out; takes precedence over branch.')),
    semver: optional(str('SemVer range selecting the highest matching tag; takes precedence over tag.')),
    name: optional(
      str(
        'Full Git reference to check out, e.g. `refs/heads/main` or `refs/pull/420/head`; ' +
          'takes precedence over branch, tag and semver.',
      ),
    ),
    commit: optional(
      str(
        'Commit SHA to check out; takes precedence over every other field. With branch, the branch ' +
          'is cloned shallowly and must contain the commit.',
      ),
    ),
  },
  'Git reference to check out.',
);
export type GitRepositoryRef = Static<typeof GitRepositoryRef>;

export const GitRepositoryInclude = obj(
  {
    repository: LocalObjectReference('GitRepository whose artifact is included.'),
    fromPath: optional(str('Directory of the included artifact to copy from; defaults to its root.')),
    toPath: optional(
      str('Directory to copy the contents to; defaults to the name of the included repository.'),
    ),
  },
  'Another GitRepository whose artifact contents are copied into this one.',
);

export const GitRepositorySpec = obj(
  {
    url: str(
      'Address of the Git repository: http://, https:// or ssh:// (scp-like `git@host:path` is not accepted).',
      { pattern: '^(http|https|ssh)://.*$' },
    ),
    secretRef: optional(
      LocalObjectReference(
        'Secret with credentials for the repository. HTTPS: `username` and `password`, or `bearerToken`; ' +
          'optionally `ca.crt`, `tls.crt` and `tls.key`. SSH: `identity`, `known_hosts` and optional `password`.',
      ),
    ),
    provider: optional(
      enumOf(
        ['generic', 'aws', 'azure', 'github'] as const,
        'Authentication provider: `generic` uses secretRef; `aws` and `azure` use workload identity; ' +
          '`github` uses a GitHub App. Defaults to generic.',
      ),
    ),
    serviceAccountName: optional(
      str(
        'ServiceAccount whose workload identity authenticates to the repository; only with provider aws or azure.',
      ),
    ),
    interval: interval('How often the repository is checked for new revisions; approximate, with jitter.'),
    timeout: optional(timeout('Time limit for Git operations such as clone.', { default: '60s' })),
    ref: optional(GitRepositoryRef),
    verify: optional(
      obj(
        {
          mode: optional(
            enumOf(
              ['head', 'HEAD', 'Tag', 'TagAndHEAD'] as const,
              'What to verify: HEAD (the checked-out commit; `head` is an alias), Tag (the tag object) or TagAndHEAD.',
              { default: 'HEAD' },
            ),
          ),
          secretRef: LocalObjectReference(
            'Secret with the trusted author keys: PGP keys under keys ending in `.asc`, SSH keys under keys ending in `.sshpub`.',
          ),
        },
        'Verification of commit and tag signatures.',
      ),
    ),
    proxySecretRef: proxySecretRefField('Git server'),
    ignore: ignoreField(),
    suspend: suspendField('GitRepository'),
    recurseSubmodules: optional(
      bool('Also clone the submodules of the repository, with their default settings.'),
    ),
    include: optional(
      arr(GitRepositoryInclude, 'Other GitRepositories whose artifacts are merged into this one.'),
    ),
    sparseCheckout: optional(
      arr(str('Directory path.'), 'Directories to check out; when set, only they end up in the artifact.'),
    ),
  },
  'Desired state of a GitRepository: which repository, which reference, how often.',
  {
    rules: [
      {
        rule: "!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))",
        message: "serviceAccountName can only be set when provider is 'azure' or 'aws'",
      },
    ],
  },
);

export const GitRepositoryStatus = obj(
  {
    ...statusMixin('GitRepository'),
    artifact: optional(Artifact('Artifact of the last successful reconciliation.')),
    includedArtifacts: optional(
      arr(
        Artifact('An included artifact.'),
        'Artifacts of the included repositories, in the order of spec.include.',
      ),
    ),
    observedIgnore: optional(str('Exclusion patterns used for the current artifact.')),
    observedRecurseSubmodules: optional(bool('Submodule setting used for the current artifact.')),
    observedInclude: optional(arr(GitRepositoryInclude, 'Includes used for the current artifact.')),
    observedSparseCheckout: optional(
      arr(str('Directory path.'), 'Sparse checkout used for the current artifact.'),
    ),
    sourceVerificationMode: optional(str('Verification mode used for the current artifact.')),
  },
  'Observed state of a GitRepository.',
  { default: STATUS_DEFAULT },
);

export const GitRepositorySchema = kindSchema(
  'GitRepository',
  'GitRepository produces an artifact (a tarball) from a revision of a Git repository.',
  SOURCE_API_VERSION,
  GitRepositorySpec,
  GitRepositoryStatus,
);
export type GitRepository = Static<typeof GitRepositorySchema>;
export type GitRepositorySpec = Static<typeof GitRepositorySpec>;
export type GitRepositoryStatus = Static<typeof GitRepositoryStatus>;

// ---- OCIRepository ---------------------------------------------------------------------------

export const OCILayerSelector = (description: string) =>
  obj(
    {
      mediaType: optional(str('Media type of the layer to select; the first layer with this type is used.')),
      operation: optional(
        enumOf(
          ['extract', 'copy'] as const,
          'What to do with the layer: `extract` unpacks it (default); `copy` stores the compressed layer as is.',
        ),
      ),
    },
    description,
  );

export const OCIRepositorySpec = obj(
  {
    url: str('Address of the OCI repository, e.g. `oci://ghcr.io/org/manifests`.', { pattern: '^oci://.*$' }),
    ref: optional(
      obj(
        {
          digest: optional(str('Digest to pull, as `sha256:<hex>`; takes precedence over semver and tag.')),
          semver: optional(
            str('SemVer range; the highest matching tag is pulled. Takes precedence over tag.'),
          ),
          semverFilter: optional(
            str('Regular expression tags must match before the semver range is applied.'),
          ),
          tag: optional(str('Tag to pull; `latest` when nothing else is set.')),
        },
        'Which artifact of the repository to pull; the `latest` tag by default.',
      ),
    ),
    layerSelector: optional(
      OCILayerSelector('Which layer of the artifact to use; the first layer by default.'),
    ),
    provider: optional(
      enumOf(
        ['generic', 'aws', 'azure', 'gcp'] as const,
        'Authentication provider: `generic` uses secretRef or the ServiceAccount pull secrets; the others use workload identity.',
        { default: 'generic' },
      ),
    ),
    secretRef: optional(
      LocalObjectReference('Secret of type kubernetes.io/dockerconfigjson with registry credentials.'),
    ),
    verify: optional(OCIVerification('Signature verification of the artifact before it is used.')),
    serviceAccountName: optional(
      str('ServiceAccount whose image pull secrets (or workload identity) authenticate the pull.'),
    ),
    certSecretRef: certSecretRefField('registry'),
    proxySecretRef: proxySecretRefField('registry'),
    interval: interval('How often the repository is checked for a new artifact; approximate, with jitter.'),
    timeout: optional(timeout('Time limit for registry operations such as pulls.', { default: '60s' })),
    ignore: ignoreField(),
    insecure: optional(bool('Allow plain HTTP (no TLS) to the registry.')),
    suspend: suspendField('OCIRepository'),
  },
  'Desired state of an OCIRepository: which artifact, how to authenticate, how often.',
);

export const OCIRepositoryStatus = obj(
  {
    ...statusMixin('OCIRepository'),
    url: statusUrlField(),
    artifact: optional(Artifact('Artifact of the last successful pull.')),
    observedIgnore: optional(str('Exclusion patterns used for the current artifact.')),
    observedLayerSelector: optional(OCILayerSelector('Layer selector used for the current artifact.')),
  },
  'Observed state of an OCIRepository.',
  { default: STATUS_DEFAULT },
);

export const OCIRepositorySchema = kindSchema(
  'OCIRepository',
  'OCIRepository produces an artifact from an OCI artifact stored in a container registry.',
  SOURCE_API_VERSION,
  OCIRepositorySpec,
  OCIRepositoryStatus,
);
export type OCIRepository = Static<typeof OCIRepositorySchema>;
export type OCIRepositorySpec = Static<typeof OCIRepositorySpec>;
export type OCIRepositoryStatus = Static<typeof OCIRepositoryStatus>;
