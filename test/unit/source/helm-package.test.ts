import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { load } from 'js-yaml';
import { Parser, type ReadEntry } from 'tar';
import { readArchiveFiles, readChartMetadata } from '../../../controllers/runtime/helm/chart.ts';
import { isHelmError } from '../../../controllers/runtime/helm/errors.ts';
import {
  MAX_REMOTE_DEPENDENCIES,
  packageChartDir,
  repackageChart,
} from '../../../controllers/source/helm/package.ts';

async function tree(root: string, files: Record<string, string | Buffer>) {
  for (const [name, data] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), data);
  }
}

const names = async (tgz: Buffer) => (await readArchiveFiles(tgz)).map((f) => f.name);
const fileText = async (tgz: Buffer, name: string) =>
  (await readArchiveFiles(tgz)).find((f) => f.name === name)?.data.toString();

interface HeaderFields {
  path: string;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  mtime: number | undefined;
  type: string;
}

function headers(tgz: Buffer): Promise<HeaderFields[]> {
  const out: HeaderFields[] = [];
  return new Promise((resolve, reject) => {
    const p = new Parser({
      onReadEntry: (e: ReadEntry) => {
        out.push({
          path: e.path,
          mode: e.mode,
          uid: e.uid,
          gid: e.gid,
          mtime: e.mtime?.getTime(),
          type: e.type,
        });
        e.resume();
      },
    });
    p.on('error', reject);
    p.on('end', () => resolve(out));
    p.end(gunzipSync(tgz));
  });
}

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isHelmError(err, code as never), `expected a ${code} HelmError, got: ${err}`);
    assert.match(err.message, message);
    return true;
  });
}

const APP_CHART = `apiVersion: v2
name: app
version: 1.2.3
description: demo
zzz: not a Helm field
appVersion: "1.0"
dependencies:
  - name: vend
    version: 0.1.0
    repository: https://charts.example.com
  - name: tgzdep
    version: ^0.1.0
    repository: https://charts.example.com
  - name: lib
    version: ">=0.3.0"
    repository: file://../../lib
`;

describe('source/helm/package', () => {
  let src: string;
  let app: string;

  before(async () => {
    src = await mkdtemp(join(tmpdir(), 'tide-helm-pkg-'));
    app = join(src, 'charts/app');
    // A chart packaged by us, vendored as a .tgz below.
    await tree(join(src, 'build/tgzdep'), {
      'Chart.yaml': 'apiVersion: v2\nname: tgzdep\nversion: 0.1.5\n',
      'templates/t.yaml': 'kind: ConfigMap\n',
    });
    const tgzdep = await packageChartDir(join(src, 'build/tgzdep'));
    await tree(src, {
      'charts/app/Chart.yaml': APP_CHART,
      'charts/app/values.yaml': '# defaults\nreplicas: 1\n',
      'charts/app/values.schema.json': '{"type": "object"}',
      'charts/app/templates/cm.yaml': 'kind: ConfigMap\n',
      'charts/app/templates/_helpers.tpl': '{{- define "x" }}{{ end }}',
      'charts/app/templates/.hidden': 'editor swap file',
      'charts/app/README.md': '# app\n',
      'charts/app/.helmignore': '# comment\n*.bak\ndocs/\n/secret.txt\n',
      'charts/app/x.bak': 'ignored by *.bak',
      'charts/app/docs/a.md': 'ignored by docs/',
      'charts/app/secret.txt': 'ignored by /secret.txt',
      'charts/app/sub/secret.txt': 'kept: /secret.txt is rooted',
      'charts/app/charts/vend/Chart.yaml': 'apiVersion: v2\nname: vend\nversion: 0.1.0\n',
      'charts/app/charts/vend/templates/v.yaml': 'kind: Secret\n',
      'charts/app/charts/tgzdep-0.1.5.tgz': tgzdep.data,
      'lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.3.1\ntype: library\n',
      'lib/values.yaml': 'lib: true\n',
    });
  });
  after(() => rm(src, { recursive: true, force: true }));

  it('lays the chart out like helm package, with vendored and file:// dependencies', async () => {
    const pkg = await packageChartDir(app, { rootDir: src });
    assert.equal(pkg.fileName, 'app-1.2.3.tgz');
    assert.deepEqual(pkg.resolvedDependencies, ['lib']);
    assert.deepEqual(await names(pkg.data), [
      'app/Chart.yaml',
      'app/values.yaml',
      'app/values.schema.json',
      'app/templates/_helpers.tpl',
      'app/templates/cm.yaml',
      'app/.helmignore',
      'app/README.md',
      'app/sub/secret.txt',
      'app/charts/lib/Chart.yaml',
      'app/charts/lib/values.yaml',
      'app/charts/tgzdep/Chart.yaml',
      'app/charts/tgzdep/templates/t.yaml',
      'app/charts/vend/Chart.yaml',
      'app/charts/vend/templates/v.yaml',
    ]);
    // values.yaml as written; Chart.yaml re-marshalled with sorted keys and without unknown fields.
    assert.equal(await fileText(pkg.data, 'app/values.yaml'), '# defaults\nreplicas: 1\n');
    const chartYaml = (await fileText(pkg.data, 'app/Chart.yaml')) ?? '';
    const keys = Object.keys(load(chartYaml) as object);
    assert.deepEqual(keys, ['apiVersion', 'appVersion', 'dependencies', 'description', 'name', 'version']);
    assert.match(chartYaml, /^appVersion: '1.0'$/m);
  });

  it('gives the same bytes for the same tree, whatever the file times and modes', async () => {
    const first = await packageChartDir(app, { rootDir: src });
    await utimes(join(app, 'README.md'), new Date('2001-02-03'), new Date('2001-02-03'));
    await chmod(join(app, 'templates/cm.yaml'), 0o600);
    const second = await packageChartDir(app, { rootDir: src });
    assert.ok(first.data.equals(second.data));
    assert.equal(first.digest, second.digest);
    for (const h of await headers(first.data)) {
      assert.deepEqual(
        { mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime, type: h.type },
        { mode: 0o644, uid: 0, gid: 0, mtime: 0, type: 'File' },
        h.path,
      );
    }
  });

  it('changes the bytes when a file changes', async () => {
    const before = await packageChartDir(app, { rootDir: src });
    await writeFile(join(app, 'README.md'), '# app, edited\n');
    try {
      const after = await packageChartDir(app, { rootDir: src });
      assert.notEqual(after.digest, before.digest);
    } finally {
      await writeFile(join(app, 'README.md'), '# app\n');
    }
  });

  it('sets the version and replaces values.yaml when asked', async () => {
    const pkg = await packageChartDir(app, {
      rootDir: src,
      version: '1.2.3+4e5cbb7b97d0',
      values: 'replicas: 3\n',
    });
    assert.equal(pkg.fileName, 'app-1.2.3+4e5cbb7b97d0.tgz');
    assert.equal(pkg.version, '1.2.3+4e5cbb7b97d0');
    assert.match((await fileText(pkg.data, 'app/Chart.yaml')) ?? '', /^version: 1.2.3\+4e5cbb7b97d0$/m);
    assert.equal(await fileText(pkg.data, 'app/values.yaml'), 'replicas: 3\n');
    await rejectsWith(
      packageChartDir(app, { rootDir: src, version: 'latest' }),
      'Version',
      /invalid chart version/,
    );
  });

  it('repackages an archive to the same bytes, or with a new version and values', async () => {
    const pkg = await packageChartDir(app, { rootDir: src });
    const again = await repackageChart(pkg.data);
    assert.ok(again.data.equals(pkg.data));
    const changed = await repackageChart(pkg.data, { version: '1.2.3+2', values: 'a: 1\n' });
    assert.equal(changed.fileName, 'app-1.2.3+2.tgz');
    assert.equal(await fileText(changed.data, 'app/values.yaml'), 'a: 1\n');
    assert.deepEqual(await names(changed.data), await names(pkg.data));
  });

  it('adds remote dependencies through fetchDependency, under their chart name; fails without it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tide-helm-remote-'));
    try {
      await tree(dir, {
        'Chart.yaml':
          'apiVersion: v2\nname: r\nversion: 1.0.0\ndependencies:\n' +
          '- {name: redis, version: 18.x, repository: https://charts.example/bitnami}\n' +
          '- {name: pg, alias: db, version: 1.0.0, repository: oci://registry.example/charts}\n' +
          '- {name: pg, alias: replica, version: 1.0.0, repository: oci://registry.example/charts}\n',
      });
      await rejectsWith(
        packageChartDir(dir),
        'Dependency',
        /^failed to add remote dependency 'redis': no chart repository for URL 'https:\/\/charts.example\/bitnami'$/,
      );
      const asked: string[] = [];
      const published: Record<string, Buffer> = {};
      for (const [name, version] of [
        ['redis', '18.2.0'],
        ['pg', '1.0.0'],
      ] as const) {
        await tree(join(dir, 'src', name), {
          'Chart.yaml': `apiVersion: v2\nname: ${name}\nversion: ${version}\n`,
        });
        published[name] = (await packageChartDir(join(dir, 'src', name))).data;
      }
      const pkg = await packageChartDir(dir, {
        fetchDependency: async (dep) => {
          asked.push(`${dep.name} ${dep.version} ${dep.repository}`);
          return { version: 'x', data: published[dep.name] as Buffer };
        },
      });
      // Two aliases of one chart need it once.
      assert.deepEqual(asked, [
        'redis 18.x https://charts.example/bitnami',
        'pg 1.0.0 oci://registry.example/charts',
      ]);
      assert.deepEqual(pkg.resolvedDependencies, ['redis', 'pg']);
      // Aliases are Helm's to apply when rendering, as after `helm dependency build`.
      assert.equal(
        await fileText(pkg.data, 'r/charts/pg/Chart.yaml'),
        'apiVersion: v2\nname: pg\nversion: 1.0.0\n',
      );
      assert.ok((await names(pkg.data)).includes('r/charts/redis/Chart.yaml'));

      await rejectsWith(
        packageChartDir(dir, {
          fetchDependency: async () => {
            throw new Error(
              "failed to get chart 'redis' version '18.x' from 'https://charts.example/bitnami': gone",
            );
          },
        }),
        'Dependency',
        /^failed to add remote dependency 'redis': failed to get chart 'redis' version '18.x'.*: gone$/,
      );
      await rejectsWith(
        packageChartDir(dir, {
          fetchDependency: async () => ({ version: '18.2.0', data: Buffer.from('junk') }),
        }),
        'Dependency',
        /^failed to add remote dependency 'redis': failed to load downloaded archive of version '18.2.0': /,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses more remote dependencies than MAX_REMOTE_DEPENDENCIES before fetching any', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tide-helm-many-'));
    try {
      const deps = Array.from(
        { length: MAX_REMOTE_DEPENDENCIES + 1 },
        (_, i) => `- {name: d${i}, version: 1.0.0, repository: https://charts.example}\n`,
      );
      await tree(dir, {
        'Chart.yaml': `apiVersion: v2\nname: r\nversion: 1.0.0\ndependencies:\n${deps.join('')}`,
      });
      let fetched = 0;
      await rejectsWith(
        packageChartDir(dir, {
          fetchDependency: async () => {
            fetched++;
            throw new Error('not reached');
          },
        }),
        'Dependency',
        new RegExp(
          `has ${MAX_REMOTE_DEPENDENCIES + 1} remote dependencies missing from charts/, more than the ${MAX_REMOTE_DEPENDENCIES}`,
        ),
      );
      assert.equal(fetched, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('checks file:// dependencies: present, inside the source and in the version range', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tide-helm-local-'));
    const chart = (dep: string) =>
      `apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n- {name: lib, ${dep}}\n`;
    try {
      await tree(dir, { 'lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.3.1\n' });
      await tree(dir, { 'c/Chart.yaml': chart('version: ">=1.0.0", repository: "file://../lib"') });
      await rejectsWith(
        packageChartDir(join(dir, 'c'), { rootDir: dir }),
        'Dependency',
        /dependency 'lib' at 'file:\/\/..\/lib' has version 0.3.1, which does not match '>=1.0.0'/,
      );
      await tree(dir, { 'c/Chart.yaml': chart('version: "*", repository: "file://../missing"') });
      await rejectsWith(
        packageChartDir(join(dir, 'c'), { rootDir: dir }),
        'Dependency',
        /no chart found at '\/missing' \(reference 'file:\/\/..\/missing'\)/,
      );
      // With the chart directory as the root, ../lib is out of reach.
      await tree(dir, { 'c/Chart.yaml': chart('version: "*", repository: "file://../lib"') });
      await rejectsWith(packageChartDir(join(dir, 'c')), 'Dependency', /no chart found at '\/lib'/);
      const ok = await packageChartDir(join(dir, 'c'), { rootDir: dir });
      assert.deepEqual(ok.resolvedDependencies, ['lib']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes the dependency list from Chart.lock when there is one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tide-helm-lock-'));
    try {
      await tree(dir, {
        'lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.3.1\n',
        'c/Chart.yaml':
          'apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n- {name: gone, repository: https://x.example}\n',
        'c/Chart.lock':
          'dependencies:\n- {name: lib, version: 0.3.1, repository: file://../lib}\ndigest: sha256:0\ngenerated: "2025-01-01T00:00:00Z"\n',
      });
      const pkg = await packageChartDir(join(dir, 'c'), { rootDir: dir });
      assert.deepEqual(pkg.resolvedDependencies, ['lib']);
      assert.ok((await names(pkg.data)).includes('c/Chart.lock'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('follows symlinks inside the source and refuses those that leave it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tide-helm-links-'));
    const outside = await mkdtemp(join(tmpdir(), 'tide-helm-outside-'));
    try {
      await tree(dir, {
        'shared/common.yaml': 'kind: ConfigMap\n',
        'c/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 1.0.0\n',
      });
      await mkdir(join(dir, 'c/templates'));
      await symlink('../../shared/common.yaml', join(dir, 'c/templates/common.yaml'));
      // A linked directory: its files keep the path of the link.
      await symlink('../../shared', join(dir, 'c/templates/shared'));
      const pkg = await packageChartDir(join(dir, 'c'), { rootDir: dir });
      assert.equal(await fileText(pkg.data, 'c/templates/common.yaml'), 'kind: ConfigMap\n');
      assert.equal(await fileText(pkg.data, 'c/templates/shared/common.yaml'), 'kind: ConfigMap\n');

      await symlink('..', join(dir, 'c/templates/loop'));
      await rejectsWith(
        packageChartDir(join(dir, 'c'), { rootDir: dir }),
        'InvalidChart',
        /symlink loop at 'templates\/loop'/,
      );
      await rm(join(dir, 'c/templates/loop'));

      await writeFile(join(outside, 'passwd'), 'root:x:0:0\n');
      await symlink(join(outside, 'passwd'), join(dir, 'c/passwd'));
      await rejectsWith(
        packageChartDir(join(dir, 'c'), { rootDir: dir }),
        'InvalidChart',
        /symlink 'passwd' in the chart points outside the source/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('reports invalid charts as Helm does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tide-helm-invalid-'));
    try {
      await tree(dir, { 'none/values.yaml': 'a: 1\n' });
      await rejectsWith(packageChartDir(join(dir, 'none')), 'InvalidChart', /Chart.yaml file is missing/);
      await tree(dir, { 'bad/Chart.yaml': 'apiVersion: v2\nname: bad\nversion: latest\n' });
      await rejectsWith(
        packageChartDir(join(dir, 'bad')),
        'InvalidChart',
        /chart.metadata.version "latest" is invalid/,
      );
      await tree(dir, { 'noname/Chart.yaml': 'apiVersion: v2\nversion: 1.0.0\n' });
      await rejectsWith(
        packageChartDir(join(dir, 'noname')),
        'InvalidChart',
        /chart.metadata.name is required/,
      );
      await tree(dir, {
        'vals/Chart.yaml': 'apiVersion: v2\nname: v\nversion: 1.0.0\n',
        'vals/values.yaml': 'a: [\n',
      });
      await rejectsWith(packageChartDir(join(dir, 'vals')), 'InvalidChart', /cannot load values.yaml/);
      // Helm's quirk: a `!` rule ignores everything it does not match, Chart.yaml included.
      await tree(dir, {
        'neg/Chart.yaml': 'apiVersion: v2\nname: n\nversion: 1.0.0\n',
        'neg/.helmignore': '!keep.txt\n',
      });
      await rejectsWith(packageChartDir(join(dir, 'neg')), 'InvalidChart', /Chart.yaml file is missing/);
      await tree(dir, {
        'star/Chart.yaml': 'apiVersion: v2\nname: s\nversion: 1.0.0\n',
        'star/.helmignore': '**/x\n',
      });
      await rejectsWith(
        packageChartDir(join(dir, 'star')),
        'InvalidChart',
        /double-star \(\*\*\) syntax is not supported/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads and validates the metadata of a packaged chart', async () => {
    const pkg = await packageChartDir(app, { rootDir: src });
    const md = await readChartMetadata(pkg.data);
    assert.deepEqual([md.name, md.version, md.apiVersion], ['app', '1.2.3', 'v2']);
    await rejectsWith(
      readChartMetadata(Buffer.from('<html>not a chart</html>')),
      'InvalidChart',
      /not a gzip-compressed chart/,
    );
  });

  it('stores paths longer than 100 characters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tide-helm-long-'));
    const long = `templates/${'d'.repeat(60)}/${'f'.repeat(80)}.yaml`;
    try {
      await tree(dir, {
        'Chart.yaml': 'apiVersion: v2\nname: long\nversion: 1.0.0\n',
        [long]: 'kind: ConfigMap\n',
      });
      const pkg = await packageChartDir(dir);
      assert.ok((await names(pkg.data)).includes(`long/${long}`));
      assert.ok((await repackageChart(pkg.data)).data.equals(pkg.data));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
