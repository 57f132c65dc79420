// The one way providers call their service: a request through the Provider's HTTP client (TLS,
// proxy), retried with capped exponential backoff on connection errors, 429 and 5xx as Flux's
// retryablehttp does, until the retries or the provider's timeout (the signal) run out. Errors name
// the URL without credentials and never contain the token.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Headers, type HttpRequest, redactUrl } from '../../runtime/http.ts';
import type { ProviderSettings } from './types.ts';

export interface Sent {
  status: number;
  body: Buffer;
}

export interface SendOptions {
  method?: HttpRequest['method'];
  headers?: Headers;
  /** Sent as application/json. */
  json?: unknown;
  /** JSON already serialized (when the exact bytes matter, e.g. to sign them). */
  jsonText?: string;
  /** Statuses that are an answer rather than a failure (e.g. 404 when looking a status up). */
  accept?: (status: number) => boolean;
}

const maxAnswer = 64 * 1024;
const retryable = (status: number) => status === 429 || status >= 500;

/** The parts of an address from a Secret that are credentials: its path and query. */
function secretParts(s: ProviderSettings): string[] {
  if (!s.addressIsSecret) return [];
  try {
    const u = new URL(s.address);
    return [u.search.slice(1), u.pathname.length > 1 ? u.pathname : ''];
  } catch {
    return [s.address];
  }
}

/** The password of an address's userinfo, raw and as the Basic credential the HTTP client sends. */
function userinfoParts(address: string): string[] {
  try {
    const u = new URL(address);
    if (!u.password) return [];
    const password = decodeURIComponent(u.password);
    const basic = Buffer.from(`${decodeURIComponent(u.username)}:${password}`).toString('base64');
    return [password, u.password, basic];
  } catch {
    return [];
  }
}

// Header values shorter than this are not masked: a Secret's headers may also hold plain settings
// (`Content-Type: json`) whose masking would garble the message; credentials are longer.
const minHeaderSecret = 8;

/**
 * Replaces the secrets of the settings in an error text: the token, the password (also as the Basic
 * credential a server may echo), the Secret's header values, the password of the address's userinfo
 * (sent as Basic auth), and the path and query of an address from the Secret. Servers often quote the credentials they refused in their answer.
 */
export function mask(text: string, s: ProviderSettings): string {
  const basic = s.basic && Buffer.from(`${s.basic.username}:${s.basic.password}`).toString('base64');
  const headers = Object.values(s.headers ?? {}).filter((v) => v.trim().length >= minHeaderSecret);
  let out = text;
  for (const secret of [
    s.token,
    s.basic?.password,
    basic,
    ...headers,
    ...secretParts(s),
    ...userinfoParts(s.address),
  ])
    if (secret) out = out.split(secret).join('*****');
  return out;
}

type Attempt = { sent: Sent } | { failure: string; retry: boolean };

async function attempt(
  s: ProviderSettings,
  req: HttpRequest,
  accept: (status: number) => boolean,
): Promise<Attempt> {
  try {
    const res = await s.http.request(req);
    const answer = await res.bytes({ maxBytes: maxAnswer, what: 'answer' }).catch(() => Buffer.alloc(0));
    if (accept(res.status)) return { sent: { status: res.status, body: answer } };
    const failure = `request failed with status code ${res.status}: ${answer.toString('utf8').slice(0, 512)}`;
    return { failure, retry: retryable(res.status) };
  } catch (err) {
    return { failure: (err as Error).message, retry: !req.signal?.aborted };
  }
}

/** Sends the request, retrying as the settings say; throws the last failure, the token masked. */
export async function send(
  s: ProviderSettings,
  url: string,
  signal: AbortSignal,
  opts: SendOptions = {},
): Promise<Sent> {
  const body = opts.jsonText ?? (opts.json === undefined ? undefined : JSON.stringify(opts.json));
  const method = opts.method ?? (body === undefined ? 'GET' : 'POST');
  const headers: Headers = { ...opts.headers };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const accept = opts.accept ?? ((status: number) => status >= 200 && status < 300);
  let failure = '';
  for (let n = 0; ; n++) {
    const result = await attempt(s, { method, url, headers, body, signal }, accept);
    if ('sent' in result) return result.sent;
    failure = result.failure;
    if (!result.retry) break;
    if (n >= s.retry.max) {
      failure = `${failure} (giving up after ${n + 1} attempts)`;
      break;
    }
    try {
      await sleep(Math.min(s.retry.maxMs, s.retry.minMs * 2 ** n), undefined, { signal });
    } catch {
      failure = `${failure} (timed out while retrying)`;
      break;
    }
  }
  throw new Error(mask(`${method} ${redactUrl(url)}: ${failure}`, s));
}

/** `Basic <base64>` for a username and password. */
export const basicAuth = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
