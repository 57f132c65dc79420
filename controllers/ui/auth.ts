// Who a request comes from. `tide ui` (local): one user, proven by the one-time token in the URL it
// prints, then a session cookie, so no other local process or web page can act with the kubeconfig's
// credentials. In a cluster: a static token file (kube-apiserver's --token-auth-file format), the
// headers of an authenticating proxy, or OIDC (oidc.ts); the dashboard then impersonates that user.
// Sessions are HMAC-signed HttpOnly cookies, so replicas sharing the secret agree: SameSite=Strict
// locally; Lax in a cluster, where signing in returns from the identity provider's site (a Strict
// cookie would not come along on that navigation). Writes are safe either way: they are POSTs that
// need the x-tide-request header, which no other site can send.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from './access.ts';
import { readBodyOr413 } from './errors.ts';

export type AuthMode = 'local' | 'token' | 'header' | 'oidc';

export interface Authenticator {
  mode: AuthMode;
  /** The identity of a request, undefined when it has none (401, or a redirect to /login). */
  identify(req: IncomingMessage): Identity | undefined;
  /** Serves its own routes (/login, /logout, the OIDC callback); resolves true when it answered. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
}

export const sessionCookie = 'tide_session';

export interface Sessions {
  issue(identity: Identity, ttlMs?: number): string;
  verify(value: string | undefined): Identity | undefined;
  /** Signs any small JSON value (the OIDC login state). */
  sign(value: unknown, ttlMs: number): string;
  open<T>(value: string | undefined): T | undefined;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');

export function createSessions(secret: Buffer = randomBytes(32), defaultTtlMs = 12 * 3600_000): Sessions {
  const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');
  const sign = (value: unknown, ttlMs: number) => {
    const payload = b64(JSON.stringify({ v: value, exp: Date.now() + ttlMs }));
    return `${payload}.${mac(payload)}`;
  };
  const open = <T>(value: string | undefined): T | undefined => {
    if (!value) return undefined;
    const [payload, sig] = value.split('.');
    if (!payload || !sig) return undefined;
    const want = Buffer.from(mac(payload));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    try {
      const { v, exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
        v: T;
        exp: number;
      };
      return exp > Date.now() ? v : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    issue: (identity, ttlMs = defaultTtlMs) => sign(identity, ttlMs),
    verify: (value) => {
      const id = open<Identity>(value);
      return id && typeof id.user === 'string' && Array.isArray(id.groups) ? id : undefined;
    },
    sign,
    open,
  };
}

export function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

export function setCookie(
  res: ServerResponse,
  name: string,
  value: string,
  opts: { maxAgeS?: number; secure?: boolean; strict?: boolean } = {},
) {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    'Path=/',
    'HttpOnly',
    `SameSite=${opts.strict ? 'Strict' : 'Lax'}`,
  ];
  if (opts.maxAgeS !== undefined) parts.push(`Max-Age=${opts.maxAgeS}`);
  if (opts.secure) parts.push('Secure');
  const prev = res.getHeader('set-cookie');
  res.setHeader('set-cookie', [
    ...(Array.isArray(prev) ? prev : prev ? [String(prev)] : []),
    parts.join('; '),
  ]);
}

export function redirect(res: ServerResponse, location: string) {
  res.writeHead(303, { location, 'cache-control': 'no-store' });
  res.end();
}

const bearer = (req: IncomingMessage) => /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * `tide ui`: the user of the kubeconfig. The URL printed at start carries `token`; opening it sets the
 * session cookie. API clients may send the token as a Bearer header instead.
 */
export function localAuth(
  identity: Identity,
  token: string,
  sessions: Sessions = createSessions(),
): Authenticator {
  return {
    mode: 'local',
    identify(req) {
      const t = bearer(req);
      if (t && sameSecret(t, token)) return identity;
      return sessions.verify(cookies(req)[sessionCookie]) ? identity : undefined;
    },
    async handle(_req, res, url) {
      const t = url.searchParams.get('token');
      if (url.pathname !== '/' || !t) return false;
      if (!sameSecret(t, token)) {
        res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('This dashboard link is not valid (the token changes every time tide ui starts).\n');
        return true;
      }
      setCookie(res, sessionCookie, sessions.issue(identity), { strict: true });
      redirect(res, '/');
      return true;
    },
  };
}

export interface StaticToken {
  token: string;
  user: string;
  groups: string[];
}

/** kube-apiserver's --token-auth-file: `token,user,uid,"group1,group2"` per line. */
export function parseTokenFile(text: string): StaticToken[] {
  const out: StaticToken[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields: string[] = [];
    const re = /\s*("([^"]*)"|[^,]*)\s*(,|$)/g;
    let m: RegExpExecArray | null = re.exec(line);
    while (m && m[0] !== '') {
      fields.push(m[2] ?? m[1] ?? '');
      if (m[3] === '') break;
      m = re.exec(line);
    }
    const [token, user, , groups] = fields;
    if (!token || !user) throw new Error(`token file line ${i + 1}: want token,user,uid[,"groups"]`);
    out.push({
      token,
      user,
      groups: groups
        ? groups
            .split(',')
            .map((g) => g.trim())
            .filter(Boolean)
        : [],
    });
  }
  return out;
}

const loginPage = (error?: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tide — sign in</title>
<link rel="stylesheet" href="/assets/app.css"></head>
<body class="login"><form method="post" action="/login" class="login-box">
<h1>Tide</h1>${error ? `<p class="error">${error}</p>` : ''}
<label>Token <input name="token" type="password" autocomplete="current-password" autofocus required></label>
<button type="submit">Sign in</button></form></body></html>`;

/**
 * False for a form posted by another site (login CSRF: signing a victim in as the attacker). Browsers
 * say where a request comes from in Sec-Fetch-Site; without it, in Origin (a cross-site POST always
 * carries one). Origin alone is not enough: under this server's `Referrer-Policy: no-referrer` a
 * browser sends `Origin: null` for the dashboard's own form, as it does for a sandboxed frame elsewhere.
 * A request with neither (curl) is not a browser's.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' || site === 'none';
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === (req.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

async function readForm(req: IncomingMessage, max = 16 * 1024): Promise<URLSearchParams> {
  return new URLSearchParams((await readBodyOr413(req, max)).toString('utf8'));
}

function sessionRoutes(sessions: Sessions, secure: boolean) {
  return {
    logout(res: ServerResponse) {
      setCookie(res, sessionCookie, '', { maxAgeS: 0, secure });
      redirect(res, '/login');
    },
    signIn(res: ServerResponse, id: Identity) {
      setCookie(res, sessionCookie, sessions.issue(id), { secure });
      redirect(res, '/');
    },
  };
}

/** In-cluster: users sign in with a token of the file; the file is read again when it changes on disk. */
export function tokenFileAuth(
  file: string,
  sessions: Sessions,
  opts: { secure?: boolean } = {},
): Authenticator {
  const load = () => parseTokenFile(readFileSync(file, 'utf8'));
  let tokens = load();
  let loadedAt = Date.now();
  const lookup = (t: string) => {
    if (Date.now() - loadedAt > 10_000) {
      tokens = load();
      loadedAt = Date.now();
    }
    const found = tokens.find((x) => sameSecret(x.token, t));
    return found && { user: found.user, groups: found.groups };
  };
  const routes = sessionRoutes(sessions, opts.secure ?? false);
  return {
    mode: 'token',
    identify(req) {
      const t = bearer(req);
      if (t) return lookup(t);
      return sessions.verify(cookies(req)[sessionCookie]);
    },
    async handle(req, res, url) {
      if (url.pathname === '/logout') {
        routes.logout(res);
        return true;
      }
      if (url.pathname !== '/login') return false;
      if (req.method === 'POST') {
        if (!sameOrigin(req)) {
          res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('sign-in from another site refused\n');
          return true;
        }
        const id = lookup((await readForm(req)).get('token') ?? '');
        if (id) routes.signIn(res, id);
        else {
          res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' });
          res.end(loginPage('That token is not valid.'));
        }
        return true;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage());
      return true;
    },
  };
}

/**
 * In-cluster behind an authenticating proxy (oauth2-proxy and the like), which must strip these
 * headers from clients: the user and comma-separated groups come from them.
 */
export function headerAuth(opts: { userHeader?: string; groupsHeader?: string } = {}): Authenticator {
  const userHeader = (opts.userHeader ?? 'X-Forwarded-User').toLowerCase();
  const groupsHeader = (opts.groupsHeader ?? 'X-Forwarded-Groups').toLowerCase();
  return {
    mode: 'header',
    identify(req) {
      const user = req.headers[userHeader];
      if (typeof user !== 'string' || !user) return undefined;
      const raw = req.headers[groupsHeader];
      const groups = (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
        .split(',')
        .map((g) => g.trim())
        .filter(Boolean);
      return { user, groups };
    },
    handle: async () => false,
  };
}

export { sessionRoutes };
