// The helm runs' API gateway against hostile clients on its loopback port: no or a wrong token (401,
// nothing passed on), a body over the API server's 3 MiB limit (413, unread, nothing passed on), a client
// gone mid-body (the controller keeps running), and a slow-loris client (dropped, 408).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createGateway, maxGatewayBodyBytes } from '../../../controllers/helm/gateway.ts';
import type { Client, ForwardRequest } from '../../../controllers/runtime/client.ts';
import type { HttpResponse } from '../../../controllers/runtime/http.ts';
import { request, slowLoris, streamBody, type Target } from '../../support/httpabuse.ts';

const MiB = 1024 * 1024;

describe('helm-controller gateway: hostile clients', () => {
  const seen: ForwardRequest[] = [];
  const client = {
    forward: async (req: ForwardRequest): Promise<HttpResponse> => {
      seen.push(req);
      return {
        status: 201,
        statusText: 'Created',
        headers: {},
        url: new URL('https://api'),
        body: Readable.from([Buffer.from('{}')]),
        header: () => undefined,
      } as unknown as HttpResponse;
    },
  } as unknown as Client;
  const gateway = createGateway({ headersTimeoutMs: 1500, requestTimeoutMs: 3000 });
  let target: Target = { port: 0 };
  let token = '';
  before(async () => {
    const s = await gateway.open({ client });
    token = s.token;
    target = { port: Number(new URL(s.url).port), tls: true };
  });
  after(() => gateway.close());
  const path = '/api/v1/namespaces/apps/secrets';

  it('answers 401 without the session token, and passes nothing on', async () => {
    seen.length = 0;
    assert.equal((await request(target, 'POST', path, '{}')).status, 401);
    assert.equal((await request(target, 'POST', path, '{}', { authorization: 'Bearer forged' })).status, 401);
    assert.equal((await request(target, 'POST', path, '{}', { authorization: token })).status, 401);
    const big = await streamBody(target, path, 50 * MiB, { authorization: 'Bearer forged' });
    assert.equal(big.status, 401);
    assert.ok(big.sent < 50 * MiB, 'the refused body was drained');
    assert.equal(seen.length, 0);
  });

  it('answers 413 to a body over the limit, as the API server would, and passes nothing on', async () => {
    seen.length = 0;
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await request(target, 'POST', path, '{}', auth)).status, 201, 'the control case');
    assert.equal(seen.length, 1);
    seen.length = 0;
    const r = await streamBody(target, path, 50 * MiB, auth);
    assert.equal(r.status, 413);
    assert.match(r.response, /RequestEntityTooLarge/);
    assert.ok(r.sent < 50 * MiB);
    const declared = await request(target, 'POST', path, '', {
      ...auth,
      'content-length': String(maxGatewayBodyBytes + 1),
    });
    assert.equal(declared.status, 413);
    assert.equal(seen.length, 0);
  });

  it('survives a client that goes away mid-body', async () => {
    const { connect } = await import('node:tls');
    await new Promise<void>((resolve) => {
      const s = connect({ port: target.port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
        s.write(
          `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-length: 1000\r\n\r\nabc`,
        );
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 100);
      });
    });
    // Still serving: an unhandled rejection would have ended this process (mocha fails the run).
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await request(target, 'POST', path, '{}', auth)).status, 201);
  });

  it('drops a client whose headers never finish (slow loris)', async () => {
    const r = await slowLoris(target, 200);
    assert.ok(r.bytes > 0, 'the client was still trickling bytes');
    assert.equal(r.status, 408);
  });
});
