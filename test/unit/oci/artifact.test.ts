import assert from 'node:assert/strict';
import {
  digestOfRevision,
  FluxMediaType,
  formatRevision,
  selectLayer,
  selectRef,
  selectSemverTag,
} from '../../../controllers/runtime/oci/artifact.ts';
import { mergeScopes, nextLink } from '../../../controllers/runtime/oci/client.ts';
import { isOciError, OciNotFoundError } from '../../../controllers/runtime/oci/errors.ts';
import {
  type Descriptor,
  decodeManifest,
  type ImageIndex,
  type ImageManifest,
  MediaType,
  pickPlatform,
} from '../../../controllers/runtime/oci/manifest.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const layer = (mediaType: string, c: string): Descriptor => ({ mediaType, digest: d(c), size: 10 });
const manifestOf = (layers: Descriptor[]): ImageManifest => ({
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: FluxMediaType.config, digest: d('0'), size: 2 },
  layers,
});

describe('oci/artifact: spec.ref', () => {
  it('applies Flux precedence digest > semver > tag, with latest by default', () => {
    assert.deepEqual(selectRef({ digest: d('a'), semver: '1.x', tag: 'v1' }), {
      kind: 'digest',
      digest: d('a'),
    });
    assert.deepEqual(selectRef({ semver: '1.x', semverFilter: '-rc', tag: 'v1' }), {
      kind: 'semver',
      range: '1.x',
      filter: '-rc',
    });
    assert.deepEqual(selectRef({ tag: 'v1' }), { kind: 'tag', tag: 'v1' });
    assert.deepEqual(selectRef({}), { kind: 'tag', tag: 'latest' });
    assert.deepEqual(selectRef(), { kind: 'tag', tag: 'latest' });
    // The filter only applies to semver: alone it changes nothing.
    assert.deepEqual(selectRef({ semverFilter: '-rc' }), { kind: 'tag', tag: 'latest' });
  });

  it('rejects a malformed digest or tag', () => {
    assert.throws(
      () => selectRef({ digest: 'sha256:abc' }),
      (e) => isOciError(e, 'InvalidReference'),
    );
    assert.throws(() => selectRef({ tag: 'a/b' }), /invalid tag "a\/b" in spec.ref.tag/);
  });

  it("writes Flux's revision strings and reads the digest back", () => {
    assert.equal(formatRevision('latest', d('b')), `latest@${d('b')}`);
    assert.equal(formatRevision('v1.2.3', d('b')), `v1.2.3@${d('b')}`);
    assert.equal(formatRevision(undefined, d('b')), d('b'));
    assert.equal(digestOfRevision(`latest@${d('b')}`), d('b'));
    assert.equal(digestOfRevision(d('b')), d('b'));
  });
});

describe('oci/artifact: semver tag selection', () => {
  const tags = ['1.0.0', '1.2.0', 'v1.3.0', '2.0.0', '1.4.0-rc.1', 'latest', '1.5', 'main-abc123'];

  it('picks the highest version in range; tags may have a v prefix; non-SemVer tags are ignored', () => {
    assert.equal(selectSemverTag(tags, '1.x'), 'v1.3.0');
    assert.equal(selectSemverTag(tags, '>=1.0.0 <2.0.0'), 'v1.3.0');
    assert.equal(selectSemverTag(tags, '*'), '2.0.0');
    assert.equal(selectSemverTag(tags, '~1.2'), '1.2.0');
    assert.equal(selectSemverTag(tags, '>=1.5.0 <2.0.0'), undefined, '"1.5" is not strict SemVer');
    assert.equal(selectSemverTag(tags, '>=3.0.0'), undefined);
  });

  it("accepts Flux's Masterminds syntax: commas for AND, spaces after operators, ||", () => {
    assert.equal(selectSemverTag(tags, '>= 1.0.0, < 1.3.0'), '1.2.0');
    assert.equal(selectSemverTag(tags, '< 1.1.0 || >= 1.9.0 < 2.0.0'), '1.0.0');
  });

  it('admits prereleases only when the range names one', () => {
    const rc = ['6.1.4', '6.1.5-beta.1', '6.1.5-rc.1', '6.1.6-rc.1'];
    assert.equal(selectSemverTag(rc, '>= 6.1.0'), '6.1.4');
    assert.equal(selectSemverTag(rc, '>= 6.1.x-0'), '6.1.6-rc.1');
    // The example of Flux's docs: only tags matching the filter enter the range resolution.
    assert.equal(selectSemverTag([...rc, '6.2.0-beta.1'], '>= 6.1.x-0', '.*-rc.*'), '6.1.6-rc.1');
    assert.equal(selectSemverTag(rc, '>= 6.1.x-0', '^6\\.1\\.5'), '6.1.5-rc.1');
    // One pre-release comparator opens its whole AND group to pre-releases (Masterminds 3.4).
    assert.equal(selectSemverTag(rc, '>= 6.1.5-0, < 6.2.0'), '6.1.6-rc.1');
  });

  it('reads tags as Flux: one optional v; of equal versions, the lexically smaller tag', () => {
    assert.equal(selectSemverTag(['vv2.0.0', '1.0.0'], '*'), '1.0.0');
    assert.equal(selectSemverTag(['v1.0.0', '1.0.0', '0.9.0'], '*'), '1.0.0');
    assert.equal(selectSemverTag(['1.0.0+b', '1.0.0+a'], '*'), '1.0.0+a');
  });

  it('reports an invalid range or filter as a spec problem', () => {
    assert.throws(() => selectSemverTag(tags, 'not a range'), /semver 'not a range' parse error/);
    assert.throws(
      () => selectSemverTag(tags, '1.x', '(unclosed'),
      /semverFilter '\(unclosed' is not a valid regular/,
    );
  });
});

describe('oci/artifact: layer selection', () => {
  const m = manifestOf([
    layer('application/vnd.cncf.helm.chart.content.v1.tar+gzip', '1'),
    layer(FluxMediaType.content, '2'),
    layer(FluxMediaType.content, '3'),
  ]);

  it('picks the first layer with the media type', () => {
    assert.equal(selectLayer(m, { mediaType: FluxMediaType.content }).digest, d('2'));
  });

  it('without a media type picks the first layer, as Flux does', () => {
    assert.equal(selectLayer(m).digest, d('1'));
    assert.equal(selectLayer(m, { operation: 'copy' }).digest, d('1'));
  });

  it('says which media type is missing, and when there are no layers', () => {
    assert.throws(
      () => selectLayer(m, { mediaType: 'application/x-none' }),
      (e: unknown) =>
        e instanceof OciNotFoundError &&
        e.subject === 'layer' &&
        /failed to find layer with media type 'application\/x-none' in artifact/.test(e.message),
    );
    assert.throws(() => selectLayer(manifestOf([])), /no layers found in artifact/);
  });
});

describe('oci/manifest', () => {
  const child = (arch: string, c: string, os = 'linux'): Descriptor => ({
    ...layer(MediaType.ociManifest, c),
    platform: { os, architecture: arch },
  });

  it('picks linux/amd64 from an index, else the first image manifest and says it did not match', () => {
    const index: ImageIndex = {
      schemaVersion: 2,
      manifests: [
        { ...child('arm64', '1') },
        { ...layer(MediaType.ociIndex, '2') },
        { ...child('amd64', '3') },
        { ...child('amd64', '4', 'windows') },
      ],
    };
    assert.deepEqual(pickPlatform(index), { descriptor: index.manifests[2], matched: true });
    assert.deepEqual(pickPlatform(index, { os: 'windows', architecture: 'amd64' }).descriptor.digest, d('4'));
    const noAmd64: ImageIndex = {
      schemaVersion: 2,
      manifests: [layer(MediaType.ociIndex, '5'), child('s390x', '6')],
    };
    assert.deepEqual(pickPlatform(noAmd64), { descriptor: noAmd64.manifests[1], matched: false });
  });

  it('decodes OCI and Docker schema 2 manifests, inferring an absent media type from the shape', () => {
    const oci = Buffer.from(
      JSON.stringify({ ...manifestOf([layer(FluxMediaType.content, '1')]), mediaType: undefined }),
    );
    assert.equal(decodeManifest(oci, '', 'm').mediaType, MediaType.ociManifest);
    assert.equal(decodeManifest(oci, MediaType.dockerManifest, 'm').mediaType, MediaType.dockerManifest);
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] }));
    assert.equal(decodeManifest(index, 'application/json', 'm').mediaType, MediaType.ociIndex);
  });

  it('refuses schema 1 and malformed manifests, naming the problem', () => {
    const schema1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'x', fsLayers: [] }));
    assert.throws(
      () =>
        decodeManifest(schema1, 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'manifest x:v1'),
      (e: unknown) =>
        isOciError(e, 'UnsupportedMediaType') &&
        /manifest x:v1: unsupported manifest media type/.test(e.message),
    );
    const noLayers = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: layer('c', '1') }),
    );
    assert.throws(() => decodeManifest(noLayers, '', 'm'), /m: manifest has no layers list/);
    const badDigest = Buffer.from(
      JSON.stringify(manifestOf([{ mediaType: 'x', digest: 'sha256:zz', size: 1 }])),
    );
    assert.throws(() => decodeManifest(badDigest, '', 'm'), /m layers\[0\]: invalid digest "sha256:zz"/);
    assert.throws(() => decodeManifest(Buffer.from('{'), '', 'm'), /m: not valid JSON/);
  });
});

describe('oci/client: Link pagination header', () => {
  const base = new URL('http://127.0.0.1:5000/v2/a/tags/list?n=2');

  it('resolves the rel="next" target against the request URL', () => {
    assert.equal(
      nextLink('</v2/a/tags/list?last=b&n=2>; rel="next"', base)?.href,
      'http://127.0.0.1:5000/v2/a/tags/list?last=b&n=2',
    );
    assert.equal(
      nextLink('<https://x/prev>; rel="prev", <https://other/v2/a/tags/list?last=c>; rel=next', base)?.href,
      'https://other/v2/a/tags/list?last=c',
    );
    assert.equal(nextLink('<https://x/prev>; rel="prev"', base), undefined);
    assert.equal(nextLink(null, base), undefined);
  });
});

describe('oci/client: token scopes', () => {
  it('asks one token for what the request needs and what the challenge names', () => {
    assert.equal(mergeScopes('repository:a/b:pull,push', 'repository:a/b:pull'), 'repository:a/b:pull,push');
    assert.equal(mergeScopes('repository:a/b:pull', 'repository:a/b:push'), 'repository:a/b:pull,push');
    assert.equal(
      mergeScopes('repository:a/b:pull', 'repository:c:pull registry:catalog:*'),
      'repository:a/b:pull repository:c:pull registry:catalog:*',
    );
    assert.equal(mergeScopes('repository:a/b:pull', undefined), 'repository:a/b:pull');
  });
});
