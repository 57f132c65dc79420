// HTTP GET for chart repositories, with Helm's credential rules: basic auth goes only to the host of
// the repository URL unless passCredentials is set, a custom CA adds to the system roots, and the
// body is capped. Errors are HelmErrors whose messages name the URL (without userinfo) and what to
// check; they never carry the password.
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { HelmError, HelmErrorCode } from './errors.ts';

/** How to reach a chart repository; the fields of a HelmRepository's secretRef and certSecretRef. */
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

function unreachable(url: URL, err: NodeJS.ErrnoException): HelmError {
  const host = url.host;
  const reasons: Record<string, string> = {
    ENOTFOUND: `host '${url.hostname}' not found`,
    EAI_AGAIN: `host '${url.hostname}' could not be resolved (DNS lookup failed)`,
    ECONNREFUSED: `connection refused by ${host}`,
    ECONNRESET: `connection reset by ${host}`,
    EHOSTUNREACH: `host ${host} unreachable`,
    ENETUNREACH: `network unreachable for ${host}`,
    ETIMEDOUT: `connection to ${host} timed out`,
  };
  const code = err.code ?? '';
  let reason = reasons[code];
  if (!reason && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code)) {
    reason = `TLS verification of ${host} failed (${err.message}); provide the repository's CA certificate`;
  }
  return new HelmError(
    HelmErrorCode.Unreachable,
    `failed to fetch ${redactUrl(url)}: ${reason ?? err.message}`,
    { cause: err },
  );
}

function statusError(url: URL, res: IncomingMessage, req: GetRequest, withAuth: boolean): HelmError {
  const status = res.statusCode ?? 0;
  const text = `${status} ${res.statusMessage ?? ''}`.trim();
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

interface Hop {
  res: IncomingMessage;
  withAuth: boolean;
}

function send(url: URL, repo: URL, req: GetRequest, signal: AbortSignal): Promise<Hop> {
  const withAuth = sendsCredentials(url, repo, req);
  const headers: Record<string, string> = { 'user-agent': 'tide-source-controller', accept: '*/*' };
  if (withAuth) {
    headers.authorization = `Basic ${Buffer.from(`${req.username}:${req.password}`).toString('base64')}`;
  }
  const tlsOpts =
    url.protocol === 'https:'
      ? {
          ca: req.caCert ? [...rootCertificates, req.caCert.toString()] : undefined,
          cert: req.clientCert,
          key: req.clientKey,
        }
      : {};
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Hop>((resolve, reject) => {
    const r = request(url, { method: 'GET', headers, agent: false, signal, auth: null, ...tlsOpts }, (res) =>
      resolve({ res, withAuth }),
    );
    r.on('error', reject);
    r.end();
  });
}

async function readBody(res: IncomingMessage, url: URL, req: GetRequest): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > req.maxBytes) {
    res.destroy();
    throw tooLarge(url, req);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > req.maxBytes) {
      res.destroy();
      throw tooLarge(url, req);
    }
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  if (res.headers['content-encoding'] !== 'gzip') return body;
  try {
    return gunzipSync(body, { maxOutputLength: req.maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(url, req);
    throw new HelmError(HelmErrorCode.HttpStatus, `failed to decompress ${redactUrl(url)}: ${err}`);
  }
}

async function follow(start: URL, repo: URL, req: GetRequest, signal: AbortSignal): Promise<Buffer> {
  let url = start;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const { res, withAuth } = await send(url, repo, req, signal).catch((err) => {
      throw signal.aborted ? err : unreachable(url, err as NodeJS.ErrnoException);
    });
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location) {
      res.resume();
      url = new URL(location, url);
      continue;
    }
    if (status < 200 || status > 299) {
      res.resume();
      throw statusError(url, res, req, withAuth);
    }
    return await readBody(res, url, req);
  }
  throw new HelmError(HelmErrorCode.HttpStatus, `too many redirects fetching ${redactUrl(start)}`);
}

/** GETs a URL of a chart repository and returns the body; see GetRequest. */
export async function httpGet(req: GetRequest): Promise<Buffer> {
  const url = parseHttpUrl(req.url, req.subject);
  const repo = parseHttpUrl(req.repoUrl, 'repository');
  const timeoutMs = req.timeoutMs ?? 60_000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await follow(url, repo, req, controller.signal);
  } catch (err) {
    if (controller.signal.aborted) {
      throw new HelmError(
        HelmErrorCode.Timeout,
        `timed out after ${timeoutMs / 1000}s fetching ${redactUrl(url)}`,
        { cause: err },
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
