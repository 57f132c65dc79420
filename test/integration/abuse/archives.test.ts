// Hostile archives through the real paths: a tarball served as a source's artifact and fetched by the
// kustomize-controller, an OCI artifact pushed to the test bed's registry and pulled by the
// source-controller, and a Git repository holding symlinks that point out of it. Each is refused
// with Ready=False and a message saying why; nothing lands outside the extraction directory and the
// last good artifact and apply stay.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionTypes, Reasons } from '../../../controllers/api/names.ts';
import type { OCIRepository } from '../../../controllers/api/source.ts';
import type { Client } from '../../../controllers/runtime/client.ts';
import { pushArtifact } from '../../../controllers/runtime/oci/artifact.ts';
import { createRegistryClient, type RegistryClient } from '../../../controllers/runtime/oci/client.ts';
import { type StaticServer, startStaticServer } from '../../../hack/testbed/staticserver.ts';
import { createWorkRepo } from '../../support/gitwork.ts';
import { yamlBomb } from '../../support/hostile.ts';
import { artifactContents, cond, sourceApiVersion } from '../../support/sources.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { type RawEntry, rawTarGz, TarType } from '../../unit/artifact/support.ts';
import { helmCli, helmHistory, hrApiVersion, useHelmController, waitHr, waitReady } from '../helm/support.ts';
import {
  configMap,
  type DataObject,
  ready,
  useKustomizeEnv,
  yaml,
} from '../kustomize/kustomization-support.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cmRef = (ns: string, name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name });

/** `first`, then a file `name` that inflates to `bytes` of zeros: a gzip bomb a few hundred KiB small. */
function gzipBomb(bytes: number, name = 'zeros.yaml', first: RawEntry[] = []): Buffer {
  const tar = gunzipSync(rawTarGz(first)); // the entries, then the 1024-byte end marker
  // rawTarGz writes the header with the declared size; the zeros follow it.
  const header = gunzipSync(rawTarGz([{ name, size: bytes }])).subarray(0, 512);
  const entries = tar.subarray(0, tar.length - 1024);
  return gzipSync(Buffer.concat([entries, header, Buffer.alloc(bytes), Buffer.alloc(1024)]), { level: 1 });
}

/**
 * A static server for artifacts a test serves as a source's, as the source-controller would: publish
 * writes the tarball and sets the (suspended) source's status.artifact and Ready, as field manager
 * source-controller. Returns the revision, made by `revision` from the tarball's sha256 hex.
 */
function useServedArtifacts() {
  let server: StaticServer | undefined;
  let root = '';
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(testbed().dir, 'abuse-artifacts-'));
    server = await startStaticServer(root);
  });
  after(() => server?.close());
  return {
    async publish(
      client: Client,
      src: { kind: string; namespace: string; name: string },
      tarball: Buffer,
      revisionOf: (hex: string) => string,
    ): Promise<string> {
      const file = `a${++n}.tar.gz`;
      await writeFile(join(root, file), tarball);
      const hex = sha256(tarball);
      const revision = revisionOf(hex);
      const now = new Date().toISOString();
      await client.applyStatus(
        { apiVersion: sourceApiVersion, ...src },
        {
          observedGeneration: 1,
          artifact: {
            path: `${src.kind.toLowerCase()}/${src.namespace}/${src.name}/${file}`,
            url: `${server?.url}/${file}`,
            revision,
            digest: `sha256:${hex}`,
            size: tarball.length,
            lastUpdateTime: now,
          },
          conditions: [
            {
              type: ConditionTypes.Ready,
              status: 'True',
              reason: 'Succeeded',
              message: 'stored artifact',
              lastTransitionTime: now,
            },
          ],
        },
        { fieldManager: 'source-controller', force: true },
      );
      return revision;
    },
  };
}

describe('abuse: hostile archives', function () {
  this.timeout(300_000);
  const env = useKustomizeEnv('abuse-ar');
  // Where an entry escaping the controller's extraction directory (under its tmpdir) would land.
  const escapeName = `tide-abuse-escape-${process.pid}`;

  describe('the kustomize-controller fetching a source artifact', () => {
    const served = useServedArtifacts();
    const publish = (name: string, tarball: Buffer) =>
      served.publish(
        env.client(),
        { kind: 'GitRepository', namespace: env.ns(), name },
        tarball,
        (d) => `main@sha1:${d.slice(0, 40)}`,
      );

    it('refuses `..` and absolute paths, devices, FIFOs, gzip bombs and too many entries; the last apply stays', async () => {
      const ns = env.ns();
      // suspend: the source-controller leaves this GitRepository to the test, which plays its part.
      await env.client().create({
        apiVersion: sourceApiVersion,
        kind: 'GitRepository',
        metadata: { name: 'served', namespace: ns },
        spec: { url: 'http://127.0.0.1:9/none.git', interval: '10m', suspend: true },
      });
      const good = await publish(
        'served',
        rawTarGz([{ name: 'cm.yaml', body: yaml(configMap('kept', { v: '1' })) }]),
      );
      await env.createKs(
        'served',
        { name: 'served', commit: async () => '' },
        { path: './', targetNamespace: ns },
      );
      await env.waitReady('served', good);

      const cm = (body: string): RawEntry => ({
        name: 'cm.yaml',
        body: yaml(configMap('kept', { v: body })),
      });
      const cases: Array<[string, Buffer, RegExp]> = [
        [
          'a `..` path',
          rawTarGz([cm('2'), { name: `../../../../../../tmp/${escapeName}`, body: 'pwned' }]),
          /escapes the target directory/,
        ],
        [
          'an absolute path',
          rawTarGz([cm('3'), { name: `/tmp/${escapeName}`, body: 'pwned' }]),
          /absolute path/,
        ],
        [
          'a character device',
          rawTarGz([cm('4'), { name: 'tty', type: TarType.charDevice }]),
          /unsupported entry type/,
        ],
        [
          'a block device',
          rawTarGz([cm('5'), { name: 'sda', type: TarType.blockDevice }]),
          /unsupported entry type/,
        ],
        ['a FIFO', rawTarGz([cm('6'), { name: 'pipe', type: TarType.fifo }]), /unsupported entry type/],
        ['a gzip bomb (a file of 200 MiB of zeros)', gzipBomb(200 << 20), /extracted size exceeds the limit/],
        [
          'more entries than the limit',
          rawTarGz(Array.from({ length: 100_001 }, (_, i) => ({ name: `f${i}` }))),
          /more than 100000 entries/,
        ],
      ];
      for (const [what, tarball, pattern] of cases) {
        await publish('served', tarball);
        const ks = await env.waitNotReady('served', pattern);
        const r = ready(ks);
        assert.equal(r?.reason, Reasons.ArtifactFailed, what);
        assert.match(r?.message ?? '', /failed to download artifact/, what);
        assert.equal(ks.status?.lastAppliedRevision, good, `${what}: the last good revision stays applied`);
        const kept = await env.get<DataObject>(cmRef(ns, 'kept'));
        assert.deepEqual(kept.data, { v: '1' }, `${what}: nothing of the refused artifact was applied`);
        await assert.rejects(stat(join(tmpdir(), escapeName)), { code: 'ENOENT' }, what);
      }

      // Symlinks and hard links are left out, as Flux does: the rest applies, nothing is read through them.
      const linked = await publish(
        'served',
        rawTarGz([
          cm('7'),
          { name: 'passwd.yaml', type: TarType.symlink, linkname: '/etc/passwd' },
          { name: 'hard.yaml', type: TarType.hardlink, linkname: '/etc/passwd' },
        ]),
      );
      const ks = await env.waitReady('served', linked);
      assert.deepEqual(
        ks.status?.inventory?.entries?.map((e) => e.id),
        [`${ns}_kept__ConfigMap`],
      );
      assert.deepEqual((await env.get<DataObject>(cmRef(ns, 'kept'))).data, { v: '7' });
    });
  });

  describe('the source-controller pulling an OCI artifact', () => {
    let oci: RegistryClient;
    const repository = `tide/abuse-${process.pid}/app`;
    before(() => {
      oci = createRegistryClient({ registry: testbed().registry.host, insecure: true });
    });
    after(() => oci?.close());

    const ociRef = (name: string) => ({
      apiVersion: sourceApiVersion,
      kind: 'OCIRepository',
      namespace: env.ns(),
      name,
    });
    const getOci = (name: string) => env.client().get<OCIRepository>(ociRef(name));

    it('refuses a layer with `..`, absolute paths or devices, and keeps serving the last artifact', async () => {
      await pushArtifact(oci, repository, {
        layer: rawTarGz([{ name: 'app.yaml', body: 'kind: ConfigMap\n' }]),
        tags: ['good'],
      });
      await env.client().create({
        apiVersion: sourceApiVersion,
        kind: 'OCIRepository',
        metadata: { name: 'pulled', namespace: env.ns() },
        spec: {
          url: `oci://${testbed().registry.host}/${repository}`,
          ref: { tag: 'good' },
          interval: '10m',
          insecure: true,
        },
      });
      const stored = await env.until('OCIRepository stored', async () => {
        const o = await getOci('pulled');
        return cond(o, ConditionTypes.Ready)?.status === 'True' ? o.status?.artifact : undefined;
      });

      const layers: Array<[string, Buffer, RegExp]> = [
        [
          'dotdot',
          rawTarGz([{ name: `../../../../../tmp/${escapeName}`, body: 'pwned' }]),
          /escapes the target directory/,
        ],
        ['absolute', rawTarGz([{ name: `/tmp/${escapeName}`, body: 'pwned' }]), /absolute path/],
        [
          'device',
          rawTarGz([
            { name: 'app.yaml', body: 'x' },
            { name: 'null', type: TarType.charDevice },
          ]),
          /unsupported entry type/,
        ],
      ];
      for (const [tag, layer, pattern] of layers) {
        await pushArtifact(oci, repository, { layer, tags: [tag] });
        await env.client().patch(ociRef('pulled'), 'merge', { spec: { ref: { tag } } });
        const o = await env.until(`OCIRepository refuses ${tag}`, async () => {
          const cur = await getOci('pulled');
          const r = cond(cur, ConditionTypes.Ready);
          if (r?.status === 'False' && pattern.test(r.message)) return cur;
          throw new Error(`Ready=${r?.status}: ${r?.message}`);
        });
        const r = cond(o, ConditionTypes.Ready);
        assert.equal(r?.reason, Reasons.OCIArtifactLayerOperationFailed, tag);
        assert.match(r?.message ?? '', pattern, tag);
        assert.match(r?.message ?? '', /failed to extract layer contents/, tag);
        assert.deepEqual(o.status?.artifact?.revision, stored?.revision, `${tag}: the last artifact is kept`);
        assert.deepEqual(await artifactContents(stored?.url ?? ''), { 'app.yaml': 'kind: ConfigMap\n' });
        await assert.rejects(stat(join(tmpdir(), escapeName)), { code: 'ENOENT' }, tag);
      }
    });
  });

  describe('a Git repository with symlinks pointing out', () => {
    it('leaves the symlinks out of the artifact, so a Kustomization listing one fails and applies nothing', async () => {
      const work = await createWorkRepo(`abuse-ar-links-${process.pid}`);
      const dir = (await work.git('rev-parse', '--show-toplevel')).trim();
      await symlink('/etc/passwd', join(dir, 'passwd.yaml'));
      await symlink('/etc', join(dir, 'etc'));
      // Read by the source-controller from the checkout: following it would read without end.
      await symlink('/dev/zero', join(dir, '.sourceignore'));
      const sha = await work.commit({
        'ok.yaml': yaml(configMap('linked-ok', { v: '1' })),
        'kustomization.yaml': 'resources: [ok.yaml, passwd.yaml]\n',
      });
      const ns = env.ns();
      await env.client().create({
        apiVersion: sourceApiVersion,
        kind: 'GitRepository',
        metadata: { name: 'links', namespace: ns },
        spec: { url: work.url, interval: '10m', secretRef: { name: 'git-auth' }, ref: { branch: 'main' } },
      });
      const artifact = await env.until('GitRepository links stored', async () => {
        const g = await env.client().get<OCIRepository>({
          apiVersion: sourceApiVersion,
          kind: 'GitRepository',
          namespace: ns,
          name: 'links',
        });
        return g.status?.artifact?.revision === `main@sha1:${sha}` ? g.status.artifact : undefined;
      });
      const files = await artifactContents(artifact.url);
      assert.deepEqual(
        Object.keys(files).sort(),
        ['kustomization.yaml', 'ok.yaml'],
        'no symlink, nothing of /etc',
      );

      await env.createKs(
        'links',
        { name: 'links', commit: async () => '' },
        { path: './', targetNamespace: ns },
      );
      const ks = await env.waitNotReady('links', /passwd\.yaml/);
      assert.equal(ready(ks)?.reason, Reasons.BuildFailed);
      assert.equal(ks.status?.lastAppliedRevision, undefined);
      assert.equal(await env.tryGet(cmRef(ns, 'linked-ok')), undefined, 'nothing applied');
      assert.ok((await readFile('/etc/passwd', 'utf8')).length > 0);
    });
  });

  describe('the source-controller pulling a chart from a Helm repository', () => {
    it('refuses a chart with `..` entries or that inflates past the limit, and keeps the last artifact', async () => {
      const ns = env.ns();
      const dir = `abuse-charts-${process.pid}`;
      const root = join(testbed().chartsDir, dir);
      await mkdir(root, { recursive: true });
      const url = `${testbed().charts.url}/${dir}`;
      const chartYaml = (version: string) => `apiVersion: v2\nname: demo\nversion: ${version}\n`;
      const good: RawEntry[] = [
        { name: 'demo/Chart.yaml', body: chartYaml('1.0.0') },
        { name: 'demo/templates/cm.yaml', body: yaml(configMap('chart-cm', { v: '1' })) },
      ];
      const charts: Array<[string, Buffer]> = [
        ['1.0.0', rawTarGz(good)],
        [
          '1.0.1',
          rawTarGz([
            { name: 'demo/Chart.yaml', body: chartYaml('1.0.1') },
            { name: 'demo/../../evil.yaml', body: 'pwned' },
          ]),
        ],
        [
          '1.0.2',
          gzipBomb(150 << 20, 'demo/zeros.yaml', [{ name: 'demo/Chart.yaml', body: chartYaml('1.0.2') }]),
        ],
      ];
      const index: { apiVersion: string; entries: { demo: object[] } } = {
        apiVersion: 'v1',
        entries: { demo: [] },
      };
      for (const [version, tgz] of charts) {
        await writeFile(join(root, `demo-${version}.tgz`), tgz);
        index.entries.demo.push({
          apiVersion: 'v2',
          name: 'demo',
          version,
          urls: [`${url}/demo-${version}.tgz`],
          digest: sha256(tgz),
          created: '2026-01-01T00:00:00Z',
        });
      }
      await writeFile(join(root, 'index.yaml'), yaml(index));
      const c = env.client();
      await c.create({
        apiVersion: sourceApiVersion,
        kind: 'HelmRepository',
        metadata: { name: 'abuse', namespace: ns },
        spec: { url, interval: '10m' },
      });
      const chartRef = { apiVersion: sourceApiVersion, kind: 'HelmChart', namespace: ns, name: 'demo' };
      await c.create({
        apiVersion: sourceApiVersion,
        kind: 'HelmChart',
        metadata: { name: 'demo', namespace: ns },
        spec: {
          chart: 'demo',
          version: '1.0.0',
          sourceRef: { kind: 'HelmRepository', name: 'abuse' },
          interval: '10m',
        },
      });
      const stored = await env.until('HelmChart 1.0.0 stored', async () => {
        const o = await c.get<OCIRepository>(chartRef);
        return o.status?.artifact?.revision === '1.0.0' ? o.status.artifact : undefined;
      });
      for (const [version, pattern] of [
        ['1.0.1', /illegally references a path outside the chart: 'demo\/\.\.\/\.\.\/evil\.yaml'/],
        ['1.0.2', /expands beyond \d+ bytes/],
      ] as const) {
        await c.patch(chartRef, 'merge', { spec: { version } });
        const o = await env.until(`HelmChart refuses ${version}`, async () => {
          const cur = await c.get<OCIRepository>(chartRef);
          const r = cond(cur, ConditionTypes.Ready);
          if (r?.status === 'False' && pattern.test(r.message)) return cur;
          throw new Error(`Ready=${r?.status}: ${r?.message}`);
        });
        assert.equal(cond(o, ConditionTypes.Ready)?.reason, Reasons.ChartPullError, version);
        assert.equal(o.status?.artifact?.revision, stored.revision, `${version}: the last artifact is kept`);
        assert.equal(await stat(join(root, '..', 'evil.yaml')).catch(() => undefined), undefined);
      }
    });
  });
});

describe('abuse: hostile chart artifacts in the helm-controller', function () {
  this.timeout(300_000);
  const ns = useNamespace('abuse-hc');
  const hc = useHelmController();
  const served = useServedArtifacts();
  const escapeName = `tide-abuse-chart-escape-${process.pid}`;

  it('refuses a chart artifact with `..` paths, devices or a gzip bomb; the release stays', async () => {
    const c = hc.client;
    // suspend: the source-controller leaves this OCIRepository to the test, which plays its part.
    await c.create({
      apiVersion: sourceApiVersion,
      kind: 'OCIRepository',
      metadata: { name: 'chart', namespace: ns() },
      spec: { url: 'oci://127.0.0.1:9/none', ref: { tag: '1.0.0' }, interval: '10m', suspend: true },
    });
    const chart = (extra: RawEntry[]): RawEntry[] => [
      { name: 'demo/Chart.yaml', body: 'apiVersion: v2\nname: demo\nversion: 1.0.0\n' },
      { name: 'demo/templates/cm.yaml', body: yaml(configMap('chart-cm', { v: '1' })) },
      ...extra,
    ];
    const publish = (tarball: Buffer) =>
      served.publish(
        c,
        { kind: 'OCIRepository', namespace: ns(), name: 'chart' },
        tarball,
        (hex) => `1.0.0@sha256:${hex}`,
      );
    await publish(rawTarGz(chart([])));
    await c.create({
      apiVersion: hrApiVersion,
      kind: 'HelmRelease',
      metadata: { name: 'demo', namespace: ns() },
      spec: { interval: '10m', timeout: '30s', chartRef: { kind: 'OCIRepository', name: 'chart' } },
    });
    await waitReady(c, ns(), 'demo');
    const helm = await helmCli();
    const released = await helmHistory(helm, ns(), 'demo');

    const cases: Array<[string, Buffer, RegExp]> = [
      [
        'a `..` path',
        rawTarGz(chart([{ name: `../../../../../../tmp/${escapeName}`, body: 'pwned' }])),
        /escapes the target directory/,
      ],
      [
        'a device',
        rawTarGz(chart([{ name: 'demo/templates/tty', type: TarType.charDevice }])),
        /unsupported entry type/,
      ],
      ['a gzip bomb', gzipBomb(200 << 20, 'demo/templates/zeros.yaml', chart([])), /exceeds the limit/],
    ];
    for (const [what, tarball, pattern] of cases) {
      await publish(tarball);
      const o = await waitHr(c, ns(), 'demo', `refusing ${what}`, (hr) => {
        const r = cond(hr, ConditionTypes.Ready);
        return r?.status === 'False' && pattern.test(r.message);
      });
      assert.equal(cond(o, ConditionTypes.Ready)?.reason, Reasons.ArtifactFailed, what);
      assert.deepEqual(await helmHistory(helm, ns(), 'demo'), released, `${what}: no new release`);
      await assert.rejects(stat(join(tmpdir(), escapeName)), { code: 'ENOENT' }, what);
    }

    // A chart whose crds/ holds an alias bomb: Tide applies CRDs itself, so it must not expand it.
    await publish(
      rawTarGz(
        chart([{ name: 'demo/crds/bomb.yaml', body: `${yamlBomb()}kind: CustomResourceDefinition\n` }]),
      ),
    );
    await waitHr(c, ns(), 'demo', 'refusing a CRD alias bomb', (hr) => {
      const r = cond(hr, ConditionTypes.Ready);
      return (
        r?.status === 'False' &&
        /chart file 'crds\/bomb\.yaml': document contains excessive aliasing/.test(r.message)
      );
    });
    assert.deepEqual(await helmHistory(helm, ns(), 'demo'), released, 'no new release');
  });
});
