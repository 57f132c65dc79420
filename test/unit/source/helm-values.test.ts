import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { load } from 'js-yaml';
import { isHelmError } from '../../../controllers/runtime/helm/errors.ts';
import { packageChartDir } from '../../../controllers/source/helm/package.ts';
import { mergeValuesFiles } from '../../../controllers/source/helm/valuesfiles.ts';

async function tree(root: string, files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), text);
  }
}

async function rejectsWith(p: Promise<unknown>, message: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isHelmError(err, 'ValuesFiles'), `not a ValuesFiles HelmError: ${err}`);
    assert.match(err.message, message);
    return true;
  });
}

describe('source/helm/valuesfiles', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tide-helm-values-'));
    await tree(dir, {
      'charts/app/Chart.yaml': 'apiVersion: v2\nname: app\nversion: 1.0.0\n',
      'charts/app/values.yaml': 'image: {repository: app, tag: "1.0"}\nports: [80, 443]\nreplicas: 1\n',
      'charts/app/values-prod.yaml': 'image: {tag: "2.0"}\nports: [8443]\nreplicas: 3\nextra: null\n',
      'charts/app/templates/values-in-templates.yaml': 'a: 1\n',
      'env/debug.yaml': 'debug: yes\nimage: {pullPolicy: Always}\n',
      'env/list.yaml': '- a\n- b\n',
      'env/broken.yaml': 'a: [\n',
      'env/empty.yaml': '# nothing here\n',
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('mergeValuesFiles from a source directory', () => {
    it('merges the files in order, later files winning, and lists the ones used', async () => {
      const merged = await mergeValuesFiles(dir, [
        'charts/app/values.yaml',
        'charts/app/values-prod.yaml',
        './env/debug.yaml',
      ]);
      assert.deepEqual(merged.values, {
        image: { repository: 'app', tag: '2.0', pullPolicy: 'Always' },
        ports: [8443],
        replicas: 3,
        extra: null,
        debug: true, // YAML 1.1, as Helm reads values
      });
      assert.deepEqual(merged.files, [
        'charts/app/values.yaml',
        'charts/app/values-prod.yaml',
        './env/debug.yaml',
      ]);
      assert.deepEqual(load(merged.yaml), merged.values);
      assert.equal(merged.yaml.indexOf('debug:') < merged.yaml.indexOf('image:'), true, 'keys are sorted');
    });

    it('fails on a missing file unless told to ignore missing files', async () => {
      await rejectsWith(
        mergeValuesFiles(dir, ['env/debug.yaml', 'env/missing.yaml']),
        /^no values file found at path '\/env\/missing.yaml' \(reference 'env\/missing.yaml'\)$/,
      );
      const merged = await mergeValuesFiles(dir, ['env/missing.yaml', 'env/debug.yaml'], {
        ignoreMissing: true,
      });
      assert.deepEqual(merged.files, ['env/debug.yaml']);
      assert.equal(merged.values.debug, true);
    });

    it('keeps paths inside the source: `..` stops at the root and symlinks may not leave it', async () => {
      const outside = await mkdtemp(join(tmpdir(), 'tide-helm-outside-'));
      try {
        await writeFile(join(outside, 'secret.yaml'), 'password: hunter2\n');
        await symlink(join(outside, 'secret.yaml'), join(dir, 'env/link.yaml'));
        await rejectsWith(
          mergeValuesFiles(dir, ['../../../../etc/passwd']),
          /no values file found at path '\/etc\/passwd'/,
        );
        await rejectsWith(
          mergeValuesFiles(dir, ['env/link.yaml']),
          /no values file found at path '\/env\/link.yaml'/,
        );
        // `..` inside the tree is fine.
        const ok = await mergeValuesFiles(dir, ['charts/app/../../env/debug.yaml']);
        assert.equal(ok.values.debug, true);
      } finally {
        await rm(outside, { recursive: true, force: true });
      }
    });

    it('rejects values that are not a YAML map, and treats an empty file as no values', async () => {
      await rejectsWith(
        mergeValuesFiles(dir, ['env/list.yaml']),
        /unmarshaling values from 'env\/list.yaml' failed: not a YAML map/,
      );
      await rejectsWith(
        mergeValuesFiles(dir, ['env/broken.yaml']),
        /unmarshaling values from 'env\/broken.yaml' failed/,
      );
      const empty = await mergeValuesFiles(dir, ['env/empty.yaml']);
      assert.deepEqual(empty, { values: {}, yaml: '', files: ['env/empty.yaml'] });
    });
  });

  describe('mergeValuesFiles from a chart archive', () => {
    it('reads paths inside the chart; values.yaml is the chart defaults', async () => {
      const chart = await packageChartDir(join(dir, 'charts/app'));
      const merged = await mergeValuesFiles(chart.data, ['values.yaml', 'values-prod.yaml']);
      assert.deepEqual(merged.values, {
        image: { repository: 'app', tag: '2.0' },
        ports: [8443],
        replicas: 3,
        extra: null,
      });
      assert.deepEqual(merged.files, ['values.yaml', 'values-prod.yaml']);
    });

    it('does not find templates or files outside the chart, unless ignoring missing ones', async () => {
      const chart = await packageChartDir(join(dir, 'charts/app'));
      await rejectsWith(
        mergeValuesFiles(chart.data, ['templates/values-in-templates.yaml']),
        /^no values file found at path 'templates\/values-in-templates.yaml'$/,
      );
      await rejectsWith(mergeValuesFiles(chart.data, ['../env/debug.yaml']), /no values file found/);
      const merged = await mergeValuesFiles(chart.data, ['nope.yaml', 'values-prod.yaml'], {
        ignoreMissing: true,
      });
      assert.deepEqual(merged.files, ['values-prod.yaml']);
    });
  });
});
