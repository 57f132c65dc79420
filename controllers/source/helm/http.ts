// HTTP GET for chart repositories, with Helm's credential rules: basic auth goes only to the host of
// the repository URL unless passCredentials is set, a custom CA adds to the system roots, and the
// body is capped. Errors are HelmErrors whose messages name the URL (without userinfo) and what to
// check; they never carry the password.
import { gunzipSync } from 'node:zlib';
import { HelmError, HelmErrorCode } from '../../runtime/helm/errors.ts';
import {
  type HttpError,
  type HttpResponse,
  httpClient,
  isHttpError,
  type ProxyConfig,
  redactUrl,
} from '../../runtime/http.ts';

export { redactUrl };

/** How to reach a chart repository; the fields of a HelmRepository's secretRef, certSecretRef and proxySecretRef. */
export interface HelmHttpOptions {
  username?: string;
  password?: string;
  /** PEM CA bundle trusted in addition to the system roots (`ca.crt`). */
  caCert?: Buffer | string;
  /** PEM client certificate and key for mutual TLS (`tls.crt`, `tls.key`). */
  clientCert?: Buffer | string;
  clientKey?: Buffer | string;
  /** Send credentials to hosts other than the repository's (Flux `passCredentials`). */
  passCredentials?: boolean;
  /** Whole-request deadline; 60 s when unset (Flux's HelmRepository timeout default). */
  timeoutMs?: number;
  /** HTTP(S) proxy to go through. */
  proxy?: ProxyConfig;
}

export interface GetRequest extends HelmHttpOptions {
  url: string;
  /** The repository URL: credentials go to its scheme and host (with port) only. */
  repoUrl: string;
  maxBytes: number;
  /** What is fetched, for messages: 'index', 'chart'. */
  subject: string;
  /** Message for a 404; the URL is appended. */
  notFound: string;
}

const MAX_REDIRECTS = 10;

export function parseHttpUrl(url: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HelmError(HelmErrorCode.InvalidUrl, `invalid ${what} URL '${redactUrl(url)}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new HelmError(
      HelmErrorCode.InvalidUrl,
      `unsupported scheme '${u.protocol.replace(/:$/, '')}' in ${what} URL '${redactUrl(u)}': want http or https`,
    );
  }
  return u;
}

function sendsCredentials(target: URL, repo: URL, req: HelmHttpOptions): boolean {
  if (!req.username || !req.password) return false;
  // Host includes the port, so credentials do not travel to another service on the same machine.
  return req.passCredentials === true || (target.protocol === repo.protocol && target.host === repo.host);
}

const reasons: Record<string, (u: URL) => string> = {
  ENOTFOUND: (u) => `host '${u.hostname}' not found`,
  EAI_AGAIN: (u) => `host '${u.hostname}' could not be resolved (DNS lookup failed)`,
  ECONNREFUSED: (u) => `connection refused by ${u.host}`,
  ECONNRESET: (u) => `connection reset by ${u.host}`,
  EHOSTUNREACH: (u) => `host ${u.host} unreachable`,
  ENETUNREACH: (u) => `network unreachable for ${u.host}`,
  ETIMEDOUT: (u) => `connection to ${u.host} timed out`,
};

/** A transport failure as a HelmError naming what to check. */
function transportError(err: HttpError, start: URL, req: GetRequest): HelmError {
  const url = new URL(err.url);
  const timeoutMs = req.timeoutMs ?? 60_000;
  switch (err.kind) {
    case 'Timeout':
      return new HelmError(
        HelmErrorCode.Timeout,
        `timed out after ${timeoutMs / 1000}s fetching ${redactUrl(start)}`,
        { cause: err },
      );
    case 'TooLarge':
      return tooLarge(url, req);
    case 'TooManyRedirects':
      return new HelmError(HelmErrorCode.HttpStatus, `too many redirects fetching ${redactUrl(start)}`);
    case 'Proxy':
      return new HelmError(
        HelmErrorCode.Unreachable,
        `failed to fetch ${redactUrl(url)} through the proxy: ${(err.cause as Error | undefined)?.message ?? err.message}`,
        { cause: err },
      );
    default: {
      const detail = (err.cause as Error | undefined)?.message ?? err.message;
      let reason = err.code ? reasons[err.code]?.(url) : undefined;
      if (!reason && err.kind === 'Tls') {
        reason = `TLS verification of ${url.host} failed (${detail}); provide the repository's CA certificate`;
      }
      return new HelmError(
        HelmErrorCode.Unreachable,
        `failed to fetch ${redactUrl(url)}: ${reason ?? detail}`,
        {
          cause: err,
        },
      );
    }
  }
}

function statusError(res: HttpResponse, req: GetRequest, withAuth: boolean): HelmError {
  const { status, url } = res;
  const text = `${status} ${res.statusText}`.trim();
  if (status === 401 || status === 403) {
    const hint = withAuth
      ? 'check the username and password'
      : 'the repository wants credentials and none were sent';
    return new HelmError(
      HelmErrorCode.AuthenticationFailed,
      `authentication failed for ${redactUrl(url)} (${text}): ${hint}`,
      { status },
    );
  }
  if (status === 404) {
    return new HelmError(HelmErrorCode.NotFound, `${req.notFound} ${redactUrl(url)} (${text})`, { status });
  }
  return new HelmError(HelmErrorCode.HttpStatus, `failed to fetch ${redactUrl(url)}: ${text}`, { status });
}

function tooLarge(url: URL, req: GetRequest): HelmError {
  return new HelmError(
    HelmErrorCode.TooLarge,
    `${req.subject} at ${redactUrl(url)} exceeds the size limit of ${req.maxBytes} bytes`,
  );
}

function gunzip(body: Buffer, url: URL, req: GetRequest): Buffer {
  try {
    return gunzipSync(body, { maxOutputLength: req.maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(url, req);
    throw new HelmError(HelmErrorCode.HttpStatus, `failed to decompress ${redactUrl(url)}: ${err}`);
  }
}

/** GETs a URL of a chart repository and returns the body; see GetRequest. */
export async function httpGet(req: GetRequest): Promise<Buffer> {
  const url = parseHttpUrl(req.url, req.subject);
  const repo = parseHttpUrl(req.repoUrl, 'repository');
  const client = httpClient({
    tls: {
      ...(req.caCert ? { ca: req.caCert } : {}),
      ...(req.clientCert && req.clientKey ? { cert: req.clientCert, key: req.clientKey } : {}),
    },
    ...(req.proxy ? { proxy: req.proxy } : {}),
  });
  const basic =
    req.username && req.password
      ? `Basic ${Buffer.from(`${req.username}:${req.password}`).toString('base64')}`
      : undefined;
  try {
    const res = await client.request({
      url,
      headers: { 'user-agent': 'tide-source-controller', accept: '*/*' },
      timeoutMs: req.timeoutMs ?? 60_000,
      maxRedirects: MAX_REDIRECTS,
      authorizationFor: (u) => (sendsCredentials(u, repo, req) ? basic : undefined),
    });
    if (res.status < 200 || res.status > 299) {
      await res.discard();
      throw statusError(res, req, sendsCredentials(res.url, repo, req));
    }
    const body = await res.bytes({ maxBytes: req.maxBytes, what: req.subject });
    return res.header('content-encoding') === 'gzip' ? gunzip(body, res.url, req) : body;
  } catch (err) {
    throw isHttpError(err) ? transportError(err, url, req) : err;
  }
}
