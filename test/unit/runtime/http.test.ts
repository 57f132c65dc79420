// The shared HTTP client against loopback servers: TLS with a test CA, mutual TLS, proxies (HTTP
// forwarded and tunnelled, SOCKS5, with credentials), connection reuse, size limits, deadlines and
// idle limits, aborts, redirects and what error messages leave out.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  createHttpClient,
  type HttpErrorKind,
  httpClient,
  isHttpError,
  redactUrl,
} from '../../../controllers/runtime/http.ts';
import { makePki } from '../../../hack/testbed/pki.ts';
import { close, listen } from '../../support/listen.ts';
import {
  refusedCount,
  requestLines,
  startProxy,
  startSocksProxy,
  startTlsTerminator,
} from '../../support/proxy.ts';

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
  let connections = 0;

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
    '/empty': (_req, res) => res.writeHead(204).end(),
    // Node's server frames no HEAD answer by itself, and Node's client then closes the connection.
    '/head': (_req, res) => res.writeHead(200, { 'content-length': '5' }).end(),
    '/json': (_req, res) => res.end('{"a":1}'),
    '/large': (_req, res) => res.end('y'.repeat(1 << 20)),
    '/stream': (_req, res) => {
      res.writeHead(200);
      const tick = setInterval(() => res.write('{"tick":1}\n'), 20);
      res.on('close', () => clearInterval(tick));
    },
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
    main.on('connection', () => {
      connections++;
    });
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

  it('sends the credentials of the URL as Basic auth, unless an Authorization header is given', async () => {
    const client = createHttpClient();
    try {
      const withUser = new URL(`${base}/hello`);
      withUser.username = 'alert';
      withUser.password = 'p%40ss';
      await (await client.request({ url: withUser })).discard();
      assert.equal(
        last('main/hello')?.authorization,
        `Basic ${Buffer.from('alert:p@ss').toString('base64')}`,
      );
      await (await client.request({ url: withUser, headers: { Authorization: 'Bearer t' } })).discard();
      assert.equal(last('main/hello')?.authorization, 'Bearer t');
      await (await client.request({ url: `${base}/hello` })).discard();
      assert.equal(last('main/hello')?.authorization, undefined);
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

  it('keeps connections alive and reuses them, however the body was read', async () => {
    const client = createHttpClient();
    try {
      const before = connections;
      for (let i = 0; i < 3; i++) {
        assert.equal(await (await client.request({ url: `${base}/hello` })).text(), 'hello');
        assert.deepEqual(await (await client.request({ url: `${base}/json` })).json(), { a: 1 });
        await (await client.request({ url: `${base}/big` })).discard();
        await (await client.request({ url: `${base}/nope` })).discard();
        const head = await client.request({ method: 'HEAD', url: `${base}/head` });
        assert.equal(head.status, 200);
        const empty = await client.request({ url: `${base}/empty` });
        assert.equal(empty.status, 204);
        assert.equal(await empty.text(), '');
        const chunks: Buffer[] = [];
        await (await client.request({ url: `${base}/chunked` })).pipe(
          new Writable({
            write(c: Buffer, _e, done) {
              chunks.push(c);
              done();
            },
          }),
        );
        assert.equal(Buffer.concat(chunks).length, 1200);
        await (await client.request({ method: 'POST', url: `${base}/hello`, body: 'data' })).text();
        // A body where Node expects none: framed all the same, the connection stays usable.
        const del = await client.request({ method: 'DELETE', url: `${base}/hello`, body: '{"kind":"Ü"}' });
        assert.equal(await del.text(), 'hello');
        assert.equal(last('main/hello')?.body, '{"kind":"Ü"}');
      }
      assert.equal(connections - before, 1, 'one connection for sequential requests');
      const concurrent = () =>
        Promise.all(
          Array.from({ length: 4 }, async () => (await client.request({ url: `${base}/hello` })).text()),
        );
      await concurrent();
      const opened = connections - before;
      assert.ok(opened <= 4, `at most one connection per concurrent request, opened ${opened}`);
      await concurrent();
      assert.equal(connections - before, opened, 'the second round reuses the pooled connections');
    } finally {
      await client.close();
    }
  });

  it('retries a GET once when a kept-alive connection was closed as it was reused', async () => {
    // Answers the first request of each connection, then drops the connection on the next one.
    const served = new WeakMap<object, number>();
    let opened = 0;
    const flaky = createServer((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n > 1) req.socket.destroy();
      else res.end('fresh');
    });
    flaky.on('connection', () => {
      opened++;
    });
    const addr = await listen(flaky);
    const client = createHttpClient();
    try {
      assert.equal(await (await client.request({ url: `http://${addr}/` })).text(), 'fresh');
      assert.equal(await (await client.request({ url: `http://${addr}/` })).text(), 'fresh');
      assert.equal(opened, 2, 'the GET went again on a new connection');
      // Not a POST: the server may have acted on it.
      await rejectsWith(
        client.request({ method: 'POST', url: `http://${addr}/`, body: 'x' }),
        'Network',
        /POST/,
      );
    } finally {
      await client.close();
      await close(flaky);
    }
  });

  it('streams a long response without a deadline until the caller aborts', async () => {
    const ac = new AbortController();
    const res = await httpClient().request({ url: `${base}/stream`, signal: ac.signal });
    let lines = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of res.body) {
          lines += String(chunk).split('\n').length - 1;
          if (lines >= 3) ac.abort();
        }
      })(),
      (err: unknown) => isHttpError(err, 'Aborted') && /stream: aborted$/.test(err.message),
    );
    assert.ok(lines >= 3);
  });

  it('does not count data waiting for a slow reader as the server being idle', async () => {
    const res = await httpClient().request({ url: `${base}/large`, idleTimeoutMs: 100 });
    await sleep(400);
    assert.equal((await res.bytes()).length, 1 << 20);
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
    let pki: Awaited<ReturnType<typeof makePki>>;
    let tlsAddr: string;
    let mtlsAddr: string;
    let tlsConnections = 0;
    const tlsServers: Server[] = [];
    before(async function () {
      this.timeout(60_000);
      dir = await mkdtemp(join(tmpdir(), 'tide-http-tls-'));
      pki = await makePki(dir);
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
      tls.on('secureConnection', () => {
        tlsConnections++;
      });
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

    it('keeps TLS connections alive and reuses them', async () => {
      const client = createHttpClient({ tls: { ca: pem.ca } });
      const before = tlsConnections;
      for (let i = 0; i < 10; i++) {
        assert.equal(await (await client.request({ url: `https://${tlsAddr}/` })).text(), 'secure hello');
      }
      assert.equal(tlsConnections - before, 1);
      await client.close();
    });

    it('goes through a SOCKS5 proxy, with credentials or without, reusing its tunnels', async () => {
      const open = await startSocksProxy();
      const locked = await startSocksProxy({ username: 'su', password: 's3cret' });
      try {
        const client = createHttpClient({ tls: { ca: pem.ca }, proxy: { address: open.url } });
        const { host, port } = new URL(base);
        assert.equal(await (await client.request({ url: `${base}/hello` })).text(), 'hello');
        for (let i = 0; i < 2; i++) {
          assert.equal(await (await client.request({ url: `https://${tlsAddr}/` })).text(), 'secure hello');
        }
        // Names go to the proxy to resolve.
        assert.equal(await (await client.request({ url: `http://localhost:${port}/hello` })).text(), 'hello');
        assert.deepEqual(requestLines(open), [
          `CONNECT ${host}`,
          `CONNECT ${tlsAddr}`,
          `CONNECT localhost:${port}`,
        ]);
        // IPv6 literals go as addresses; this proxy refuses all but 127.0.0.0/8.
        for (const ip of ['::1', '2001:db8::7:0:1', '::ffff:127.0.0.1']) {
          await rejectsWith(
            client.request({ url: `http://[${ip}]:8080/` }),
            'Proxy',
            /the SOCKS5 proxy refused \[.*\]:8080: connection not allowed by ruleset$/,
          );
        }
        assert.deepEqual(requestLines(open).slice(3), [
          'CONNECT [0000:0000:0000:0000:0000:0000:0000:0001]:8080',
          'CONNECT [2001:0db8:0000:0000:0000:0007:0000:0001]:8080',
          'CONNECT [0000:0000:0000:0000:0000:ffff:7f00:0001]:8080',
        ]);
        await client.close();

        const creds = { address: locked.url, username: 'su', password: 's3cret' };
        const withCreds = createHttpClient({ tls: { ca: pem.ca }, proxy: creds });
        assert.equal(await (await withCreds.request({ url: `https://${tlsAddr}/` })).text(), 'secure hello');
        const inUrl = createHttpClient({ proxy: { address: locked.url.replace('//', '//su:s3cret@') } });
        assert.equal(await (await inUrl.request({ url: `${base}/hello` })).text(), 'hello');
        const wrong = createHttpClient({ proxy: { ...creds, password: 'nope' } });
        await rejectsWith(
          wrong.request({ url: `${base}/hello` }),
          'Proxy',
          /hello: the SOCKS5 proxy refused the credentials$/,
        );
        const none = createHttpClient({ proxy: { address: locked.url } });
        await rejectsWith(
          none.request({ url: `${base}/hello` }),
          'Proxy',
          /accepts none of the offered authentication methods \(no credentials given\)/,
        );
        assert.equal(refusedCount(locked), 2);
        await Promise.all([withCreds.close(), inUrl.close(), wrong.close(), none.close()]);
      } finally {
        await Promise.all([open.close(), locked.close()]);
      }
    });

    it('lets the process exit with idle connections pooled, direct and through proxies', async function () {
      this.timeout(150_000);
      // Servers that would keep idle connections for long: only the client's unref lets the child exit.
      const [main, tls] = [servers[0], tlsServers[0]] as [Server, Server];
      main.keepAliveTimeout = tls.keepAliveTimeout = 600_000;
      const forward = await startProxy({ username: 'pu', password: 's3cret' });
      const httpsProxy = await startTlsTerminator(Number(new URL(forward.url).port), {
        certFile: pki.apiserverCert,
        keyFile: pki.apiserverKey,
      });
      const socks = await startSocksProxy();
      // Every combination once: direct, through an HTTPS proxy (whose certificate the child trusts
      // through NODE_EXTRA_CA_CERTS, as the system roots), through SOCKS5; http:// and https://.
      const script = `
        const [module, caFile, ...urls] = process.argv.slice(1);
        const { httpClient } = await import(module);
        const ca = (await import('node:fs')).readFileSync(caFile);
        const [plain, secure, ...proxies] = urls;
        const out = [];
        for (const address of [undefined, ...proxies]) {
          const client = httpClient({ tls: { ca }, ...(address ? { proxy: { address } } : {}) });
          for (const url of [plain, secure]) out.push(await (await client.request({ url })).text());
        }
        // What still keeps the event loop alive once the last connection went back to its pool.
        await new Promise((resolve) => setImmediate(resolve));
        console.log(out.join(','));
        console.log(process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Timeout/.test(r)).join(',') || 'none');
      `;
      const module = fileURLToPath(new URL('../../../controllers/runtime/http.ts', import.meta.url));
      const args = ['--input-type=module', '-e', script, module, pki.caCert, `${base}/hello`];
      args.push(`https://${tlsAddr}/`, `https://pu:s3cret@127.0.0.1:${httpsProxy.port}`, socks.url);
      try {
        const stdout = await new Promise<string>((resolve, reject) =>
          execFile(
            process.execPath,
            args,
            { env: { ...process.env, NODE_EXTRA_CA_CERTS: pki.caCert }, timeout: 120_000 },
            (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out)),
          ),
        );
        const [bodies, holding] = stdout.trim().split('\n');
        assert.equal(bodies, Array(3).fill('hello,secure hello').join(','));
        assert.equal(holding, 'none', 'no socket or timer keeps the process alive');
        assert.deepEqual(requestLines(forward), [`GET ${base}/hello`, `CONNECT ${tlsAddr}`]);
        assert.equal(refusedCount(forward), 0);
        assert.deepEqual(requestLines(socks), [`CONNECT ${new URL(base).host}`, `CONNECT ${tlsAddr}`]);
      } finally {
        main.keepAliveTimeout = tls.keepAliveTimeout = 5_000;
        await Promise.all([forward.close(), httpsProxy.close(), socks.close()]);
      }
    });
  });
});
