// OIDC sign-in for the in-cluster dashboard: the authorization code flow with PKCE against the issuer's
// discovery document; the ID token's signature (JWKS: RS*, PS*, ES*, EdDSA), issuer, audience, expiry
// and nonce are checked, and the user and groups come from configurable claims with optional prefixes,
// as kube-apiserver's --oidc-* flags name them. The user is then impersonated.
import { createHash, createPublicKey, type JsonWebKey, randomBytes, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HttpClient, httpClient } from '../runtime/http.ts';
import type { Identity } from './access.ts';
import {
  type Authenticator,
  cookies,
  redirect,
  type Sessions,
  sessionCookie,
  sessionRoutes,
  setCookie,
} from './auth.ts';

export interface OidcOptions {
  issuerUrl: string;
  clientId: string;
  clientSecret?: string;
  /** This dashboard's callback, e.g. https://tide.example.com/oauth2/callback. */
  redirectUrl: string;
  scopes?: string[];
  usernameClaim?: string;
  usernamePrefix?: string;
  groupsClaim?: string;
  groupsPrefix?: string;
  /** PEM CA of the issuer, when not publicly trusted. */
  ca?: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

interface LoginState {
  state: string;
  nonce: string;
  verifier: string;
}

const stateCookie = 'tide_oidc';

const algorithms: Record<string, { hash: string; pss?: boolean; dsa?: boolean }> = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', pss: true },
  PS384: { hash: 'sha384', pss: true },
  PS512: { hash: 'sha512', pss: true },
  ES256: { hash: 'sha256', dsa: true },
  ES384: { hash: 'sha384', dsa: true },
  ES512: { hash: 'sha512', dsa: true },
  EdDSA: { hash: '' },
};

const b64json = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

/** Verifies a JWT's signature with one of the JWKS keys; returns its claims. Throws on any failure. */
export function verifyJwt(
  token: string,
  keys: readonly (JsonWebKey & { kid?: string })[],
): Record<string, unknown> {
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) throw new Error('the ID token is not a JWT');
  const header = b64json(h) as { alg?: string; kid?: string };
  const alg = algorithms[header.alg ?? ''];
  if (!alg) throw new Error(`the ID token's algorithm ${header.alg} is not accepted`);
  const candidates = keys.filter((k) => !header.kid || k.kid === header.kid);
  const data = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  const ok = candidates.some((jwk) => {
    try {
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      const opts = alg.pss
        ? { key, padding: 6, saltLength: 32 }
        : alg.dsa
          ? { key, dsaEncoding: 'ieee-p1363' as const }
          : key;
      return verify(alg.hash || null, data, opts as Parameters<typeof verify>[2], sig);
    } catch {
      return false;
    }
  });
  if (!ok) throw new Error('the ID token signature does not verify with the issuer keys');
  return b64json(p) as Record<string, unknown>;
}

/** The identity in verified claims, after the issuer, audience, expiry and nonce checks. */
export function identityOf(
  claims: Record<string, unknown>,
  opts: OidcOptions,
  issuer: string,
  nonce: string,
): Identity {
  const now = Date.now() / 1000;
  if (claims.iss !== issuer) throw new Error(`the ID token's issuer ${String(claims.iss)} is not ${issuer}`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(opts.clientId)) throw new Error('the ID token is not for this client');
  if (typeof claims.exp !== 'number' || claims.exp < now - 60) throw new Error('the ID token has expired');
  if (claims.nonce !== nonce) throw new Error('the ID token nonce does not match the sign-in');
  const userClaim = opts.usernameClaim ?? 'email';
  const user = claims[userClaim];
  if (typeof user !== 'string' || !user) throw new Error(`the ID token has no '${userClaim}' claim`);
  if (userClaim === 'email' && claims.email_verified === false)
    throw new Error('the email address is not verified');
  const rawGroups = claims[opts.groupsClaim ?? 'groups'];
  const groups = (Array.isArray(rawGroups) ? rawGroups : typeof rawGroups === 'string' ? [rawGroups] : [])
    .filter((g): g is string => typeof g === 'string')
    .map((g) => `${opts.groupsPrefix ?? ''}${g}`);
  return { user: `${opts.usernamePrefix ?? ''}${user}`, groups };
}

const pkce = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export function oidcAuth(opts: OidcOptions, sessions: Sessions): Authenticator {
  const issuer = opts.issuerUrl.replace(/\/+$/, '');
  const http: HttpClient = httpClient({ tls: opts.ca ? { ca: opts.ca } : undefined, timeoutMs: 15_000 });
  const secure = opts.redirectUrl.startsWith('https:');
  const routes = sessionRoutes(sessions, secure);
  const callbackPath = new URL(opts.redirectUrl).pathname;
  let discovery: { doc: Discovery; keys: JsonWebKey[]; at: number } | undefined;

  async function getJson<T>(url: string): Promise<T> {
    const res = await http.request({ url, headers: { accept: 'application/json' } });
    if (res.status !== 200) {
      await res.discard();
      throw new Error(`${url} answered ${res.status}`);
    }
    return res.json<T>({ maxBytes: 1 << 20 });
  }

  async function discover(refresh = false) {
    if (discovery && !refresh && Date.now() - discovery.at < 3600_000) return discovery;
    const doc = await getJson<Discovery>(`${issuer}/.well-known/openid-configuration`);
    const { keys } = await getJson<{ keys: JsonWebKey[] }>(doc.jwks_uri);
    discovery = { doc, keys, at: Date.now() };
    return discovery;
  }

  async function exchange(code: string, verifier: string): Promise<string> {
    const { doc } = await discover();
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: opts.redirectUrl,
      client_id: opts.clientId,
      code_verifier: verifier,
      ...(opts.clientSecret ? { client_secret: opts.clientSecret } : {}),
    });
    const res = await http.request({
      method: 'POST',
      url: doc.token_endpoint,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    const body = await res.json<{ id_token?: string; error?: string; error_description?: string }>({
      maxBytes: 1 << 20,
    });
    if (res.status !== 200 || !body.id_token)
      throw new Error(
        `the token endpoint refused the code: ${body.error_description ?? body.error ?? res.status}`,
      );
    return body.id_token;
  }

  async function login(res: ServerResponse) {
    const { doc } = await discover();
    const st: LoginState = {
      state: randomBytes(16).toString('base64url'),
      nonce: randomBytes(16).toString('base64url'),
      verifier: randomBytes(32).toString('base64url'),
    };
    setCookie(res, stateCookie, sessions.sign(st, 10 * 60_000), { maxAgeS: 600, secure });
    const url = new URL(doc.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: opts.clientId,
      redirect_uri: opts.redirectUrl,
      scope: (opts.scopes ?? ['openid', 'email', 'profile', 'groups']).join(' '),
      state: st.state,
      nonce: st.nonce,
      code_challenge: pkce(st.verifier),
      code_challenge_method: 'S256',
    }).toString();
    redirect(res, url.toString());
  }

  async function callback(req: IncomingMessage, res: ServerResponse, url: URL) {
    const st = sessions.open<LoginState>(cookies(req)[stateCookie]);
    const fail = (msg: string) => {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Sign-in failed: ${msg}\n`);
    };
    if (url.searchParams.get('error')) return fail(url.searchParams.get('error_description') ?? 'refused');
    const code = url.searchParams.get('code');
    if (!st || !code || url.searchParams.get('state') !== st.state)
      return fail('the sign-in state does not match');
    try {
      const idToken = await exchange(code, st.verifier);
      let claims: Record<string, unknown>;
      try {
        claims = verifyJwt(idToken, (await discover()).keys);
      } catch {
        // The issuer may have rotated its keys since they were read.
        claims = verifyJwt(idToken, (await discover(true)).keys);
      }
      const id = identityOf(claims, opts, (await discover()).doc.issuer, st.nonce);
      setCookie(res, stateCookie, '', { maxAgeS: 0, secure });
      routes.signIn(res, id);
    } catch (err) {
      fail((err as Error).message);
    }
  }

  return {
    mode: 'oidc',
    identify: (req) => sessions.verify(cookies(req)[sessionCookie]),
    async handle(req, res, url) {
      if (url.pathname === '/login') await login(res);
      else if (url.pathname === callbackPath) await callback(req, res, url);
      else if (url.pathname === '/logout') routes.logout(res);
      else return false;
      return true;
    },
  };
}
