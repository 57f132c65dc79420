// The OCI client against the test bed's real registry (docker-registry over plain HTTP, anonymous):
// Flux-style artifacts pushed, listed, resolved by tag / semver / digest, pulled and verified.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Annotation,
  FluxMediaType,
  pullArtifact,
  pushArtifact,
  resolveArtifactRef,
} from '../../../controllers/runtime/oci/artifact.ts';
import { createRegistryClient, type RegistryClient } from '../../../controllers/runtime/oci/client.ts';
import { isOciError, OciNotFoundError } from '../../../controllers/runtime/oci/errors.ts';
import { type ImageIndex, MediaType } from '../../../controllers/runtime/oci/manifest.ts';
import { computeDigest } from '../../../controllers/runtime/oci/reference.ts';
import { testbed } from '../../support/testbed.ts';
import { makeTarGz } from './fixtures.ts';

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Pushed {
  digest: string;
  layer: Buffer;
  files: Record<string, string>;
}

describe('oci client: test bed registry', () => {
  const repo = `tide-oci/p${process.pid}/manifests`;
  let client: RegistryClient;
  let work: string;
  const artifacts: Record<string, Pushed> = {};

  async function push(version: string, tags: string[]): Promise<Pushed> {
    const files = {
      'deploy/app.yaml': `kind: ConfigMap\nversion: ${version}\n`,
      'README.md': `v${version}\n`,
    };
    const layer = await makeTarGz(files);
    const { digest } = await pushArtifact(client, repo, {
      layer,
      tags,
      annotations: {
        [Annotation.source]: 'https://github.com/tide/app.git',
        [Annotation.revision]: `main@sha1:${version.replace(/\D/g, '').padEnd(40, '0')}`,
        [Annotation.created]: '2026-01-01T00:00:00Z',
      },
    });
    return { digest, layer, files };
  }

  before(async function () {
    this.timeout(60_000);
    client = createRegistryClient({ registry: testbed().registry.host, insecure: true });
    work = await mkdtemp(join(testbed().dir, 'oci-'));
    artifacts.v100 = await push('1.0.0', ['1.0.0']);
    artifacts.v110 = await push('1.1.0', ['1.1.0']);
    artifacts.v120 = await push('1.2.0', ['v1.2.0', 'latest']);
    artifacts.rc = await push('2.0.0-rc.1', ['2.0.0-rc.1']);
    artifacts.dev = await push('dev', ['dev-abc123']);
  });

  after(() => client?.close());

  it('pushes a Flux-style artifact the registry serves back byte for byte', async () => {
    const a = artifacts.v120!;
    // Read with plain HTTP, not the client, so that the layout is checked independently.
    const res = await fetch(`${testbed().registry.url}/v2/${repo}/manifests/v1.2.0`, {
      headers: { accept: MediaType.ociManifest },
    });
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(res.headers.get('docker-content-digest'), a.digest);
    assert.equal(sha256(bytes), a.digest);
    const m = JSON.parse(bytes.toString());
    assert.equal(m.mediaType, MediaType.ociManifest);
    assert.equal(m.config.mediaType, FluxMediaType.config);
    assert.deepEqual(
      m.layers.map((l: { mediaType: string; digest: string; size: number }) => [
        l.mediaType,
        l.digest,
        l.size,
      ]),
      [[FluxMediaType.content, sha256(a.layer), a.layer.length]],
    );
    assert.equal(m.annotations[Annotation.source], 'https://github.com/tide/app.git');
    const blob = await fetch(`${testbed().registry.url}/v2/${repo}/blobs/${sha256(a.layer)}`);
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()), a.layer);
  });

  it('lists every tag', async () => {
    const all = ['1.0.0', '1.1.0', 'v1.2.0', 'latest', '2.0.0-rc.1', 'dev-abc123'].sort();
    assert.deepEqual((await client.listTags(repo)).sort(), all);
    // docker-registry 2.8 ignores `n` (no Link header): asking for pages still yields every tag.
    assert.deepEqual((await client.listTags(repo, { pageSize: 2 })).sort(), all);
  });

  it('resolves tag, semver and digest refs to the right digest and revision', async () => {
    const { v100, v120, rc } = artifacts as Record<string, Pushed>;
    assert.deepEqual(await resolveArtifactRef(client, repo), {
      tag: 'latest',
      digest: v120!.digest,
      revision: `latest@${v120!.digest}`,
    });
    assert.deepEqual(await resolveArtifactRef(client, repo, { tag: '1.0.0' }), {
      tag: '1.0.0',
      digest: v100!.digest,
      revision: `1.0.0@${v100!.digest}`,
    });
    // semver wins over tag, and the revision names the tag found (with its v).
    assert.deepEqual(await resolveArtifactRef(client, repo, { semver: '>=1.0.0 <2.0.0', tag: '1.0.0' }), {
      tag: 'v1.2.0',
      digest: v120!.digest,
      revision: `v1.2.0@${v120!.digest}`,
    });
    assert.deepEqual(await resolveArtifactRef(client, repo, { semver: '>= 1.0.0-0', semverFilter: '-rc' }), {
      tag: '2.0.0-rc.1',
      digest: rc!.digest,
      revision: `2.0.0-rc.1@${rc!.digest}`,
    });
    // digest wins over everything; its revision is the digest alone.
    assert.deepEqual(
      await resolveArtifactRef(client, repo, { digest: v100!.digest, semver: '*', tag: 'latest' }),
      {
        digest: v100!.digest,
        revision: v100!.digest,
      },
    );
    await assert.rejects(
      resolveArtifactRef(client, repo, { semver: '>=3.0.0' }),
      (e: unknown) =>
        e instanceof OciNotFoundError &&
        e.subject === 'semver' &&
        e.message === `no tag of ${testbed().registry.host}/${repo} matches semver '>=3.0.0'`,
    );
  });

  it('gives the same digest by HEAD as the verified GET, so a controller can skip unchanged artifacts', async () => {
    const head = await client.headManifest(repo, 'latest');
    const got = await client.getManifest(repo, 'latest');
    assert.equal(head.digest, artifacts.v120!.digest);
    assert.equal(got.digest, head.digest);
    assert.equal(computeDigest(got.bytes), got.digest);
    assert.equal(head.mediaType, MediaType.ociManifest);
    assert.equal(head.size, got.bytes.length);
    const byDigest = await client.getManifest(repo, head.digest);
    assert.deepEqual(byDigest.bytes, got.bytes);
  });

  it('pulls an artifact: extract unpacks the layer, copy keeps the blob, metadata holds the annotations', async () => {
    const a = artifacts.v110!;
    const resolved = await resolveArtifactRef(client, repo, { tag: '1.1.0' });
    const dir = join(work, 'extract');
    const pulled = await pullArtifact(client, repo, resolved, dir);
    assert.equal(pulled.operation, 'extract');
    assert.equal(pulled.revision, `1.1.0@${a.digest}`);
    assert.equal(pulled.manifestDigest, a.digest);
    assert.equal(pulled.layer.mediaType, FluxMediaType.content);
    assert.equal(pulled.metadata[Annotation.revision], `main@sha1:${'110'.padEnd(40, '0')}`);
    assert.equal(pulled.metadata[Annotation.source], 'https://github.com/tide/app.git');
    assert.deepEqual((await readdir(dir, { recursive: true })).sort(), [
      'README.md',
      'deploy',
      'deploy/app.yaml',
    ]);
    assert.equal(await readFile(join(dir, 'deploy/app.yaml'), 'utf8'), a.files['deploy/app.yaml']);

    const copied = await pullArtifact(client, repo, resolved, join(work, 'copy'), {
      layerSelector: { mediaType: FluxMediaType.content, operation: 'copy' },
    });
    assert.equal(copied.path, join(work, 'copy', `${a.digest.slice('sha256:'.length)}.tgz`));
    assert.deepEqual(await readFile(copied.path), a.layer);
  });

  it('refuses a blob above the size limit and leaves no file behind', async () => {
    const layer = artifacts.v100!.layer;
    const dest = join(work, 'limited.tgz');
    await assert.rejects(
      client.fetchBlob(repo, sha256(layer), dest, { maxBytes: layer.length - 1 }),
      (e: unknown) =>
        isOciError(e, 'SizeLimit') &&
        e.message.includes(`exceeds the size limit of ${layer.length - 1} bytes`),
    );
    assert.equal(existsSync(dest), false);
    const ok = await client.fetchBlob(repo, sha256(layer), dest, { maxBytes: layer.length });
    assert.deepEqual({ size: ok.size, digest: ok.digest }, { size: layer.length, digest: sha256(layer) });
    assert.deepEqual(await readFile(dest), layer);
  });

  it('reports an unknown tag, digest or repository as a typed not-found error', async () => {
    const where = `${testbed().registry.host}/${repo}`;
    const isTagNotFound = (e: unknown) =>
      e instanceof OciNotFoundError &&
      e.subject === 'tag' &&
      e.message === `tag "9.9.9" not found in ${where}`;
    await assert.rejects(client.headManifest(repo, '9.9.9'), isTagNotFound);
    await assert.rejects(client.getManifest(repo, '9.9.9'), isTagNotFound);
    await assert.rejects(resolveArtifactRef(client, repo, { tag: '9.9.9' }), isTagNotFound);
    const missing = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(
      client.getManifest(repo, missing),
      (e: unknown) =>
        e instanceof OciNotFoundError && e.subject === 'manifest' && e.message.includes(missing),
    );
    await assert.rejects(
      client.fetchBlob(repo, missing, join(work, 'none')),
      (e: unknown) => e instanceof OciNotFoundError && e.subject === 'blob',
    );
    await assert.rejects(
      client.listTags(`${repo}-nope`),
      (e: unknown) => e instanceof OciNotFoundError && e.subject === 'repository',
    );
  });

  it('follows an index to linux/amd64, or to the first image and says it did not match', async () => {
    const { v100, v110 } = artifacts as Record<string, Pushed>;
    const child = async (p: Pushed, architecture: string) => ({
      mediaType: MediaType.ociManifest,
      digest: p.digest,
      size: (await client.headManifest(repo, p.digest)).size,
      platform: { os: 'linux', architecture },
    });
    const multi: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [await child(v100!, 'arm64'), await child(v110!, 'amd64')],
    };
    const pushedIndex = await client.pushManifest(repo, 'multi', multi);
    const resolved = await resolveArtifactRef(client, repo, { tag: 'multi' });
    assert.equal(resolved.digest, pushedIndex.digest, 'the revision names the index');
    const pulled = await pullArtifact(client, repo, resolved, join(work, 'multi'));
    assert.deepEqual(pulled.fromIndex, { platform: 'linux/amd64', matched: true });
    assert.equal(pulled.manifestDigest, v110!.digest);
    assert.equal(pulled.digest, pushedIndex.digest);

    const other: ImageIndex = {
      ...multi,
      manifests: [await child(v100!, 's390x'), await child(v110!, 'arm64')],
    };
    await client.pushManifest(repo, 'other', other);
    const first = await pullArtifact(
      client,
      repo,
      await resolveArtifactRef(client, repo, { tag: 'other' }),
      join(work, 'other'),
    );
    assert.deepEqual(first.fromIndex, { platform: 'linux/s390x', matched: false });
    assert.equal(first.manifestDigest, v100!.digest);
  });

  it('reads Docker v2 schema 2 manifests', async () => {
    const a = artifacts.v100!;
    const oci = (await client.getManifest(repo, a.digest)).manifest;
    const docker = { ...oci, mediaType: MediaType.dockerManifest };
    const pushed = await client.pushManifest(repo, 'docker', docker);
    assert.equal(pushed.mediaType, MediaType.dockerManifest);
    const got = await client.getManifest(repo, 'docker');
    assert.equal(got.mediaType, MediaType.dockerManifest);
    assert.equal(got.digest, pushed.digest);
    const pulled = await pullArtifact(
      client,
      repo,
      await resolveArtifactRef(client, repo, { tag: 'docker' }),
      join(work, 'docker'),
    );
    assert.equal(await readFile(join(pulled.path, 'README.md'), 'utf8'), a.files['README.md']);
  });
});
