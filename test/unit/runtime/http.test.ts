// The shared HTTP client against loopback servers: TLS with a test CA, mutual TLS, proxies (forwarded
// and tunnelled, with credentials), size limits, deadlines and idle limits, aborts, redirects and what
// error messages leave out.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  createHttpClient,
  type HttpErrorKind,
  httpClient,
  isHttpError,
  redactUrl,
} from '../../../controllers/runtime/http.ts';
import { makePki } from '../../../hack/testbed/pki.ts';
import { close, listen } from '../../support/listen.ts';
import { refusedCount, requestLines, startProxy } from '../../support/proxy.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function rejectsWith(p: Promise<unknown>, kind: HttpErrorKind, message: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isHttpError(err, kind), `expected a ${kind} HttpError, got: ${err}`);
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /s3cret/, 'no password in messages');
    return true;
  });
}

describe('runtime/http', function () {
  this.timeout(30_000);
  const servers: Server[] = [];
  let base: string;
  let other: string;
  const seen: { path: string; authorization?: string; method?: string; body?: string }[] = [];

  const routes: Record<string, Handler> = {
    '/hello': (_req, res) => res.end('hello'),
    '/big': (_req, res) => res.end('x'.repeat(1000)),
    '/chunked': (_req, res) => {
      res.write('x'.repeat(600));
      res.end('x'.repeat(600));
    },
    '/silent': () => {},
    '/stall-body': (_req, res) => {
      res.writeHead(200);
      res.write('partial');
    },
    '/same-origin': (_req, res) => res.writeHead(302, { location: '/hello' }).end(),
    '/post-redirect': (_req, res) => res.writeHead(303, { location: '/hello' }).end(),
    '/loop': (_req, res) => res.writeHead(302, { location: '/loop' }).end(),
  };

  before(async () => {
    const record = (name: string) => (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({
          path: `${name}${path}`,
          authorization: req.headers.authorization,
          method: req.method,
          body,
        });
        const route =
          name === 'main' ? routes[path] : (_r: IncomingMessage, s: ServerResponse) => s.end('other');
        if (route) route(req, res);
        else res.writeHead(404).end();
      });
    };
    const main = createServer(record('main'));
    const second = createServer(record('other'));
    servers.push(main, second);
    base = `http://${await listen(main)}`;
    other = `http://${await listen(second)}`;
    routes['/cross-origin'] = (_req, res) => res.writeHead(307, { location: `${other}/x` }).end();
  });
  after(() => Promise.all(servers.map(close)));

  const last = (path: string) => seen.filter((s) => s.path === path).at(-1);

  it('reads bodies as text, bytes, JSON or a stream, with the status and headers', async () => {
    const client = createHttpClient({ userAgent: 'tide-test' });
    try {
      const res = await client.request({ url: `${base}/hello` });
      assert.equal(res.status, 200);
      assert.equal(res.statusText, 'OK');
      assert.equal(res.header('Content-Length'), '5');
      assert.equal(await res.text(), 'hello');
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(c: Buffer, _e, done) {
          chunks.push(c);
          done();
        },
      });
      await (await client.request({ url: `${base}/chunked` })).pipe(sink);
      assert.equal(Buffer.concat(chunks).length, 1200);
      const missing = await client.request({ url: `${base}/nope` });
      assert.equal(missing.status, 404);
      assert.equal(missing.statusText, 'Not Found');
      await missing.discard();
    } finally {
      await client.close();
    }
  });

  it('refuses bodies over the size limit, with and without Content-Length', async () => {
    const client = httpClient();
    const big = await client.request({ url: `${base}/big` });
    await rejectsWith(
      big.bytes({ maxBytes: 100, what: 'index' }),
      'TooLarge',
      /^index at http:.*\/big exceeds the size limit of 100 bytes$/,
    );
    const chunked = await client.request({ url: `${base}/chunked` });
    await rejectsWith(chunked.text({ maxBytes: 1000 }), 'TooLarge', /exceeds the size limit of 1000 bytes/);
    assert.equal(
      (await (await client.request({ url: `${base}/big` })).bytes({ maxBytes: 1000 })).length,
      1000,
    );
  });

  it('gives up at the deadline or after an idle spell, and on abort', async () => {
    const client = httpClient();
    await rejectsWith(
      client.request({ url: `${base}/silent`, timeoutMs: 200 }),
      'Timeout',
      /^GET http:\/\/127.0.0.1:\d+\/silent: timed out after 0.2s$/,
    );
    // The deadline covers the body too.
    const stalled = await client.request({ url: `${base}/stall-body`, timeoutMs: 300 });
    await rejectsWith(stalled.text(), 'Timeout', /timed out after 0.3s/);
    const idle = await client.request({ url: `${base}/stall-body`, idleTimeoutMs: 200 });
    await rejectsWith(idle.text(), 'Timeout', /stall-body: timed out after 0.2s without data/);
    const ac = new AbortController();
    const pending = client.request({ url: `${base}/silent`, signal: ac.signal });
    ac.abort();
    await rejectsWith(pending, 'Aborted', /silent: aborted/);
  });

  it('names unreachable hosts without the credentials of the URL', async () => {
    const closed = createServer();
    const addr = await listen(closed);
    await close(closed);
    await assert.rejects(httpClient().request({ url: `http://user:s3cret@${addr}/x` }), (err: unknown) => {
      assert.ok(isHttpError(err, 'Network'), String(err));
      assert.equal(err.code, 'ECONNREFUSED');
      assert.equal(err.url, `http://${addr}/x`);
      assert.doesNotMatch(err.message, /s3cret|user/);
      return true;
    });
    assert.equal(redactUrl('https://u:p@example.com/a?b=1'), 'https://example.com/a?b=1');
  });

  it('follows redirects only when asked, dropping credentials on the way to another origin', async () => {
    const client = httpClient();
    const auth = { authorization: 'Bearer s3cret' };
    const unfollowed = await client.request({ url: `${base}/same-origin` });
    assert.equal(unfollowed.status, 302);
    await unfollowed.discard();

    const same = await client.request({ url: `${base}/same-origin`, headers: auth, maxRedirects: 5 });
    assert.equal(await same.text(), 'hello');
    assert.equal(same.url.toString(), `${base}/hello`);
    assert.equal(last('main/hello')?.authorization, 'Bearer s3cret');

    const cross = await client.request({ url: `${base}/cross-origin`, headers: auth, maxRedirects: 5 });
    assert.equal(await cross.text(), 'other');
    assert.equal(last('other/x')?.authorization, undefined);

    // Credentials scoped by the caller, per hop.
    const scoped = await client.request({
      url: `${base}/cross-origin`,
      maxRedirects: 5,
      authorizationFor: (u) => (u.origin === other ? 'Basic b3RoZXI=' : undefined),
    });
    await scoped.discard();
    assert.equal(last('main/cross-origin')?.authorization, undefined);
    assert.equal(last('other/x')?.authorization, 'Basic b3RoZXI=');

    const post = await client.request({
      method: 'POST',
      url: `${base}/post-redirect`,
      body: 'data',
      maxRedirects: 1,
    });
    await post.discard();
    assert.deepEqual(last('main/hello'), {
      path: 'main/hello',
      authorization: undefined,
      method: 'GET',
      body: '',
    });

    await rejectsWith(
      client.request({ url: `${base}/loop`, maxRedirects: 3 }),
      'TooManyRedirects',
      /loop: more than 3 redirects/,
    );
  });

  it('shares one client per configuration', () => {
    assert.equal(httpClient({ timeoutMs: 5 }), httpClient({ timeoutMs: 5 }));
    assert.notEqual(httpClient({ timeoutMs: 5 }), httpClient({ timeoutMs: 6 }));
    assert.equal(
      httpClient({ tls: { ca: Buffer.from('a') } }),
      httpClient({ tls: { ca: Buffer.from('a') } }),
    );
    assert.notEqual(
      httpClient({ tls: { ca: Buffer.from('a') } }),
      httpClient({ tls: { ca: Buffer.from('b') } }),
    );
  });

  describe('TLS and proxies', () => {
    let dir: string;
    let pem: Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', Buffer>;
    let tlsAddr: string;
    let mtlsAddr: string;
    const tlsServers: Server[] = [];
    before(async function () {
      this.timeout(60_000);
      dir = await mkdtemp(join(tmpdir(), 'tide-http-tls-'));
      const pki = await makePki(dir);
      pem = {
        ca: await readFile(pki.caCert),
        serverCert: await readFile(pki.apiserverCert),
        serverKey: await readFile(pki.apiserverKey),
        clientCert: await readFile(pki.adminCert),
        clientKey: await readFile(pki.adminKey),
      };
      const hello = (_req: IncomingMessage, res: ServerResponse) => res.end('secure hello');
      const tls = createTlsServer({ cert: pem.serverCert, key: pem.serverKey }, hello);
      const mtls = createTlsServer(
        { cert: pem.serverCert, key: pem.serverKey, ca: pem.ca, requestCert: true, rejectUnauthorized: true },
        hello,
      );
      tlsServers.push(tls, mtls);
      tlsAddr = await listen(tls);
      mtlsAddr = await listen(mtls);
    });
    after(async () => {
      await Promise.all(tlsServers.map(close));
      await rm(dir, { recursive: true, force: true });
    });

    it('trusts a CA besides the system roots, or skips verification when told', async () => {
      await assert.rejects(createHttpClient().request({ url: `https://${tlsAddr}/` }), (err: unknown) => {
        assert.ok(isHttpError(err, 'Tls'), String(err));
        assert.match(err.code ?? '', /UNABLE_TO|SELF_SIGNED/);
        return true;
      });
      const withCa = createHttpClient({ tls: { ca: pem.ca } });
      assert.equal(await (await withCa.request({ url: `https://${tlsAddr}/` })).text(), 'secure hello');
      const onlyCa = createHttpClient({ tls: { ca: pem.ca, systemRoots: false } });
      assert.equal(await (await onlyCa.request({ url: `https://${tlsAddr}/` })).text(), 'secure hello');
      const insecure = createHttpClient({ tls: { insecureSkipVerify: true } });
      assert.equal(await (await insecure.request({ url: `https://${tlsAddr}/` })).text(), 'secure hello');
      await Promise.all([withCa.close(), onlyCa.close(), insecure.close()]);
    });

    it('presents a client certificate for mutual TLS', async () => {
      const noCert = createHttpClient({ tls: { ca: pem.ca } });
      await assert.rejects(noCert.request({ url: `https://${mtlsAddr}/` }), (err: unknown) =>
        isHttpError(err),
      );
      const withCert = createHttpClient({ tls: { ca: pem.ca, cert: pem.clientCert, key: pem.clientKey } });
      assert.equal(await (await withCert.request({ url: `https://${mtlsAddr}/` })).text(), 'secure hello');
      await Promise.all([noCert.close(), withCert.close()]);
    });

    it('goes through a proxy: forwarding plain HTTP, tunnelling HTTPS, with credentials', async () => {
      const proxy = await startProxy({ username: 'pu', password: 's3cret' });
      try {
        const client = createHttpClient({
          tls: { ca: pem.ca },
          proxy: { address: proxy.url, username: 'pu', password: 's3cret' },
        });
        assert.equal(await (await client.request({ url: `${base}/hello` })).text(), 'hello');
        assert.equal(await (await client.request({ url: `https://${tlsAddr}/` })).text(), 'secure hello');
        assert.deepEqual(requestLines(proxy), [`GET ${base}/hello`, `CONNECT ${tlsAddr}`]);
        await client.close();

        // Credentials in the proxy URL work the same; wrong ones are refused without showing them.
        const inUrl = createHttpClient({ proxy: { address: proxy.url.replace('//', '//pu:s3cret@') } });
        assert.equal(await (await inUrl.request({ url: `${base}/hello` })).text(), 'hello');
        await inUrl.close();
        const wrong = createHttpClient({
          tls: { ca: pem.ca },
          proxy: { address: proxy.url, username: 'pu', password: 'nope' },
        });
        await rejectsWith(wrong.request({ url: `https://${tlsAddr}/` }), 'Proxy', /407/);
        await rejectsWith(wrong.request({ url: `${base}/hello` }), 'Proxy', /Proxy Authentication Required/);
        await wrong.close();
        assert.equal(refusedCount(proxy), 2);
      } finally {
        await proxy.close();
      }
    });
  });
});
