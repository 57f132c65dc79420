// What every `tide create` builder shares: the builder shape, object references from flags
// (`Kind/name.namespace`), labels, and Secrets built from Git, Helm, OCI and TLS credentials.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDuration, parseDuration } from '../../runtime/duration.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { runProcess } from '../../runtime/process.ts';
import { type Context, list, required, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { scanKnownHosts } from '../gitops.ts';
import type { CliKind } from '../kinds.ts';

export interface Creator {
  /** The words after `create`: ['source', 'git']. */
  words: readonly string[];
  /** What the messages call it: `GitRepository source`, `Kustomization`. */
  what: string;
  /** The kind it waits for after applying; absent for Secrets. */
  kind?: CliKind;
  /** The flags it takes besides --export and --label. */
  flags: readonly string[];
  /** The objects to apply, the created object last (a Secret it needs before it). */
  build(ctx: Context, name: string): Promise<KubeObject[]>;
}

export const meta = (ctx: Context, name: string) => ({ name, namespace: ctx.namespace });

/** A Go duration flag normalized the way Flux writes it (`1m0s`), with a default. */
export function durationFlag(ctx: Context, flag: string, dflt: string): string {
  const v = str(ctx, flag) ?? dflt;
  try {
    return formatDuration(parseDuration(v));
  } catch (err) {
    throw new CliError(`invalid --${flag} "${v}": ${(err as Error).message}`);
  }
}

/** A required flag whose value must be one of `allowed`. */
export function oneOf(ctx: Context, flag: string, allowed: readonly string[]): string {
  const v = required(ctx, flag);
  if (!allowed.includes(v)) throw new CliError(`invalid --${flag} "${v}": want one of ${allowed.join(', ')}`);
  return v;
}

/** The flags of Git credentials (create source git, create secret git). */
export const gitCredentialFlags = [
  'username',
  'password',
  'bearer-token',
  'private-key-file',
  'known-hosts-file',
  'ca-crt-file',
] as const;

/** `--label k=v` (repeatable) as a map. */
export function labelsOf(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list(ctx, 'label')) {
    const at = l.indexOf('=');
    if (at <= 0) throw new CliError(`invalid --label "${l}": want key=value`);
    out[l.slice(0, at)] = l.slice(at + 1);
  }
  return out;
}

export interface ObjectRefArg {
  kind?: string;
  name: string;
  namespace?: string;
}

/** `[<Kind>/]<name>[.<namespace>]`, e.g. `GitRepository/podinfo.flux-system` (flux's --source syntax). */
export function parseRefArg(value: string, flag: string): ObjectRefArg {
  const slash = value.indexOf('/');
  const kind = slash < 0 ? undefined : value.slice(0, slash);
  const rest = slash < 0 ? value : value.slice(slash + 1);
  const dot = rest.indexOf('.');
  const name = dot < 0 ? rest : rest.slice(0, dot);
  const namespace = dot < 0 ? undefined : rest.slice(dot + 1);
  if (!name || kind === '' || namespace === '')
    throw new CliError(`invalid --${flag} "${value}": want [<kind>/]<name>[.<namespace>]`);
  return { kind, name, ...(namespace ? { namespace } : {}) };
}

/** The kind named in a reference, matched case-insensitively against the allowed ones. */
export function refKind(ref: ObjectRefArg, allowed: readonly string[], flag: string, dflt: string): string {
  const kind = ref.kind ?? dflt;
  const found = allowed.find((k) => k.toLowerCase() === kind.toLowerCase());
  if (!found) throw new CliError(`invalid --${flag} kind "${kind}": want one of ${allowed.join(', ')}`);
  return found;
}

export const readText = async (file: string, flag: string): Promise<string> =>
  readFile(file, 'utf8').catch((err: Error) => {
    throw new CliError(`cannot read --${flag} ${file}: ${err.message}`);
  });

/** A Secret of the namespace with these values (kept as data, base64). */
export function secret(
  ctx: Context,
  name: string,
  values: Record<string, string | undefined>,
  type = 'Opaque',
): KubeObject {
  const data = Object.fromEntries(
    Object.entries(values)
      .filter((e): e is [string, string] => Boolean(e[1]))
      .map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  return { apiVersion: 'v1', kind: 'Secret', metadata: meta(ctx, name), type, data };
}

/** A new ECDSA P-384 key pair (ssh-keygen): the private key and the public key line. */
export async function generateKeyPair(): Promise<{ identity: string; publicKey: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-key-'));
  try {
    const file = join(dir, 'identity');
    const res = await runProcess(
      'ssh-keygen',
      ['-q', '-t', 'ecdsa', '-b', '384', '-N', '', '-C', '', '-f', file],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        timeoutMs: 30_000,
      },
    );
    if (res.code !== 0) throw new CliError(`ssh-keygen failed: ${res.stderr.trim()}`);
    return {
      identity: await readFile(file, 'utf8'),
      publicKey: (await readFile(`${file}.pub`, 'utf8')).trim(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The Secret data of Git credentials for a URL, from --username/--password, --bearer-token or, for ssh,
 * --private-key-file (a new key pair when absent, its public key printed) with scanned known_hosts.
 */
export async function gitSecretValues(
  ctx: Context,
  url: string,
): Promise<Record<string, string | undefined>> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`invalid --url "${url}"`);
  }
  const ca = str(ctx, 'ca-crt-file');
  const caCrt = ca ? await readText(ca, 'ca-crt-file') : undefined;
  if (u.protocol === 'ssh:') {
    const keyFile = str(ctx, 'private-key-file');
    let identity: string;
    if (keyFile) identity = await readText(keyFile, 'private-key-file');
    else {
      const pair = await generateKeyPair();
      identity = pair.identity;
      ctx.log.action(`deploy key: ${pair.publicKey}`);
    }
    const known = str(ctx, 'known-hosts-file');
    const knownHosts = known
      ? await readText(known, 'known-hosts-file')
      : await scanKnownHosts(u.hostname, u.port);
    return { identity, known_hosts: knownHosts, password: str(ctx, 'password') };
  }
  const bearer = str(ctx, 'bearer-token');
  if (bearer) return { bearerToken: bearer, 'ca.crt': caCrt };
  return { username: str(ctx, 'username'), password: str(ctx, 'password'), 'ca.crt': caCrt };
}
