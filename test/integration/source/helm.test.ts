// Helm repository and chart handling against the test bed's chart repository, with charts and
// indexes made by the real helm binary, and helm reading back what Tide produces.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { readArchiveFiles } from '../../../controllers/runtime/helm/chart.ts';
import { isHelmError } from '../../../controllers/runtime/helm/errors.ts';
import { downloadChart, selectChartVersion } from '../../../controllers/source/helm/index.ts';
import { packageChartDir, repackageChart } from '../../../controllers/source/helm/package.ts';
import { fetchIndex, indexArtifact } from '../../../controllers/source/helm/repository.ts';
import { chartVersionForStrategy } from '../../../controllers/source/helm/strategy.ts';
import { mergeValuesFiles } from '../../../controllers/source/helm/valuesfiles.ts';
import { run } from '../../../hack/testbed/proc.ts';
import type { StaticServer } from '../../../hack/testbed/staticserver.ts';
import { helmCli, startBasicAuthServer, writeTree as tree } from '../../support/sources.ts';
import { testbed } from '../../support/testbed.ts';

const DEMO = {
  'Chart.yaml': 'apiVersion: v2\nname: demo\nversion: 0.0.0\n',
  'values.yaml': 'greeting: hello\nreplicas: 1\n',
  'values-prod.yaml': 'greeting: bonjour\n',
  'templates/cm.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n' +
    '  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n',
};

// A chart in a Git-like source tree: one vendored dependency, one file:// dependency.
const SOURCE = {
  'charts/app/Chart.yaml':
    'apiVersion: v2\nname: app\nversion: 0.5.0\ndependencies:\n' +
    '- {name: vend, version: 0.1.0, repository: "https://charts.example.invalid"}\n' +
    '- {name: lib, version: "~0.3.0", repository: "file://../lib"}\n',
  'charts/app/values.yaml': 'message: default\nvend: {message: vend-default}\n',
  'charts/app/templates/cm.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  message: {{ .Values.message | quote }}\n',
  'charts/app/.helmignore': 'notes/\n',
  'charts/app/notes/draft.md': 'not packaged\n',
  'charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.3.2\n',
  'charts/lib/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lib\n',
  'vendor-src/vend/Chart.yaml': 'apiVersion: v2\nname: vend\nversion: 0.1.0\n',
  'vendor-src/vend/templates/cm.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vend\ndata:\n  message: {{ .Values.message | quote }}\n',
  'env/prod.yaml': 'message: production\nvend: {message: vend-prod}\n',
};

describe('source/helm with the test bed chart repository', function () {
  this.timeout(300_000);
  let work: string;
  let repoDir: string;
  let repoUrl: string;
  let helm: (args: string[]) => Promise<string>;

  before(async () => {
    const tb = testbed();
    work = await mkdtemp(join(tb.dir, 'helm-source-'));
    helm = await helmCli(work);
    // A directory of our own in the shared chart server, so other suites' index.yaml is left alone.
    repoDir = join(tb.chartsDir, 'tide-helm');
    repoUrl = `${tb.charts.url}/tide-helm`;
    await mkdir(repoDir, { recursive: true });
    await tree(join(work, 'demo'), DEMO);
    for (const version of ['0.1.0', '0.2.0', '1.0.0', '1.1.0-rc.1']) {
      await helm(['package', join(work, 'demo'), '--version', version, '-d', repoDir]);
    }
    await helm(['repo', 'index', repoDir, '--url', repoUrl]);
  });

  it('fetches the index helm wrote; the revision is the digest of the served file', async () => {
    const fetched = await fetchIndex(repoUrl);
    const onDisk = await readFile(join(repoDir, 'index.yaml'));
    const hex = createHash('sha256').update(onDisk).digest('hex');
    assert.equal(fetched.digest, `sha256:${hex}`);
    assert.deepEqual(
      fetched.index.entries.demo?.map((cv) => cv.version),
      ['1.1.0-rc.1', '1.0.0', '0.2.0', '0.1.0'],
    );
    assert.equal(indexArtifact(fetched).fileName, `index-${hex}.yaml`);
  });

  it('selects the same version as helm pull for a range', async () => {
    const { index } = await fetchIndex(`${repoUrl}/`);
    for (const [range, want] of [
      ['*', '1.0.0'],
      ['~0.1', '0.1.0'],
      ['<1', '0.2.0'],
      ['^0', '0.2.0'],
      ['>=1.1.0-0', '1.1.0-rc.1'],
    ] as const) {
      assert.equal(selectChartVersion(index, 'demo', range).version, want, range);
      const dest = await mkdtemp(join(work, 'pull-'));
      await helm(['pull', 'demo', '--repo', repoUrl, '--version', range, '-d', dest]);
      assert.ok(await stat(join(dest, `demo-${want}.tgz`)), `helm pull picked another version for ${range}`);
    }
    assert.throws(
      () => selectChartVersion(index, 'demo', '>=9'),
      (err: unknown) =>
        isHelmError(err, 'ChartReference') &&
        err.message === "no 'demo' chart with version matching '>=9' found",
    );
  });

  it('downloads a chart, verified against the index digest, that helm reads', async () => {
    const { index } = await fetchIndex(repoUrl);
    const cv = selectChartVersion(index, 'demo', '0.2.0');
    const got = await downloadChart(repoUrl, cv);
    assert.equal(got.url, `${repoUrl}/demo-0.2.0.tgz`);
    assert.equal(got.digest, `sha256:${cv.digest}`);
    const file = join(work, 'downloaded-demo-0.2.0.tgz');
    await writeFile(file, got.data);
    const shown = load(await helm(['show', 'chart', file])) as Record<string, unknown>;
    assert.equal(shown.name, 'demo');
    assert.equal(shown.version, '0.2.0');
  });

  it('resolves chart URLs relative to the repository, as helm repo index writes them without --url', async () => {
    const relDir = join(testbed().chartsDir, 'tide-helm-relative');
    await mkdir(relDir, { recursive: true });
    await helm(['package', join(work, 'demo'), '--version', '0.3.0', '-d', relDir]);
    await helm(['repo', 'index', relDir]);
    const relUrl = `${testbed().charts.url}/tide-helm-relative`;
    const { index } = await fetchIndex(relUrl);
    const cv = selectChartVersion(index, 'demo');
    assert.deepEqual(cv.urls, ['demo-0.3.0.tgz']);
    const got = await downloadChart(relUrl, cv);
    assert.equal(got.url, `${relUrl}/demo-0.3.0.tgz`);
  });

  it('repackages a downloaded chart with merged values files that helm renders', async () => {
    const { index } = await fetchIndex(repoUrl);
    const cv = selectChartVersion(index, 'demo');
    const { data } = await downloadChart(repoUrl, cv);
    const merged = await mergeValuesFiles(data, ['values.yaml', 'values-prod.yaml']);
    const version = chartVersionForStrategy(cv.version, 'ChartVersion', undefined, {
      sourceKind: 'HelmRepository',
      valuesFilesGeneration: 2,
    });
    const pkg = await repackageChart(data, { version, values: merged.yaml });
    assert.equal(pkg.fileName, 'demo-1.0.0+2.tgz');
    const file = join(work, pkg.fileName);
    await writeFile(file, pkg.data);
    assert.equal((load(await helm(['show', 'chart', file])) as { version: string }).version, '1.0.0+2');
    const rendered = await helm(['template', 'r', file]);
    assert.match(rendered, /greeting: "bonjour"/);
    assert.match(rendered, /replicas: "1"/);
  });

  describe('a chart from a source tree', () => {
    let src: string;
    before(async () => {
      src = await mkdtemp(join(work, 'src-'));
      await tree(src, SOURCE);
      // Vendor `vend` the way users do: a helm-packaged archive in charts/.
      await helm(['package', join(src, 'vendor-src/vend'), '-d', join(src, 'charts/app/charts')]);
    });

    it('packages it with its vendored and file:// dependencies so that helm shows and renders it', async () => {
      const pkg = await packageChartDir(join(src, 'charts/app'), { rootDir: src });
      assert.deepEqual(pkg.resolvedDependencies, ['lib']);
      const file = join(work, pkg.fileName);
      await writeFile(file, pkg.data);
      const shown = load(await helm(['show', 'chart', file])) as Record<string, unknown>;
      assert.equal(shown.name, 'app');
      assert.equal(shown.version, '0.5.0');
      const rendered = await helm(['template', 'r', file]);
      for (const name of ['app', 'vend', 'lib']) assert.match(rendered, new RegExp(`name: ${name}\\n`), name);
      assert.match(rendered, /message: "default"/);
      assert.match(rendered, /message: "vend-default"/);
      const listed = (await run('tar', ['-tzf', file])).trim().split('\n');
      assert.ok(!listed.some((l) => l.includes('notes/')), '.helmignore honoured');
      // helm itself accepts the package.
      await helm(['lint', file]);
    });

    it('renders merged values files and carries the Revision strategy version', async () => {
      const merged = await mergeValuesFiles(src, ['charts/app/values.yaml', 'env/prod.yaml']);
      const version = chartVersionForStrategy('0.5.0', 'Revision', `main@sha1:${'c0ffee'.repeat(6)}abcd`, {
        valuesFilesGeneration: 3,
      });
      assert.equal(version, '0.5.0+c0ffeec0ffee.3');
      const pkg = await packageChartDir(join(src, 'charts/app'), {
        rootDir: src,
        version,
        values: merged.yaml,
      });
      const file = join(work, pkg.fileName);
      await writeFile(file, pkg.data);
      assert.equal((load(await helm(['show', 'chart', file])) as { version: string }).version, version);
      const rendered = await helm(['template', 'r', file]);
      assert.match(rendered, /message: "production"/);
      assert.match(rendered, /message: "vend-prod"/);
      assert.doesNotMatch(rendered, /message: "default"/);
    });
  });

  it('packages a chart with the same files and contents as helm package', async () => {
    const dir = await mkdtemp(join(work, 'parity-'));
    await tree(dir, {
      'parity/Chart.yaml':
        'apiVersion: v2\nname: parity\nversion: 1.0.0\ndescription: same as helm\nkeywords: [a, b]\n' +
        'maintainers: [{name: me, email: me@example.com}]\nannotations: {x: "1"}\nunknownField: dropped\n' +
        'dependencies:\n- {name: vend, version: 0.1.0, repository: "https://charts.example.invalid"}\n' +
        '- {name: local, version: "*", repository: ""}\n',
      'parity/values.yaml': '# comment kept\na: 1\n',
      'parity/values.schema.json': '{"type": "object"}\n',
      'parity/templates/_helpers.tpl': '{{- define "p" -}}p{{- end -}}\n',
      'parity/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p\n',
      'parity/templates/sub/more.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\n',
      'parity/templates/.cm.yaml.swp': 'editor junk',
      'parity/.helmignore': '*.bak\ndocs/\n/root.txt\n',
      'parity/x.bak': 'ignored',
      'parity/docs/a.md': 'ignored',
      'parity/root.txt': 'ignored',
      'parity/nested/root.txt': 'kept',
      'parity/files/config.ini': '[x]\n',
      'parity/README.md': '# parity\n',
      'parity/charts/local/Chart.yaml': 'apiVersion: v2\nname: local\nversion: 0.0.1\n',
      'parity/charts/local/templates/l.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: l\n',
      'vend/Chart.yaml': 'apiVersion: v2\nname: vend\nversion: 0.1.0\n',
      'vend/templates/v.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v\n',
    });
    await helm(['package', join(dir, 'vend'), '-d', join(dir, 'parity/charts')]);
    await helm(['package', join(dir, 'parity'), '-d', join(dir, 'out')]);
    const theirs = await readArchiveFiles(await readFile(join(dir, 'out/parity-1.0.0.tgz')));
    const ours = await readArchiveFiles((await packageChartDir(join(dir, 'parity'))).data);
    const byName = (files: { name: string }[]) => files.map((f) => f.name).sort();
    assert.deepEqual(byName(ours), byName(theirs));
    for (const f of theirs) {
      const mine = ours.find((o) => o.name === f.name)?.data ?? Buffer.alloc(0);
      if (f.name.endsWith('Chart.yaml'))
        assert.deepEqual(load(mine.toString()), load(f.data.toString()), f.name);
      else assert.ok(mine.equals(f.data), `${f.name} differs`);
    }
  });

  describe('a repository behind basic auth', () => {
    const user = 'tide';
    const password = 's3cret-pass';
    let server: StaticServer;
    let url: string;

    before(async () => {
      const root = join(work, 'private');
      await mkdir(root);
      await helm(['package', join(work, 'demo'), '--version', '2.0.0', '-d', root]);
      await helm(['repo', 'index', root]);
      server = await startBasicAuthServer(root, user, password);
      url = `${server.url}/`;
    });
    after(async () => {
      await server?.close();
    });

    it('reports missing or wrong credentials clearly, without the password', async () => {
      await assert.rejects(fetchIndex(url), (err: unknown) => {
        assert.ok(isHelmError(err, 'AuthenticationFailed'));
        assert.equal(err.status, 401);
        assert.match(
          err.message,
          /authentication failed for http:.*\/index.yaml \(401 Unauthorized\): the repository wants credentials and none were sent/,
        );
        return true;
      });
      await assert.rejects(
        fetchIndex(url, { username: user, password: `${password}-wrong` }),
        (err: unknown) => {
          assert.ok(isHelmError(err, 'AuthenticationFailed'));
          assert.match(err.message, /\(401 Unauthorized\): check the username and password$/);
          assert.ok(!err.message.includes(password) && !err.message.includes(user));
          return true;
        },
      );
    });

    it('fetches the index and the chart with the right credentials', async () => {
      const fetched = await fetchIndex(url, { username: user, password });
      const cv = selectChartVersion(fetched.index, 'demo');
      assert.equal(cv.version, '2.0.0');
      const got = await downloadChart(url, cv, { username: user, password });
      const file = join(work, 'private-demo.tgz');
      await writeFile(file, got.data);
      assert.equal((load(await helm(['show', 'chart', file])) as { version: string }).version, '2.0.0');
    });
  });
});
