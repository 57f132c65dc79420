// tide create source git|helm|oci|bucket: the source objects of flux create source (F2
// cmd/flux/create_source_*.go), with a Secret of the same name when credentials are given.
import { BucketKind, GitRepositoryKind, HelmRepositoryKind, OCIRepositoryKind } from '../../api/index.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { bool, type Context, list, required, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { bucketKind, gitKind, helmRepositoryKind, ociKind } from '../kinds.ts';
import { type Creator, durationFlag, gitCredentialFlags, gitSecretValues, meta, secret } from './common.ts';

const hasAny = (ctx: Context, flags: string[]) => flags.some((f) => ctx.flags[f] !== undefined);

/** spec.secretRef: --secret-ref, else the Secret created from the credentials (same name). */
function secretRef(ctx: Context, name: string, created: boolean) {
  const ref = str(ctx, 'secret-ref');
  if (ref && created)
    throw new CliError('--secret-ref names an existing Secret: give it or credentials, not both');
  return ref || created ? { secretRef: { name: ref ?? name } } : {};
}

export const sourceGit: Creator = {
  words: ['source', 'git'],
  what: 'GitRepository source',
  kind: gitKind,
  flags: [
    'url',
    'branch',
    'tag',
    'tag-semver',
    'commit',
    'ref-name',
    'interval',
    'secret-ref',
    ...gitCredentialFlags,
    'ignore-paths',
    'recurse-submodules',
  ],
  async build(ctx, name) {
    const url = required(ctx, 'url');
    const ref = Object.fromEntries(
      (
        [
          ['branch', 'branch'],
          ['tag', 'tag'],
          ['semver', 'tag-semver'],
          ['commit', 'commit'],
          ['name', 'ref-name'],
        ] as const
      )
        .map(([k, f]) => [k, str(ctx, f)] as const)
        .filter(([, v]) => v),
    );
    if (!Object.keys(ref).length)
      throw new CliError(
        'a Git ref is required, use one of: --branch, --tag, --tag-semver, --commit or --ref-name',
      );
    const creds =
      hasAny(ctx, ['username', 'password', 'bearer-token', 'private-key-file']) ||
      (url.startsWith('ssh://') && !str(ctx, 'secret-ref'));
    const objects: KubeObject[] = creds ? [secret(ctx, name, await gitSecretValues(ctx, url))] : [];
    const ignore = list(ctx, 'ignore-paths');
    objects.push({
      apiVersion: GitRepositoryKind.apiVersion,
      kind: GitRepositoryKind.kind,
      metadata: meta(ctx, name),
      spec: {
        url,
        interval: durationFlag(ctx, 'interval', '1m'),
        ref,
        ...secretRef(ctx, name, creds),
        ...(ignore.length ? { ignore: ignore.join('\n') } : {}),
        ...(bool(ctx, 'recurse-submodules') ? { recurseSubmodules: true } : {}),
      },
    });
    return objects;
  },
};

export const sourceHelm: Creator = {
  words: ['source', 'helm'],
  what: 'HelmRepository source',
  kind: helmRepositoryKind,
  flags: ['url', 'interval', 'secret-ref', 'username', 'password', 'pass-credentials', 'insecure'],
  async build(ctx, name) {
    const url = required(ctx, 'url');
    const creds = hasAny(ctx, ['username', 'password']);
    const objects: KubeObject[] = creds
      ? [secret(ctx, name, { username: str(ctx, 'username'), password: str(ctx, 'password') })]
      : [];
    objects.push({
      apiVersion: HelmRepositoryKind.apiVersion,
      kind: HelmRepositoryKind.kind,
      metadata: meta(ctx, name),
      spec: {
        url,
        interval: durationFlag(ctx, 'interval', '1m'),
        ...(url.startsWith('oci://') ? { type: 'oci' } : {}),
        ...secretRef(ctx, name, creds),
        ...(bool(ctx, 'pass-credentials') ? { passCredentials: true } : {}),
        ...(bool(ctx, 'insecure') ? { insecure: true } : {}),
      },
    });
    return objects;
  },
};

export const sourceOci: Creator = {
  words: ['source', 'oci'],
  what: 'OCIRepository source',
  kind: ociKind,
  flags: [
    'url',
    'tag',
    'tag-semver',
    'digest',
    'interval',
    'secret-ref',
    'provider',
    'insecure',
    'ignore-paths',
  ],
  async build(ctx, name) {
    const url = required(ctx, 'url');
    if (!url.startsWith('oci://'))
      throw new CliError(`invalid --url "${url}": an OCI repository URL starts with oci://`);
    const ref = Object.fromEntries(
      (
        [
          ['tag', 'tag'],
          ['semver', 'tag-semver'],
          ['digest', 'digest'],
        ] as const
      )
        .map(([k, f]) => [k, str(ctx, f)] as const)
        .filter(([, v]) => v),
    );
    if (!Object.keys(ref).length)
      throw new CliError('an OCI reference is required: --tag, --tag-semver or --digest');
    const ignore = list(ctx, 'ignore-paths');
    return [
      {
        apiVersion: OCIRepositoryKind.apiVersion,
        kind: OCIRepositoryKind.kind,
        metadata: meta(ctx, name),
        spec: {
          url,
          interval: durationFlag(ctx, 'interval', '1m'),
          ref,
          ...secretRef(ctx, name, false),
          ...(str(ctx, 'provider') ? { provider: str(ctx, 'provider') } : {}),
          ...(bool(ctx, 'insecure') ? { insecure: true } : {}),
          ...(ignore.length ? { ignore: ignore.join('\n') } : {}),
        },
      },
    ];
  },
};

export const sourceBucket: Creator = {
  words: ['source', 'bucket'],
  what: 'Bucket source',
  kind: bucketKind,
  flags: [
    'bucket-name',
    'endpoint',
    'provider',
    'region',
    'insecure',
    'access-key',
    'secret-key',
    'secret-ref',
    'interval',
    'ignore-paths',
  ],
  async build(ctx, name) {
    const creds = hasAny(ctx, ['access-key', 'secret-key']);
    const objects: KubeObject[] = creds
      ? [secret(ctx, name, { accesskey: str(ctx, 'access-key'), secretkey: str(ctx, 'secret-key') })]
      : [];
    const ignore = list(ctx, 'ignore-paths');
    objects.push({
      apiVersion: BucketKind.apiVersion,
      kind: BucketKind.kind,
      metadata: meta(ctx, name),
      spec: {
        bucketName: required(ctx, 'bucket-name'),
        endpoint: required(ctx, 'endpoint'),
        provider: str(ctx, 'provider') ?? 'generic',
        interval: durationFlag(ctx, 'interval', '1m'),
        ...(str(ctx, 'region') ? { region: str(ctx, 'region') } : {}),
        ...(bool(ctx, 'insecure') ? { insecure: true } : {}),
        ...secretRef(ctx, name, creds),
        ...(ignore.length ? { ignore: ignore.join('\n') } : {}),
      },
    });
    return objects;
  },
};
