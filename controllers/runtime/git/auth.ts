// Git credentials from a GitRepository's Secret (Flux's keys) and the isolated environment git runs in.
//
// Secrets never reach process arguments: HTTP credentials travel as GIT_CONFIG_* environment entries
// (an Authorization extra header scoped to the repository's origin), files (CA, client certificate,
// SSH key, known_hosts) live in a private 0700 temp directory with 0600 files, removed by close().
// SSH always checks the host key against the Secret's known_hosts, never an agent or user config.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProxyConfig } from '../http.ts';
import { proxyUrlWithCredentials } from '../http-secrets.ts';
import { GitError, scrub } from './errors.ts';
import { runCommand } from './exec.ts';

/** A Secret's data, already base64-decoded. */
export type SecretData = Readonly<Record<string, string | Uint8Array>>;

export type GitTransport = 'http' | 'https' | 'ssh';

/** What a Secret says about authenticating to one repository URL (Flux's git.AuthOptions). */
export interface GitAuth {
  transport: GitTransport;
  /** HTTP basic user, or the SSH user (from the URL, default `git`). */
  username?: string;
  /** HTTP basic password, or the passphrase of the SSH identity. */
  password?: string;
  /** HTTP bearer token; takes precedence over username/password. */
  bearerToken?: string;
  /** PEM CA bundle added to the system roots (`ca.crt`, or the legacy `caFile`). */
  caCert?: Uint8Array;
  /** PEM client certificate and key for mutual TLS (`tls.crt`, `tls.key`). */
  tlsCert?: Uint8Array;
  tlsKey?: Uint8Array;
  /** SSH private key (`identity`). */
  identity?: Uint8Array;
  /** SSH known_hosts lines (`known_hosts`). */
  knownHosts?: string;
}

const text = (v: string | Uint8Array | undefined): string | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? v : Buffer.from(v).toString('utf8');
const bytes = (v: string | Uint8Array | undefined): Uint8Array | undefined =>
  v === undefined || v.length === 0 ? undefined : typeof v === 'string' ? Buffer.from(v, 'utf8') : v;

/** Parses and checks a repository URL: only http, https and ssh URLs (no scp-like `git@host:repo`). */
export function parseRepoUrl(url: string): URL {
  if (!/^(https?|ssh):\/\//i.test(url))
    throw new GitError('Invalid', `invalid url '${scrub(url)}': must start with http://, https:// or ssh://`);
  try {
    return new URL(url);
  } catch {
    throw new GitError('Invalid', `invalid url '${scrub(url)}'`);
  }
}

/**
 * Reads Flux's Secret keys for the URL's transport. HTTP(S): `bearerToken`, else `username` +
 * `password` (falling back to credentials in the URL), plus `ca.crt`/`caFile` and `tls.crt`+`tls.key`.
 * SSH: `identity` and `known_hosts` are required, `password` is the key's passphrase.
 * Throws GitError Invalid when the combination is incomplete.
 */
export function authFromSecret(url: string, data: SecretData = {}): GitAuth {
  const u = parseRepoUrl(url);
  const transport = u.protocol.slice(0, -1).toLowerCase() as GitTransport;
  if (transport === 'ssh') {
    const auth: GitAuth = {
      transport,
      username: decodeURIComponent(u.username) || 'git',
      identity: bytes(data.identity),
      knownHosts: text(data.known_hosts),
      password: text(data.password) || undefined,
    };
    if (!auth.identity) throw new GitError('Invalid', "invalid 'ssh' auth option: 'identity' is required");
    if (!auth.knownHosts?.trim())
      throw new GitError('Invalid', "invalid 'ssh' auth option: 'known_hosts' is required");
    return auth;
  }
  const auth: GitAuth = {
    transport,
    caCert: bytes(data['ca.crt']) ?? bytes(data.caFile),
    tlsCert: bytes(data['tls.crt']),
    tlsKey: bytes(data['tls.key']),
  };
  if (data.bearerToken !== undefined) auth.bearerToken = text(data.bearerToken);
  else {
    auth.username = text(data.username) || decodeURIComponent(u.username) || undefined;
    auth.password = text(data.password) || decodeURIComponent(u.password) || undefined;
  }
  if (!auth.username && auth.password)
    throw new GitError(
      'Invalid',
      `invalid '${transport}' auth option: 'password' requires 'username' to be set`,
    );
  if (Boolean(auth.tlsCert) !== Boolean(auth.tlsKey))
    throw new GitError('Invalid', `invalid '${transport}' auth option: 'tls.crt' and 'tls.key' go together`);
  return auth;
}

/** An isolated environment for git against one repository; close() removes its files. */
export interface GitSession {
  /** The URL git is given: HTTP credentials removed, SSH user set. */
  url: string;
  env: Record<string, string>;
  /** Every secret value, for scrubbing error text. */
  secrets: string[];
  /** Whether credentials are sent (HTTP) or offered (SSH). */
  credentialsGiven: boolean;
  close(): Promise<void>;
}

export interface SessionOptions {
  deadline: number;
  signal?: AbortSignal;
  /**
   * Proxy for HTTP(S) remotes (`http.proxy`): it replaces the controller's proxy environment, and
   * its credentials are scrubbed like the others. SSH remotes refuse it (Invalid).
   */
  proxy?: ProxyConfig;
}

export type { ProxyConfig };

// Kept from the controller's environment: the command search path, temp dir and proxy settings.
const passThrough = ['PATH', 'TMPDIR', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy'];

// Common locations of the system CA bundle, so a Secret's ca.crt adds to the roots instead of
// replacing them (as Flux's go-git transport does).
const systemBundles = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
  '/etc/ssl/ca-bundle.pem',
];

/** Quotes a path for GIT_SSH_COMMAND, which git runs through the shell. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Creates the temp directory and environment git needs for `url` with `auth` (undefined: anonymous
 * HTTP; SSH always needs auth). Call close() when done, also after failures.
 */
export async function openSession(
  url: string,
  auth: GitAuth | undefined,
  opts: SessionOptions,
): Promise<GitSession> {
  const u = parseRepoUrl(url);
  const a = auth ?? authFromSecret(url);
  const dir = await mkdtemp(join(tmpdir(), 'tide-git-'));
  await chmod(dir, 0o700);
  const close = () => rm(dir, { recursive: true, force: true });
  try {
    const env = baseEnv(dir);
    const config = baseConfig();
    const secrets: string[] = [];
    if (opts.proxy) {
      if (a.transport === 'ssh')
        throw new GitError('Invalid', 'a proxy (proxySecretRef) is only supported for http(s) URLs');
      config.push(...proxyConfig(env, opts.proxy, secrets));
    }
    if (a.transport === 'ssh') {
      if (!u.username) u.username = encodeURIComponent(a.username ?? 'git');
      u.password = '';
      env.GIT_SSH_COMMAND = await sshCommand(dir, a, secrets, opts);
      env.GIT_SSH_VARIANT = 'ssh';
    } else {
      u.username = '';
      u.password = '';
      config.push(...(await httpConfig(dir, u, a, secrets)));
    }
    setConfig(env, config);
    const credentialsGiven = a.transport === 'ssh' || Boolean(a.bearerToken || a.username);
    return { url: u.toString(), env, secrets, credentialsGiven, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * `http.proxy` for every request of the session. The controller's proxy variables are dropped so
 * the Secret's proxy takes precedence over all of them (no_proxy included, as Flux documents).
 */
function proxyConfig(env: Record<string, string>, proxy: ProxyConfig, secrets: string[]): [string, string][] {
  for (const k of ['http_proxy', 'https_proxy', 'no_proxy', 'all_proxy']) delete env[k];
  const url = proxyUrlWithCredentials(proxy);
  if (proxy.password) secrets.push(proxy.password, encodeURIComponent(proxy.password));
  if (proxy.username && proxy.password) secrets.push(url);
  return [['http.proxy', url]];
}

function baseEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    LC_ALL: 'C',
    LANG: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  for (const k of passThrough) {
    const v = process.env[k] ?? process.env[k.toUpperCase()];
    if (v !== undefined) env[k] = v;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  return env;
}

/**
 * The environment of git commands that touch only a local repository: no credentials, no proxy, no
 * user or system configuration, and the session defaults (no background gc).
 */
export function localEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    // No HOME to read: every configuration file git could look for there is absent.
    HOME: '/nonexistent',
    LC_ALL: 'C',
    LANG: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  setConfig(env, baseConfig());
  return env;
}

/** Configuration through GIT_CONFIG_* variables: it never appears on a command line. */
function setConfig(env: Record<string, string>, config: [string, string][]): void {
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
}

function baseConfig(): [string, string][] {
  return [
    // Submodules and redirects may only use the network transports Flux supports.
    ['protocol.allow', 'never'],
    ['protocol.http.allow', 'always'],
    ['protocol.https.allow', 'always'],
    ['protocol.ssh.allow', 'always'],
    // No background work that could outlive the operation.
    ['gc.auto', '0'],
    ['maintenance.auto', 'false'],
    ['fetch.writeCommitGraph', 'false'],
    ['advice.detachedHead', 'false'],
    ['init.defaultBranch', 'main'],
  ];
}

/**
 * http.<origin>.* entries: they apply to every URL under the repository's origin (submodules on
 * the same host included) and to no other host.
 */
async function httpConfig(dir: string, u: URL, a: GitAuth, secrets: string[]): Promise<[string, string][]> {
  const scope = `http.${u.protocol}//${u.host}/`;
  const config: [string, string][] = [];
  if (a.bearerToken) {
    secrets.push(a.bearerToken);
    config.push([`${scope}.extraHeader`, `Authorization: Bearer ${a.bearerToken}`]);
  } else if (a.username) {
    const basic = Buffer.from(`${a.username}:${a.password ?? ''}`).toString('base64');
    if (a.password) secrets.push(a.password);
    secrets.push(basic);
    config.push([`${scope}.extraHeader`, `Authorization: Basic ${basic}`]);
  }
  if (a.caCert) {
    const file = join(dir, 'ca.crt');
    const bundle = Buffer.concat([Buffer.from(a.caCert), Buffer.from('\n'), await systemRoots()]);
    await writeFile(file, bundle, { mode: 0o600 });
    config.push([`${scope}.sslCAInfo`, file]);
  }
  if (a.tlsCert && a.tlsKey) {
    secrets.push(text(a.tlsKey) ?? '');
    await writeFile(join(dir, 'tls.crt'), a.tlsCert, { mode: 0o600 });
    await writeFile(join(dir, 'tls.key'), a.tlsKey, { mode: 0o600 });
    config.push([`${scope}.sslCert`, join(dir, 'tls.crt')], [`${scope}.sslKey`, join(dir, 'tls.key')]);
  }
  return config;
}

/** Runs fn with a session and always closes it. */
export async function withSession<T>(
  url: string,
  auth: GitAuth | undefined,
  opts: SessionOptions,
  fn: (s: GitSession) => Promise<T>,
): Promise<T> {
  const s = await openSession(url, auth, opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

async function systemRoots(): Promise<Buffer> {
  for (const p of systemBundles) {
    const b = await readFile(p).catch(() => undefined);
    if (b) return b;
  }
  return Buffer.alloc(0);
}

/**
 * Writes known_hosts and the identity (decrypted with its passphrase when one is given) and returns
 * the ssh command line: strict host key checking, this key only, no agent, no prompts, no user config.
 */
async function sshCommand(dir: string, a: GitAuth, secrets: string[], opts: SessionOptions): Promise<string> {
  const identity = join(dir, 'identity');
  const knownHosts = join(dir, 'known_hosts');
  const key = Buffer.from(a.identity ?? []);
  secrets.push(key.toString('utf8'));
  if (a.password) secrets.push(a.password);
  await writeFile(identity, key.at(-1) === 0x0a ? key : Buffer.concat([key, Buffer.from('\n')]), {
    mode: 0o600,
  });
  await writeFile(knownHosts, `${(a.knownHosts ?? '').trim()}\n`, { mode: 0o600 });
  await prepareIdentity(dir, identity, a.password, secrets, opts);
  return [
    'ssh',
    '-F /dev/null',
    `-i ${shq(identity)}`,
    '-o IdentitiesOnly=yes',
    '-o IdentityAgent=none',
    '-o BatchMode=yes',
    '-o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${shq(knownHosts)}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o UpdateHostKeys=no',
    '-o PasswordAuthentication=no',
    '-o KbdInteractiveAuthentication=no',
    '-o ConnectTimeout=30',
  ].join(' ');
}

/**
 * Leaves an unencrypted private key at `identity`. With a passphrase, ssh-keygen -p rewrites the
 * temp copy without one; the passphrase reaches ssh-keygen through SSH_ASKPASS reading a 0600 file,
 * never argv. Without one, checks the key is usable so the error names the cause.
 */
async function prepareIdentity(
  dir: string,
  identity: string,
  passphrase: string | undefined,
  secrets: string[],
  opts: SessionOptions,
): Promise<void> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LC_ALL: 'C' };
  const run = (args: string[], what: string) =>
    runCommand('ssh-keygen', args, { env, deadline: opts.deadline, signal: opts.signal, secrets, what });
  if (!passphrase) {
    // An empty -P is no secret: it only tells an encrypted key from an unencrypted one.
    const res = await run(['-y', '-P', '', '-f', identity], 'unable to read the SSH identity');
    if (res.code === 0) return;
    if (/passphrase/i.test(res.stderr))
      throw new GitError('Auth', "the SSH identity key is encrypted but the Secret has no 'password' field");
    throw new GitError('Invalid', "the SSH identity is not a valid private key ('identity' field)");
  }
  const passFile = join(dir, 'passphrase');
  const askpass = join(dir, 'askpass.sh');
  await writeFile(passFile, passphrase, { mode: 0o600 });
  await writeFile(askpass, `#!/bin/sh\nexec cat ${shq(passFile)}\n`, { mode: 0o700 });
  try {
    Object.assign(env, { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none' });
    const res = await run(['-p', '-q', '-N', '', '-f', identity], 'unable to decrypt the SSH identity');
    if (res.code !== 0) {
      if (/incorrect passphrase|bad passphrase/i.test(res.stderr))
        throw new GitError(
          'Auth',
          "the SSH identity key could not be decrypted with the Secret's 'password'",
        );
      throw new GitError('Invalid', "the SSH identity is not a valid private key ('identity' field)");
    }
  } finally {
    await rm(passFile, { force: true });
    await rm(askpass, { force: true });
  }
}
