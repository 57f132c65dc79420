// `git ls-remote` over the smart HTTP protocol, without a git process: the question a GitRepository
// asks on every interval ("did the ref move?") costs one HTTP request on the shared pool instead of
// spawning git and its remote helper. It reads the protocol v0 advertisement of info/refs, as Flux's
// go-git does: one round trip (v2 would take two). Checkouts still run the git CLI.
import type { HttpResponse } from '../http.ts';
import { HttpError, httpClient } from '../http.ts';
import { authFromSecret, type GitAuth, parseRepoUrl } from './auth.ts';
import { GitError, scrub } from './errors.ts';

/** Refs advertisements beyond this are refused (a repository with an absurd number of refs). */
const maxAdvertisementBytes = 64 << 20;

/** Splits pkt-lines; `null` stands for a flush (0000) or delimiter (0001) packet. */
export function parsePktLines(data: Buffer): (string | null)[] {
  const out: (string | null)[] = [];
  let i = 0;
  while (i + 4 <= data.length) {
    const len = Number.parseInt(data.subarray(i, i + 4).toString('latin1'), 16);
    if (Number.isNaN(len)) throw new Error('malformed pkt-line length');
    if (len < 4) {
      out.push(null);
      i += 4;
      continue;
    }
    if (i + len > data.length) throw new Error('truncated pkt-line');
    out.push(
      data
        .subarray(i + 4, i + len)
        .toString('utf8')
        .replace(/\n$/, ''),
    );
    i += len;
  }
  return out;
}

const oid = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Refs of a v0 info/refs advertisement (first line carries capabilities after a NUL). */
export function parseV0Advertisement(lines: (string | null)[]): Map<string, string> {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of lines) {
    if (line === null || line.startsWith('#')) continue;
    const [head = ''] = line.split('\0');
    const sp = head.indexOf(' ');
    const sha = head.slice(0, sp);
    const name = head.slice(sp + 1);
    if (!oid.test(sha) || name === 'capabilities^{}') continue;
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), sha);
    else refs.set(name, sha);
  }
  for (const [name, sha] of peeled) refs.set(name, sha);
  return refs;
}

/** Whether a ref name matches an ls-remote pattern (git matches the pattern against the name's tail). */
export function matchesPattern(name: string, pattern: string): boolean {
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return name.startsWith(prefix) || name.includes(`/${prefix}`);
  }
  return name === pattern || name.endsWith(`/${pattern}`);
}

export interface SmartHttpOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Only refs matching one of these (ls-remote patterns: `refs/heads/main`, `refs/tags/*`). */
  patterns?: string[];
  proxy?: { address: string; username?: string; password?: string };
}

function authHeader(auth: GitAuth | undefined): string | undefined {
  if (auth?.bearerToken) return `Bearer ${auth.bearerToken}`;
  if (auth?.username)
    return `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
  return undefined;
}

/** The repository URL without credentials (they travel in a header), ending without a slash. */
function repoBase(url: string): URL {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  u.hash = '';
  u.search = '';
  u.pathname = u.pathname.replace(/\/+$/, '');
  return u;
}

function failure(status: number, what: string, credentialsGiven: boolean): GitError {
  if (status === 401 || status === 403)
    return new GitError(
      'Auth',
      credentialsGiven
        ? `${what}: authentication failed: the server rejected the credentials (check username and password, or bearerToken)`
        : `${what}: authentication required: the server asks for credentials and none were given`,
    );
  if (status === 407)
    return new GitError('Auth', `${what}: the proxy refused the credentials: check the proxy Secret`);
  if (status === 404) return new GitError('NotFound', `${what}: repository not found (HTTP 404)`);
  return new GitError('Other', `${what}: the server answered HTTP ${status}`);
}

function transportError(err: unknown, what: string, secrets: string[]): GitError {
  if (err instanceof GitError) return err;
  if (err instanceof HttpError) {
    const msg = scrub(`${what}: ${err.message}`, secrets);
    if (err.kind === 'Timeout') return new GitError('Timeout', msg);
    if (err.kind === 'Tls') return new GitError('HostKey', `${msg} (check ca.crt)`);
    if (err.kind === 'Proxy')
      return new GitError('Auth', `${what}: the proxy refused the credentials: check the proxy Secret`);
    if (err.kind === 'Network') return new GitError('Unreachable', msg);
    return new GitError('Other', msg);
  }
  return new GitError('Other', scrub(`${what}: ${(err as Error).message}`, secrets));
}

/**
 * Lists a remote's refs over smart HTTP (ref name → commit, annotated tags peeled), filtered by the
 * patterns. Throws GitError (Auth, NotFound, Unreachable, HostKey, Timeout, Other) without credentials.
 */
export async function smartHttpLsRemote(
  url: string,
  auth: GitAuth | undefined,
  opts: SmartHttpOptions,
): Promise<Map<string, string>> {
  // Without a Secret, credentials in the URL are used, as the git process path (and Flux) does.
  auth ??= authFromSecret(url);
  const base = repoBase(parseRepoUrl(url).toString());
  const what = `unable to list remote refs of '${base.toString()}'`;
  const secrets = [auth?.password, auth?.bearerToken, opts.proxy?.password].filter((s): s is string =>
    Boolean(s),
  );
  const authorization = authHeader(auth);
  const client = httpClient({
    tls: {
      ...(auth?.caCert ? { ca: Buffer.from(auth.caCert) } : {}),
      ...(auth?.tlsCert && auth.tlsKey
        ? { cert: Buffer.from(auth.tlsCert), key: Buffer.from(auth.tlsKey) }
        : {}),
    },
    ...(opts.proxy ? { proxy: opts.proxy } : {}),
  });
  const deadline = Date.now() + opts.timeoutMs;
  const headers = (extra: Record<string, string>) => ({
    'user-agent': 'git/tide',
    'accept-encoding': 'identity',
    ...(authorization ? { authorization } : {}),
    ...extra,
  });
  const read = async (res: HttpResponse) => {
    if (res.status !== 200) {
      await res.discard().catch(() => {});
      throw failure(res.status, what, authorization !== undefined);
    }
    return parsePktLines(await res.bytes({ maxBytes: maxAdvertisementBytes }));
  };
  try {
    const info = new URL(`${base.pathname}/info/refs`, base);
    info.searchParams.set('service', 'git-upload-pack');
    const refs = parseV0Advertisement(
      await read(
        await client.request({
          url: info,
          headers: headers({}),
          timeoutMs: Math.max(1, deadline - Date.now()),
          maxRedirects: 5,
          signal: opts.signal,
        }),
      ),
    );
    const patterns = opts.patterns ?? [];
    if (!patterns.length) return refs;
    return new Map([...refs].filter(([name]) => patterns.some((p) => matchesPattern(name, p))));
  } catch (err) {
    throw transportError(err, what, secrets);
  }
}
