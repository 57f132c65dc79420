// source-controller's HelmChart, run as its own process: charts from a HelmRepository on the test
// bed's chart server (published with the real helm binary) and from a GitRepository on the test bed's
// Git server; the artifacts are read back with helm.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import type { HelmChart } from '../../../controllers/api/source-helm.ts';
import { readArchiveFiles } from '../../../controllers/runtime/helm/chart.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { downloadChartArtifact } from '../../support/charts.ts';
import { createWorkRepo, type WorkRepo } from '../../support/gitwork.ts';
import {
  sourceApiVersion as apiVersion,
  cond,
  download,
  helmCli,
  type SourceObject,
  sha256,
  writeTree as tree,
  useSourceController,
} from '../../support/sources.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';

const DEMO = {
  'Chart.yaml': 'apiVersion: v2\nname: demo\nversion: 0.0.0\n',
  'values.yaml': 'greeting: hello\nreplicas: 1\n',
  'values-prod.yaml': 'greeting: bonjour\n',
  'templates/cm.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
};

// A chart in a Git repository with a vendored dependency (a directory under charts/) and values
// files outside the chart.
const GIT = {
  'charts/app/Chart.yaml':
    'apiVersion: v2\nname: app\nversion: 0.5.0\ndependencies:\n- name: vend\n  version: 0.1.0\n  repository: https://charts.example.invalid\n',
  'charts/app/values.yaml': 'message: default\n',
  'charts/app/templates/cm.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  message: {{ .Values.message | quote }}\n',
  'charts/app/charts/vend/Chart.yaml': 'apiVersion: v2\nname: vend\nversion: 0.1.0\n',
  'charts/app/charts/vend/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vend\n',
  'env/prod.yaml': 'message: production\n',
  'not-a-chart/README.md': 'nothing here\n',
};

describe('source-controller: HelmChart', function () {
  this.timeout(180_000);
  const ns = useNamespace('helmchart');
  const source = useSourceController(['--artifact-retention-ttl=1h', '--concurrent=2']);
  const { patchSpec, waitReady, waitNotReady } = source.kind<HelmChart>('HelmChart', ns);
  let work: string;
  let repoDir: string;
  let repoUrl: string;
  let helm: (args: string[]) => Promise<string>;

  const publish = async (version: string) => {
    await helm(['package', join(work, 'demo'), '--version', version, '-d', repoDir]);
    await helm(['repo', 'index', repoDir, '--url', repoUrl]);
  };

  before(async () => {
    const tb = testbed();
    work = await mkdtemp(join(tb.dir, 'helmchart-'));
    helm = await helmCli(work);
    await tree(join(work, 'demo'), DEMO);
    repoDir = join(tb.chartsDir, `helmchart-${process.pid}`);
    repoUrl = `${tb.charts.url}/helmchart-${process.pid}`;
    await mkdir(repoDir, { recursive: true });
    for (const v of ['0.9.0', '1.2.0', '1.10.0', '2.0.0']) await publish(v);
    await source.client.create({
      apiVersion,
      kind: 'HelmRepository',
      metadata: { name: 'charts', namespace: ns() },
      spec: { url: repoUrl, interval: '10m' },
    });
  });

  const create = (name: string, spec: Partial<HelmChart['spec']>) =>
    source.client.create({
      apiVersion,
      kind: 'HelmChart',
      metadata: { name, namespace: ns() },
      spec: {
        chart: 'demo',
        interval: '10m',
        sourceRef: { kind: 'HelmRepository', name: 'charts' },
        ...spec,
      },
    });
  const sourceKind = (kind: string) => source.kind<SourceObject>(kind, ns);
  const artifactFile = (o: HelmChart) => downloadChartArtifact(o.status!.artifact!, work);
  const showChart = async (file: string) =>
    load(await helm(['show', 'chart', file])) as Record<string, unknown>;

  describe('from a HelmRepository', () => {
    it("selects the highest version in range '1.x' and stores the chart helm reads", async () => {
      await create('demo', { version: '1.x' });
      const o = await waitReady('demo');
      const a = o.status!.artifact!;
      assert.equal(a.revision, '1.10.0');
      assert.equal(a.path, `helmchart/${ns()}/demo/demo-1.10.0.tgz`);
      assert.equal(cond(o, ConditionTypes.Ready)!.message, "pulled 'demo' chart with version '1.10.0'");
      assert.equal(o.status?.observedChartName, 'demo');
      const repo = await sourceKind('HelmRepository').waitReady('charts');
      assert.equal(o.status?.observedSourceArtifactRevision, repo.status?.artifact?.revision);
      const file = await artifactFile(o);
      assert.equal((await showChart(file)).version, '1.10.0');
      // Pulled as published: the same bytes as the repository's archive.
      assert.equal(sha256(await readFile(file)), sha256(await readFile(join(repoDir, 'demo-1.10.0.tgz'))));
    });

    it('follows a new chart version in the repository index without touching the HelmChart', async () => {
      const before = (await sourceKind('HelmRepository').waitReady('charts')).status!.artifact!.revision;
      await publish('1.11.0');
      await sourceKind('HelmRepository').requestReconcile('charts', 'new-version');
      await sourceKind('HelmRepository').waitReady('charts', (r) => r.status?.artifact?.revision !== before);
      const o = await waitReady('demo', (x) => x.status?.artifact?.revision === '1.11.0');
      assert.equal((await showChart(await artifactFile(o))).version, '1.11.0');
    });

    it('reports a missing chart or an unmatched range, and keeps serving the last artifact', async () => {
      const good = (await waitReady('demo')).status!.artifact!;
      await patchSpec('demo', { version: '5.x' });
      let o = await waitNotReady('demo', /no 'demo' chart with version matching '5.x' found/);
      assert.equal(cond(o, ConditionTypes.Ready)?.reason, 'InvalidChartReference');
      assert.equal(cond(o, ConditionTypes.Stalled)?.status, 'True');
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'InvalidChartReference');
      assert.equal(o.status!.artifact!.digest, good.digest);
      assert.equal(sha256(await download(o.status!.artifact!.url)), good.digest);

      await patchSpec('demo', { chart: 'no-such-chart', version: '*' });
      o = await waitNotReady('demo', /invalid chart reference: no chart name found 'no-such-chart'/);
      assert.equal(o.status!.artifact!.digest, good.digest);

      await patchSpec('demo', { chart: 'demo', version: '1.x' });
      o = await waitReady('demo');
      assert.equal(o.status!.artifact!.revision, good.revision);
      assert.equal(cond(o, ConditionTypes.FetchFailed), undefined);
    });

    it('merges valuesFiles into the packaged chart and versions it with the generation', async () => {
      await create('prod', { version: '1.2.0', valuesFiles: ['values.yaml', 'values-prod.yaml'] });
      const o = await waitReady('prod');
      const version = `1.2.0+${o.metadata.generation}`;
      assert.equal(o.status!.artifact!.revision, version);
      assert.equal(
        cond(o, ConditionTypes.Ready)!.message,
        `packaged 'demo' chart with version '${version}' and merged values files [values.yaml values-prod.yaml]`,
      );
      const file = await artifactFile(o);
      assert.equal((await showChart(file)).version, version);
      assert.deepEqual(load(await helm(['show', 'values', file])), { greeting: 'bonjour', replicas: 1 });
    });

    it('stalls on a missing values file unless ignoreMissingValuesFiles is set', async () => {
      await create('missing-values', {
        version: '1.2.0',
        valuesFiles: ['values-prod.yaml', 'values-nope.yaml'],
      });
      const o = await waitNotReady('missing-values', /values-nope\.yaml/);
      assert.equal(cond(o, ConditionTypes.Ready)?.reason, 'ValuesFilesError');
      assert.equal(cond(o, ConditionTypes.BuildFailed)?.status, 'True');
      assert.equal(o.status?.artifact, undefined);

      await patchSpec('missing-values', { ignoreMissingValuesFiles: true });
      const ok = await waitReady('missing-values');
      assert.deepEqual(ok.status?.observedValuesFiles, ['values-prod.yaml']);
      assert.equal(cond(ok, ConditionTypes.BuildFailed), undefined);
      assert.deepEqual(load(await helm(['show', 'values', await artifactFile(ok)])), { greeting: 'bonjour' });
    });

    it("downloads the chart with the HelmRepository's basic auth credentials", async () => {
      const root = join(work, 'private');
      await mkdir(root);
      await helm(['package', join(work, 'demo'), '--version', '3.0.0', '-d', root]);
      await helm(['repo', 'index', root]); // relative chart URLs: same host, so credentials go along
      const expected = `Basic ${Buffer.from('tide:chart-pass').toString('base64')}`;
      const seen: string[] = [];
      const server: Server = createServer(async (req, res) => {
        seen.push(`${req.headers.authorization === expected ? 'auth' : 'anon'} ${req.url}`);
        if (req.headers.authorization !== expected) return void res.writeHead(401).end();
        const body = await readFile(join(root, (req.url ?? '/').slice(1))).catch(() => undefined);
        if (!body) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-length': body.length }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        await source.client.create({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'chart-auth', namespace: ns() },
          stringData: { username: 'tide', password: 'chart-pass' },
        });
        await source.client.create({
          apiVersion,
          kind: 'HelmRepository',
          metadata: { name: 'private', namespace: ns() },
          spec: {
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            interval: '10m',
            secretRef: { name: 'chart-auth' },
          },
        });
        await create('private', { sourceRef: { kind: 'HelmRepository', name: 'private' } });
        const o = await waitReady('private');
        assert.equal(o.status!.artifact!.revision, '3.0.0');
        assert.equal((await showChart(await artifactFile(o))).version, '3.0.0');
        assert.ok(seen.includes('auth /demo-3.0.0.tgz'), seen.join(', '));
        assert.ok(!JSON.stringify(o.status).includes('chart-pass'));
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('waits for a source that does not exist yet, then builds at once when it is ready', async () => {
      await create('later', { sourceRef: { kind: 'HelmRepository', name: 'later' } });
      const o = await waitNotReady('later', /HelmRepository '.*\/later' not found/);
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'SourceUnavailable');
      await source.client.create({
        apiVersion,
        kind: 'HelmRepository',
        metadata: { name: 'later', namespace: ns() },
        spec: { url: repoUrl, interval: '10m' },
      });
      const chart = await waitReady('later', (x) => x.status?.artifact?.revision === '2.0.0');
      // The watch on HelmRepositories triggered it, not the 30 s wait for a missing source: measured
      // between the server's own timestamps, so a slow test process does not matter.
      const repo = await source.client.get({
        apiVersion,
        kind: 'HelmRepository',
        namespace: ns(),
        name: 'later',
      });
      const sourceReady = Date.parse(String(repo.status?.artifact?.lastUpdateTime));
      const chartReady = Date.parse(String(chart.status?.artifact?.lastUpdateTime));
      assert.ok(chartReady - sourceReady < 30_000, `built ${chartReady - sourceReady} ms after its source`);
    });
  });

  describe('from a GitRepository', () => {
    let repo: WorkRepo;
    let first: string;

    before(async () => {
      const tb = testbed();
      repo = await createWorkRepo(`helmchart-${process.pid}`);
      first = await repo.commit(GIT, 'chart');
      await source.client.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git-auth', namespace: ns() },
        stringData: { username: tb.git.username, password: tb.git.password },
      });
      await source.client.create({
        apiVersion,
        kind: 'GitRepository',
        metadata: { name: 'git', namespace: ns() },
        spec: { url: repo.url, interval: '10m', ref: { branch: 'main' }, secretRef: { name: 'git-auth' } },
      });
    });

    const gitChart = (name: string, spec: Partial<HelmChart['spec']> = {}) =>
      create(name, { chart: 'charts/app', sourceRef: { kind: 'GitRepository', name: 'git' }, ...spec });

    it('packages the chart directory with its vendored dependency', async () => {
      await gitChart('app');
      const o = await waitReady('app');
      assert.equal(o.status!.artifact!.revision, '0.5.0');
      assert.equal(o.status?.observedSourceArtifactRevision, `main@sha1:${first}`);
      assert.equal(cond(o, ConditionTypes.Ready)!.message, "packaged 'app' chart with version '0.5.0'");
      const file = await artifactFile(o);
      const names = (await readArchiveFiles(await readFile(file))).map((f) => f.name);
      assert.ok(names.includes('app/charts/vend/Chart.yaml'), names.join(', '));
      const rendered = await helm(['template', 'r', file]);
      assert.match(rendered, /name: vend/);
      assert.match(rendered, /message: "default"/);
    });

    it('merges values files from the source root', async () => {
      await gitChart('app-prod', { valuesFiles: ['env/prod.yaml'] });
      const o = await waitReady('app-prod');
      assert.equal(o.status!.artifact!.revision, `0.5.0+${o.metadata.generation}`);
      assert.match(await helm(['template', 'r', await artifactFile(o)]), /message: "production"/);
    });

    it('Revision strategy appends the commit; a new commit gives a new chart artifact', async () => {
      await gitChart('app-rev', { reconcileStrategy: 'Revision' });
      let o = await waitReady('app-rev');
      assert.equal(o.status!.artifact!.revision, `0.5.0+${first.slice(0, 12)}`);
      assert.equal((await showChart(await artifactFile(o))).version, `0.5.0+${first.slice(0, 12)}`);
      const chartVersionDigest = (await waitReady('app')).status!.artifact!.digest;

      const second = await repo.commit({ 'charts/app/templates/extra.yaml': '# more\n' }, 'more');
      await sourceKind('GitRepository').requestReconcile('git', 'second');
      o = await waitReady('app-rev', (x) => x.status?.artifact?.revision === `0.5.0+${second.slice(0, 12)}`);
      const names = (await readArchiveFiles(await readFile(await artifactFile(o)))).map((f) => f.name);
      assert.ok(names.includes('app/templates/extra.yaml'));
      // ChartVersion (the default) keeps its artifact until the chart version changes, as Flux does.
      const same = await waitReady(
        'app',
        (x) => x.status?.observedSourceArtifactRevision === `main@sha1:${second}`,
      );
      assert.equal(same.status!.artifact!.revision, '0.5.0');
      assert.equal(same.status!.artifact!.digest, chartVersionDigest);
    });

    it('reports a path without Chart.yaml, and keeps serving the last artifact', async () => {
      await gitChart('bad-path');
      const good = (await waitReady('bad-path')).status!.artifact!;
      await patchSpec('bad-path', { chart: 'not-a-chart' });
      let o = await waitNotReady('bad-path', /no Chart\.yaml found in 'not-a-chart'/);
      assert.equal(cond(o, ConditionTypes.Ready)?.reason, 'InvalidChartReference');
      assert.equal(o.status!.artifact!.digest, good.digest);
      assert.equal((await fetch(o.status!.artifact!.url)).status, 200);

      await patchSpec('bad-path', { chart: 'no/such/dir' });
      o = await waitNotReady('bad-path', /no chart found at path 'no\/such\/dir' in GitRepository 'git'/);
      assert.equal(o.status!.artifact!.digest, good.digest);
    });

    it('removes the chart storage on deletion', async () => {
      await gitChart('doomed');
      await waitReady('doomed');
      const dir = join(source.storagePath, 'helmchart', ns(), 'doomed');
      assert.equal((await readdir(dir)).length, 1);
      await source.client.delete({ apiVersion, kind: 'HelmChart', namespace: ns(), name: 'doomed' });
      await poll('storage emptied', 30_000, async () =>
        (await readdir(dir).catch(() => undefined)) === undefined ? true : undefined,
      );
    });
  });
});
