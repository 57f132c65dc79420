// source-controller's OCIRepository, run as its own process against the test bed's registry (plain
// HTTP, anonymous) and a second registry with TLS and htpasswd basic auth.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import type { OCIRepository } from '../../../controllers/api/source.ts';
import { Annotation, FluxMediaType, pushArtifact } from '../../../controllers/runtime/oci/artifact.ts';
import { dockerConfigJson } from '../../../controllers/runtime/oci/auth.ts';
import { createRegistryClient, type RegistryClient } from '../../../controllers/runtime/oci/client.ts';
import { freePort, poll } from '../../../hack/testbed/proc.ts';
import { requestLines, startProxy } from '../../support/proxy.ts';
import {
  sourceApiVersion as apiVersion,
  cond,
  artifactContents as contents,
  download,
  sha256,
  useSourceController,
} from '../../support/sources.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { type AuthRegistry, makeTarGz, startAuthRegistry } from '../oci/fixtures.ts';

const kind = 'OCIRepository';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pushed {
  digest: string;
  layer: Buffer;
  files: Record<string, string>;
}

/** What `flux push artifact` would record about the Git commit the artifact was built from. */
const annotationsFor = (version: string) => ({
  [Annotation.source]: 'https://github.com/tide/app.git',
  [Annotation.revision]: `${version}@sha1:${createHash('sha1').update(version).digest('hex')}`,
  [Annotation.created]: '2026-01-01T00:00:00Z',
});

describe('source-controller: OCIRepository', function () {
  this.timeout(180_000);
  const ns = useNamespace('ocirepo');
  const repo = `tide/ocirepo-${process.pid}/app`;
  const source = useSourceController([
    '--artifact-retention-records=2',
    '--artifact-retention-ttl=1h',
    // Small, so that a layer (or its extracted content) can go over it in a test.
    '--max-source-size=64Ki',
    '--concurrent=4',
  ]);
  const { patchSpec, requestReconcile, waitReady, waitNotReady } = source.kind<OCIRepository>(kind, ns);
  let oci: RegistryClient;
  const pushed: Record<string, Pushed> = {};
  const urlOf = (repository: string) => `oci://${testbed().registry.host}/${repository}`;

  async function push(repository: string, version: string, tags: string[]): Promise<Pushed> {
    const files = {
      'deploy/app.yaml': `kind: ConfigMap\nversion: ${version}\n`,
      'README.md': `v${version}\n`,
      'logo.png': 'not really a png',
    };
    const layer = await makeTarGz(files);
    const { digest } = await pushArtifact(oci, repository, {
      layer,
      tags,
      annotations: annotationsFor(version),
    });
    return { digest, layer, files };
  }

  before(async () => {
    const tb = testbed();
    oci = createRegistryClient({ registry: tb.registry.host, insecure: true });
    pushed.v100 = await push(repo, '1.0.0', ['1.0.0']);
    pushed.v110 = await push(repo, '1.1.0', ['1.1.0', 'latest']);
    pushed.rc = await push(repo, '2.0.0-rc.1', ['2.0.0-rc.1']);
  });

  after(async () => {
    await oci?.close();
  });

  const create = (name: string, spec: Partial<OCIRepository['spec']>) =>
    source.client.create({
      apiVersion,
      kind,
      metadata: { name, namespace: ns() },
      spec: { url: urlOf(repo), interval: '10m', insecure: true, ...spec },
    });
  const ref = (name: string) => ({ apiVersion, kind, namespace: ns(), name });
  const without = (files: Record<string, string>, ...drop: string[]) =>
    Object.fromEntries(Object.entries(files).filter(([k]) => !drop.includes(k)));

  it('stores a tag as an artifact named after its digest, whose digest is the sha256 of the served bytes', async () => {
    await create('tag', { ref: { tag: '1.0.0' } });
    const o = await waitReady('tag');
    const a = o.status!.artifact!;
    const { digest } = pushed.v100!;
    assert.equal(a.revision, `1.0.0@${digest}`);
    assert.equal(a.path, `ocirepository/${ns()}/tag/${digest}.tar.gz`);
    assert.equal(cond(o, ConditionTypes.Ready)?.message, `stored artifact for digest '1.0.0@${digest}'`);
    assert.equal(cond(o, ConditionTypes.ArtifactInStorage)?.status, 'True');
    const bytes = await download(a.url);
    assert.equal(sha256(bytes), a.digest);
    assert.equal(bytes.length, a.size);
    // The layer's files, re-archived with Flux's default exclusions (images).
    assert.deepEqual(await contents(a.url), without(pushed.v100!.files, 'logo.png'));
    assert.deepEqual(a.metadata, annotationsFor('1.0.0'));
  });

  it('resolves semver, semverFilter, the default tag and a digest to Flux revision strings', async () => {
    await create('semver', { ref: { semver: '1.x' } });
    await create('filtered', { ref: { semver: '>=1.0.0-0', semverFilter: '-rc\\.' } });
    await create('default', {});
    // A digest wins over a tag.
    await create('digest', { ref: { digest: pushed.v100!.digest, tag: '1.1.0' } });
    const objs = await Promise.all(['semver', 'filtered', 'default', 'digest'].map((n) => waitReady(n)));
    assert.deepEqual(
      objs.map((o) => o.status!.artifact!.revision),
      [
        `1.1.0@${pushed.v110!.digest}`,
        `2.0.0-rc.1@${pushed.rc!.digest}`,
        `latest@${pushed.v110!.digest}`,
        pushed.v100!.digest,
      ],
    );
    // The same layer gives the same artifact digest whichever ref found it.
    const byTag = (await waitReady('tag')).status!.artifact!;
    assert.equal(objs[3]!.status!.artifact!.digest, byTag.digest);
    assert.equal(objs[0]!.status!.artifact!.digest, objs[2]!.status!.artifact!.digest);
    assert.deepEqual(await contents(objs[0]!.status!.artifact!.url), without(pushed.v110!.files, 'logo.png'));
  });

  it('stores the layer blob as is with operation copy', async () => {
    const layerSelector = { mediaType: FluxMediaType.content, operation: 'copy' as const };
    await create('copy', { ref: { tag: '1.0.0' }, layerSelector });
    const o = await waitReady('copy');
    const a = o.status!.artifact!;
    assert.equal(a.path, `ocirepository/${ns()}/copy/${pushed.v100!.digest}.tar.gz`);
    const bytes = await download(a.url);
    assert.ok(bytes.equals(pushed.v100!.layer), 'the served file is the pushed layer');
    assert.equal(a.digest, sha256(pushed.v100!.layer));
    assert.deepEqual(o.status?.observedLayerSelector, layerSelector);
  });

  it('applies spec.ignore, and rebuilds the same revision when it changes', async () => {
    await create('ignore', { ref: { tag: '1.0.0' }, ignore: '*.md\n' });
    let o = await waitReady('ignore');
    // spec.ignore replaces the default exclusions: the image stays.
    assert.deepEqual(await contents(o.status!.artifact!.url), without(pushed.v100!.files, 'README.md'));
    assert.equal(o.status?.observedIgnore, '*.md\n');
    const first = o.status!.artifact!;

    await patchSpec('ignore', { ignore: 'deploy/\n' });
    o = await waitReady('ignore', (x) => x.status?.observedIgnore === 'deploy/\n');
    assert.equal(o.status!.artifact!.revision, first.revision);
    assert.notEqual(o.status!.artifact!.digest, first.digest);
    assert.deepEqual(await contents(o.status!.artifact!.url), without(pushed.v100!.files, 'deploy/app.yaml'));
  });

  it('pulls nothing while the revision is unchanged, and picks up a new tag on requestedAt', async () => {
    const updates = `${repo}-updates`;
    await push(updates, '1.0.0', ['1.0.0']);
    await create('update', { url: urlOf(updates), ref: { semver: '1.x' } });
    const before = (await waitReady('update')).status!.artifact!;
    const file = join(source.storagePath, before.path);
    const mtime = (await stat(file)).mtimeMs;

    // lastUpdateTime has second precision: a rebuild after this pause would show in it.
    await sleep(1_100);
    await requestReconcile('update', 'same-1');
    let o = await waitReady('update', (x) => x.status?.lastHandledReconcileAt === 'same-1');
    assert.deepEqual(o.status!.artifact, before);
    assert.equal((await stat(file)).mtimeMs, mtime, 'the artifact file was not rewritten');

    const v120 = await push(updates, '1.2.0', ['1.2.0']);
    await requestReconcile('update', 'new-1');
    o = await waitReady('update', (x) => x.status?.lastHandledReconcileAt === 'new-1');
    const a = o.status!.artifact!;
    assert.equal(a.revision, `1.2.0@${v120.digest}`);
    assert.notEqual(a.digest, before.digest);
    assert.equal(cond(o, ConditionTypes.ArtifactOutdated), undefined);
    assert.deepEqual(await contents(a.url), without(v120.files, 'logo.png'));

    const origin = annotationsFor('1.2.0');
    const event = await poll('NewArtifact event', 30_000, async () => {
      const events = await source.client.list(
        { group: '', version: 'v1', kind: 'Event' },
        { namespace: ns(), fieldSelector: 'involvedObject.name=update,reason=NewArtifact' },
      );
      return events.items
        .map((e) => (e as { message?: string }).message ?? '')
        .find((m) => m.includes(a.revision));
    });
    assert.equal(
      event,
      `stored artifact with revision '${a.revision}' from '${urlOf(updates)}', ` +
        `origin source '${origin[Annotation.source]}', origin revision '${origin[Annotation.revision]}'`,
    );
  });

  it('keeps serving the last artifact when the tag, the layer or the registry go bad', async () => {
    await create('bad', { ref: { tag: '1.0.0' } });
    const good = (await waitReady('bad')).status!.artifact!;

    await patchSpec('bad', { ref: { tag: 'does-not-exist' } });
    let o = await waitNotReady('bad', /does-not-exist/);
    assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'OCIArtifactPullFailed');
    assert.equal(cond(o, ConditionTypes.Stalled), undefined);
    assert.deepEqual(o.status!.artifact, good);
    assert.equal(sha256(await download(good.url)), good.digest);

    await patchSpec('bad', { ref: { tag: '1.0.0' }, layerSelector: { mediaType: 'application/x-unknown' } });
    o = await waitNotReady('bad', /failed to find layer with media type 'application\/x-unknown'/);
    assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'OCIArtifactLayerOperationFailed');
    assert.deepEqual(o.status!.artifact, good);

    // A port nothing listens on.
    const closed = `127.0.0.1:${await freePort()}`;
    await patchSpec('bad', { url: `oci://${closed}/nothing`, layerSelector: null });
    o = await waitNotReady('bad', new RegExp(`${closed.replaceAll('.', '\\.')}.*ECONNREFUSED`));
    assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'OCIArtifactPullFailed');
    assert.deepEqual(o.status!.artifact, good);
    assert.equal(sha256(await download(good.url)), good.digest);
  });

  it('stalls on a URL that carries a tag', async () => {
    await create('url-tag', { url: `${urlOf(repo)}:1.0.0` });
    const o = await waitNotReady('url-tag', /must not contain a tag/);
    assert.equal(cond(o, ConditionTypes.Stalled)?.status, 'True');
    assert.equal(cond(o, ConditionTypes.Stalled)?.reason, 'URLInvalid');
  });

  it('stalls on what it does not implement (cloud providers, signature verification), naming the field', async () => {
    await create('aws', { provider: 'aws' });
    let o = await waitNotReady('aws', /spec.provider 'aws' is not supported by Tide/);
    assert.equal(cond(o, ConditionTypes.Stalled)?.status, 'True');
    assert.equal(cond(o, ConditionTypes.Stalled)?.reason, 'UnsupportedField');
    assert.equal(cond(o, ConditionTypes.Ready)?.reason, 'UnsupportedField');
    assert.equal(o.status?.artifact, undefined);
    await create('verify', { verify: { provider: 'cosign' } });
    o = await waitNotReady('verify', /spec.verify is not supported by Tide: signature verification/);
    assert.equal(cond(o, ConditionTypes.Stalled)?.reason, 'UnsupportedField');
    assert.equal(o.status?.artifact, undefined, 'an unverified artifact is never stored');
    // Removing the field lets it work.
    await patchSpec('aws', { provider: 'generic', ref: { tag: '1.0.0' } });
    o = await waitReady('aws');
    assert.equal(o.status!.artifact!.revision, `1.0.0@${pushed.v100!.digest}`);
  });

  it('pulls through the proxy of proxySecretRef, with its credentials', async () => {
    const proxy = await startProxy({ username: 'proxy-user', password: 'Pr0xy-pa55' });
    try {
      const proxySecret = (name: string, password: string) =>
        source.client.create({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name, namespace: ns() },
          data: { address: b64(proxy.url), username: b64('proxy-user'), password: b64(password) },
        });
      await proxySecret('proxy', 'Pr0xy-pa55');
      await proxySecret('proxy-wrong', 'Wr0ng-pa55');
      await create('proxied', { ref: { tag: '1.0.0' }, proxySecretRef: { name: 'proxy' } });
      const o = await waitReady('proxied');
      assert.equal(o.status!.artifact!.revision, `1.0.0@${pushed.v100!.digest}`);
      const host = testbed().registry.host;
      // A plain HTTP registry: requests are forwarded in absolute form (HTTPS ones tunnel, below).
      assert.ok(
        requestLines(proxy).includes(`HEAD http://${host}/v2/${repo}/manifests/1.0.0`),
        requestLines(proxy).join('\n'),
      );
      assert.ok(requestLines(proxy).some((r) => r.startsWith(`GET http://${host}/v2/${repo}/blobs/sha256:`)));

      await create('proxy-refused', { ref: { tag: '1.0.0' }, proxySecretRef: { name: 'proxy-wrong' } });
      const refused = await waitNotReady('proxy-refused', /Proxy Authentication Required/);
      assert.equal(cond(refused, ConditionTypes.FetchFailed)?.reason, 'OCIArtifactPullFailed');
      assert.ok(
        !JSON.stringify(refused.status).includes('Wr0ng-pa55'),
        'the proxy password is not in status',
      );

      await create('proxy-missing', { ref: { tag: '1.0.0' }, proxySecretRef: { name: 'no-such-secret' } });
      const missing = await waitNotReady(
        'proxy-missing',
        /failed to get proxy address: secret '.*\/no-such-secret' not found/,
      );
      assert.equal(cond(missing, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');
    } finally {
      await proxy.close();
    }
  });

  it('refuses a layer over the size limit, and content that extracts beyond it', async () => {
    const big = `${repo}-big`;
    // Incompressible: the gzip layer itself is over --max-source-size=64Ki.
    await pushArtifact(oci, big, {
      layer: await makeTarGz({ 'blob.txt': randomBytes(128 * 1024).toString('base64') }),
      tags: ['big'],
    });
    // A small layer of 1 MiB of zeros: a decompression bomb against the same limit.
    await pushArtifact(oci, big, {
      layer: await makeTarGz({ 'zeros.txt': '\0'.repeat(1024 * 1024) }),
      tags: ['bomb'],
    });
    await create('big', { url: urlOf(big), ref: { tag: 'big' } });
    await create('bomb', { url: urlOf(big), ref: { tag: 'bomb' } });
    let o = await waitNotReady('big', /exceeds the size limit of 65536 bytes/);
    assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'OCIArtifactPullFailed');
    assert.equal(o.status?.artifact, undefined);
    o = await waitNotReady('bomb', /failed to extract layer contents.*exceeds the limit of 65536 bytes/);
    assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'OCIArtifactLayerOperationFailed');
    assert.equal(o.status?.artifact, undefined);
  });

  it('empties the storage of a deleted OCIRepository', async () => {
    const dir = join(source.storagePath, 'ocirepository', ns(), 'tag');
    assert.ok((await readdir(dir)).length > 0);
    await source.client.delete(ref('tag'));
    await poll('storage emptied', 30_000, async () => {
      const left = await readdir(dir).catch(() => undefined);
      return left === undefined ? true : undefined;
    });
  });

  describe('with a registry that requires credentials', () => {
    const user = { username: 'tide-bot', password: 'S3cr3t:pa55-word' };
    const wrongPassword = 'Wr0ng-guess-pa55';
    const privateRepo = 'tide/private';
    let reg: AuthRegistry;
    let digest: string;
    const privateUrl = () => `oci://${reg.host}/${privateRepo}`;
    const secret = (name: string, type: string, data: Record<string, string>) =>
      source.client.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: ns() },
        type,
        data,
      });

    before(async function () {
      this.timeout(90_000);
      reg = await startAuthRegistry(await mkdtemp(join(testbed().dir, 'ocirepo-auth-')), user);
      const admin = createRegistryClient({ registry: reg.host, credentials: user, caCert: reg.caCert });
      try {
        ({ digest } = await pushArtifact(admin, privateRepo, {
          layer: await makeTarGz({ 'app.yaml': 'kind: Namespace\n' }),
          tags: ['1.0.0'],
        }));
      } finally {
        await admin.close();
      }
      await secret('registry-ca', 'Opaque', { 'ca.crt': reg.caCert.toString('base64') });
      const config = (password: string) => ({
        '.dockerconfigjson': b64(dockerConfigJson(reg.host, { username: user.username, password })),
      });
      await secret('registry-creds', 'kubernetes.io/dockerconfigjson', config(user.password));
      await secret('wrong-creds', 'kubernetes.io/dockerconfigjson', config(wrongPassword));
      await source.client.create({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'puller', namespace: ns() },
        imagePullSecrets: [{ name: 'registry-creds' }],
      });
    });

    after(async () => {
      await reg?.close();
    });

    const createPrivate = (name: string, spec: Partial<OCIRepository['spec']>) =>
      create(name, {
        url: privateUrl(),
        insecure: false,
        ref: { tag: '1.0.0' },
        certSecretRef: { name: 'registry-ca' },
        ...spec,
      });

    it('refuses anonymous access, then pulls with a dockerconfigjson Secret', async () => {
      await createPrivate('anon', {});
      let o = await waitNotReady('anon', /anonymous access refused.*credentials are needed/);
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');
      assert.equal(o.status?.artifact, undefined);

      await patchSpec('anon', { secretRef: { name: 'registry-creds' } });
      o = await waitReady('anon');
      assert.equal(o.status!.artifact!.revision, `1.0.0@${digest}`);
      assert.deepEqual(await contents(o.status!.artifact!.url), { 'app.yaml': 'kind: Namespace\n' });
    });

    it('pulls with the image pull secrets of spec.serviceAccountName', async () => {
      await createPrivate('via-sa', { serviceAccountName: 'puller' });
      const o = await waitReady('via-sa');
      assert.equal(o.status!.artifact!.revision, `1.0.0@${digest}`);
    });

    it('reports a wrong password without showing it anywhere', async () => {
      await createPrivate('wrong', { secretRef: { name: 'wrong-creds' } });
      const o = await waitNotReady('wrong', /the registry refused the credentials/);
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');
      const forms = [wrongPassword, b64(wrongPassword), b64(`${user.username}:${wrongPassword}`)];
      const status = JSON.stringify(o.status);
      const logs = source.process.logs();
      for (const form of forms) {
        assert.ok(!status.includes(form), 'the password is not in status');
        assert.ok(!logs.includes(form), 'the password is not in the logs');
      }
    });

    it('tunnels to an HTTPS registry through the proxy of proxySecretRef', async () => {
      const proxy = await startProxy();
      try {
        await secret('tls-proxy', 'Opaque', { address: b64(proxy.url) });
        await createPrivate('tunnelled', {
          secretRef: { name: 'registry-creds' },
          proxySecretRef: { name: 'tls-proxy' },
        });
        const o = await waitReady('tunnelled');
        assert.equal(o.status!.artifact!.revision, `1.0.0@${digest}`);
        assert.ok(requestLines(proxy).includes(`CONNECT ${reg.host}`), requestLines(proxy).join('\n'));
        assert.ok(
          requestLines(proxy).every((r) => r === `CONNECT ${reg.host}`),
          'nothing but tunnels to the registry',
        );
      } finally {
        await proxy.close();
      }
    });

    it('presents the client certificate of certSecretRef to a registry that wants mutual TLS', async function () {
      this.timeout(120_000);
      const mtls = await startAuthRegistry(await mkdtemp(join(testbed().dir, 'ocirepo-mtls-')), user, {
        clientCertificates: true,
      });
      try {
        const admin = createRegistryClient({
          registry: mtls.host,
          credentials: user,
          caCert: mtls.caCert,
          clientCert: mtls.clientCert,
          clientKey: mtls.clientKey,
        });
        const pushedHere = await pushArtifact(admin, privateRepo, {
          layer: await makeTarGz({ 'app.yaml': 'kind: Namespace\n' }),
          tags: ['1.0.0'],
        });
        await secret('mtls-ca-only', 'Opaque', { 'ca.crt': mtls.caCert.toString('base64') });
        await secret('mtls-client', 'kubernetes.io/tls', {
          'ca.crt': mtls.caCert.toString('base64'),
          'tls.crt': mtls.clientCert.toString('base64'),
          'tls.key': mtls.clientKey.toString('base64'),
        });
        await secret('mtls-half', 'Opaque', { 'tls.crt': mtls.clientCert.toString('base64') });
        const mtlsSpec = (cert: string) => ({
          url: `oci://${mtls.host}/${privateRepo}`,
          secretRef: { name: 'registry-creds-mtls' },
          certSecretRef: { name: cert },
        });
        const config = { '.dockerconfigjson': b64(dockerConfigJson(mtls.host, user)) };
        await secret('registry-creds-mtls', 'kubernetes.io/dockerconfigjson', config);

        await createPrivate('mtls-no-cert', mtlsSpec('mtls-ca-only'));
        let o = await waitNotReady('mtls-no-cert', new RegExp(mtls.host.replaceAll('.', '\\.')));
        assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'OCIArtifactPullFailed');
        await createPrivate('mtls', mtlsSpec('mtls-client'));
        o = await waitReady('mtls');
        assert.equal(o.status!.artifact!.revision, `1.0.0@${pushedHere.digest}`);
        await createPrivate('mtls-half', mtlsSpec('mtls-half'));
        o = await waitNotReady('mtls-half', /contains 'tls.crt' but missing 'tls.key'/);
        assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');
      } finally {
        await mtls.close();
      }
    });

    it('needs the CA of a registry with a private certificate', async () => {
      await createPrivate('no-ca', { secretRef: { name: 'registry-creds' }, certSecretRef: undefined });
      const o = await waitNotReady('no-ca', /certificate/i);
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'OCIArtifactPullFailed');
    });
  });
});
