// Charts in OCI registries as Flux resolves them (tags as versions, ranges, chart layers) and OCI
// HelmRepository credentials. Registry traffic is in test/integration/source/helmchart-oci.test.ts.
import assert from 'node:assert/strict';
import type { RegistryClient } from '../../../controllers/runtime/oci/client.ts';
import { OciAuthError, OciError, OciNotFoundError } from '../../../controllers/runtime/oci/errors.ts';
import type { ImageManifest } from '../../../controllers/runtime/oci/manifest.ts';
import {
  chartLayer,
  chartTagVersions,
  HelmMediaType,
  isOciAuthFailure,
  matchChartVersion,
  resolveOciChartVersion,
} from '../../../controllers/source/helm/oci.ts';
import { ociCredentials } from '../../../controllers/source/helmrepository.ts';

const TAGS = ['1.0.0', '1.1.0', '2.0.0-rc.1', 'latest', 'v3.0.0', '1.2.0_build.1', '0.9'];

/** A registry client that only lists tags (and counts the calls). */
function tagLister(tags: string[] | Error) {
  const calls: string[] = [];
  const client = {
    registry: 'r.example',
    listTags: async (repository: string) => {
      calls.push(repository);
      if (tags instanceof Error) throw tags;
      return tags;
    },
  } as unknown as RegistryClient;
  return { client, calls };
}

describe('source/helm/oci', () => {
  it('reads tags as Helm does: `_` for `+`, strict SemVer without `v`, highest first', () => {
    assert.deepEqual(chartTagVersions(TAGS), ['2.0.0-rc.1', '1.2.0+build.1', '1.1.0', '1.0.0']);
  });

  it('picks an exact version first, else the highest in the range (stable only unless asked)', () => {
    const versions = chartTagVersions(TAGS);
    assert.equal(matchChartVersion(versions, '*'), '1.2.0+build.1');
    assert.equal(matchChartVersion(versions, ''), '1.2.0+build.1');
    assert.equal(matchChartVersion(versions, '1.1.x'), '1.1.0');
    assert.equal(matchChartVersion(versions, '>=2.0.0-0'), '2.0.0-rc.1');
    assert.equal(matchChartVersion(versions, '2.0.0-rc.1'), '2.0.0-rc.1');
    assert.throws(
      () => matchChartVersion(versions, '5.x'),
      /^Error: could not locate a version matching provided version string 5.x$/,
    );
    assert.throws(() => matchChartVersion(versions, 'not a range'), /improper constraint/);
  });

  it('takes a version as the tag without listing tags; resolves a range against them', async () => {
    const { client, calls } = tagLister(TAGS);
    const exact = await resolveOciChartVersion(client, 'oci://r.example/charts/', 'app', '1.5.0+abc');
    assert.deepEqual(exact, {
      name: 'app',
      version: '1.5.0+abc',
      url: 'oci://r.example/charts/app:1.5.0+abc',
      repository: { registry: 'r.example', repository: 'charts/app' },
      tag: '1.5.0_abc',
    });
    assert.deepEqual(calls, []);
    const ranged = await resolveOciChartVersion(client, 'oci://r.example/charts', 'app', '1.x');
    assert.equal(ranged.version, '1.2.0+build.1');
    assert.equal(ranged.tag, '1.2.0_build.1');
    assert.deepEqual(calls, ['charts/app']);
  });

  it("words missing tags and registry failures as Flux's OCIChartRepository", async () => {
    await assert.rejects(
      resolveOciChartVersion(tagLister(['latest']).client, 'oci://r.example/charts', 'app', '*'),
      {
        message:
          'could not get tags for "app": unable to locate any tags in provided repository: oci://r.example/charts/app',
      },
    );
    const missing = new OciNotFoundError('repository', 'repository r.example/charts/nope not found');
    await assert.rejects(
      resolveOciChartVersion(tagLister(missing).client, 'oci://r.example/charts', 'nope', '1.x'),
      {
        message:
          'could not get tags for "nope": could not fetch tags for "oci://r.example/charts/nope": ' +
          'repository r.example/charts/nope not found',
      },
    );
  });

  it('tells credential and TLS failures from other registry errors, through causes', () => {
    const refused = new OciAuthError(401, 'token service refused the credentials');
    assert.ok(isOciAuthFailure(refused));
    assert.ok(isOciAuthFailure(new Error('wrapped', { cause: refused })));
    assert.ok(isOciAuthFailure(new OciError('Network', 'x: unable to verify the first certificate')));
    assert.ok(!isOciAuthFailure(new OciError('Network', 'x: connection refused (ECONNREFUSED)')));
    assert.ok(!isOciAuthFailure(new OciNotFoundError('tag', 'manifest not found')));
  });

  it("finds the chart layer of a Helm manifest, with Helm's messages for others", () => {
    const d = (mediaType: string) => ({ mediaType, digest: `sha256:${'a'.repeat(64)}`, size: 1 });
    const manifest = (config: string, layers: string[]): ImageManifest => ({
      schemaVersion: 2,
      config: d(config),
      layers: layers.map(d),
    });
    assert.equal(
      chartLayer(manifest(HelmMediaType.config, ['application/x-prov', HelmMediaType.chart])).mediaType,
      HelmMediaType.chart,
    );
    assert.equal(
      chartLayer(manifest(HelmMediaType.config, [HelmMediaType.legacyChart])).mediaType,
      HelmMediaType.legacyChart,
    );
    assert.throws(
      () => chartLayer(manifest(HelmMediaType.config, [])),
      /^Error: manifest does not contain minimum number of descriptors \(2\), descriptors found: 1$/,
    );
    assert.throws(
      () => chartLayer(manifest('application/vnd.oci.image.config.v1+json', ['x'])),
      /could not load config with mediatype application\/vnd.cncf.helm.config.v1\+json/,
    );
    assert.throws(
      () => chartLayer(manifest(HelmMediaType.config, ['application/vnd.cncf.flux.content.v1.tar+gzip'])),
      /manifest does not contain a layer with mediatype application\/vnd.cncf.helm.chart.content.v1.tar\+gzip/,
    );
  });
});

describe('source/helmrepository: OCI credentials of secretRef', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const dockerConfig = (registry: string) => ({
    metadata: { name: 'pull', namespace: 'ns' },
    type: 'kubernetes.io/dockerconfigjson',
    data: {
      '.dockerconfigjson': b64(JSON.stringify({ auths: { [registry]: { username: 'u', password: 'p' } } })),
    },
  });

  it('reads a docker config for the registry, and refuses one without it', () => {
    assert.deepEqual(ociCredentials(dockerConfig('r.example:5000'), 'r.example:5000'), {
      username: 'u',
      password: 'p',
    });
    assert.throws(
      () => ociCredentials(dockerConfig('other.example'), 'r.example:5000'),
      /^Error: no auth config for 'r.example:5000' in the docker-registry Secret 'pull'$/,
    );
  });

  it('reads username and password otherwise: both, or neither (anonymous)', () => {
    const opaque = (data: Record<string, string>) => ({ metadata: { name: 'basic' }, data });
    assert.deepEqual(ociCredentials(opaque({ username: b64('u'), password: b64('p') }), 'r'), {
      username: 'u',
      password: 'p',
    });
    assert.equal(ociCredentials(opaque({ 'ca.crt': b64('pem') }), 'r'), undefined);
    assert.throws(
      () => ociCredentials(opaque({ username: b64('u') }), 'r'),
      /^Error: invalid 'basic' secret data: required fields 'username' and 'password'$/,
    );
  });
});
