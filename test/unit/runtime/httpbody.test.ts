// The request-body limit and connection timeouts every Tide server shares (runtime/httpbody.ts,
// runtime/listen.ts), against hostile clients on loopback sockets.
import assert from 'node:assert/strict';
import { BodyTooLargeError, closeAfter, readBody } from '../../../controllers/runtime/httpbody.ts';
import { type Listener, listen } from '../../../controllers/runtime/listen.ts';
import { request, slowLoris, streamBody } from '../../support/httpabuse.ts';

const MiB = 1024 * 1024;

describe('runtime/httpbody: bounded request bodies', () => {
  let server: Listener | undefined;
  const received: number[] = [];
  before(async () => {
    server = await listen(
      '127.0.0.1:0',
      (req, res) => {
        readBody(req, 3 * MiB).then(
          (body) => {
            received.push(body.length);
            res.writeHead(200).end(String(body.length));
          },
          (err) => {
            if (err instanceof BodyTooLargeError) closeAfter(req, res);
            res.writeHead(err instanceof BodyTooLargeError ? 413 : 400).end();
          },
        );
      },
      { readsBodies: true },
    );
  });
  after(() => server?.close());
  const target = () => ({ port: server?.port ?? 0 });

  it('reads a body up to the limit whole', async () => {
    const r = await request(target(), 'POST', '/', 'x'.repeat(1000));
    assert.equal(r.status, 200);
    assert.match(r.response, /\r\n1000\r\n/);
  });

  it('answers 413 to a declared Content-Length over the limit without reading the body', async () => {
    const r = await request(target(), 'POST', '/', '', { 'content-length': String(50 * MiB) });
    assert.equal(r.status, 413);
  });

  it('answers 413 to a chunked 50 MiB stream and closes the connection long before it is sent', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await streamBody(target(), '/', 50 * MiB);
      assert.equal(r.status, 413, `attempt ${i}: ${r.response.slice(0, 80)}`);
      assert.match(r.response, /connection: close/i);
      assert.ok(r.sent < 25 * MiB, `the client got to send ${r.sent} bytes`);
    }
    assert.ok(!received.some((n) => n > 3 * MiB));
  });

  it('keeps the RSS of the server flat while refusing big uploads', async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    await Promise.all([1, 2, 3, 4].map(() => streamBody(target(), '/', 50 * MiB)));
    const grown = process.memoryUsage().rss - before;
    // Four whole bodies would be 200 MiB; what is read is at most the limit plus a few socket buffers each.
    assert.ok(grown < 64 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
  });
});

describe('runtime/listen: slow clients', () => {
  it('closes the connection of a request whose body the handler does not read, without draining it', async () => {
    const server = await listen('127.0.0.1:0', (_req, res) => res.writeHead(404).end());
    try {
      const r = await streamBody({ port: server.port }, '/', 50 * MiB);
      assert.equal(r.status, 404);
      assert.match(r.response, /connection: close/i);
      assert.ok(r.sent < 25 * MiB, `the client got to send ${r.sent} bytes`);
    } finally {
      await server.close();
    }
  });

  it('drops a connection whose headers never finish (slow loris) with 408', async function () {
    this.timeout(30_000);
    const server = await listen('127.0.0.1:0', (_req, res) => res.end('ok'), {
      headersTimeoutMs: 1500,
      requestTimeoutMs: 3000,
    });
    try {
      const r = await slowLoris({ port: server.port }, 200);
      assert.equal(r.status, 408);
      assert.ok(r.bytes > 0, 'the client was still trickling bytes');
    } finally {
      await server.close();
    }
  });
});
