// source-controller's HelmChart, run as its own process, with charts in real OCI registries: podinfo
// pushed with helm to the test bed's registry (and to a TLS registry with htpasswd auth) and pulled
// through HelmRepositories of type oci; and a Git-sourced chart whose dependencies are fetched from
// the test bed's chart server and from the registry, as `helm dependency build` would vendor them.

import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import type { HelmChart } from '../../../controllers/api/source-helm.ts';
import { readArchiveFiles } from '../../../controllers/runtime/helm/chart.ts';
import { dockerConfigJson } from '../../../controllers/runtime/oci/auth.ts';
import { freePort } from '../../../hack/testbed/proc.ts';
import {
  downloadChartArtifact,
  type PushedChart,
  podinfoChartDir,
  publishChart,
  pushChartOci,
} from '../../support/charts.ts';
import { createWorkRepo } from '../../support/gitwork.ts';
import {
  sourceApiVersion as apiVersion,
  cond,
  download,
  helmCli,
  sha256,
  writeTree as tree,
  useSourceController,
} from '../../support/sources.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { type AuthRegistry, startAuthRegistry } from '../oci/fixtures.ts';

const DEMO = {
  'Chart.yaml': 'apiVersion: v2\nname: demo\nversion: 0.0.0\n',
  'values.yaml': 'greeting: hello\n',
  'templates/cm.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\n' +
    'data:\n  greeting: {{ .Values.greeting | quote }}\n  version: {{ .Chart.Version | quote }}\n',
};

describe('source-controller: HelmChart from OCI registries and remote dependencies', function () {
  this.timeout(240_000);
  const ns = useNamespace('helmchart-oci');
  const source = useSourceController(['--artifact-retention-ttl=1h', '--concurrent=2']);
  const charts = source.kind<HelmChart>('HelmChart', ns);
  let work: string;
  let helm: (args: string[]) => Promise<string>;
  let chartsPath: string;
  let podinfo: PushedChart;

  const create = (kind: string, name: string, spec: Record<string, unknown>) =>
    source.client.create({ apiVersion, kind, metadata: { name, namespace: ns() }, spec });
  const secret = (name: string, type: string, data: Record<string, string | Buffer>) =>
    source.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      type,
      metadata: { name, namespace: ns() },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    });
  const ociChart = (name: string, spec: Partial<HelmChart['spec']> = {}) =>
    create('HelmChart', name, {
      chart: 'podinfo',
      interval: '10m',
      sourceRef: { kind: 'HelmRepository', name: 'oci' },
      ...spec,
    });
  const artifactFile = (o: HelmChart) => downloadChartArtifact(o.status!.artifact!, work);

  before(async () => {
    const tb = testbed();
    work = await mkdtemp(join(tb.dir, 'helmchart-oci-'));
    helm = await helmCli(work);
    chartsPath = `charts-${process.pid}`;
    // podinfo as published (6.9.2), an older release, a newer pre-release.
    podinfo = await pushChartOci(podinfoChartDir(), { repository: chartsPath });
    await pushChartOci(podinfoChartDir(), { repository: chartsPath }, '6.8.0');
    await pushChartOci(podinfoChartDir(), { repository: chartsPath }, '7.0.0-rc.1');
    await create('HelmRepository', 'oci', {
      type: 'oci',
      url: podinfo.repoUrl,
      insecure: true,
      interval: '10m',
    });
  });

  describe('from a HelmRepository of type oci', () => {
    it('pulls the chart layer of the version tag: revision is the version, digest the layer digest', async () => {
      await ociChart('podinfo', { version: '6.9.2' });
      const o = await charts.waitReady('podinfo');
      const a = o.status!.artifact!;
      assert.equal(a.revision, '6.9.2');
      assert.equal(a.path, `helmchart/${ns()}/podinfo/podinfo-6.9.2.tgz`);
      // Stored as pulled: the bytes helm packaged and pushed, so the digest of the chart layer.
      assert.equal(a.digest, podinfo.digest);
      assert.equal(cond(o, ConditionTypes.Ready)!.message, "pulled 'podinfo' chart with version '6.9.2'");
      assert.equal(cond(o, ConditionTypes.ArtifactInStorage)?.reason, 'ChartPullSucceeded');
      assert.equal(o.status?.observedChartName, 'podinfo');
      assert.equal(
        o.status?.observedSourceArtifactRevision,
        undefined,
        'an oci HelmRepository has no artifact',
      );
      const shown = load(await helm(['show', 'chart', await artifactFile(o)])) as Record<string, unknown>;
      assert.equal(shown.version, '6.9.2');
      assert.equal(shown.name, 'podinfo');
    });

    it('resolves a semver range to the newest matching tag, and follows a new tag', async () => {
      await ociChart('ranged', { version: '>=6.0.0 <8.0.0' });
      let o = await charts.waitReady('ranged');
      assert.equal(
        o.status!.artifact!.revision,
        '6.9.2',
        'the pre-release 7.0.0-rc.1 is not in a stable range',
      );
      const newer = await pushChartOci(podinfoChartDir(), { repository: chartsPath }, '6.10.0');
      await charts.requestReconcile('ranged', 'new-tag');
      o = await charts.waitReady('ranged', (x) => x.status?.artifact?.revision === '6.10.0');
      assert.equal(o.status!.artifact!.digest, newer.digest);
      await charts.patchSpec('ranged', { version: '>=7.0.0-0' });
      o = await charts.waitReady('ranged', (x) => x.status?.artifact?.revision === '7.0.0-rc.1');
      assert.equal(
        (load(await helm(['show', 'chart', await artifactFile(o)])) as { version: string }).version,
        '7.0.0-rc.1',
      );
    });

    it("reports a missing version or chart with Flux's messages and keeps the last artifact", async () => {
      await ociChart('missing', { version: '6.x' });
      const good = (await charts.waitReady('missing')).status!.artifact!;

      await charts.patchSpec('missing', { version: '9.x' });
      let o = await charts.waitNotReady(
        'missing',
        /^chart pull error: failed to get chart version for remote reference: could not locate a version matching provided version string 9\.x$/,
      );
      assert.equal(cond(o, ConditionTypes.Ready)?.reason, 'ChartPullError');
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'ChartPullError');
      assert.equal(o.status!.artifact!.digest, good.digest);
      assert.equal(sha256(await download(o.status!.artifact!.url)), good.digest);

      // A version is taken as the tag without listing tags: the pull finds it missing.
      await charts.patchSpec('missing', { version: '6.9.9' });
      o = await charts.waitNotReady(
        'missing',
        /^chart pull error: failed to download chart for remote reference: failed to get 'oci:\/\/127\.0\.0\.1:\d+\/charts-\d+\/podinfo:6\.9\.9': /,
      );
      assert.equal(o.status!.artifact!.digest, good.digest);

      await charts.patchSpec('missing', { chart: 'no-such-chart', version: '*' });
      o = await charts.waitNotReady(
        'missing',
        /^chart pull error: failed to get chart version for remote reference: could not get tags for "no-such-chart": could not fetch tags for "oci:\/\/.*\/no-such-chart": /,
      );
      assert.equal(o.status!.artifact!.digest, good.digest);

      await charts.patchSpec('missing', { chart: 'podinfo', version: '6.x' });
      o = await charts.waitReady('missing');
      assert.equal(o.status!.artifact!.revision, '6.10.0');
      assert.equal(cond(o, ConditionTypes.FetchFailed), undefined);
    });

    it('merges values files of the chart into a packaged artifact versioned with the generation', async () => {
      await ociChart('prod', { version: '6.9.2', valuesFiles: ['values.yaml', 'values-prod.yaml'] });
      const o = await charts.waitReady('prod');
      const version = `6.9.2+${o.metadata.generation}`;
      assert.equal(o.status!.artifact!.revision, version);
      assert.equal(
        cond(o, ConditionTypes.Ready)!.message,
        `packaged 'podinfo' chart with version '${version}' and merged values files [values.yaml values-prod.yaml]`,
      );
      const prod = load(await readFile(join(podinfoChartDir(), 'values-prod.yaml'), 'utf8')) as Record<
        string,
        unknown
      >;
      const values = load(await helm(['show', 'values', await artifactFile(o)])) as Record<string, unknown>;
      for (const [k, v] of Object.entries(prod)) {
        if (typeof v !== 'object') assert.deepEqual(values[k], v, `values-prod.yaml sets ${k}`);
      }
    });
  });

  describe('from an oci HelmRepository with dockerconfigjson secretRef and certSecretRef', () => {
    const user = { username: 'tide', password: 'oci-chart-pass' };
    let reg: AuthRegistry;
    let pushed: PushedChart;

    before(async () => {
      reg = await startAuthRegistry(await mkdtemp(join(testbed().dir, 'helmchart-auth-')), user);
      pushed = await pushChartOci(podinfoChartDir(), {
        host: reg.host,
        repository: 'private',
        caCert: reg.caCert,
        ...user,
      });
      await secret('registry-ca', 'Opaque', { 'ca.crt': reg.caCert });
      await secret('registry-creds', 'kubernetes.io/dockerconfigjson', {
        '.dockerconfigjson': dockerConfigJson(reg.host, user),
      });
      await secret('other-registry', 'kubernetes.io/dockerconfigjson', {
        '.dockerconfigjson': dockerConfigJson('registry.example', user),
      });
      await create('HelmRepository', 'private', {
        type: 'oci',
        url: pushed.repoUrl,
        interval: '10m',
        certSecretRef: { name: 'registry-ca' },
      });
    });
    after(async () => {
      await reg?.close();
    });

    it('fails to authenticate anonymously, then pulls with the credentials of the Secret', async () => {
      await create('HelmChart', 'private', {
        chart: 'podinfo',
        version: '6.x',
        interval: '10m',
        sourceRef: { kind: 'HelmRepository', name: 'private' },
      });
      let o = await charts.waitNotReady('private', /^failed to authenticate with the Helm repository: /);
      assert.equal(cond(o, ConditionTypes.Ready)?.reason, 'AuthenticationFailed');
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');

      const repos = source.kind('HelmRepository', ns);
      await repos.patchSpec('private', { secretRef: { name: 'other-registry' } });
      await charts.requestReconcile('private', 'other-registry');
      o = await charts.waitNotReady(
        'private',
        /^failed to configure OCI registry authentication: no auth config for '127\.0\.0\.1:\d+' in the docker-registry Secret 'other-registry'$/,
      );
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');

      await repos.patchSpec('private', { secretRef: { name: 'registry-creds' } });
      await charts.requestReconcile('private', 'registry-creds');
      o = await charts.waitReady('private');
      assert.equal(o.status!.artifact!.revision, '6.9.2');
      assert.equal(o.status!.artifact!.digest, pushed.digest);
      assert.ok(!JSON.stringify(o.status).includes(user.password));
    });
  });

  describe('from a GitRepository, with dependencies fetched from their repositories', () => {
    let demoRepoUrl: string;
    let closedPort: number;

    before(async () => {
      const tb = testbed();
      await tree(join(work, 'demo'), DEMO);
      const repo = `deps-${process.pid}`;
      for (const v of ['1.0.0', '1.0.3', '1.1.0']) {
        demoRepoUrl = (await publishChart(join(work, 'demo'), { repo, version: v })).repoUrl;
      }
      closedPort = await freePort();
      const git = await createWorkRepo(`helmchart-deps-${process.pid}`);
      await git.commit(
        {
          'umbrella/Chart.yaml':
            'apiVersion: v2\nname: umbrella\nversion: 1.0.0\ndependencies:\n' +
            `- {name: demo, version: "~1.0.0", repository: "${demoRepoUrl}"}\n` +
            `- {name: podinfo, alias: web, version: "6.9.x", repository: "${podinfo.repoUrl}/"}\n`,
          'umbrella/values.yaml': 'demo:\n  greeting: from-umbrella\n',
          'umbrella/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: umbrella\n',
          'unreachable/Chart.yaml':
            'apiVersion: v2\nname: unreachable\nversion: 1.0.0\ndependencies:\n' +
            `- {name: lib, version: "1.x", repository: "http://127.0.0.1:${closedPort}/charts"}\n`,
        },
        'charts with remote dependencies',
      );
      await secret('git-auth', 'Opaque', { username: tb.git.username, password: tb.git.password });
      await create('GitRepository', 'git', {
        url: git.url,
        interval: '10m',
        ref: { branch: 'main' },
        secretRef: { name: 'git-auth' },
      });
    });

    it('packages the dependencies from the chart server and the OCI registry into the chart', async () => {
      await create('HelmChart', 'umbrella', {
        chart: 'umbrella',
        interval: '10m',
        sourceRef: { kind: 'GitRepository', name: 'git' },
      });
      const o = await charts.waitReady('umbrella');
      assert.equal(o.status!.artifact!.revision, '1.0.0');
      assert.equal(cond(o, ConditionTypes.Ready)!.message, "packaged 'umbrella' chart with version '1.0.0'");
      const file = await artifactFile(o);
      const files = await readArchiveFiles(await readFile(file));
      const text = (name: string) => files.find((f) => f.name === name)?.data.toString('utf8');
      // The highest 1.0.x of the index; podinfo under its chart name, as `helm dependency build` puts it.
      assert.match(text('umbrella/charts/demo/Chart.yaml') ?? '', /^version: 1\.0\.3$/m);
      assert.match(text('umbrella/charts/podinfo/Chart.yaml') ?? '', /^version: 6\.9\.2$/m);
      const rendered = await helm(['template', 'r', file, '--kube-version', '1.36.3']);
      assert.match(rendered, /greeting: "from-umbrella"/);
      assert.match(rendered, /version: "1\.0\.3"/);
      // helm applies the alias: podinfo's Deployment is named after it.
      assert.match(rendered, /^kind: Deployment$/m);
      assert.match(rendered, /^ {2}name: r-web$/m);
    });

    it('fails with DependencyBuildError when a dependency repository is unreachable', async () => {
      await create('HelmChart', 'unreachable', {
        chart: 'unreachable',
        interval: '10m',
        sourceRef: { kind: 'GitRepository', name: 'git' },
      });
      const o = await charts.waitNotReady(
        'unreachable',
        new RegExp(
          `^dependency build error: failed to add remote dependency 'lib': failed to get chart 'lib' version '1\\.x' from 'http://127\\.0\\.0\\.1:${closedPort}/charts': .*connection refused`,
        ),
      );
      assert.equal(cond(o, ConditionTypes.Ready)?.reason, 'DependencyBuildError');
      assert.equal(cond(o, ConditionTypes.BuildFailed)?.reason, 'DependencyBuildError');
      assert.equal(cond(o, ConditionTypes.Stalled), undefined, 'retried: the repository may come back');
      assert.equal(o.status?.artifact, undefined);
    });
  });
});
