// OIDC sign-in against a small issuer on loopback: discovery, PKCE code flow, ID token checks.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSessions } from '../../../controllers/ui/auth.ts';
import { identityOf, oidcAuth, verifyJwt } from '../../../controllers/ui/oidc.ts';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function jwt(claims: Record<string, unknown>, key: KeyObject, alg = 'RS256', kid = 'k1'): string {
  const head = `${b64({ alg, kid, typ: 'JWT' })}.${b64(claims)}`;
  const sig =
    alg === 'ES256'
      ? sign('sha256', Buffer.from(head), { key, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(head), key);
  return `${head}.${sig.toString('base64url')}`;
}

describe('ui/oidc', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwks = [
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1' },
    { ...ec.publicKey.export({ format: 'jwk' }), kid: 'k2' },
  ];

  it('verifies RS256 and ES256 signatures and refuses others', () => {
    const claims = { sub: 'x' };
    assert.deepEqual(verifyJwt(jwt(claims, rsa.privateKey), jwks), claims);
    assert.deepEqual(verifyJwt(jwt(claims, ec.privateKey, 'ES256', 'k2'), jwks), claims);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    assert.throws(() => verifyJwt(jwt(claims, other.privateKey), jwks), /does not verify/);
    assert.throws(() => verifyJwt(`${b64({ alg: 'none' })}.${b64(claims)}.`, jwks), /not a JWT|not accepted/);
  });

  it('checks issuer, audience, expiry and nonce, and prefixes user and groups', () => {
    const opts = {
      issuerUrl: 'https://i',
      clientId: 'tide',
      redirectUrl: 'https://d/cb',
      usernamePrefix: 'oidc:',
      groupsPrefix: 'oidc:',
    };
    const good = {
      iss: 'https://i',
      aud: ['tide'],
      exp: Date.now() / 1000 + 60,
      nonce: 'n',
      email: 'a@x',
      groups: ['dev'],
    };
    assert.deepEqual(identityOf(good, opts, 'https://i', 'n'), { user: 'oidc:a@x', groups: ['oidc:dev'] });
    assert.throws(() => identityOf({ ...good, iss: 'https://evil' }, opts, 'https://i', 'n'), /issuer/);
    assert.throws(() => identityOf({ ...good, aud: 'other' }, opts, 'https://i', 'n'), /not for this client/);
    assert.throws(() => identityOf({ ...good, exp: 1 }, opts, 'https://i', 'n'), /expired/);
    assert.throws(() => identityOf({ ...good, nonce: 'm' }, opts, 'https://i', 'n'), /nonce/);
    assert.throws(
      () => identityOf({ ...good, email_verified: false }, opts, 'https://i', 'n'),
      /not verified/,
    );
  });

  describe('the code flow', () => {
    let server: Server;
    let issuer = '';
    let lastChallenge = '';
    let lastNonce = '';
    before(async () => {
      server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const url = new URL(req.url ?? '/', issuer);
        const send = (body: unknown) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (url.pathname === '/.well-known/openid-configuration')
          return send({
            issuer,
            authorization_endpoint: `${issuer}/auth`,
            token_endpoint: `${issuer}/token`,
            jwks_uri: `${issuer}/keys`,
          });
        if (url.pathname === '/keys') return send({ keys: jwks });
        if (url.pathname === '/token') {
          let body = '';
          req.on('data', (c) => {
            body += c;
          });
          req.on('end', () => {
            const form = new URLSearchParams(body);
            const verifier = form.get('code_verifier') ?? '';
            if (
              form.get('code') !== 'the-code' ||
              createHash('sha256').update(verifier).digest('base64url') !== lastChallenge
            ) {
              res.writeHead(400, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ error: 'invalid_grant' }));
              return;
            }
            const claims = {
              iss: issuer,
              aud: 'tide',
              exp: Date.now() / 1000 + 300,
              nonce: lastNonce,
              email: 'dev@example.com',
              groups: ['team'],
            };
            send({ id_token: jwt(claims, rsa.privateKey) });
          });
          return;
        }
        res.writeHead(404);
        res.end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('redirects to the issuer with PKCE, and signs the user in from the callback with a Lax cookie', async () => {
      const auth = oidcAuth(
        { issuerUrl: issuer, clientId: 'tide', redirectUrl: 'http://dash/oauth2/callback' },
        createSessions(),
      );
      const cookies: string[] = [];
      const fakeRes = () => {
        const out = { status: 0, headers: {} as Record<string, unknown> };
        return {
          out,
          r: {
            getHeader: (k: string) => out.headers[k],
            setHeader: (k: string, v: unknown) => {
              out.headers[k] = v;
              if (k === 'set-cookie') cookies.push(...(v as string[]).slice(-1));
            },
            writeHead: (s: number, h: Record<string, string> = {}) => {
              out.status = s;
              Object.assign(out.headers, h);
            },
            end: () => {},
          } as unknown as ServerResponse,
        };
      };
      const login = fakeRes();
      await auth.handle({ headers: {} } as IncomingMessage, login.r, new URL('http://dash/login'));
      assert.equal(login.out.status, 303);
      const to = new URL(String(login.out.headers.location));
      assert.equal(to.origin + to.pathname, `${issuer}/auth`);
      assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
      lastChallenge = to.searchParams.get('code_challenge') ?? '';
      lastNonce = to.searchParams.get('nonce') ?? '';
      const state = to.searchParams.get('state') ?? '';
      const stateCookie = (cookies.at(-1) ?? '').split(';')[0] ?? '';

      const forged = fakeRes();
      await auth.handle(
        { headers: { cookie: stateCookie } } as unknown as IncomingMessage,
        forged.r,
        new URL(`http://dash/oauth2/callback?code=the-code&state=other`),
      );
      assert.equal(forged.out.status, 401);

      const cb = fakeRes();
      await auth.handle(
        { headers: { cookie: stateCookie } } as unknown as IncomingMessage,
        cb.r,
        new URL(`http://dash/oauth2/callback?code=the-code&state=${state}`),
      );
      assert.equal(cb.out.status, 303, JSON.stringify(cb.out));
      const session = cookies.find((c) => c.startsWith('tide_session=')) ?? '';
      // Lax: the browser comes back from the issuer's site, and must bring the cookie along.
      assert.match(session, /; HttpOnly; SameSite=Lax/);
      assert.deepEqual(
        auth.identify({ headers: { cookie: session.split(';')[0] } } as unknown as IncomingMessage),
        {
          user: 'dev@example.com',
          groups: ['team'],
        },
      );
    });
  });
});
