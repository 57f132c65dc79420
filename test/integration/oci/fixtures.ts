// Test fixtures of the OCI client suites: tar.gz layers, a second docker-registry with TLS and
// htpasswd basic auth, and a token-auth proxy (a Bearer token service in front of a real registry)
// that can also tamper with what it serves.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { c as tarCreate } from 'tar';
import { createHttpClient } from '../../../controllers/runtime/http.ts';
import { makePki } from '../../../hack/testbed/pki.ts';
import { freePort, poll, run, stopGroup } from '../../../hack/testbed/proc.ts';

/** A gzipped tarball of `files` (path → content), as `flux push artifact` would upload. */
export async function makeTarGz(files: Record<string, string>): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-oci-layer-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    const chunks: Buffer[] = [];
    const stream = tarCreate({ gzip: true, cwd: dir, portable: true }, Object.keys(files));
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const bcryptAlphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A bcrypt hash (the only scheme docker-registry's htpasswd accepts), made by perl's crypt(3),
 * which on Debian is libxcrypt with bcrypt. apache2-utils (htpasswd) is not needed.
 */
export async function bcrypt(password: string): Promise<string> {
  const bytes = randomBytes(21);
  // 22 salt characters carry 128 bits: the last one may only use its top two bits.
  const salt = [...bytes].map((b) => bcryptAlphabet[b % 64]).join('') + '.Oeu'[bytes[0]! % 4];
  const out = await run('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$05$${salt}`]);
  if (!out.startsWith('$2b$05$') || out.length !== 60) {
    throw new Error(`perl crypt() made no bcrypt hash (got "${out.slice(0, 7)}…"): libcrypt lacks bcrypt`);
  }
  return out;
}

export interface AuthRegistry {
  host: string;
  url: string;
  caCert: Buffer;
  /** A client certificate and key of the registry's CA (required with `clientCertificates`). */
  clientCert: Buffer;
  clientKey: Buffer;
  close(): Promise<void>;
}

/**
 * docker-registry serving HTTPS (a certificate of a fresh CA) with htpasswd basic auth for one user;
 * with `clientCertificates`, only to clients presenting a certificate of that CA (mutual TLS).
 */
export async function startAuthRegistry(
  dir: string,
  user: { username: string; password: string },
  opts: { clientCertificates?: boolean } = {},
): Promise<AuthRegistry> {
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, 'pki'), { recursive: true });
  const pki = await makePki(join(dir, 'pki'));
  const htpasswd = join(dir, 'htpasswd');
  await writeFile(htpasswd, `${user.username}:${await bcrypt(user.password)}\n`);
  const port = await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: 127.0.0.1:${port}, tls: {certificate: ${pki.apiserverCert}, key: ${pki.apiserverKey}${
        opts.clientCertificates ? `, clientcas: [${pki.caCert}]` : ''
      }}}`,
      `auth: {htpasswd: {realm: tide-test, path: ${htpasswd}}}`,
    ].join('\n'),
  );
  const binary = process.env.TIDE_REGISTRY_BIN ?? '/usr/bin/docker-registry';
  const child = spawn(binary, ['serve', config], { detached: true, stdio: 'ignore' });
  const pid = child.pid;
  if (!pid) throw new Error(`could not start ${binary}`);
  const caCert = await readFile(pki.caCert);
  const clientCert = await readFile(pki.adminCert);
  const clientKey = await readFile(pki.adminKey);
  const url = `https://127.0.0.1:${port}`;
  const client = createHttpClient({ tls: { ca: caCert, cert: clientCert, key: clientKey } });
  try {
    await poll(`TLS registry on port ${port}`, 20_000, async () => {
      if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode})`);
      const res = await client.request({ url: `${url}/v2/` });
      await res.discard();
      return res.status === 401 ? true : undefined;
    });
  } catch (e) {
    await stopGroup(pid, 5_000);
    throw e;
  } finally {
    await client.close();
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    caCert,
    clientCert,
    clientKey,
    close: () => stopGroup(pid, 5_000),
  };
}

export type ProxyMode = 'pass' | 'tamper-blob' | 'tamper-manifest' | 'chunked-blob';

export interface TokenProxy {
  host: string;
  /** Every token request: the scopes asked for and whether the credentials were right. */
  tokenRequests: { scopes: string[]; service: string | null; granted: boolean }[];
  /** Registry requests that reached the upstream registry with a valid token. */
  forwarded: number;
  /** Tag list pages served (the proxy pages `?n=` itself: docker-registry 2.8 ignores it). */
  tagPages: number;
  /** The last blob streamed in `chunked-blob` mode: bytes sent, and whether the response completed. */
  lastChunked?: { sent: number; finished: boolean };
  mode: ProxyMode;
  /** Forgets every token issued, as a registry does when they expire or are revoked. */
  revokeAll(): void;
  close(): Promise<void>;
}

/** `repository:<name>:<actions>` grants `action` on `repo`. */
function grants(scopes: string[], repo: string, action: string): boolean {
  return scopes.some((s) => {
    const i = s.lastIndexOf(':');
    return (
      s.slice(0, i) === `repository:${repo}` &&
      s
        .slice(i + 1)
        .split(',')
        .includes(action)
    );
  });
}

/**
 * A registry front with distribution's token auth: requests without a valid Bearer token get a 401
 * challenge pointing at its `/token` service, which checks basic credentials and issues tokens for
 * the scopes asked. Authorized requests are forwarded to `upstream` (an anonymous registry).
 */
export async function startTokenProxy(
  upstream: string,
  user: { username: string; password: string },
): Promise<TokenProxy> {
  const upstreamUrl = new URL(upstream);
  const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
  const issued = new Map<string, string[]>();
  let counter = 0;
  const state: TokenProxy = {
    host: '',
    tokenRequests: [],
    forwarded: 0,
    tagPages: 0,
    mode: 'pass',
    revokeAll: () => issued.clear(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const issueToken = (url: URL, req: IncomingMessage, res: ServerResponse) => {
    const scopes = url.searchParams.getAll('scope');
    const granted = req.headers.authorization === expected;
    state.tokenRequests.push({ scopes, service: url.searchParams.get('service'), granted });
    if (!granted) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"invalid username or password"}]}');
      return;
    }
    const token = `tok-${++counter}-${randomBytes(8).toString('hex')}`;
    issued.set(token, scopes);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, expires_in: 300 }));
  };

  /** Answers 401 with a Bearer challenge unless the request carries a token granting what it does. */
  const challenged = (req: IncomingMessage, url: URL, res: ServerResponse): boolean => {
    const repo = /^\/v2\/(.+?)\/(?:tags|manifests|blobs)\//.exec(url.pathname)?.[1];
    const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const scopes = token ? issued.get(token) : undefined;
    if (scopes && (!repo || grants(scopes, repo, action))) return false;
    const scope = repo ? `,scope="repository:${repo}:${action === 'push' ? 'pull,push' : 'pull'}"` : '';
    res.writeHead(401, {
      'content-type': 'application/json',
      'www-authenticate': `Bearer realm="http://${state.host}/token",service="tide-proxy"${scope}`,
    });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    return true;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${state.host}`);
    if (url.pathname === '/token') return issueToken(url, req, res);
    if (challenged(req, url, res)) return;
    state.forwarded++;
    if (req.method === 'GET' && url.pathname.endsWith('/tags/list') && url.searchParams.has('n')) {
      state.tagPages++;
      void pageTags(upstream, url, res);
      return;
    }
    const headers: IncomingHttpHeaders = { ...req.headers, host: state.host };
    delete headers.authorization;
    const up = httpRequest(
      { host: upstreamUrl.hostname, port: upstreamUrl.port, method: req.method, path: req.url, headers },
      (ur) => forward(ur, res, req.method === 'GET' ? url.pathname : '', state),
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** Serves one page of a tag list as the distribution spec pages it: `n` tags after `last`, Link to the next. */
async function pageTags(upstream: string, url: URL, res: ServerResponse): Promise<void> {
  const all = await fetch(new URL(url.pathname, upstream));
  if (!all.ok) {
    res.writeHead(all.status, { 'content-type': 'application/json' });
    res.end(await all.text());
    return;
  }
  const { name, tags } = (await all.json()) as { name: string; tags: string[] };
  const n = Number(url.searchParams.get('n'));
  const last = url.searchParams.get('last');
  const rest = tags.sort().filter((t) => last === null || t > last);
  const page = rest.slice(0, n);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (rest.length > n) headers.link = `<${url.pathname}?n=${n}&last=${page.at(-1)}>; rel="next"`;
  res.writeHead(200, headers);
  res.end(JSON.stringify({ name, tags: page }));
}

function forward(ur: IncomingMessage, res: ServerResponse, getPath: string, state: TokenProxy): void {
  const mode = state.mode;
  const headers = { ...ur.headers };
  const isBlob = getPath.includes('/blobs/') && ur.statusCode === 200;
  const isManifest = getPath.includes('/manifests/') && ur.statusCode === 200;
  if ((mode === 'tamper-blob' && isBlob) || (mode === 'tamper-manifest' && isManifest)) {
    const chunks: Buffer[] = [];
    ur.on('data', (c: Buffer) => chunks.push(c));
    ur.on('end', () => {
      const body = Buffer.concat(chunks);
      // A blob keeps its length with one byte flipped; a manifest gains a trailing space.
      const out = isBlob ? Buffer.from(body) : Buffer.concat([body, Buffer.from(' ')]);
      if (isBlob) out[0] = (out[0] ?? 0) ^ 0xff;
      headers['content-length'] = String(out.length);
      res.writeHead(ur.statusCode ?? 502, headers);
      res.end(out);
    });
    return;
  }
  if (mode === 'chunked-blob' && isBlob) {
    delete headers['content-length'];
    let sent = 0;
    ur.on('data', (c: Buffer) => {
      sent += c.length;
    });
    res.on('close', () => {
      state.lastChunked = { sent, finished: res.writableFinished };
    });
  }
  res.writeHead(ur.statusCode ?? 502, headers);
  ur.pipe(res);
}
