// The one HTTP client of every controller (Kubernetes API and its watches, artifacts, OCI registries,
// Helm repositories, Git smart HTTP, events, notification providers), on node:http and node:https: the
// C++ parser Node carries anyway, where undici's WebAssembly one cost each process about 26 MiB. A
// client is made once per TLS/proxy configuration and shared (`httpClient`): one keep-alive pool whose
// idle sockets do not keep the process alive, one TLS context, TLS sessions resumed. HTTP/1.1 only.
// Proxies: HTTP(S) (absolute-form requests for http:// targets, a CONNECT tunnel for https:// ones) and
// SOCKS5, dialled by the pool (http-tunnel.ts). Requests take a deadline (`timeoutMs`) or a cheaper
// inactivity limit (`idleTimeoutMs`), an abort signal and optional redirects; bodies stream, or are
// read whole under a size cap. Errors are HttpErrors whose messages name the URL without credentials;
// the proxy's credentials never appear anywhere.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { ClientRequest, Agent as HttpAgent, IncomingMessage, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type ConnectionOptions,
  createSecureContext,
  rootCertificates,
  type SecureContext,
  connect as tlsConnect,
} from 'node:tls';
import {
  bareHost,
  connectTunnel,
  dialProxy,
  type ProxyEndpoint,
  socksTunnel,
  TunnelError,
} from './http-tunnel.ts';

// Not `import … from 'node:http'`: an ES import of it reads its lazy WebSocket exports, which load the
// undici bundled in Node (about 13 MiB per process).
const { Agent: NodeHttpAgent, request: httpRequest, STATUS_CODES } = process.getBuiltinModule('node:http');

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

/** Idle keep-alive sockets close after this long, or sooner when the server's Keep-Alive says so. */
const KEEP_ALIVE_MS = 30_000;
/** A new connection's TCP connect, proxy handshake and TLS handshake. */
const CONNECT_TIMEOUT_MS = 10_000;
/** discard() reads at most this much of a body to keep its connection; more closes it. */
const DISCARD_LIMIT = 64 * 1024;

/** One request's state across redirects. */
interface Hop {
  method: NonNullable<HttpRequest['method']>;
  url: URL;
  headers: Headers;
  body: HttpRequest['body'];
}

/** A socket or TLS error, or one of a proxy, as an HttpError naming the request. */
function toHttpError(err: unknown, hop: { method: string; url: URL }): HttpError {
  if (isHttpError(err)) return err;
  const url = redactUrl(hop.url);
  const what = `${hop.method} ${url}`;
  if (err instanceof TunnelError) {
    return new HttpError(err.kind, `${what}: ${err.message}`, url, { code: err.code, cause: err });
  }
  const e = err as (Error & { code?: string }) | undefined;
  const code = e?.code;
  // Node's word for a body cut short.
  const message =
    e?.message === 'aborted'
      ? 'the connection closed before the end of the body'
      : (e?.message ?? String(err));
  const kind = code && tlsCode.test(code) ? 'Tls' : 'Network';
  const detail = code && !message.includes(code) ? `${message} (${code})` : message;
  return new HttpError(kind, `${what}: ${detail}`, url, { code, cause: err });
}

function tooLarge(url: URL, what: string, max: number): HttpError {
  const u = redactUrl(url);
  return new HttpError('TooLarge', `${what} at ${u} exceeds the size limit of ${max} bytes`, u);
}

/**
 * One request() call: its deadline and the caller's signal span every hop and the body. Either ends
 * the live request or response with `failure`, which every later step also fails with. Without a
 * deadline or a signal (the common case) there is nothing to watch, and nothing is allocated for it.
 */
interface Exchange {
  hop: Hop;
  failure: HttpError | undefined;
  /** Whether a deadline or a signal can interrupt the request (then hops register `interrupt`). */
  watched: boolean;
  interrupt: ((err: HttpError) => void) | undefined;
  /** Stops the deadline and lets go of the caller's signal. */
  end(): void;
}

const nothing = () => {};

/** Ends the exchange once this response's body is done with. */
function endWith(ex: Exchange, res: IncomingMessage): void {
  if (!ex.watched) return;
  if (res.destroyed) ex.end();
  else res.once('close', ex.end);
}

function exchangeOf(first: Hop, signal: AbortSignal | undefined, timeoutMs: number): Exchange {
  const ex: Exchange = { hop: first, failure: undefined, watched: false, interrupt: undefined, end: nothing };
  if (!signal && !(timeoutMs > 0)) return ex;
  const fail = (make: (what: string, url: string) => HttpError) => {
    if (ex.failure) return;
    const url = redactUrl(ex.hop.url);
    ex.failure = make(`${ex.hop.method} ${url}`, url);
    ex.end();
    ex.interrupt?.(ex.failure);
  };
  const onAbort = () =>
    fail((what, url) => new HttpError('Aborted', `${what}: aborted`, url, { cause: signal?.reason }));
  const timer =
    timeoutMs > 0
      ? setTimeout(
          () =>
            fail(
              (what, url) => new HttpError('Timeout', `${what}: timed out after ${seconds(timeoutMs)}`, url),
            ),
          timeoutMs,
        ).unref()
      : undefined;
  ex.watched = true;
  ex.end = () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return ex;
}

type ResponseHeaders = Record<string, string | string[]>;

/** Response headers as undici gave them: lower-case names, repeated ones as arrays. */
function headersOf(raw: string[]): ResponseHeaders {
  const headers: ResponseHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name === '__proto__') continue;
    const prev = headers[name];
    headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return headers;
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** Reads and drops what is left of a body, up to DISCARD_LIMIT; a longer rest closes the connection. */
function discard(res: IncomingMessage, headers: ResponseHeaders): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  if (Number(first(headers['content-length'])) > DISCARD_LIMIT) {
    res.destroy();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    let size = 0;
    res.once('close', resolve);
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > DISCARD_LIMIT) res.destroy();
    });
  });
}

const socketCodes = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ABORT_ERR']);
const isTransportError = (err: unknown) =>
  socketCodes.has((err as { code?: string } | undefined)?.code ?? '');

/** The rest of a body, whole; fails past `max` bytes (destroying it) or when it is cut short. */
function readAll(res: IncomingMessage, max: number, tooBig: () => HttpError): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (res.errored) return reject(res.errored);
    if (res.readableEnded) return resolve(Buffer.alloc(0));
    if (res.destroyed) return reject(cutShort());
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      res.removeListener('data', onData);
      res.removeListener('end', onEnd);
      res.removeListener('error', onError);
      res.removeListener('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
      else {
        done();
        res.destroy();
        reject(tooBig());
      }
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => {
      done();
      reject(cutShort());
    };
    res.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

const cutShort = () =>
  Object.assign(new Error('the connection closed before the end of the body'), { code: 'ECONNRESET' });

function response(res: IncomingMessage, headers: ResponseHeaders, hop: Hop, ex: Exchange): HttpResponse {
  const { url } = hop;
  const status = res.statusCode ?? 0;
  const mapped = (err: unknown) => (isHttpError(err) ? err : (ex.failure ?? toHttpError(err, hop)));
  const bytes = async (opts: ReadOptions = {}): Promise<Buffer> => {
    const max = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const what = opts.what ?? 'response';
    if (Number(first(headers['content-length'])) > max) {
      res.destroy();
      throw tooLarge(url, what, max);
    }
    try {
      return await readAll(res, max, () => tooLarge(url, what, max));
    } catch (err) {
      throw mapped(err);
    }
  };
  return {
    status,
    statusText: res.statusMessage || STATUS_CODES[status] || '',
    headers,
    url,
    body: res,
    header: (name) => first(headers[name.toLowerCase()]),
    bytes,
    text: async (opts) => (await bytes(opts)).toString('utf8'),
    json: async <T>(opts?: ReadOptions) => JSON.parse((await bytes(opts)).toString('utf8')) as T,
    async pipe(...streams) {
      try {
        await (pipeline as (...s: unknown[]) => Promise<void>)(res, ...streams);
      } catch (err) {
        // Errors of the caller's own streams (a size meter, a digest check) pass through.
        if (isHttpError(err) || !(ex.failure || isTransportError(err))) throw err;
        throw mapped(err);
      }
    },
    discard: () => discard(res, headers),
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The TLS context of the targets: the system roots, `ca` added to them or instead, a client certificate. */
function secureContext(tls: TlsConfig): SecureContext {
  const own = tls.ca === undefined ? [] : Array.isArray(tls.ca) ? tls.ca : [tls.ca as Pem];
  const systemRoots = tls.systemRoots ?? true;
  const ca = own.length === 0 ? undefined : systemRoots ? [...rootCertificates, ...own.map(String)] : own;
  return createSecureContext({ ca, cert: tls.cert, key: tls.key });
}

/** How a request to a URL goes out: which agent, and the options of http.request. */
interface Route {
  agent: HttpAgent;
  secure: boolean;
  options: RequestOptions;
  /** Headers of the route, over the request's own (Host and Proxy-Authorization for a proxy). */
  headers?: Record<string, string>;
  /** An http:// request forwarded by an HTTP proxy: a 407 is the proxy's, not the target's. */
  forwarded: boolean;
}

interface Pool {
  route(url: URL): Route;
  close(): void;
}

const noTls = (): ConnectionOptions => ({});
const defaultPort = (url: URL) => Number(url.port) || (url.protocol === 'https:' ? 443 : 80);

function proxyOf(config: ProxyConfig): ProxyEndpoint {
  let url: URL;
  try {
    url = new URL(config.address);
  } catch {
    throw new TunnelError('Proxy', 'invalid proxy address');
  }
  const { username = decodeURIComponent(url.username), password = decodeURIComponent(url.password) } = config;
  const protocol = url.protocol === 'socks:' || url.protocol === 'socks5h:' ? 'socks5:' : url.protocol;
  if (protocol !== 'http:' && protocol !== 'https:' && protocol !== 'socks5:') {
    throw new TunnelError('Proxy', `unsupported proxy scheme '${url.protocol.slice(0, -1)}'`);
  }
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  return {
    protocol,
    hostname: url.hostname,
    port: Number(url.port) || (protocol === 'https:' ? 443 : protocol === 'http:' ? 80 : 1080),
    username,
    password,
    authorization: username ? basic : undefined,
  };
}

type Done = (err: Error | null, socket: Duplex) => void;

/** A connection through the proxy: the tunnel, then TLS to the target for https://. */
async function tunnel(
  proxy: ProxyEndpoint,
  o: RequestOptions & ConnectionOptions,
  secure: boolean,
): Promise<Duplex> {
  const host = String(o.host);
  const port = Number(o.port);
  const raw = dialProxy(proxy);
  // Failures are reported once, through the promise (and, over TLS, by the TLS socket).
  raw.on('error', () => {});
  let socket = raw;
  const timer = setTimeout(() => socket.destroy(connectTimeout()), CONNECT_TIMEOUT_MS);
  try {
    if (proxy.protocol === 'socks5:') await socksTunnel(raw, proxy, host, port);
    else await connectTunnel(raw, proxy, host, port);
    if (!secure) return raw;
    socket = tlsConnect({
      socket: raw,
      host,
      ...(o.servername ? { servername: o.servername } : {}),
      ...(o.secureContext ? { secureContext: o.secureContext } : {}),
      rejectUnauthorized: o.rejectUnauthorized !== false,
      ALPNProtocols: ['http/1.1'],
    });
    await once(socket, 'secureConnect');
    return socket;
  } catch (err) {
    socket.destroy();
    raw.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const connectTimeout = () =>
  new TunnelError('Timeout', `timed out connecting after ${seconds(CONNECT_TIMEOUT_MS)}`, 'ETIMEDOUT');

/** Fails a new direct connection that is not up (TCP, and TLS for https) within CONNECT_TIMEOUT_MS. */
function withConnectTimeout(socket: Duplex | null | undefined, secure: boolean): Duplex | null | undefined {
  if (!socket) return socket;
  const timer = setTimeout(() => socket.destroy(connectTimeout()), CONNECT_TIMEOUT_MS);
  const clear = () => clearTimeout(timer);
  socket.once(secure ? 'secureConnect' : 'connect', clear).once('close', clear);
  return socket;
}

/**
 * The keep-alive pool of one client: an agent per kind of route, made on first use. Node's agents
 * unref idle sockets (and ref them again on reuse), close them after KEEP_ALIVE_MS, and resume TLS
 * sessions of direct connections.
 */
function poolOf(opts: HttpClientOptions): Pool {
  const tls = opts.tls ?? {};
  const proxy = opts.proxy && proxyOf(opts.proxy);
  const agents = new Map<string, HttpAgent>();
  let closed = false;
  let context: SecureContext | undefined;
  const targetTls = (): ConnectionOptions => {
    context ??= secureContext(tls);
    return {
      secureContext: context,
      ...(tls.servername ? { servername: tls.servername } : {}),
      rejectUnauthorized: !tls.insecureSkipVerify,
    };
  };

  /** `dial` makes connections through the proxy; without it, Node connects directly. */
  function agent(
    name: string,
    secure: boolean,
    tlsOptions: () => ConnectionOptions,
    dial?: boolean,
  ): HttpAgent {
    let a = agents.get(name);
    if (a) return a;
    const options = { keepAlive: true, timeout: KEEP_ALIVE_MS, ...tlsOptions() };
    a = secure ? new HttpsAgent(options) : new NodeHttpAgent(options);
    const direct = a.createConnection.bind(a);
    const keepSocketAlive = a.keepSocketAlive.bind(a) as (s: Duplex) => boolean;
    a.createConnection = (o, done?: Done) => {
      if (!dial || !proxy) return withConnectTimeout(direct(o, done), secure);
      tunnel(proxy, o as RequestOptions & ConnectionOptions, secure).then(
        (socket) => done?.(null, socket),
        (err: Error) => done?.(err, undefined as unknown as Duplex),
      );
      return undefined;
    };
    // After close(), sockets coming back from requests are closed rather than kept.
    a.keepSocketAlive = ((s: Duplex) => !closed && keepSocketAlive(s)) as HttpAgent['keepSocketAlive'];
    agents.set(name, a);
    return a;
  }

  return {
    route(url) {
      const secure = url.protocol === 'https:';
      if (!secure && url.protocol !== 'http:') {
        throw new TunnelError('Network', `unsupported URL scheme '${url.protocol.slice(0, -1)}'`);
      }
      const options: RequestOptions = {
        host: bareHost(url.hostname),
        port: defaultPort(url),
        path: `${url.pathname}${url.search}`,
      };
      if (!proxy)
        return {
          agent: agent(url.protocol, secure, secure ? targetTls : noTls),
          secure,
          options,
          forwarded: false,
        };
      if (secure || proxy.protocol === 'socks5:') {
        return {
          agent: agent(`tunnel-${url.protocol}`, secure, secure ? targetTls : noTls, true),
          secure,
          options,
          forwarded: false,
        };
      }
      // http:// through an HTTP proxy: the request goes to the proxy, naming the whole URL.
      const host = bareHost(proxy.hostname);
      const viaTls = proxy.protocol === 'https:';
      const proxyTls = (): ConnectionOptions => ({ servername: isIP(host) ? '' : host });
      return {
        agent: agent('forward', viaTls, viaTls ? proxyTls : noTls),
        secure: viaTls,
        options: { host, port: proxy.port, path: `${url.protocol}//${url.host}${url.pathname}${url.search}` },
        headers: {
          host: url.host,
          ...(proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}),
        },
        forwarded: true,
      };
    },
    close() {
      closed = true;
      for (const a of agents.values()) {
        for (const sockets of Object.values(a.freeSockets)) for (const s of sockets ?? []) s.destroy();
      }
    },
  };
}

/** Methods retried once when a kept-alive connection turns out closed by the server as it was reused. */
const RETRY_ON_STALE = new Set(['GET', 'HEAD']);
const STALE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** A hop's response, the body unread, with its headers read once. */
interface Answer {
  res: IncomingMessage;
  headers: ResponseHeaders;
}

/**
 * Sends one hop and resolves with its response. With `idleMs`, the hop fails when no byte arrives for
 * that long (data waiting for the caller to read it does not count as silence).
 */
function send(pool: Pool, hop: Hop, ex: Exchange, idleMs: number, retry = true): Promise<Answer> {
  return new Promise((resolve, reject) => {
    if (ex.failure) {
      reject(ex.failure);
      return;
    }
    const { method, url } = hop;
    let creq: ClientRequest;
    let res: IncomingMessage | undefined;
    let socket: Duplex | undefined;
    let idle: NodeJS.Timeout | undefined;
    const touch = () => idle?.refresh();
    const interrupt = (err: HttpError) => (res ? res.destroy(err) : creq.destroy(err));
    // The hop is over: let go of it, so that the collector need not keep it (and what it holds) young.
    const settle = () => {
      clearTimeout(idle);
      socket?.removeListener('data', touch);
      if (ex.interrupt === interrupt) ex.interrupt = undefined;
    };
    try {
      const route = pool.route(url);
      const headers: Record<string, string | string[]> = { ...route.headers };
      for (const k in hop.headers) {
        const v = hop.headers[k];
        if (v !== undefined && !(k in headers)) headers[k] = v;
      }
      // Node frames the body of a DELETE (or GET, OPTIONS) only when told its length.
      if (hop.body != null && headers['content-length'] === undefined)
        headers['content-length'] = String(Buffer.byteLength(hop.body));
      const options = route.options;
      options.method = method;
      options.headers = headers;
      options.agent = route.agent;
      creq = (route.secure ? httpsRequest : httpRequest)(options);
      creq.on('response', (r) => {
        res = r;
        r.on('error', nothing);
        if (idle || ex.watched) r.once('close', settle);
        const answer = { res: r, headers: headersOf(r.rawHeaders) };
        if (route.forwarded && r.statusCode === 407) {
          r.destroy();
          const u = redactUrl(url);
          reject(new HttpError('Proxy', `${method} ${u}: Proxy Authentication Required (407)`, u));
          return;
        }
        // Nothing to read: answer once the connection is back in the pool, for the next request.
        const status = r.statusCode;
        if (
          method === 'HEAD' ||
          status === 204 ||
          status === 304 ||
          answer.headers['content-length'] === '0'
        ) {
          r.once('end', () => resolve(answer)).resume();
          return;
        }
        resolve(answer);
      });
    } catch (err) {
      reject(toHttpError(err, hop));
      return;
    }
    if (ex.watched) ex.interrupt = interrupt;
    if (idleMs > 0) {
      idle = setTimeout(() => {
        if (res && res.readableLength > 0) {
          idle?.refresh();
          return;
        }
        const u = redactUrl(url);
        const err = new HttpError(
          'Timeout',
          `${method} ${u}: timed out after ${seconds(idleMs)} without data`,
          u,
        );
        if (res) res.destroy(err);
        else creq.destroy(err);
      }, idleMs);
      creq.on('socket', (s: Duplex) => {
        socket = s;
        s.on('data', touch);
      });
    }
    creq.on('error', (err: Error & { code?: string }) => {
      // After the response, the body reports what went wrong.
      if (res) return;
      settle();
      if (
        retry &&
        creq.reusedSocket &&
        !ex.failure &&
        RETRY_ON_STALE.has(method) &&
        STALE_CODES.has(err.code ?? '')
      ) {
        resolve(send(pool, hop, ex, idleMs, false));
        return;
      }
      reject(toHttpError(err, hop));
    });
    creq.end(hop.body ?? undefined);
  });
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

function setAuthorization(hop: Hop, req: HttpRequest): void {
  const auth = req.authorizationFor?.(hop.url);
  if (auth) hop.headers.authorization = auth;
  else delete hop.headers.authorization;
}

function firstHop(req: HttpRequest, userAgent: string | undefined): Hop {
  let url = typeof req.url === 'string' ? new URL(req.url) : req.url;
  // Lower-case names, so that the redirect rules find Authorization and Cookie however spelt.
  const headers: Headers = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  // Credentials in the URL become Basic auth unless a header is given, as Go's client does (Flux
  // notification providers, for one, are addressed as https://user:pass@host/...).
  if (url.username || url.password) {
    const userinfo = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    if (!headers.authorization) headers.authorization = `Basic ${Buffer.from(userinfo).toString('base64')}`;
    url = new URL(redactUrl(url));
  }
  if (userAgent && !headers['user-agent']) headers['user-agent'] = userAgent;
  const hop: Hop = { method: req.method ?? 'GET', url, headers, body: req.body };
  if (req.authorizationFor) setAuthorization(hop, req);
  return hop;
}

/** A client with its own pool; prefer httpClient, which shares one per configuration. */
export function createHttpClient(opts: HttpClientOptions = {}): HttpClient {
  let pool: Pool | undefined;
  // Made on first use; a bad proxy address fails the requests, naming them.
  const poolFor = (hop: Hop): Pool => {
    try {
      pool ??= poolOf(opts);
      return pool;
    } catch (err) {
      throw toHttpError(err, hop);
    }
  };
  const defaultTimeout = opts.timeoutMs ?? 0;

  return {
    async request(req) {
      let hop = firstHop(req, opts.userAgent);
      const { url } = hop;
      const ex = exchangeOf(hop, req.signal, req.timeoutMs ?? defaultTimeout);
      const idleMs = req.idleTimeoutMs ?? 0;
      const maxRedirects = req.maxRedirects ?? 0;
      try {
        const p = poolFor(hop);
        for (let n = 0; ; n++) {
          ex.hop = hop;
          const { res, headers } = await send(p, hop, ex, idleMs);
          const location = first(headers.location);
          const status = res.statusCode ?? 0;
          if (!REDIRECTS.has(status) || !location || maxRedirects === 0) {
            // The deadline and the signal cover the body too.
            endWith(ex, res);
            return response(res, headers, hop, ex);
          }
          await discard(res, headers);
          if (n >= maxRedirects) {
            const u = redactUrl(url);
            throw new HttpError(
              'TooManyRedirects',
              `${hop.method} ${u}: more than ${maxRedirects} redirects`,
              u,
            );
          }
          hop = redirect(hop, status, location, req);
        }
      } catch (err) {
        ex.end();
        throw err;
      }
    },
    async close() {
      pool?.close();
    },
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
