import assert from 'node:assert/strict';
import { isOciError, OciReferenceError } from '../../../controllers/runtime/oci/errors.ts';
import {
  formatReference,
  parseDigest,
  parseImageReference,
  parseOciUrl,
} from '../../../controllers/runtime/oci/reference.ts';

const hex = 'a'.repeat(64);

describe('oci/reference', () => {
  it('parses oci:// URLs into registry and repository', () => {
    const cases: Array<[string, string, string]> = [
      ['oci://ghcr.io/stefanprodan/manifests/podinfo', 'ghcr.io', 'stefanprodan/manifests/podinfo'],
      ['oci://127.0.0.1:5000/tide/app', '127.0.0.1:5000', 'tide/app'],
      ['oci://localhost:5000/app', 'localhost:5000', 'app'],
      ['oci://localhost/app', 'localhost', 'app'],
      ['oci://registry.example.com/a.b/c_d/e__f/g-h--i', 'registry.example.com', 'a.b/c_d/e__f/g-h--i'],
      // Like Flux (go-containerregistry), a first component that is no host means Docker Hub.
      ['oci://stefanprodan/podinfo', 'docker.io', 'stefanprodan/podinfo'],
    ];
    for (const [url, registry, repository] of cases) {
      assert.deepEqual(parseOciUrl(url), { registry, repository }, url);
    }
  });

  it('rejects oci:// URLs with a message that names the problem', () => {
    const cases: Array<[string, RegExp]> = [
      ['https://ghcr.io/org/app', /must be in the format 'oci:\/\/<host>\[:<port>\]\/<repository>'/],
      ['ghcr.io/org/app', /must be in the format/],
      ['oci://ghcr.io', /no repository path after the registry host "ghcr.io"/],
      ['oci://ghcr.io/', /no repository path/],
      ['oci://ghcr.io/org/app:v1.0.0', /must not contain a tag; remove ':v1.0.0'/],
      ['oci://127.0.0.1:5000/app:latest', /remove ':latest'/],
      [`oci://ghcr.io/org/app@sha256:${hex}`, /must not contain a digest/],
      ['oci://ghcr.io/Org/App', /repository path "Org\/App" must be lowercase/],
      ['oci://ghcr.io/org//app', /empty path component/],
      ['oci://ghcr.io/org/app/', /empty path component/],
      ['oci://ghcr.io/org/-app', /invalid repository path component "-app"/],
      ['oci://-bad.example/app', /"-bad.example" is not a valid registry host/],
    ];
    for (const [url, message] of cases) {
      assert.throws(
        () => parseOciUrl(url),
        (e: unknown) =>
          e instanceof OciReferenceError && isOciError(e, 'InvalidReference') && message.test(e.message),
        url,
      );
    }
  });

  it('parses image references with tag and digest, defaulting to Docker Hub like Docker', () => {
    assert.deepEqual(parseImageReference('nginx'), { registry: 'docker.io', repository: 'library/nginx' });
    assert.deepEqual(parseImageReference('nginx:1.27'), {
      registry: 'docker.io',
      repository: 'library/nginx',
      tag: '1.27',
    });
    assert.deepEqual(parseImageReference('fluxcd/flux-cli:v2.4.0'), {
      registry: 'docker.io',
      repository: 'fluxcd/flux-cli',
      tag: 'v2.4.0',
    });
    assert.deepEqual(parseImageReference(`ghcr.io/org/app:v1.2.3@sha256:${hex}`), {
      registry: 'ghcr.io',
      repository: 'org/app',
      tag: 'v1.2.3',
      digest: `sha256:${hex}`,
    });
    assert.deepEqual(parseImageReference(`127.0.0.1:5000/a/b@sha256:${hex}`), {
      registry: '127.0.0.1:5000',
      repository: 'a/b',
      digest: `sha256:${hex}`,
    });
    assert.deepEqual(parseImageReference('localhost:5000/app:Tag_1'), {
      registry: 'localhost:5000',
      repository: 'app',
      tag: 'Tag_1',
    });
  });

  it('rejects bad tags and digests in image references', () => {
    assert.throws(() => parseImageReference('ghcr.io/org/app:.bad'), /invalid tag ".bad"/);
    assert.throws(() => parseImageReference(`ghcr.io/org/app:${'t'.repeat(129)}`), /invalid tag/);
    assert.throws(
      () => parseImageReference('ghcr.io/org/app@sha256:abc'),
      /sha256 needs 64 lowercase hex digits/,
    );
    assert.throws(
      () => parseImageReference(`ghcr.io/org/app@md5:${hex}`),
      /unsupported digest algorithm "md5"/,
    );
    assert.throws(() => parseImageReference(''), /empty/);
  });

  it('parses digests it can verify and nothing else', () => {
    assert.deepEqual(parseDigest(`sha256:${hex}`), { algorithm: 'sha256', hex });
    assert.deepEqual(parseDigest(`sha512:${'b'.repeat(128)}`), { algorithm: 'sha512', hex: 'b'.repeat(128) });
    assert.throws(() => parseDigest(`sha256:${hex.toUpperCase()}`), /lowercase hex/);
    assert.throws(() => parseDigest(hex), /expected <algorithm>:<hex>/);
    assert.throws(() => parseDigest(`sha256:${hex}0`), /64 lowercase hex digits/);
  });

  it('formats a parsed reference back to the same string', () => {
    for (const ref of ['ghcr.io/org/app', 'ghcr.io/org/app:v1', `127.0.0.1:5000/a/b:t@sha256:${hex}`]) {
      assert.equal(formatReference(parseImageReference(ref)), ref);
    }
  });
});
