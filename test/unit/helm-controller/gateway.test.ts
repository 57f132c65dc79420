// The helm runs' API gateway: TLS with its own certificate, the run's token, requests passed on with
// the reconcile's client, and Helm's storage requests moved to the storage namespace.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { Readable } from 'node:stream';
import { createGateway, redirectPath } from '../../../controllers/helm/gateway.ts';
import { selfSignedCertificate } from '../../../controllers/helm/selfsigned.ts';
import type { Client, ForwardRequest } from '../../../controllers/runtime/client.ts';
import type { HttpResponse } from '../../../controllers/runtime/http.ts';

const storage = { driver: 'secret' as const, from: 'apps', to: 'flux-system' };
const none = Buffer.alloc(0);

describe('helm-controller gateway', () => {
  it('moves Helm storage requests of the release namespace to the storage namespace', () => {
    const r = (method: string, path: string, body = none) => redirectPath(method, path, body, storage);
    assert.equal(
      r('GET', '/api/v1/namespaces/apps/secrets/sh.helm.release.v1.web.v3'),
      '/api/v1/namespaces/flux-system/secrets/sh.helm.release.v1.web.v3',
    );
    assert.equal(
      r('GET', '/api/v1/namespaces/apps/secrets?labelSelector=name%3Dweb%2Cowner%3Dhelm'),
      '/api/v1/namespaces/flux-system/secrets?labelSelector=name%3Dweb%2Cowner%3Dhelm',
    );
    const create = Buffer.from(JSON.stringify({ metadata: { name: 'sh.helm.release.v1.web.v4' } }));
    assert.equal(
      r('POST', '/api/v1/namespaces/apps/secrets', create),
      '/api/v1/namespaces/flux-system/secrets',
    );
    // The chart's own Secrets, other resources and other namespaces stay where they are.
    assert.equal(
      r('GET', '/api/v1/namespaces/apps/secrets/web-tls'),
      '/api/v1/namespaces/apps/secrets/web-tls',
    );
    const own = Buffer.from(JSON.stringify({ metadata: { name: 'web-tls' } }));
    assert.equal(r('POST', '/api/v1/namespaces/apps/secrets', own), '/api/v1/namespaces/apps/secrets');
    assert.equal(
      r('GET', '/api/v1/namespaces/apps/configmaps/sh.helm.release.v1.web.v3'),
      '/api/v1/namespaces/apps/configmaps/sh.helm.release.v1.web.v3',
    );
    assert.equal(
      r('GET', '/api/v1/namespaces/other/secrets/sh.helm.release.v1.web.v3'),
      '/api/v1/namespaces/other/secrets/sh.helm.release.v1.web.v3',
    );
    assert.equal(
      redirectPath('GET', '/api/v1/namespaces/apps/secrets/sh.helm.release.v1.web.v3', none, {
        ...storage,
        to: 'apps',
      }),
      '/api/v1/namespaces/apps/secrets/sh.helm.release.v1.web.v3',
    );
  });

  it('makes a certificate for 127.0.0.1 that is its own trust anchor', () => {
    // Many, so that every shape of random serial number is encoded (DER wants it minimal).
    for (let i = 0; i < 200; i++) new X509Certificate(selfSignedCertificate('test').cert);
    const { cert } = selfSignedCertificate('test');
    const x = new X509Certificate(cert);
    assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
    assert.ok(x.ca);
    assert.ok(x.verify(x.publicKey), 'self-signed');
    assert.ok(Date.parse(x.validFrom) < Date.now() && Date.now() < Date.parse(x.validTo));
  });

  it("answers only a session's token, over TLS, and passes requests on with its client", async () => {
    const seen: ForwardRequest[] = [];
    const client = {
      forward: async (req: ForwardRequest): Promise<HttpResponse> => {
        seen.push(req);
        return {
          status: 200,
          statusText: 'OK',
          headers: { 'content-type': 'application/json' },
          url: new URL('https://api'),
          body: Readable.from([Buffer.from('{"kind":"Secret"}')]),
          header: (n: string) => (n === 'content-type' ? 'application/json' : undefined),
        } as unknown as HttpResponse;
      },
    } as unknown as Client;
    const gateway = createGateway();
    const gw = await gateway.open({ client, storage });
    const other = await gateway.open({ client, storage });
    const call = (auth: string | undefined, path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${gw.url}${path}`,
          { ca: gw.ca, headers: auth ? { authorization: auth } : {} },
          (res) => {
            let body = '';
            res.on('data', (c) => {
              body += c;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      assert.equal((await call(undefined, '/version')).status, 401);
      assert.equal((await call('Bearer wrong', '/version')).status, 401);
      assert.equal(seen.length, 0);
      const ok = await call(
        `Bearer ${gw.token}`,
        '/api/v1/namespaces/apps/secrets/sh.helm.release.v1.web.v1',
      );
      assert.deepEqual(ok, { status: 200, body: '{"kind":"Secret"}' });
      assert.equal(seen[0]?.path, '/api/v1/namespaces/flux-system/secrets/sh.helm.release.v1.web.v1');
      assert.equal(seen[0]?.method, 'GET');
      gw.close();
      assert.equal((await call(`Bearer ${gw.token}`, '/version')).status, 401, 'a closed session is gone');
      assert.equal((await call(`Bearer ${other.token}`, '/version')).status, 200, 'other sessions go on');
    } finally {
      await gateway.close();
    }
  });
});
