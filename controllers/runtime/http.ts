// The one HTTP client of every controller (Kubernetes API, artifacts, OCI registries, Helm repositories,
// events), on undici's dispatcher API. A client is made once per TLS/proxy configuration and shared
// (`httpClient`): one keep-alive pool, one TLS context, TLS sessions resumed. Requests take a deadline
// (`timeoutMs`) or a cheaper inactivity limit (`idleTimeoutMs`), an abort signal and optional redirects;
// bodies stream, or are read whole under a size cap. Errors are HttpErrors whose messages name the URL
// without credentials; the proxy's credentials never appear anywhere.
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent, type Dispatcher, ProxyAgent } from 'undici';

type Pem = string | Buffer;

export interface TlsConfig {
  /** PEM CA certificate(s) to trust. */
  ca?: Pem | readonly Pem[];
  /** Trust the system roots besides `ca` (default true; Kubernetes trusts the kubeconfig CA alone). */
  systemRoots?: boolean;
  /** PEM client certificate and key, for mutual TLS. */
  cert?: Pem;
  key?: Pem;
  /** Accept any server certificate. */
  insecureSkipVerify?: boolean;
  /** Name the server certificate must carry, when it is not the URL's host. */
  servername?: string;
}

export interface ProxyConfig {
  /** http://, https:// or socks5:// address of the proxy, without credentials. */
  address: string;
  username?: string;
  password?: string;
}

export interface HttpClientOptions {
  tls?: TlsConfig;
  proxy?: ProxyConfig;
  /** Default deadline of a request, body included; none when unset. */
  timeoutMs?: number;
  /** Sent when the request sets no user-agent. */
  userAgent?: string;
}

export type Headers = Record<string, string | string[] | undefined>;

export interface HttpRequest {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string | URL;
  headers?: Headers;
  body?: string | Uint8Array | null;
  signal?: AbortSignal;
  /** Deadline from the request until its body is consumed; overrides the client's (0: none). */
  timeoutMs?: number;
  /** Abort when no byte arrives for this long, waiting for headers or body (0: never). */
  idleTimeoutMs?: number;
  /** Redirects to follow; 3xx answers are returned as they are by default. */
  maxRedirects?: number;
  /**
   * The Authorization header of each hop, for credentials scoped to hosts (Helm's passCredentials);
   * by default a redirect to another origin drops Authorization and Cookie, as browsers and Go do.
   */
  authorizationFor?: (url: URL) => string | undefined;
}

export interface ReadOptions {
  /** Refuse bodies larger than this (Content-Length first, then what arrives). */
  maxBytes?: number;
  /** What is read, for the size error: e.g. "repository index". */
  what?: string;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  /** Where the answer came from (after redirects). */
  url: URL;
  body: Readable;
  /** A header's first value. */
  header(name: string): string | undefined;
  bytes(opts?: ReadOptions): Promise<Buffer>;
  text(opts?: ReadOptions): Promise<string>;
  json<T = unknown>(opts?: ReadOptions): Promise<T>;
  /** Streams the body through `streams` (e.g. a meter, then a file); errors come out as HttpErrors. */
  pipe(...streams: (NodeJS.ReadWriteStream | Writable)[]): Promise<void>;
  /** Drops the rest of the body, keeping the connection reusable when little is left. */
  discard(): Promise<void>;
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
  /** Closes the pool (in-flight requests finish); only for clients made with createHttpClient. */
  close(): Promise<void>;
}

export const HttpErrorKinds = {
  Timeout: 'Timeout',
  Aborted: 'Aborted',
  /** Connection refused, reset or closed, DNS failure. */
  Network: 'Network',
  /** The server's certificate was refused, or the handshake failed. */
  Tls: 'Tls',
  /** The proxy refused the connection or the credentials. */
  Proxy: 'Proxy',
  TooLarge: 'TooLarge',
  TooManyRedirects: 'TooManyRedirects',
} as const;
export type HttpErrorKind = (typeof HttpErrorKinds)[keyof typeof HttpErrorKinds];

export class HttpError extends Error {
  override name = 'HttpError';
  readonly kind: HttpErrorKind;
  /** The system or TLS error code underneath, e.g. ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT. */
  readonly code: string | undefined;
  /** The URL, without credentials. */
  readonly url: string;
  constructor(
    kind: HttpErrorKind,
    message: string,
    url: string,
    opts: { code?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.code = opts.code;
    this.url = url;
  }
  /** Works across module copies, where instanceof does not. */
  get isHttpError(): true {
    return true;
  }
}

export const isHttpError = (e: unknown, kind?: HttpErrorKind): e is HttpError =>
  (e as HttpError | undefined)?.isHttpError === true &&
  (kind === undefined || (e as HttpError).kind === kind);

/** The URL without userinfo, for messages. */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '<invalid URL>';
  }
}

const seconds = (ms: number) => `${ms / 1000}s`;
const tlsCode = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|ALTNAME|EPROTO/;

/** An error of undici, Node or an abort, as an HttpError naming the request. */
function toHttpError(err: unknown, req: { method: string; url: URL }, ctx: Deadline): HttpError {
  if (isHttpError(err)) return err;
  const url = redactUrl(req.url);
  const what = `${req.method} ${url}`;
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  if (ctx.deadline?.aborted && !ctx.caller?.aborted) {
    return new HttpError('Timeout', `${what}: timed out after ${seconds(ctx.timeoutMs)}`, url, {
      cause: err,
    });
  }
  if (ctx.caller?.aborted) return new HttpError('Aborted', `${what}: aborted`, url, { cause: err });
  const code = e?.code && !e.code.startsWith('UND_ERR') ? e.code : (e?.cause?.code ?? e?.code);
  if (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    const after = ctx.idleTimeoutMs ? ` after ${seconds(ctx.idleTimeoutMs)} without data` : '';
    return new HttpError('Timeout', `${what}: timed out${after}`, url, { code, cause: err });
  }
  const message = e?.message ?? String(err);
  if (/proxy/i.test(message) || e?.name === 'SecureProxyConnectionError') {
    return new HttpError('Proxy', `${what}: ${message}`, url, { code, cause: err });
  }
  const kind = code && tlsCode.test(code) ? 'Tls' : 'Network';
  const detail = code && !message.includes(code) ? `${message} (${code})` : message;
  return new HttpError(kind, `${what}: ${detail}`, url, { code, cause: err });
}

interface Deadline {
  caller: AbortSignal | undefined;
  deadline: AbortSignal | undefined;
  timeoutMs: number;
  idleTimeoutMs: number;
}

function tooLarge(url: URL, what: string, max: number): HttpError {
  const u = redactUrl(url);
  return new HttpError('TooLarge', `${what} at ${u} exceeds the size limit of ${max} bytes`, u);
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

function response(data: Dispatcher.ResponseData, url: URL, method: string, ctx: Deadline): HttpResponse {
  const body = data.body as unknown as Readable;
  const mapped = (err: unknown) => toHttpError(err, { method, url }, ctx);
  const bytes = async (opts: ReadOptions = {}): Promise<Buffer> => {
    const max = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const what = opts.what ?? 'response';
    if (Number(first(data.headers['content-length'])) > max) {
      body.on('error', () => {}).destroy();
      throw tooLarge(url, what, max);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        // Leaving the loop destroys the body.
        if (size > max) throw tooLarge(url, what, max);
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      throw mapped(err);
    }
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  };
  return {
    status: data.statusCode,
    statusText: data.statusText || STATUS_CODES[data.statusCode] || '',
    headers: data.headers,
    url,
    body,
    header: (name) => first(data.headers[name.toLowerCase()]),
    bytes,
    text: async (opts) => (await bytes(opts)).toString('utf8'),
    json: async <T>(opts?: ReadOptions) => JSON.parse((await bytes(opts)).toString('utf8')) as T,
    async pipe(...streams) {
      try {
        await (pipeline as (...s: unknown[]) => Promise<void>)(body, ...streams);
      } catch (err) {
        // Errors of the caller's own streams (a size meter, a digest check) pass through.
        if (isHttpError(err) || !(ctx.caller?.aborted || ctx.deadline?.aborted || isTransportError(err)))
          throw err;
        throw mapped(err);
      }
    },
    async discard() {
      await data.body.dump({ limit: 64 * 1024 }).catch(() => {});
    },
  };
}

const socketCodes = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ABORT_ERR']);
const isTransportError = (err: unknown) => {
  const code = (err as { code?: string } | undefined)?.code ?? '';
  return code.startsWith('UND_ERR') || socketCodes.has(code);
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function secureContext(tls: TlsConfig): SecureContext | undefined {
  const own = tls.ca === undefined ? [] : Array.isArray(tls.ca) ? tls.ca : [tls.ca as Pem];
  const systemRoots = tls.systemRoots ?? true;
  if (own.length === 0 && !tls.cert && !tls.key) return undefined;
  const ca = own.length === 0 ? undefined : systemRoots ? [...rootCertificates, ...own.map(String)] : own;
  return createSecureContext({ ca, cert: tls.cert, key: tls.key });
}

function dispatcherFor(opts: HttpClientOptions): Dispatcher {
  const tls = opts.tls ?? {};
  const context = secureContext(tls);
  const connect = {
    ...(context ? { secureContext: context } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
    rejectUnauthorized: !tls.insecureSkipVerify,
  };
  // HTTP/1.1: undici's HTTP/2 costs about a third more CPU per request against the kube-apiserver, and
  // a watch then holds a connection of its own rather than a stream among the requests.
  const pool = { keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000, allowH2: false };
  if (!opts.proxy) return new Agent({ ...pool, connect });
  const proxy = new URL(opts.proxy.address);
  const { username = decodeURIComponent(proxy.username), password = decodeURIComponent(proxy.password) } =
    opts.proxy;
  proxy.username = '';
  proxy.password = '';
  const token = username ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : undefined;
  const socks = proxy.protocol.startsWith('socks');
  return new ProxyAgent({
    ...pool,
    uri: proxy.toString(),
    ...(token && !socks ? { token } : {}),
    ...(socks && username ? { username, password } : {}),
    requestTls: connect,
  } as ProxyAgent.Options);
}

/** One request's state across redirects. */
interface Hop {
  method: NonNullable<HttpRequest['method']>;
  url: URL;
  headers: Headers;
  body: HttpRequest['body'];
}

function deadlineOf(req: HttpRequest, defaultTimeout: number): Deadline & { signal?: AbortSignal } {
  const timeoutMs = req.timeoutMs ?? defaultTimeout;
  const deadline = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  const caller = req.signal;
  const signal = deadline && caller ? AbortSignal.any([deadline, caller]) : (deadline ?? caller);
  return { caller, deadline, signal, timeoutMs, idleTimeoutMs: req.idleTimeoutMs ?? 0 };
}

function setAuthorization(hop: Hop, req: HttpRequest): void {
  const auth = req.authorizationFor?.(hop.url);
  if (auth) hop.headers.authorization = auth;
  else delete hop.headers.authorization;
}

/** The next hop of a redirect: 303 (and 301/302 after a POST) continue as a GET, as Go and browsers do. */
function redirect(hop: Hop, status: number, location: string, req: HttpRequest): Hop {
  const next: Hop = { ...hop, url: new URL(location, hop.url), headers: { ...hop.headers } };
  if (status === 303 || ((status === 301 || status === 302) && hop.method === 'POST')) {
    next.method = 'GET';
    next.body = null;
    delete next.headers['content-type'];
    delete next.headers['content-length'];
  }
  if (req.authorizationFor) setAuthorization(next, req);
  else if (next.url.origin !== hop.url.origin) {
    delete next.headers.authorization;
    delete next.headers.cookie;
  }
  return next;
}

/** A client with its own pool; prefer httpClient, which shares one per configuration. */
export function createHttpClient(opts: HttpClientOptions = {}): HttpClient {
  const dispatcher = dispatcherFor(opts);
  const defaultTimeout = opts.timeoutMs ?? 0;

  async function once(hop: Hop, ctx: Deadline & { signal?: AbortSignal }): Promise<HttpResponse> {
    const { method, url } = hop;
    try {
      const data = await dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method,
        headers: hop.headers as Record<string, string | string[]>,
        body: hop.body ?? null,
        signal: ctx.signal,
        headersTimeout: ctx.idleTimeoutMs,
        bodyTimeout: ctx.idleTimeoutMs,
      });
      return response(data, url, method, ctx);
    } catch (err) {
      throw toHttpError(err, { method, url }, ctx);
    }
  }

  return {
    async request(req) {
      const ctx = deadlineOf(req, defaultTimeout);
      const url = typeof req.url === 'string' ? new URL(req.url) : req.url;
      const headers: Headers = { ...req.headers };
      if (opts.userAgent && !headers['user-agent']) headers['user-agent'] = opts.userAgent;
      let hop: Hop = { method: req.method ?? 'GET', url, headers, body: req.body };
      if (req.authorizationFor) setAuthorization(hop, req);
      const maxRedirects = req.maxRedirects ?? 0;
      for (let n = 0; ; n++) {
        const res = await once(hop, ctx);
        const location = res.header('location');
        if (!REDIRECTS.has(res.status) || !location || maxRedirects === 0) return res;
        await res.discard();
        if (n >= maxRedirects) {
          const u = redactUrl(url);
          throw new HttpError(
            'TooManyRedirects',
            `${hop.method} ${u}: more than ${maxRedirects} redirects`,
            u,
          );
        }
        hop = redirect(hop, res.status, location, req);
      }
    },
    close: () => dispatcher.close(),
  };
}

// Shared clients by configuration digest. Dropping one from the cache does not close it: whoever still
// holds it can finish, and its idle connections time out on their own.
const shared = new Map<string, HttpClient>();
const MAX_SHARED = 64;

function configKey(opts: HttpClientOptions): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify(opts, (_k, v) =>
      Buffer.isBuffer(v) || (v && v.type === 'Buffer' && Array.isArray(v.data))
        ? Buffer.from(v.data ?? v).toString('base64')
        : v,
    ),
  );
  return h.digest('hex');
}

/** The client for this configuration, created on first use and shared by every caller after. */
export function httpClient(opts: HttpClientOptions = {}): HttpClient {
  const key = configKey(opts);
  let client = shared.get(key);
  if (client) {
    shared.delete(key);
  } else {
    const own = createHttpClient(opts);
    client = { request: own.request, close: async () => {} };
  }
  shared.set(key, client);
  if (shared.size > MAX_SHARED) shared.delete(shared.keys().next().value as string);
  return client;
}
