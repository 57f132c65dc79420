// Charts in memory: loading directories and archives as Helm's loader does, validating metadata, and
// writing archives back deterministically.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import {
  loadChartArchive,
  loadChartDir,
  loadChartFiles,
  readArchiveFiles,
  readChartMetadata,
  writeChartArchive,
} from '../../../controllers/runtime/helm/chart.ts';
import { HelmError, isHelmError } from '../../../controllers/runtime/helm/errors.ts';

const file = (name: string, text: string) => ({ name, data: Buffer.from(text) });

/** A gzipped tar of raw entries, to build archives our writer would never produce. */
function rawArchive(entries: { path: string; data: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data);
    const h = new Header({ path: e.path, mode: 0o644, size: data.length, type: 'File', mtime: new Date(0) });
    const block = Buffer.alloc(512);
    h.encode(block, 0);
    blocks.push(block, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return gzipSync(Buffer.concat([...blocks, Buffer.alloc(1024)]));
}

function invalid(message: RegExp) {
  return (err: unknown) => {
    assert.ok(isHelmError(err, 'InvalidChart'), `not an InvalidChart HelmError: ${err}`);
    assert.match(err.message, message);
    return true;
  };
}

describe('runtime/helm/chart', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tide-helm-chart-'));
    const files: Record<string, string> = {
      'app/Chart.yaml':
        'apiVersion: v2\nname: app\nversion: 1.0.0\nunknown: dropped\ndependencies:\n- name: sub\n  version: 0.1.0\n',
      'app/values.yaml': 'replicas: 1\n',
      'app/templates/cm.yaml': 'kind: ConfigMap\n',
      'app/templates/.hidden': 'ignored by the default rule',
      'app/NOTES.txt': 'notes',
      'app/skip.bak': 'ignored',
      'app/.helmignore': '*.bak\n',
      'app/charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 0.1.0\n',
      'app/charts/_private/Chart.yaml': 'apiVersion: v2\nname: private\nversion: 0.1.0\n',
    };
    for (const [name, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('loads a directory with its .helmignore, subcharts and default ignores', async () => {
    const chart = await loadChartDir(join(dir, 'app'));
    assert.equal(chart.metadata.name, 'app');
    assert.equal(chart.values?.toString(), 'replicas: 1\n');
    assert.deepEqual(
      chart.templates.map((f) => f.name),
      ['templates/cm.yaml'],
    );
    assert.deepEqual(chart.files.map((f) => f.name).sort(), ['.helmignore', 'NOTES.txt']);
    assert.deepEqual(
      chart.dependencies.map((d) => d.metadata.name),
      ['sub'],
      'charts/_private is skipped, as Helm does',
    );
  });

  it('writes an archive laid out like helm package, the same bytes every time, and reads it back', async () => {
    const chart = await loadChartDir(join(dir, 'app'));
    const tgz = writeChartArchive(chart);
    assert.ok(tgz.equals(writeChartArchive(await loadChartDir(join(dir, 'app')))));
    assert.deepEqual(
      (await readArchiveFiles(tgz)).map((f) => f.name),
      [
        'app/Chart.yaml',
        'app/values.yaml',
        'app/templates/cm.yaml',
        'app/.helmignore',
        'app/NOTES.txt',
        'app/charts/sub/Chart.yaml',
      ],
    );
    const back = await loadChartArchive(tgz);
    assert.equal(back.metadata.unknown, undefined, 'Chart.yaml is re-marshalled from Helm fields');
    assert.deepEqual(back.metadata.dependencies, [{ name: 'sub', version: '0.1.0', repository: '' }]);
    const md = await readChartMetadata(tgz);
    assert.deepEqual([md.apiVersion, md.name, md.version], ['v2', 'app', '1.0.0']);
  });

  it('validates the metadata as Helm does', async () => {
    const load = (chartYaml: string) => loadChartFiles([file('Chart.yaml', chartYaml)]);
    assert.equal((await load('name: a\nversion: 1.0.0\n')).metadata.apiVersion, 'v1');
    await assert.rejects(
      load('apiVersion: v2\nversion: 1.0.0\n'),
      invalid(/chart.metadata.name is required/),
    );
    await assert.rejects(
      load('apiVersion: v2\nname: a/b\nversion: 1.0.0\n'),
      invalid(/name "a\/b" is invalid/),
    );
    await assert.rejects(
      load('apiVersion: v2\nname: a\nversion: latest\n'),
      invalid(/version "latest" is invalid/),
    );
    await assert.rejects(
      load('apiVersion: v2\nname: a\nversion: 1.0.0\ntype: app\n'),
      invalid(/type must be application or library/),
    );
    await assert.rejects(
      load(
        'apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: one\n- name: two\n  alias: one\n',
      ),
      invalid(/more than one dependency with name or alias "one"/),
    );
    await assert.rejects(
      loadChartFiles([file('values.yaml', 'a: 1\n')]),
      invalid(/Chart.yaml file is missing/),
    );
    await assert.rejects(
      loadChartFiles([
        file('Chart.yaml', 'apiVersion: v2\nname: a\nversion: 1.0.0\n'),
        file('values.yaml', '- a\n'),
      ]),
      invalid(/cannot load values.yaml of chart: not a YAML map/),
    );
  });

  it('refuses archives that are not charts or reach outside the chart', async () => {
    await assert.rejects(readChartMetadata(Buffer.from('<html>')), invalid(/not a gzip-compressed chart/));
    await assert.rejects(
      loadChartArchive(
        rawArchive([{ path: 'Chart.yaml', data: 'apiVersion: v2\nname: a\nversion: 1.0.0\n' }]),
      ),
      invalid(/Chart.yaml not in base directory/),
    );
    await assert.rejects(
      loadChartArchive(
        rawArchive([
          { path: 'a/Chart.yaml', data: 'apiVersion: v2\nname: a\nversion: 1.0.0\n' },
          { path: 'a/../../etc/passwd', data: 'x' },
        ]),
      ),
      invalid(/illegally references a path outside the chart/),
    );
    await assert.rejects(
      loadChartArchive(rawArchive([{ path: 'README', data: 'x' }])),
      invalid(/no files in chart archive/),
    );
  });

  it('has one error class that works across module copies', () => {
    const err = new HelmError('TooLarge', 'big', { status: 413 });
    assert.equal(err.status, 413);
    assert.equal(isHelmError(err, 'TooLarge'), true);
    assert.equal(isHelmError(err, 'NotFound'), false);
    assert.ok(isHelmError({ isHelmError: true, code: 'NotFound' }, 'NotFound'));
    assert.ok(!isHelmError(new Error('x')));
  });
});
