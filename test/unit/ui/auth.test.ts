// Sign-in: signed session cookies, the local one-time token, the token file and proxy headers.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSessions, headerAuth, localAuth, parseTokenFile } from '../../../controllers/ui/auth.ts';

const req = (headers: Record<string, string> = {}) => ({ headers }) as unknown as IncomingMessage;

function res() {
  const out = { status: 0, headers: {} as Record<string, unknown>, body: '' };
  const r = {
    getHeader: (k: string) => out.headers[k],
    setHeader: (k: string, v: unknown) => {
      out.headers[k] = v;
    },
    writeHead: (status: number, h: Record<string, string> = {}) => {
      out.status = status;
      Object.assign(out.headers, h);
    },
    end: (b?: string) => {
      out.body = b ?? '';
    },
  };
  return { r: r as unknown as ServerResponse, out };
}

describe('ui/auth', () => {
  it('verifies its own sessions and refuses tampered or expired ones', async () => {
    const s = createSessions();
    const token = s.issue({ user: 'alice', groups: ['dev'] });
    assert.deepEqual(s.verify(token), { user: 'alice', groups: ['dev'] });
    const [payload, sig] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ v: { user: 'admin', groups: [] }, exp: Date.now() + 1e6 }),
    ).toString('base64url');
    assert.equal(s.verify(`${forged}.${sig}`), undefined);
    assert.equal(s.verify(`${payload}.x${sig?.slice(1)}`), undefined);
    assert.equal(createSessions().verify(token), undefined, 'another secret');
    const short = s.issue({ user: 'bob', groups: [] }, -1);
    assert.equal(s.verify(short), undefined);
  });

  it('locally, trades the one-time token of the URL for a session cookie, and refuses a wrong one', async () => {
    const sessions = createSessions();
    const auth = localAuth({ user: 'me', groups: [] }, 'secret-token', sessions);
    assert.equal(auth.identify(req()), undefined);
    const ok = res();
    assert.equal(await auth.handle(req(), ok.r, new URL('http://x/?token=secret-token')), true);
    assert.equal(ok.out.status, 303);
    const cookie = String((ok.out.headers['set-cookie'] as string[])[0]);
    assert.match(cookie, /^tide_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    const value = cookie.slice('tide_session='.length, cookie.indexOf(';'));
    assert.deepEqual(auth.identify(req({ cookie: `tide_session=${value}` })), { user: 'me', groups: [] });
    const bad = res();
    await auth.handle(req(), bad.r, new URL('http://x/?token=guess'));
    assert.equal(bad.out.status, 403);
    assert.deepEqual(auth.identify(req({ authorization: 'Bearer secret-token' })), {
      user: 'me',
      groups: [],
    });
    assert.equal(auth.identify(req({ authorization: 'Bearer guess' })), undefined);
  });

  it("reads kube-apiserver's token file format", () => {
    assert.deepEqual(parseTokenFile('# users\nt1,alice,1,"dev,ops"\nt2,bob,2\n\n'), [
      { token: 't1', user: 'alice', groups: ['dev', 'ops'] },
      { token: 't2', user: 'bob', groups: [] },
    ]);
    assert.throws(() => parseTokenFile('only-a-token'), /line 1/);
  });

  it('takes the user and groups from the proxy headers', () => {
    const auth = headerAuth();
    assert.deepEqual(auth.identify(req({ 'x-forwarded-user': 'carol', 'x-forwarded-groups': 'a, b' })), {
      user: 'carol',
      groups: ['a', 'b'],
    });
    assert.equal(auth.identify(req({})), undefined);
  });
});
