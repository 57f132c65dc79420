// Registry authentication and integrity: a second docker-registry with TLS (a private CA) and
// htpasswd basic auth, credentials from a real dockerconfigjson Secret, and distribution's Bearer
// token flow through a token proxy that can also tamper with what the registry serves.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { pullArtifact, pushArtifact, resolveArtifactRef } from '../../../controllers/runtime/oci/artifact.ts';
import { credentialsFromSecret, dockerConfigJson } from '../../../controllers/runtime/oci/auth.ts';
import { createRegistryClient, type RegistryClient } from '../../../controllers/runtime/oci/client.ts';
import { isOciError, OciAuthError, OciDigestMismatchError } from '../../../controllers/runtime/oci/errors.ts';
import { computeDigest } from '../../../controllers/runtime/oci/reference.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import {
  type AuthRegistry,
  makeTarGz,
  startAuthRegistry,
  startTokenProxy,
  type TokenProxy,
} from './fixtures.ts';

const user = { username: 'tide-bot', password: 'S3cr3t:pa55-word' };
const wrong = { username: 'tide-bot', password: 'Wr0ng-guess-pa55' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Asserts that no form of the password is anywhere in the error a user or a log would see. */
function assertNoSecret(e: unknown, password: string): void {
  const err = e as Error;
  const seen = `${err.message}\n${err.stack ?? ''}\n${String(err)}\n${JSON.stringify(err)}`;
  for (const form of [password, b64(password), b64(`${user.username}:${password}`)]) {
    assert.ok(!seen.includes(form), `the error shows the password: ${seen}`);
  }
}

describe('oci client: htpasswd registry over TLS', () => {
  const ns = useNamespace('oci-auth');
  const repo = 'tide/private';
  let reg: AuthRegistry;
  let layer: Buffer;
  let pushedDigest: string;
  const clients: RegistryClient[] = [];
  const client = (opts: Omit<Parameters<typeof createRegistryClient>[0], 'registry'>) => {
    const c = createRegistryClient({ registry: reg.host, ...opts });
    clients.push(c);
    return c;
  };

  before(async function () {
    this.timeout(90_000);
    reg = await startAuthRegistry(await mkdtemp(join(testbed().dir, 'oci-auth-')), user);
    layer = await makeTarGz({ 'app.yaml': 'kind: Namespace\n' });
    const admin = client({ credentials: user, caCert: reg.caCert });
    ({ digest: pushedDigest } = await pushArtifact(admin, repo, { layer, tags: ['1.0.0'] }));
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await reg?.close();
  });

  it('refuses anonymous access with a typed error that says credentials are needed', async () => {
    const anon = client({ caCert: reg.caCert });
    await assert.rejects(anon.listTags(repo), (e: unknown) => {
      assert.ok(e instanceof OciAuthError, String(e));
      assert.equal(e.status, 401);
      assert.match(e.message, /anonymous access refused \(HTTP 401\); credentials are needed/);
      return true;
    });
    await assert.rejects(anon.headManifest(repo, '1.0.0'), (e: unknown) => isOciError(e, 'Unauthorized'));
  });

  it('pulls with the credentials of a kubernetes.io/dockerconfigjson Secret', async () => {
    const core = testbed().kubeconfig.makeApiClient(CoreV1Api);
    // `https://host` is one of the key forms `docker login` writes.
    await core.createNamespacedSecret({
      namespace: ns(),
      body: {
        metadata: { name: 'registry-creds' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': b64(dockerConfigJson(`https://${reg.host}`, user)) },
      },
    });
    const secret = await core.readNamespacedSecret({ name: 'registry-creds', namespace: ns() });
    const credentials = credentialsFromSecret(secret, reg.host);
    assert.deepEqual(credentials, user);
    const c = client({ credentials, caCert: reg.caCert });
    assert.deepEqual(await c.listTags(repo), ['1.0.0']);
    const resolved = await resolveArtifactRef(c, repo, { tag: '1.0.0' });
    assert.equal(resolved.revision, `1.0.0@${pushedDigest}`);
    const dir = await mkdtemp(join(testbed().dir, 'oci-pull-'));
    await pullArtifact(c, repo, resolved, dir);
    assert.deepEqual(await readdir(dir), ['app.yaml']);
  });

  it('refuses a wrong password with a message that does not contain it', async () => {
    const c = client({ credentials: wrong, caCert: reg.caCert });
    await assert.rejects(c.getManifest(repo, '1.0.0'), (e: unknown) => {
      assert.ok(e instanceof OciAuthError, String(e));
      assert.match(e.message, /the registry refused the credentials \(HTTP 401\)/);
      assertNoSecret(e, wrong.password);
      return true;
    });
  });

  it('needs the CA for HTTPS, and insecure (plain HTTP) does not reach a TLS registry', async () => {
    await assert.rejects(client({ credentials: user }).listTags(repo), (e: unknown) => {
      assert.ok(isOciError(e, 'Network'), String(e));
      assert.match(e.message, /certificate/i);
      assert.match(e.message, /for a private CA set its certificate/);
      assertNoSecret(e, user.password);
      return true;
    });
    await assert.rejects(client({ credentials: user, insecure: true }).listTags(repo), (e: unknown) =>
      isOciError(e),
    );
  });
});

describe('oci client: Bearer token flow', () => {
  const repo = `tide-oci/p${process.pid}/tokens`;
  let proxy: TokenProxy;
  let layer: Buffer;
  let digest: string;
  const clients: RegistryClient[] = [];
  const client = (credentials?: { username: string; password: string }) => {
    const c = createRegistryClient({
      registry: proxy.host,
      insecure: true,
      ...(credentials ? { credentials } : {}),
    });
    clients.push(c);
    return c;
  };

  before(async function () {
    this.timeout(60_000);
    proxy = await startTokenProxy(testbed().registry.url, user);
    layer = await makeTarGz({ 'kustomization.yaml': 'resources: []\n' });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await proxy?.close();
  });

  it('gets a token with the basic credentials on the first challenge, then reuses it per scope', async () => {
    const c = client(user);
    ({ digest } = await pushArtifact(c, repo, { layer, tags: ['v1'] }));
    const pushTokens = proxy.tokenRequests.length;
    // The first request (a blob HEAD) is challenged for pull; the token asks for pull and push at once.
    assert.deepEqual(proxy.tokenRequests[0], {
      scopes: [`repository:${repo}:pull,push`],
      service: 'tide-proxy',
      granted: true,
    });
    // Every request of the push (blob HEADs, uploads, the manifest) with one token.
    assert.equal(pushTokens, 1);
    assert.ok(proxy.forwarded >= 7, `only ${proxy.forwarded} requests forwarded`);

    assert.deepEqual(await c.listTags(repo), ['v1']);
    assert.equal((await c.headManifest(repo, 'v1')).digest, digest);
    const pulled = await resolveArtifactRef(c, repo, { tag: 'v1' });
    assert.equal(pulled.digest, digest);
    // Pulling needs a pull-scoped token: exactly one more, however many requests.
    assert.equal(proxy.tokenRequests.length, pushTokens + 1);
    assert.deepEqual(proxy.tokenRequests.at(-1)?.scopes, [`repository:${repo}:pull`]);
  });

  it('follows Link pages of a paginated tag list', async () => {
    const c = client(user);
    const tags = ['a1', 'a2', 'a3', 'a4', 'a5'];
    await pushArtifact(c, repo, { layer, tags });
    const pages = proxy.tagPages;
    assert.deepEqual((await c.listTags(repo, { pageSize: 2 })).sort(), [...tags, 'v1'].sort());
    assert.equal(proxy.tagPages - pages, 3, 'six tags in pages of two');
  });

  it('gets a new token when the registry refuses a cached one (expired or revoked)', async () => {
    const c = client(user);
    await c.listTags(repo);
    const before = proxy.tokenRequests.length;
    proxy.revokeAll();
    assert.ok((await c.listTags(repo)).includes('v1'));
    assert.equal(proxy.tokenRequests.length, before + 1);
  });

  it('refuses anonymous access and a wrong password at the token service, without the password', async () => {
    await assert.rejects(client().listTags(repo), (e: unknown) => {
      assert.ok(e instanceof OciAuthError, String(e));
      assert.match(e.message, /anonymous access refused \(HTTP 401\); credentials are needed/);
      return true;
    });
    await assert.rejects(client(wrong).listTags(repo), (e: unknown) => {
      assert.ok(e instanceof OciAuthError, String(e));
      assert.match(
        e.message,
        new RegExp(
          `token for ${proxy.host}/${repo} from ${proxy.host}: the token service refused the credentials`,
        ),
      );
      assertNoSecret(e, wrong.password);
      return true;
    });
  });

  describe('content verification', () => {
    afterEach(() => {
      proxy.mode = 'pass';
    });

    it('refuses a blob whose bytes do not match its digest, and keeps no file', async () => {
      const c = client(user);
      const dir = await mkdtemp(join(testbed().dir, 'oci-tamper-'));
      const dest = join(dir, 'layer.tgz');
      proxy.mode = 'tamper-blob';
      await assert.rejects(c.fetchBlob(repo, computeDigest(layer), dest), (e: unknown) => {
        assert.ok(e instanceof OciDigestMismatchError, String(e));
        assert.equal(e.expected, computeDigest(layer));
        assert.notEqual(e.actual, e.expected);
        return true;
      });
      assert.deepEqual(await readdir(dir), []);
      await assert.rejects(
        pullArtifact(c, repo, await resolveArtifactRef(c, repo, { tag: 'v1' }), join(dir, 'out')),
        (e: unknown) => isOciError(e, 'DigestMismatch'),
      );
      proxy.mode = 'pass';
      await c.fetchBlob(repo, computeDigest(layer), dest);
      assert.equal(existsSync(dest), true);
    });

    it('refuses a manifest that does not match the digest asked for or announced', async () => {
      const c = client(user);
      proxy.mode = 'tamper-manifest';
      await assert.rejects(c.getManifest(repo, digest), (e: unknown) => {
        assert.ok(e instanceof OciDigestMismatchError, String(e));
        assert.equal(e.expected, digest);
        return true;
      });
      // By tag, the registry's Docker-Content-Digest is what the bytes must match.
      await assert.rejects(c.getManifest(repo, 'v1'), (e: unknown) => isOciError(e, 'DigestMismatch'));
    });

    it('enforces the size limit while streaming when no Content-Length is sent', async () => {
      const c = client(user);
      // Incompressible and larger than loopback socket buffers, so an early stop shows.
      const big = randomBytes(16 * 1024 * 1024);
      const { digest: bigDigest } = await c.pushBlob(repo, big);
      const dest = join(await mkdtemp(join(testbed().dir, 'oci-chunked-')), 'big.bin');
      proxy.mode = 'chunked-blob';
      proxy.lastChunked = undefined;
      await assert.rejects(
        c.fetchBlob(repo, bigDigest, dest, { maxBytes: 1024 }),
        (e: unknown) =>
          isOciError(e, 'SizeLimit') && /exceeds the size limit of 1024 bytes/.test((e as Error).message),
      );
      assert.equal(existsSync(dest), false);
      const cut = await poll('the proxy to see the client go', 10_000, async () => proxy.lastChunked);
      assert.equal(cut.finished, false, 'the client read the whole blob before refusing it');
      assert.ok(cut.sent < big.length, `sent ${cut.sent} bytes`);
      proxy.lastChunked = undefined;
      const ok = await c.fetchBlob(repo, bigDigest, dest, { maxBytes: big.length });
      assert.equal(ok.size, big.length);
      const full = await poll('the proxy to finish', 10_000, async () => proxy.lastChunked);
      assert.deepEqual(
        full,
        { sent: big.length, finished: true },
        'the proxy really streamed without a length',
      );
    });
  });
});
