// A client of one OCI distribution registry (the /v2/ HTTP API): tags, manifests, blobs, pushes.
// Authentication follows the registry's 401 challenges: a Bearer challenge sends the client to the
// token service (with basic credentials when it has any), a Basic challenge makes it send them to
// the registry. Tokens are cached per scope until shortly before they expire. Everything read is
// checked against its digest. Credentials and tokens never appear in errors.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { type HttpRequest, type HttpResponse, httpClient, isHttpError, type ProxyConfig } from '../http.ts';
import { type Challenge, type Credentials, parseWwwAuthenticate } from './auth.ts';
import {
  isOciError,
  OciAuthError,
  OciDigestMismatchError,
  OciError,
  OciNotFoundError,
  OciRegistryError,
  OciSizeLimitError,
} from './errors.ts';
import {
  decodeManifest,
  type ImageIndex,
  type ImageManifest,
  MANIFEST_MEDIA_TYPES,
  MAX_MANIFEST_BYTES,
} from './manifest.ts';
import {
  checkManifestReference,
  checkRepository,
  computeDigest,
  parseDigest,
  registryApiHost,
} from './reference.ts';

export interface RegistryClientOptions {
  /** `host[:port]` as in references (`docker.io` is served from registry-1.docker.io). */
  registry: string;
  /** Basic credentials (from a pull secret); anonymous when absent. */
  credentials?: Credentials;
  /** Plain HTTP instead of HTTPS. */
  insecure?: boolean;
  /** PEM CA certificate(s) trusted for HTTPS, in addition to the system ones. */
  caCert?: Buffer | string;
  /** PEM client certificate and key, for registries that want mutual TLS. */
  clientCert?: Buffer | string;
  clientKey?: Buffer | string;
  /** HTTP(S) proxy to reach the registry (and its token service) through. */
  proxy?: ProxyConfig;
  /** Time limit of each operation (all its requests, bodies included); default 60 s. */
  timeoutMs?: number;
  userAgent?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
}

export interface FetchedManifest extends ManifestInfo {
  manifest: ImageManifest | ImageIndex;
  /** The bytes the digest was computed over. */
  bytes: Buffer;
}

export interface FetchBlobOptions extends RequestOptions {
  /** Refuse blobs larger than this (checked on Content-Length and while streaming). */
  maxBytes?: number;
  /** The size the manifest's descriptor announces; a blob of another size is refused. */
  size?: number;
}

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface RegistryClient {
  readonly registry: string;
  /** All tags of the repository, following `Link: <…>; rel="next"` pages of `pageSize` tags. */
  listTags(repository: string, opts?: RequestOptions & { pageSize?: number }): Promise<string[]>;
  /** Digest, media type and size of a manifest by tag or digest, without downloading it when the registry tells. */
  headManifest(repository: string, reference: string, opts?: RequestOptions): Promise<ManifestInfo>;
  /** A manifest or index by tag or digest, its digest verified. */
  getManifest(repository: string, reference: string, opts?: RequestOptions): Promise<FetchedManifest>;
  /** Streams a blob to `destination` (via a temporary file), verifying its digest and size. */
  fetchBlob(
    repository: string,
    digest: string,
    destination: string,
    opts?: FetchBlobOptions,
  ): Promise<BlobInfo & { path: string }>;
  /** Uploads a blob (monolithic), skipped when the registry already has it. */
  pushBlob(repository: string, data: Uint8Array, opts?: RequestOptions): Promise<BlobInfo>;
  /** Uploads a manifest under a tag or its digest. */
  pushManifest(
    repository: string,
    reference: string,
    manifest: ImageManifest | ImageIndex | Uint8Array,
    opts?: RequestOptions & { mediaType?: string },
  ): Promise<ManifestInfo>;
  /** Releases the client; connections are pooled per TLS/proxy configuration and outlive it. */
  close(): Promise<void>;
}

interface Token {
  token: string;
  expiresAt: number;
}

type AuthMode =
  | { kind: 'anonymous' }
  | { kind: 'basic' }
  | { kind: 'bearer'; realm: string; service?: string };

interface Send {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  url: URL;
  /** Token scope the request needs: `repository:<name>:pull` or `:pull,push`. */
  scope: string;
  repository: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_TOKEN_TTL_S = 60;
const MAX_ERROR_BODY = 64 * 1024;
const MAX_TAG_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_PAGES = 10_000;

const isDigest = (reference: string) => reference.includes(':');
const ok = (res: HttpResponse) => res.status >= 200 && res.status < 300;

/** The options among `keys` that are set (exactOptionalPropertyTypes-friendly spreading). */
function pick<T extends object, K extends keyof T>(o: T, ...keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/** The `rel="next"` target of a Link header, resolved against the request URL. */
export function nextLink(header: string | null | undefined, base: URL): URL | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?next"?(?:\s*;|\s*$)/i.test(m[2] ?? '')) return new URL(m[1] ?? '', base);
  }
  return undefined;
}

/** Reads a whole body, refusing more than `limit` bytes. */
async function readLimited(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  try {
    return await res.bytes({ maxBytes: limit, what });
  } catch (e) {
    if (!isHttpError(e, 'TooLarge')) throw e;
    const declared = Number(res.header('content-length') ?? Number.NaN);
    throw new OciSizeLimitError(what, limit, declared > limit ? declared : undefined);
  }
}

/** Error codes and messages of a registry error body (`{"errors":[{"code","message"}]}`). */
async function registryErrors(res: HttpResponse): Promise<{ codes: string[]; text: string }> {
  let body: Buffer;
  try {
    body = await readLimited(res, MAX_ERROR_BODY, 'error body');
  } catch {
    return { codes: [], text: '' };
  }
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    const errs = Array.isArray(doc.errors) ? doc.errors : [];
    const codes = errs.map((e) => String(e.code ?? ''));
    const text = errs.map((e) => `${String(e.code ?? '')}: ${String(e.message ?? '')}`).join('; ');
    return { codes, text };
  } catch {
    return { codes: [], text: body.toString('utf8').slice(0, 200).trim() };
  }
}

function transportError(e: unknown, what: string, timeoutMs: number): OciError {
  if (isOciError(e)) return e;
  const err = e as Error & { kind?: string; code?: string; cause?: Error & { code?: string } };
  // Operations run under one deadline signal: its expiry comes out as an abort whose cause is a TimeoutError.
  const reason = isHttpError(e) && e.kind === 'Aborted' ? err.cause : err;
  if (reason?.name === 'TimeoutError' || (isHttpError(e) && e.kind === 'Timeout'))
    return new OciError('Network', `${what}: timed out after ${timeoutMs} ms`, { cause: e });
  if (reason?.name === 'AbortError' || (isHttpError(e) && e.kind === 'Aborted'))
    return new OciError('Network', `${what}: aborted`, { cause: e });
  const cause = isHttpError(e) ? (err.cause as Error & { code?: string }) : err.cause;
  const code = err.code ?? cause?.code;
  const message = cause?.message ?? err.message;
  const detail = `${message}${code && !message.includes(code) ? ` (${code})` : ''}`;
  const tls = /certificate|ssl|tls|wrong version number|EPROTO/i.test(`${detail} ${code ?? ''}`);
  const hint = tls ? '; for a private CA set its certificate, for a plain HTTP registry set insecure' : '';
  return new OciError('Network', `${what}: ${detail}${hint}`, { cause: e });
}

/**
 * The union of token scopes (`repository:<name>:<actions>`, space-separated): what the request needs
 * and what the challenge asks, so that the cached token covers both.
 */
export function mergeScopes(...scopes: (string | undefined)[]): string {
  const actions = new Map<string, Set<string>>();
  for (const s of scopes.flatMap((x) => (x ?? '').split(' ')).filter(Boolean)) {
    const i = s.lastIndexOf(':');
    const resource = i > 0 ? s.slice(0, i) : s;
    const set = actions.get(resource) ?? new Set<string>();
    if (i > 0) for (const a of s.slice(i + 1).split(',')) if (a) set.add(a);
    actions.set(resource, set);
  }
  return [...actions].map(([r, set]) => (set.size ? `${r}:${[...set].join(',')}` : r)).join(' ');
}

/** The token service URL of a Bearer challenge, with its service and scopes. */
function tokenUrl(registry: string, m: { realm: string; service?: string }, scope: string): URL {
  let url: URL;
  try {
    url = new URL(m.realm);
  } catch {
    throw new OciRegistryError(`registry ${registry} sent an invalid token realm`, 401);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OciRegistryError(`registry ${registry} sent a token realm that is not HTTP(S)`, 401);
  }
  if (m.service) url.searchParams.set('service', m.service);
  for (const s of scope.split(' ')) if (s) url.searchParams.append('scope', s);
  return url;
}

/** `{"token"|"access_token", "expires_in"}` of a token service (distribution's token spec). */
function parseTokenResponse(body: Buffer, what: string, status: number): { token: string; ttl: number } {
  let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new OciRegistryError(`${what}: the token response is not JSON`, status);
  }
  const token = typeof doc.token === 'string' && doc.token ? doc.token : doc.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new OciRegistryError(`${what}: the token response holds no token`, status);
  }
  const ttl = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_TTL_S;
  return { token, ttl };
}

/** Checks manifest bytes against the digest asked for and the one the registry announces; returns the digest. */
function verifyManifest(bytes: Buffer, reference: string, header: string | undefined, what: string): string {
  const asked = isDigest(reference) ? reference : null;
  for (const expected of [asked, header]) {
    if (!expected) continue;
    const actual = computeDigest(bytes, parseDigest(expected).algorithm);
    if (actual !== expected) throw new OciDigestMismatchError(what, expected, actual);
  }
  return asked ?? header ?? computeDigest(bytes);
}

interface BlobCheck {
  what: string;
  digest: string;
  maxBytes?: number;
  size?: number;
}

function sizeError(check: BlobCheck, size: number, final: boolean): OciError | undefined {
  if (check.maxBytes !== undefined && size > check.maxBytes)
    return new OciSizeLimitError(check.what, check.maxBytes, final ? size : undefined);
  if (check.size !== undefined && (final ? size !== check.size : size > check.size)) {
    return new OciError('InvalidManifest', `${check.what}: ${size} bytes, its descriptor says ${check.size}`);
  }
  return undefined;
}

/** Streams a blob body into `tmp`, enforcing size limits while reading; returns its digest and size. */
async function streamBlob(res: HttpResponse, tmp: string, check: BlobCheck): Promise<BlobInfo> {
  const { algorithm } = parseDigest(check.digest);
  const hash = createHash(algorithm);
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      const err = sizeError(check, size, false);
      if (err) return cb(err);
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await res.pipe(meter, createWriteStream(tmp));
  return { digest: `${algorithm}:${hash.digest('hex')}`, size };
}

export function createRegistryClient(opts: RegistryClientOptions): RegistryClient {
  const registry = opts.registry;
  const base = `${opts.insecure ? 'http' : 'https'}://${registryApiHost(registry)}`;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const userAgent = opts.userAgent ?? 'tide-oci';
  const credentials = opts.credentials;
  // The CA extends the system roots (as Flux's WithSystemCertPool), it does not replace them.
  const http = httpClient({
    tls: {
      ...(opts.caCert ? { ca: opts.caCert } : {}),
      ...(opts.clientCert && opts.clientKey ? { cert: opts.clientCert, key: opts.clientKey } : {}),
    },
    ...(opts.proxy ? { proxy: opts.proxy } : {}),
  });
  let mode: AuthMode = { kind: 'anonymous' };
  const tokens = new Map<string, Token>();

  const operationSignal = (o?: RequestOptions): AbortSignal => {
    const t = AbortSignal.timeout(timeoutMs);
    return o?.signal ? AbortSignal.any([t, o.signal]) : t;
  };
  const tokenKey = (m: { realm: string; service?: string }, scope: string) =>
    `${m.realm} ${m.service ?? ''} ${scope}`;
  const where = (repository: string) => `${registry}/${repository}`;

  async function request(req: HttpRequest, what: string): Promise<HttpResponse> {
    try {
      return await http.request(req);
    } catch (e) {
      throw transportError(e, what, timeoutMs);
    }
  }

  async function fetchToken(
    m: { realm: string; service?: string },
    scope: string,
    wanted: string | undefined,
    repository: string,
    signal: AbortSignal,
  ): Promise<string> {
    const url = tokenUrl(registry, m, mergeScopes(scope, wanted));
    const what = `token for ${where(repository)} from ${url.host}`;
    const auth: Record<string, string> = credentials ? { authorization: basicHeader(credentials) } : {};
    const res = await request({ url, headers: { 'user-agent': userAgent, ...auth }, signal }, what);
    if (res.status === 401 || res.status === 403) {
      await res.discard();
      throw new OciAuthError(
        res.status,
        credentials
          ? `${what}: the token service refused the credentials (HTTP ${res.status})`
          : `${what}: anonymous access refused (HTTP ${res.status}); credentials are needed`,
      );
    }
    if (!ok(res)) throw await unexpected(res, what);
    const { token, ttl } = parseTokenResponse(await readLimited(res, MAX_ERROR_BODY, what), what, res.status);
    // Renew a little early so that a token does not expire between cache lookup and use.
    tokens.set(tokenKey(m, scope), {
      token,
      expiresAt: Date.now() + ttl * 1000 - Math.min(10_000, ttl * 500),
    });
    return token;
  }

  async function authorization(req: Send): Promise<string | undefined> {
    if (mode.kind === 'basic') return credentials ? basicHeader(credentials) : undefined;
    if (mode.kind !== 'bearer') return undefined;
    const cached = tokens.get(tokenKey(mode, req.scope));
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    return `Bearer ${await fetchToken(mode, req.scope, undefined, req.repository, req.signal)}`;
  }

  function refused(status: number, req: Send, detail: string): OciAuthError {
    const what = `${req.method} ${where(req.repository)}`;
    if (status === 403)
      return new OciAuthError(403, `${what}: access denied (HTTP 403)${detail ? `: ${detail}` : ''}`);
    return new OciAuthError(
      401,
      credentials
        ? `${what}: the registry refused the credentials (HTTP 401)`
        : `${what}: anonymous access refused (HTTP 401); credentials are needed`,
    );
  }

  /** Learns the registry's auth scheme from a 401; returns false when retrying cannot help. */
  async function answerChallenge(
    challenges: Challenge[],
    req: Send,
    sent: string | undefined,
  ): Promise<boolean> {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      const m = { kind: 'bearer' as const, realm: bearer.params.realm!, service: bearer.params.service };
      mode = m;
      // A fresh token even when one was cached: the registry refused it (revoked, or expired early).
      await fetchToken(m, req.scope, bearer.params.scope, req.repository, req.signal);
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic') && credentials && !sent?.startsWith('Basic ')) {
      mode = { kind: 'basic' };
      return true;
    }
    return false;
  }

  async function send(req: Send): Promise<HttpResponse> {
    const what = `${req.method} ${req.url.pathname} on ${registry}`;
    for (let attempt = 0; ; attempt++) {
      const auth = await authorization(req);
      const headers: Record<string, string> = { 'user-agent': userAgent, ...req.headers };
      if (auth) headers.authorization = auth;
      const res = await request(
        {
          method: req.method,
          url: req.url,
          headers,
          body: req.body ?? null,
          signal: req.signal,
          maxRedirects: 10,
        },
        what,
      );
      if (res.status === 403) throw refused(403, req, (await registryErrors(res)).text);
      if (res.status !== 401) return res;
      const challenges = parseWwwAuthenticate(res.header('www-authenticate') ?? '');
      await res.discard();
      if (attempt > 0 || !(await answerChallenge(challenges, req, auth))) throw refused(401, req, '');
    }
  }

  async function unexpected(res: HttpResponse, what: string): Promise<OciRegistryError> {
    const { codes, text } = await registryErrors(res);
    return new OciRegistryError(`${what}: HTTP ${res.status}${text ? `: ${text}` : ''}`, res.status, codes);
  }

  function notFound(codes: string[], repository: string, reference: string): OciNotFoundError {
    if (codes.includes('NAME_UNKNOWN')) {
      return new OciNotFoundError('repository', `repository ${where(repository)} not found`);
    }
    return isDigest(reference)
      ? new OciNotFoundError('manifest', `manifest ${reference} not found in ${where(repository)}`)
      : new OciNotFoundError('tag', `tag "${reference}" not found in ${where(repository)}`);
  }

  const pull = (repository: string) => `repository:${repository}:pull`;
  const push = (repository: string) => `repository:${repository}:pull,push`;
  const manifestUrl = (repository: string, reference: string) =>
    new URL(`${base}/v2/${repository}/manifests/${reference}`);

  async function listTags(
    repository: string,
    o: RequestOptions & { pageSize?: number } = {},
  ): Promise<string[]> {
    checkRepository(repository);
    const signal = operationSignal(o);
    let url: URL | undefined = new URL(`${base}/v2/${repository}/tags/list`);
    if (o.pageSize !== undefined) url.searchParams.set('n', String(o.pageSize));
    const tags: string[] = [];
    const seen = new Set<string>();
    while (url) {
      if (seen.has(url.href) || seen.size >= MAX_PAGES) {
        throw new OciRegistryError(
          `listing tags of ${where(repository)}: the registry's pages do not end`,
          200,
        );
      }
      seen.add(url.href);
      const res = await send({
        method: 'GET',
        url,
        scope: pull(repository),
        repository,
        headers: { accept: 'application/json' },
        signal,
      });
      if (res.status === 404) {
        await res.discard();
        throw new OciNotFoundError('repository', `repository ${where(repository)} not found`);
      }
      if (!ok(res)) throw await unexpected(res, `listing tags of ${where(repository)}`);
      const body = await readLimited(res, MAX_TAG_PAGE_BYTES, `tag list of ${where(repository)}`);
      let page: { tags?: unknown };
      try {
        page = JSON.parse(body.toString('utf8'));
      } catch {
        throw new OciRegistryError(
          `listing tags of ${where(repository)}: the response is not JSON`,
          res.status,
        );
      }
      if (Array.isArray(page.tags)) tags.push(...page.tags.filter((t): t is string => typeof t === 'string'));
      url = nextLink(res.header('link'), url);
    }
    return tags;
  }

  async function getManifest(
    repository: string,
    reference: string,
    o?: RequestOptions,
  ): Promise<FetchedManifest> {
    checkRepository(repository);
    checkManifestReference(reference);
    const what = `manifest ${where(repository)}${isDigest(reference) ? '@' : ':'}${reference}`;
    const res = await send({
      method: 'GET',
      url: manifestUrl(repository, reference),
      scope: pull(repository),
      repository,
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
      signal: operationSignal(o),
    });
    if (res.status === 404) throw notFound((await registryErrors(res)).codes, repository, reference);
    if (!ok(res)) throw await unexpected(res, `fetching ${what}`);
    const bytes = await readLimited(res, MAX_MANIFEST_BYTES, what);
    const digest = verifyManifest(bytes, reference, res.header('docker-content-digest'), what);
    const contentType = (res.header('content-type') ?? '').split(';')[0]!.trim();
    const { mediaType, manifest } = decodeManifest(bytes, contentType, what);
    return { digest, mediaType, size: bytes.length, manifest, bytes };
  }

  async function headManifest(
    repository: string,
    reference: string,
    o?: RequestOptions,
  ): Promise<ManifestInfo> {
    checkRepository(repository);
    checkManifestReference(reference);
    const res = await send({
      method: 'HEAD',
      url: manifestUrl(repository, reference),
      scope: pull(repository),
      repository,
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
      signal: operationSignal(o),
    });
    await res.discard();
    if (res.status === 404) throw notFound([], repository, reference);
    const digest = res.header('docker-content-digest');
    // Some registries answer HEAD without a digest (or not at all): then read the manifest.
    if (!ok(res) || !digest) {
      const m = await getManifest(repository, reference, o);
      return { digest: m.digest, mediaType: m.mediaType, size: m.size };
    }
    parseDigest(digest);
    if (isDigest(reference) && digest !== reference) {
      throw new OciDigestMismatchError(`manifest ${where(repository)}@${reference}`, reference, digest);
    }
    return {
      digest,
      mediaType: (res.header('content-type') ?? '').split(';')[0]!.trim(),
      size: Number(res.header('content-length') ?? 0),
    };
  }

  async function fetchBlob(
    repository: string,
    digest: string,
    destination: string,
    o: FetchBlobOptions = {},
  ): Promise<BlobInfo & { path: string }> {
    checkRepository(repository);
    parseDigest(digest);
    const what = `blob ${where(repository)}@${digest}`;
    const signal = operationSignal(o);
    const res = await send({
      method: 'GET',
      url: new URL(`${base}/v2/${repository}/blobs/${digest}`),
      scope: pull(repository),
      repository,
      signal,
    });
    if (res.status === 404) {
      await res.discard();
      throw new OciNotFoundError('blob', `${what} not found`);
    }
    if (!ok(res)) throw await unexpected(res, `fetching ${what}`);
    const check: BlobCheck = { what, digest, ...pick(o, 'maxBytes', 'size') };
    const declared = Number(res.header('content-length') ?? Number.NaN);
    const early = Number.isNaN(declared) ? undefined : sizeError(check, declared, true);
    if (early) {
      await res.discard();
      throw early;
    }
    const tmp = `${destination}.${randomBytes(6).toString('hex')}.partial`;
    let size: number;
    try {
      const got = await streamBlob(res, tmp, check);
      if (got.digest !== digest) throw new OciDigestMismatchError(what, digest, got.digest);
      const err = sizeError(check, got.size, true);
      if (err) throw err;
      size = got.size;
      await rename(tmp, destination);
    } catch (e) {
      await rm(tmp, { force: true });
      throw transportError(e, `fetching ${what}`, timeoutMs);
    }
    return { path: destination, digest, size };
  }

  async function pushBlob(repository: string, data: Uint8Array, o?: RequestOptions): Promise<BlobInfo> {
    checkRepository(repository);
    const signal = operationSignal(o);
    const digest = computeDigest(data);
    const what = `pushing blob ${digest} to ${where(repository)}`;
    const common = { scope: push(repository), repository, signal };
    const head = await send({
      ...common,
      method: 'HEAD',
      url: new URL(`${base}/v2/${repository}/blobs/${digest}`),
    });
    await head.discard();
    if (ok(head)) return { digest, size: data.length };
    const start = await send({
      ...common,
      method: 'POST',
      url: new URL(`${base}/v2/${repository}/blobs/uploads/`),
    });
    if (start.status !== 202) throw await unexpected(start, what);
    await start.discard();
    const location = start.header('location');
    if (!location) throw new OciRegistryError(`${what}: the registry gave no upload location`, start.status);
    const url = new URL(location, base);
    url.searchParams.set('digest', digest);
    const put = await send({
      ...common,
      method: 'PUT',
      url,
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
    });
    if (put.status !== 201) throw await unexpected(put, what);
    await put.discard();
    const stored = put.header('docker-content-digest');
    if (stored && stored !== digest) throw new OciDigestMismatchError(what, digest, stored);
    return { digest, size: data.length };
  }

  async function pushManifest(
    repository: string,
    reference: string,
    manifest: ImageManifest | ImageIndex | Uint8Array,
    o: RequestOptions & { mediaType?: string } = {},
  ): Promise<ManifestInfo> {
    checkRepository(repository);
    checkManifestReference(reference);
    const bytes =
      manifest instanceof Uint8Array ? Buffer.from(manifest) : Buffer.from(JSON.stringify(manifest));
    const what = `pushing manifest ${where(repository)}${isDigest(reference) ? '@' : ':'}${reference}`;
    const decoded = decodeManifest(bytes, o.mediaType ?? '', what);
    const digest = computeDigest(bytes);
    if (isDigest(reference) && reference !== digest)
      throw new OciDigestMismatchError(what, reference, digest);
    const res = await send({
      method: 'PUT',
      url: manifestUrl(repository, reference),
      scope: push(repository),
      repository,
      headers: { 'content-type': decoded.mediaType },
      body: bytes,
      signal: operationSignal(o),
    });
    if (res.status !== 201) throw await unexpected(res, what);
    await res.discard();
    const stored = res.header('docker-content-digest');
    if (stored && stored !== digest) throw new OciDigestMismatchError(what, digest, stored);
    return { digest, mediaType: decoded.mediaType, size: bytes.length };
  }

  return {
    registry,
    listTags,
    headManifest,
    getManifest,
    fetchBlob,
    pushBlob,
    pushManifest,
    close: async () => {},
  };
}
