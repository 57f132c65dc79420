// tide create <kind> <name> [flags] [--export]
// Builds the object from flags as flux create does, then prints it (--export) or applies it
// (server-side apply, with a reconcile request) and waits until its controller reports Ready
// (F2 cmd/flux/create*.go).
import { Annotations } from '../../api/names.ts';
import { bool, type Command, type Context, commonFlags, type FlagSpecs, globalFlags } from '../command.ts';
import { helmRelease, kustomization } from '../create/appliers.ts';
import { type Creator, labelsOf } from '../create/common.ts';
import { imagePolicy, imageRepository, imageUpdate } from '../create/image.ts';
import { alert, alertProvider, receiver } from '../create/notification.ts';
import { secretGit, secretHelm, secretOci, secretTls } from '../create/secrets.ts';
import { sourceBucket, sourceGit, sourceHelm, sourceOci } from '../create/sources.ts';
import { CliError } from '../errors.ts';
import { cliFieldManager } from '../install/apply.ts';
import { explain } from '../kube.ts';
import { yamlStream } from '../output.ts';
import { newToken, waitForReconcile } from '../wait.ts';

/** Every `tide create` subcommand, one row each. */
export const creators: readonly Creator[] = [
  sourceGit,
  sourceHelm,
  sourceOci,
  sourceBucket,
  kustomization,
  helmRelease,
  imageRepository,
  imagePolicy,
  imageUpdate,
  alert,
  alertProvider,
  receiver,
  secretGit,
  secretHelm,
  secretOci,
  secretTls,
];

const s = (description: string, more: Partial<FlagSpecs[string]> = {}) => ({
  type: 'string' as const,
  description,
  ...more,
});
const b = (description: string) => ({ type: 'boolean' as const, description });

const createFlags: FlagSpecs = {
  export: commonFlags.export,
  label: s('label of the object, key=value (repeatable)', { list: true }),
  interval: commonFlags.interval,
  url: s('URL of the repository, registry or Git server'),
  branch: s('Git branch'),
  tag: s('Git or OCI tag'),
  'tag-semver': s('SemVer range of tags'),
  commit: s('Git commit'),
  'ref-name': s('Git reference name, e.g. refs/pull/1/head'),
  digest: s('OCI digest'),
  'secret-ref': s('name of an existing Secret with the credentials'),
  username: s('basic authentication username'),
  password: s('basic authentication password (the key passphrase for SSH)'),
  'bearer-token': s('bearer token for HTTPS Git'),
  'private-key-file': s('SSH private key (default for ssh:// URLs: a new key pair, its public key printed)'),
  'known-hosts-file': s('known_hosts for an ssh:// URL (default: scanned from the server)'),
  'ca-crt-file': s('CA certificate file'),
  'tls-crt-file': s('TLS client certificate file'),
  'tls-key-file': s('TLS client key file'),
  'ignore-paths': s('paths to leave out, .gitignore style', { list: true }),
  'recurse-submodules': b('also fetch the Git submodules'),
  'pass-credentials': b("send the credentials to hosts other than the repository's"),
  insecure: b('allow plain HTTP'),
  provider: s('authentication or bucket provider, e.g. generic, aws, azure, gcp'),
  'bucket-name': s('name of the bucket'),
  endpoint: s('bucket endpoint address'),
  region: s('bucket region'),
  'access-key': s('bucket access key'),
  'secret-key': s('bucket secret key'),
  source: s('the source: [<kind>/]<name>[.<namespace>], e.g. GitRepository/podinfo'),
  path: s('path in the source (default "./")'),
  prune: b('delete what is no longer in the source'),
  'retry-interval': s('interval between attempts after a failure', { value: 'duration' }),
  timeout: s('timeout of a reconcile', { value: 'duration' }),
  'target-namespace': s('namespace of the objects it applies'),
  'create-target-namespace': b('create the target namespace on install'),
  'depends-on': s('Kustomizations or HelmReleases that must be Ready first: <name>[.<namespace>]', {
    list: true,
  }),
  wait: b('wait for every applied object to be ready'),
  'service-account': s('ServiceAccount to impersonate when applying'),
  'decryption-secret': s('Secret with SOPS keys (*.agekey)'),
  chart: s('chart name'),
  'chart-version': s('chart version or SemVer range'),
  'chart-ref': s('OCIRepository or HelmChart holding the chart: [<kind>/]<name>[.<namespace>]'),
  values: s('values files, merged in order', { list: true }),
  'release-name': s('Helm release name'),
  'storage-namespace': s('namespace of the Helm storage'),
  image: s('image repository to scan, e.g. ghcr.io/org/app'),
  'cert-secret-ref': s('Secret with a CA (and client) certificate for the registry'),
  'exclusion-list': s('regular expressions of tags to leave out', { list: true }),
  'image-ref': s('the ImageRepository: <name>[.<namespace>]'),
  'select-semver': s('select the highest tag in this SemVer range'),
  'select-numeric': s('select by numerical order: asc or desc'),
  'select-alpha': s('select by alphabetical order: asc or desc'),
  'filter-regex': s('only tags matching this regular expression'),
  'filter-extract': s('the value to compare, built from --filter-regex groups, e.g. $ts'),
  'git-repo-ref': s('the GitRepository to update: <name>[.<namespace>]'),
  'git-repo-path': s('directory of the manifests to update (default "./")'),
  'checkout-branch': s("branch to check out (default: the GitRepository's)"),
  'push-branch': s('branch to push to (default: the checked out one)'),
  'author-name': s('author name of the commits (default "Tide")'),
  'author-email': s('author email of the commits'),
  'commit-template': s('commit message template'),
  'provider-ref': s('the Provider of an Alert'),
  'event-severity': s('severity of the events to send: info or error'),
  'event-source': s('the objects whose events are sent: <Kind>/<name>[.<namespace>], * for all', {
    list: true,
  }),
  summary: s("summary of the Alert's events"),
  type: s('type of the Provider or Receiver, e.g. slack, generic, github'),
  channel: s('channel of the Provider'),
  address: s('address of the Provider'),
  event: s('events the Receiver handles', { list: true }),
  resource: s('resources the Receiver reconciles: <Kind>/<name>[.<namespace>]', { list: true }),
};

/** The subcommand the words name, longest match first, and the words left. */
function findCreator(given: string[]): { creator: Creator; rest: string[] } {
  const aliases: Record<string, string> = { ks: 'kustomization', hr: 'helmrelease' };
  const args = [aliases[given[0] ?? ''] ?? given[0] ?? '', ...given.slice(1)];
  const matches = creators.filter((c) => c.words.every((w, i) => args[i] === w));
  const creator = matches.sort((a, b) => b.words.length - a.words.length)[0];
  if (!creator) {
    const options = [...new Set(creators.map((c) => c.words.join(' ')))].join(', ');
    throw new CliError(`tide create needs what to create: ${options}`);
  }
  return { creator, rest: args.slice(creator.words.length) };
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const { creator, rest } = findCreator(args);
  const usage = `tide create ${creator.words.join(' ')}`;
  if (rest.length !== 1) throw new CliError(`${usage} takes one name`);
  const name = rest[0]!;
  for (const flag of Object.keys(ctx.flags))
    if (!(flag in globalFlags) && flag !== 'export' && flag !== 'label' && !creator.flags.includes(flag))
      throw new CliError(`unknown flag: --${flag} (${usage})`);
  ctx.log.action(`generating ${creator.what}`);
  const objects = await creator.build(ctx, name);
  const main = objects.at(-1)!;
  const labels = labelsOf(ctx);
  if (Object.keys(labels).length) main.metadata.labels = { ...main.metadata.labels, ...labels };
  if (bool(ctx, 'export')) {
    ctx.io.out(yamlStream(objects));
    return 0;
  }
  const kind = creator.kind;
  const waits = kind && !kind.static;
  const token = newToken(ctx);
  if (waits)
    main.metadata.annotations = { ...main.metadata.annotations, [Annotations.reconcileRequestedAt]: token };
  ctx.log.action(`applying ${creator.what}`);
  const client = await ctx.client();
  for (const o of objects) {
    try {
      await client.apply(o, { fieldManager: cliFieldManager, force: true });
    } catch (err) {
      throw kind && o === main ? explain(err, kind) : err;
    }
  }
  ctx.log.success(`${creator.what} created`);
  if (!waits || !kind) return 0;
  ctx.log.waiting(`waiting for ${creator.what} reconciliation`);
  const ref = { apiVersion: kind.descriptor.apiVersion, kind: kind.kind, name, namespace: ctx.namespace };
  const done = await waitForReconcile(ctx, kind, ref, token);
  ctx.log.success(`${creator.what} ${name} is ready`);
  const message = kind.success(done);
  if (message) ctx.log.success(message);
  return 0;
}

export const createCommand: Command = {
  name: 'create',
  summary: 'Create or update sources and resources',
  flags: createFlags,
  words: ['source', 'kustomization', 'helmrelease', 'image', 'alert', 'alert-provider', 'receiver', 'secret'],
  subwords: {
    source: ['git', 'helm', 'oci', 'bucket'],
    image: ['repository', 'policy', 'update'],
    secret: ['git', 'helm', 'oci', 'tls'],
  },
  run,
  help: `Create (or update) a Flux resource from flags, apply it and wait until its controller reports it
Ready; with --export print it as YAML instead. Credentials given to a source become a Secret of the
same name.

Usage:
${creators.map((c) => `  tide create ${c.words.join(' ')} <name> [flags]`).join('\n')}

Each takes the flags of its kind (an unknown one is refused), --label and --export.

Examples:
  # A GitRepository and a Kustomization applying its ./deploy directory
  tide create source git podinfo --url https://github.com/stefanprodan/podinfo --branch master
  tide create kustomization podinfo --source GitRepository/podinfo --path ./kustomize --prune

  # A HelmRelease from a Helm repository
  tide create source helm bitnami --url https://charts.bitnami.com/bitnami
  tide create helmrelease redis --source HelmRepository/bitnami --chart redis --target-namespace data

  # Image automation
  tide create image repository app --image ghcr.io/org/app
  tide create image policy app --image-ref app --select-semver '>=1.0.0'

  # Print instead of applying
  tide create source git podinfo --url https://github.com/stefanprodan/podinfo --tag 6.9.2 --export
`,
};
