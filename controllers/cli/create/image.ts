// tide create image repository|policy|update (F2 cmd/flux/create_image_*.go).
import { ImagePolicyKind, ImageRepositoryKind, ImageUpdateAutomationKind } from '../../api/index.ts';
import { bool, type Context, list, required, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { imagePolicyKind, imageRepositoryKind, imageUpdateKind } from '../kinds.ts';
import { type Creator, durationFlag, meta, parseRefArg } from './common.ts';

export const imageRepository: Creator = {
  words: ['image', 'repository'],
  what: 'ImageRepository',
  kind: imageRepositoryKind,
  flags: [
    'image',
    'interval',
    'secret-ref',
    'cert-secret-ref',
    'provider',
    'insecure',
    'exclusion-list',
    'timeout',
  ],
  async build(ctx, name) {
    const exclusions = list(ctx, 'exclusion-list');
    return [
      {
        apiVersion: ImageRepositoryKind.apiVersion,
        kind: ImageRepositoryKind.kind,
        metadata: meta(ctx, name),
        spec: {
          image: required(ctx, 'image'),
          interval: durationFlag(ctx, 'interval', '1m'),
          ...(str(ctx, 'secret-ref') ? { secretRef: { name: str(ctx, 'secret-ref') } } : {}),
          ...(str(ctx, 'cert-secret-ref') ? { certSecretRef: { name: str(ctx, 'cert-secret-ref') } } : {}),
          ...(str(ctx, 'provider') ? { provider: str(ctx, 'provider') } : {}),
          ...(bool(ctx, 'insecure') ? { insecure: true } : {}),
          ...(exclusions.length ? { exclusionList: exclusions } : {}),
          ...(str(ctx, 'timeout') ? { timeout: durationFlag(ctx, 'timeout', '1m') } : {}),
        },
      },
    ];
  },
};

/** Exactly one of --select-semver, --select-numeric, --select-alpha (asc|desc). */
function policyOf(ctx: Context) {
  const chosen = (['select-semver', 'select-numeric', 'select-alpha'] as const).filter((f) => str(ctx, f));
  if (chosen.length !== 1)
    throw new CliError('give exactly one of --select-semver, --select-numeric and --select-alpha');
  const flag = chosen[0]!;
  const value = str(ctx, flag)!;
  if (flag === 'select-semver') return { semver: { range: value } };
  if (value !== 'asc' && value !== 'desc')
    throw new CliError(`invalid --${flag} "${value}": want asc or desc`);
  return flag === 'select-numeric' ? { numerical: { order: value } } : { alphabetical: { order: value } };
}

export const imagePolicy: Creator = {
  words: ['image', 'policy'],
  what: 'ImagePolicy',
  kind: imagePolicyKind,
  flags: ['image-ref', 'select-semver', 'select-numeric', 'select-alpha', 'filter-regex', 'filter-extract'],
  async build(ctx, name) {
    const ref = parseRefArg(required(ctx, 'image-ref'), 'image-ref');
    const pattern = str(ctx, 'filter-regex');
    const extract = str(ctx, 'filter-extract');
    if (extract && !pattern) throw new CliError('--filter-extract needs --filter-regex');
    if (pattern) {
      try {
        new RegExp(pattern);
      } catch (err) {
        throw new CliError(`invalid --filter-regex: ${(err as Error).message}`);
      }
    }
    return [
      {
        apiVersion: ImagePolicyKind.apiVersion,
        kind: ImagePolicyKind.kind,
        metadata: meta(ctx, name),
        spec: {
          imageRepositoryRef: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
          policy: policyOf(ctx),
          ...(pattern ? { filterTags: { pattern, ...(extract ? { extract } : {}) } } : {}),
        },
      },
    ];
  },
};

export const imageUpdate: Creator = {
  words: ['image', 'update'],
  what: 'ImageUpdateAutomation',
  kind: imageUpdateKind,
  flags: [
    'git-repo-ref',
    'git-repo-path',
    'checkout-branch',
    'push-branch',
    'author-name',
    'author-email',
    'commit-template',
    'interval',
  ],
  async build(ctx, name) {
    const repo = parseRefArg(required(ctx, 'git-repo-ref'), 'git-repo-ref');
    const checkout = str(ctx, 'checkout-branch');
    const push = str(ctx, 'push-branch');
    return [
      {
        apiVersion: ImageUpdateAutomationKind.apiVersion,
        kind: ImageUpdateAutomationKind.kind,
        metadata: meta(ctx, name),
        spec: {
          interval: durationFlag(ctx, 'interval', '1m'),
          sourceRef: {
            kind: 'GitRepository',
            name: repo.name,
            ...(repo.namespace ? { namespace: repo.namespace } : {}),
          },
          git: {
            ...(checkout ? { checkout: { ref: { branch: checkout } } } : {}),
            commit: {
              author: { name: str(ctx, 'author-name') ?? 'Tide', email: required(ctx, 'author-email') },
              ...(str(ctx, 'commit-template') ? { messageTemplate: str(ctx, 'commit-template') } : {}),
            },
            ...(push ? { push: { branch: push } } : {}),
          },
          update: { strategy: 'Setters', path: str(ctx, 'git-repo-path') ?? './' },
        },
      },
    ];
  },
};
