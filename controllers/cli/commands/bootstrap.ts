// tide bootstrap git --url --branch --path [--username/--password | --private-key-file | --token-auth]
// Puts Tide's manifests into Git and the cluster under their control (F2 cmd/flux/bootstrap_git.go,
// pkg/bootstrap): clone the branch, write <path>/tide-system/{components.yaml, sync.yaml,
// kustomization.yaml}, commit and push; install the components when the sync Kustomization has never
// applied (later versions arrive through Git); create the auth Secret; apply the sync GitRepository and
// Kustomization; wait until both reconciled the pushed commit and the controllers are healthy.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { Annotations, Labels } from '../../api/names.ts';
import { parseDuration } from '../../runtime/duration.ts';
import { kustomizeBuild } from '../../runtime/kustomize/build.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { bool, type Command, type Context, commonFlags, required, str } from '../command.ts';
import { CliError } from '../errors.ts';
import {
  authOf,
  closeWorkTree,
  commit,
  headRevision,
  openWorkTree,
  pushWorkTree,
  scanKnownHosts,
} from '../gitops.ts';
import { applyObjects, tideDeployments, waitForRollout } from '../install/apply.ts';
import {
  COMPONENTS_FILE,
  componentsYaml,
  type GitCredentials,
  gitSecret,
  KUSTOMIZATION_FILE,
  kustomizationYaml,
  SYNC_FILE,
  SYSTEM_DIR,
  type SyncOptions,
  syncObjects,
  syncPath,
  syncYaml,
} from '../install/manifests.ts';
import { installFlags, renderOptionsFrom } from '../install/options.ts';
import { renderChart } from '../install/render.ts';
import { gitKind, kustomizationKind } from '../kinds.ts';
import { toolPath } from '../package.ts';
import { newToken, refOf, waitForRevision } from '../wait.ts';
import { cliVersion } from './version.ts';

/** --path as a clean relative path (`clusters/prod`); '' for the repository root. */
export function safePath(path: string | undefined): string {
  const p = normalize((path ?? '').replace(/^\.\/+/, '') || '.');
  if (isAbsolute(p) || p === '..' || p.startsWith('../'))
    throw new CliError(`invalid --path "${path}": want a path inside the repository`);
  return p === '.' ? '' : p.replace(/\/+$/, '');
}

interface Credentials {
  /** The Secret's data; undefined for anonymous access. */
  data?: GitCredentials;
  /** The URL the CLI pushes to and the GitRepository syncs from. */
  url: string;
}

/** SSH: the key of --private-key-file and the server's host keys (--known-hosts-file, else scanned). */
async function sshCredentials(ctx: Context, u: URL, password: string | undefined): Promise<Credentials> {
  const keyFile = str(ctx, 'private-key-file');
  if (!keyFile) throw new CliError('--private-key-file is required for an ssh:// URL');
  const identity = await readFile(keyFile, 'utf8').catch((err: Error) => {
    throw new CliError(`cannot read --private-key-file: ${err.message}`);
  });
  const knownFile = str(ctx, 'known-hosts-file');
  const knownHosts = knownFile ? await readFile(knownFile, 'utf8') : await scanKnownHosts(u.hostname, u.port);
  if (!knownFile && !bool(ctx, 'silent')) {
    const keys = knownHosts
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(1, 2).join(' '));
    if (!(await ctx.confirm(`Trust the host keys (${keys.join(', ')}) of ${u.hostname}`)))
      throw new CliError(
        `host keys of ${u.hostname} not confirmed (--silent trusts them, --known-hosts-file gives them)`,
      );
  }
  if (!u.username) u.username = str(ctx, 'username') ?? 'git';
  return { url: u.toString(), data: { identity, knownHosts, password } };
}

/** HTTP(S): basic auth (or a bearer token) and a CA; the URL without user info. */
async function httpCredentials(ctx: Context, u: URL, password: string | undefined): Promise<Credentials> {
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new CliError(`unsupported --url scheme ${u.protocol}: want https, http or ssh`);
  if (u.protocol === 'http:' && !bool(ctx, 'allow-insecure-http'))
    throw new CliError('scheme http is insecure, pass --allow-insecure-http=true to allow it');
  const username = str(ctx, 'username') ?? (decodeURIComponent(u.username) || 'git');
  u.username = '';
  u.password = '';
  const caFile = str(ctx, 'ca-file');
  const caCrt = caFile ? await readFile(caFile, 'utf8') : undefined;
  if (!password && !caCrt) return { url: u.toString() };
  if (!password) return { url: u.toString(), data: { caCrt } };
  const auth = bool(ctx, 'with-bearer-token') ? { bearerToken: password } : { username, password };
  return { url: u.toString(), data: { ...auth, caCrt } };
}

/** Credentials from the flags (--password falls back to $GIT_PASSWORD), checked as Flux does. */
async function credentials(ctx: Context, rawUrl: string): Promise<Credentials> {
  let u: URL;
  try {
    u = new URL(rawUrl);
  } catch {
    throw new CliError(`invalid --url "${rawUrl}"`);
  }
  const password = str(ctx, 'password') ?? ctx.env.GIT_PASSWORD;
  const tokenAuth = bool(ctx, 'token-auth') || bool(ctx, 'with-bearer-token');
  if (tokenAuth && !password) throw new CliError('--token-auth needs a token: --password or $GIT_PASSWORD');
  // Flux: a token means HTTPS, whatever the URL said.
  if (u.protocol === 'ssh:' && tokenAuth) u = new URL(`https://${u.hostname}${u.pathname}`);
  return u.protocol === 'ssh:' ? sshCredentials(ctx, u, password) : httpCredentials(ctx, u, password);
}

/** Secret data as the runtime's Git auth reads it. */
const secretData = (c: GitCredentials | undefined): Record<string, string> | undefined =>
  c &&
  Object.fromEntries(
    Object.entries({
      username: c.username,
      password: c.password,
      bearerToken: c.bearerToken,
      identity: c.identity,
      known_hosts: c.knownHosts,
      'ca.crt': c.caCrt,
    }).filter((e): e is [string, string] => Boolean(e[1])),
  );

/** Refuses to take over a Tide installed by another tool (e.g. Helm) unless --silent or --force. */
async function confirmTakeOver(ctx: Context): Promise<void> {
  const found = await tideDeployments(ctx, ctx.namespace);
  const other = found.map((d) => d.metadata.labels?.[Labels.managedBy]).find((m) => m && m !== 'tide');
  if (!other || bool(ctx, 'silent') || bool(ctx, 'force')) return;
  if (!(await ctx.confirm(`Tide in "${ctx.namespace}" is managed by ${other}: bootstrap anyway`)))
    throw new CliError(`Tide in "${ctx.namespace}" is managed by ${other} (--force bootstraps anyway)`);
}

async function writeIfChanged(file: string, content: string): Promise<void> {
  const old = existsSync(file) ? await readFile(file, 'utf8') : undefined;
  if (old !== content) await writeFile(file, content);
}

async function runGit(ctx: Context, args: string[]): Promise<number> {
  if (args.length) throw new CliError(`tide bootstrap git takes no arguments, got: ${args.join(' ')}`);
  const ns = ctx.namespace;
  const path = safePath(str(ctx, 'path'));
  const branch = str(ctx, 'branch') ?? 'main';
  const secretName = str(ctx, 'secret-name') ?? ns;
  let intervalMs: number;
  try {
    intervalMs = parseDuration(str(ctx, 'interval') ?? '1m');
  } catch (err) {
    throw new CliError(`invalid --interval: ${(err as Error).message}`);
  }
  const creds = await credentials(ctx, required(ctx, 'url'));
  const render = renderOptionsFrom(ctx);
  const author = {
    name: str(ctx, 'author-name') ?? 'Tide',
    email: str(ctx, 'author-email') ?? 'tide@localhost',
  };
  const appendix = str(ctx, 'commit-message-appendix');
  const message = (m: string) => (appendix ? `${m}\n\n${appendix}` : m);
  const client = await ctx.client();
  await confirmTakeOver(ctx);
  // As flux: never point an existing sync Kustomization at another path.
  const existing = await client.tryGet(refOf(kustomizationKind, ns, ns)).catch(() => undefined);
  if (existing?.spec?.path && syncPath(existing.spec.path) !== syncPath(path))
    throw new CliError(
      `sync path configuration ("${syncPath(path)}") would overwrite path ("${existing.spec.path}") of the existing Kustomization ${ns}/${ns}`,
    );

  const wt = await openWorkTree(ctx, creds.url, branch, authOf(creds.url, secretData(creds.data)));
  try {
    const dir = join(wt.dir, path, SYSTEM_DIR);
    await mkdir(dir, { recursive: true });
    // The image tag the components run (--version), else this CLI's own version.
    const version = render.version?.replace(/^v(?=\d)/, '') ?? (await cliVersion());
    ctx.log.action('generating component manifests');
    const components = await renderChart(render, ctx.env);
    await writeIfChanged(join(dir, COMPONENTS_FILE), componentsYaml(components, version, render.components));
    const c1 = await commit(wt, author, message(`Add Tide v${version} component manifests`));
    ctx.log.success(
      c1 ? `committed component manifests to "${branch}" (${c1})` : 'component manifests are up to date',
    );

    ctx.log.action('generating sync manifests');
    const sync: SyncOptions = {
      name: ns,
      namespace: ns,
      url: creds.url,
      branch,
      secretName: creds.data ? secretName : undefined,
      intervalMs,
      path,
    };
    await writeIfChanged(join(dir, SYNC_FILE), syncYaml(sync));
    // A kustomization.yaml of the user's (patches of the components, say) is kept, as flux keeps it.
    if (!existsSync(join(dir, KUSTOMIZATION_FILE)))
      await writeFile(join(dir, KUSTOMIZATION_FILE), kustomizationYaml());
    const c2 = await commit(wt, author, message('Add Tide sync manifests'));
    ctx.log.success(c2 ? `committed sync manifests to "${branch}" (${c2})` : 'sync manifests are up to date');
    if (wt.commits) await pushWorkTree(ctx, wt);
    const revision = await headRevision(wt);

    // Components: installed directly until the sync Kustomization has applied once; from then on the
    // cluster upgrades itself from Git.
    const ksRef = refOf(kustomizationKind, ns, ns);
    const ks = await client.tryGet(ksRef).catch(() => undefined);
    if (!ks?.status?.lastAppliedRevision) {
      ctx.log.action(`installing components in ${ns} namespace`);
      const built = await kustomizeBuild(wt.dir, join(path, SYSTEM_DIR), {
        kustomizeBin: toolPath('kustomize', ctx.env),
      }).catch((err: Error) => {
        throw new CliError(`cannot build ${join(path, SYSTEM_DIR)}: ${err.message}`);
      });
      const isSync = (o: KubeObject) =>
        o.metadata.name === ns && (o.kind === gitKind.kind || o.kind === kustomizationKind.kind);
      await applyObjects(
        ctx,
        built.filter((o) => !isSync(o)),
      );
      ctx.log.success('installed components');
    } else ctx.log.success(`components are reconciled from Git by Kustomization ${ns}/${ns}`);

    if (creds.data) {
      ctx.log.action(`applying source secret "${ns}/${secretName}"`);
      await applyObjects(ctx, [gitSecret(secretName, ns, creds.data)]);
    }
    ctx.log.action('applying sync manifests');
    await applyObjects(ctx, syncObjects(sync));
    // Ask for a reconcile now rather than at the next interval (a re-run pushes new commits).
    const token = newToken(ctx);
    for (const kind of [gitKind, kustomizationKind])
      await client.patch(refOf(kind, ns, ns), 'merge', {
        metadata: { annotations: { [Annotations.reconcileRequestedAt]: token } },
      });
    ctx.log.success('reconciled sync configuration');

    await waitForRevision(ctx, gitKind, refOf(gitKind, ns, ns), revision);
    ctx.log.success('GitRepository reconciled successfully');
    await waitForRevision(ctx, kustomizationKind, refOf(kustomizationKind, ns, ns), revision);
    ctx.log.success('Kustomization reconciled successfully');
    ctx.log.action('confirming components are healthy');
    await waitForRollout(
      ctx,
      ns,
      render.components.map((k) => `${k}-controller`),
    );
    ctx.log.success('all components are healthy');
    return 0;
  } finally {
    await closeWorkTree(wt);
  }
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const [provider, ...rest] = args;
  if (provider === 'git') return runGit(ctx, rest);
  if (provider === 'github' || provider === 'gitlab')
    throw new CliError(
      `tide bootstrap ${provider} is not implemented yet: create the repository and a deploy key or token, then use tide bootstrap git`,
    );
  throw new CliError('tide bootstrap needs a provider: git');
}

export const bootstrapCommand: Command = {
  name: 'bootstrap',
  summary: 'Deploy Tide on a cluster, managed from a Git repository',
  flags: {
    ...installFlags,
    url: {
      type: 'string',
      description: 'Git repository URL: https://, http:// (with --allow-insecure-http) or ssh://',
    },
    branch: { type: 'string', description: 'Git branch (default "main"; created when missing)' },
    path: {
      type: 'string',
      description: "the cluster's path in the repository; Tide writes <path>/tide-system",
    },
    interval: commonFlags.interval,
    username: { type: 'string', short: 'u', description: 'basic authentication username (default "git")' },
    password: {
      type: 'string',
      short: 'p',
      description:
        'basic authentication password or token (default $GIT_PASSWORD); the passphrase of --private-key-file',
    },
    'private-key-file': { type: 'string', description: 'SSH private key for an ssh:// URL' },
    'known-hosts-file': {
      type: 'string',
      description: 'known_hosts for an ssh:// URL (default: scanned from the server)',
    },
    'token-auth': {
      type: 'boolean',
      description: 'authenticate with --password as a token over HTTPS (an ssh:// URL becomes https://)',
    },
    'with-bearer-token': { type: 'boolean', description: 'send --password as a bearer token' },
    'ca-file': { type: 'string', description: 'CA bundle of the Git server' },
    'allow-insecure-http': { type: 'boolean', description: 'allow an http:// URL' },
    'secret-name': {
      type: 'string',
      description: 'name of the Secret with the Git credentials (default: the namespace)',
    },
    'author-name': { type: 'string', description: 'author name of the commits (default "Tide")' },
    'author-email': { type: 'string', description: 'author email of the commits' },
    'commit-message-appendix': {
      type: 'string',
      description: 'text added to the commit messages, e.g. "[ci skip]"',
    },
    silent: {
      ...commonFlags.silent,
      description: 'trust scanned SSH host keys and take over without asking',
    },
    force: { type: 'boolean', description: 'take over a Tide installed by another tool' },
  },
  words: ['git', 'github', 'gitlab'],
  run,
  help: `Bootstrap Tide: commit its manifests to a branch of a Git repository and make the cluster sync
itself from there. Writes <path>/tide-system/{components.yaml, sync.yaml, kustomization.yaml}, commits
and pushes them, installs the components (on the first run), creates the auth Secret, applies the
sync GitRepository and Kustomization and waits until they reconciled the pushed commit. Running it again
changes nothing; running it with other flags or a newer tide commits the change, which the cluster
then applies itself. kustomization.yaml is yours: patches in it survive.

Usage:
  tide bootstrap git --url <url> [--branch main] [--path <dir>] [flags]

Examples:
  # HTTPS with a token
  GIT_PASSWORD=<token> tide bootstrap git --url https://git.example.com/org/fleet.git --path clusters/prod

  # SSH with a key
  tide bootstrap git --url ssh://git@git.example.com/org/fleet.git --private-key-file ~/.ssh/fleet --path clusters/prod

  # Also the image automation controllers
  tide bootstrap git --url ... --components-extra image-reflector-controller,image-automation-controller

(bootstrap github and gitlab, which create the repository and its deploy key, are not implemented yet.)
`,
};
