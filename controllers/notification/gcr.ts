// Google Container Registry notifications arrive as Pub/Sub pushes carrying a Google-signed OIDC ID
// token: RS256 over Google's published keys, issuer accounts.google.com, the Receiver Secret's
// `audience`, and its `email` (verified) as the push subscription's service account.
import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import { httpClient } from '../runtime/http.ts';

export interface GcrVerifier {
  /** Resolves when `authorization` is `Bearer <token>` valid for this email and audience; else throws. */
  verify(authorization: string, email: string, audience: string): Promise<void>;
}

export interface GcrOptions {
  /** Google's signing keys (JWKS). */
  certsUrl?: string;
  now?: () => number;
  /** Fetches the JWKS (tests); the HTTP client by default. */
  fetchKeys?: () => Promise<{ keys: (JsonWebKey & { kid?: string })[] }>;
}

const googleCerts = 'https://www.googleapis.com/oauth2/v3/certs';
const issuers = ['accounts.google.com', 'https://accounts.google.com'];
const keysTtlMs = 60 * 60_000;
const skewSeconds = 30;

const decodePart = (part: string): Record<string, unknown> => {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Error('invalid ID token: malformed');
  }
};

/** The claims Google's ID token must carry for this push subscription. */
function checkClaims(claims: Record<string, unknown>, email: string, audience: string, t: number): void {
  if (typeof claims.exp !== 'number' || claims.exp + skewSeconds < t)
    throw new Error('invalid ID token: expired');
  if (typeof claims.iat === 'number' && claims.iat - skewSeconds > t)
    throw new Error('invalid ID token: issued in the future');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(audience))
    throw new Error(`invalid ID token: audience is '${String(claims.aud)}', want '${audience}'`);
  if (!issuers.includes(String(claims.iss)))
    throw new Error(
      `token issuer is '${String(claims.iss)}', want 'accounts.google.com' or 'https://accounts.google.com'`,
    );
  if (claims.email !== email) throw new Error(`token email is '${String(claims.email)}', want '${email}'`);
  if (claims.email_verified !== true) throw new Error(`token email '${email}' is not verified`);
}

export function createGcrVerifier(opts: GcrOptions = {}): GcrVerifier {
  const now = opts.now ?? Date.now;
  const fetchKeys =
    opts.fetchKeys ??
    (async () => {
      const res = await httpClient().request({ url: opts.certsUrl ?? googleCerts, timeoutMs: 10_000 });
      if (res.status !== 200) {
        await res.discard();
        throw new Error(`fetching Google's signing keys: status ${res.status}`);
      }
      return res.json({ maxBytes: 1024 * 1024 });
    });
  let cached: { at: number; keys: Map<string, JsonWebKey> } | undefined;

  async function key(kid: string): Promise<JsonWebKey> {
    const age = cached ? now() - cached.at : Number.POSITIVE_INFINITY;
    // Refetch when stale, or for a key rotated in since (at most once a minute, whatever callers send).
    if (age > keysTtlMs || (!cached?.keys.has(kid) && age > 60_000)) {
      const { keys } = await fetchKeys();
      cached = { at: now(), keys: new Map(keys.map((k) => [k.kid ?? '', k])) };
    }
    const found = cached?.keys.get(kid);
    if (!found) throw new Error(`invalid ID token: unknown signing key '${kid}'`);
    return found;
  }

  return {
    async verify(authorization, email, audience) {
      if (!authorization.startsWith('Bearer '))
        throw new Error('the Authorization header is missing or malformed');
      const token = authorization.slice('Bearer '.length).trim();
      const parts = token.split('.');
      if (parts.length !== 3) throw new Error('invalid ID token: malformed');
      const [h, p, sig] = parts as [string, string, string];
      const head = decodePart(h);
      const claims = decodePart(p);
      if (head.alg !== 'RS256') throw new Error(`invalid ID token: algorithm '${String(head.alg)}'`);
      const jwk = await key(String(head.kid ?? ''));
      const ok = verify(
        'RSA-SHA256',
        Buffer.from(`${h}.${p}`),
        createPublicKey({ key: jwk, format: 'jwk' }),
        Buffer.from(sig, 'base64url'),
      );
      if (!ok) throw new Error('invalid ID token: signature check failed');
      checkClaims(claims, email, audience, now() / 1000);
    },
  };
}
