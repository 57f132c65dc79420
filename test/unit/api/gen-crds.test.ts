// hack/gen-crds.ts: writes one file per CRD, reports drift, and the committed crds/ is current.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allKinds, crdFileName } from '../../../controllers/api/index.ts';
import { CRD_DIR, diff, renderAll, write } from '../../../hack/gen-crds.ts';

describe('hack/gen-crds.ts', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tide-crds-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one file per kind into an empty directory, then reports no drift', async () => {
    const changed = await write(dir);
    assert.equal(changed.missing.length, allKinds.length);
    const files = (await readdir(dir)).sort();
    assert.deepEqual(files, allKinds.map(crdFileName).sort());
    assert.ok(files.includes('source.toolkit.fluxcd.io_gitrepositories.yaml'));
    assert.deepEqual(await diff(dir), { stale: [], missing: [], extra: [] });
  });

  it('reports stale, missing and extra files without touching them', async () => {
    await write(dir);
    const git = 'source.toolkit.fluxcd.io_gitrepositories.yaml';
    const ks = 'kustomize.toolkit.fluxcd.io_kustomizations.yaml';
    await writeFile(join(dir, git), 'hand edited\n');
    await rm(join(dir, ks));
    await writeFile(join(dir, 'old.toolkit.fluxcd.io_things.yaml'), 'kind: Old\n');

    assert.deepEqual(await diff(dir), {
      stale: [git],
      missing: [ks],
      extra: ['old.toolkit.fluxcd.io_things.yaml'],
    });
    assert.equal(await readFile(join(dir, git), 'utf8'), 'hand edited\n');

    await write(dir);
    assert.deepEqual(await diff(dir), { stale: [], missing: [], extra: [] });
    assert.equal(await readFile(join(dir, git), 'utf8'), renderAll().get(git));
  });

  it('renders identical bytes on every run', () => {
    assert.deepEqual([...renderAll()], [...renderAll()]);
  });

  it('matches the committed crds/ (run `node hack/gen-crds.ts` after changing controllers/api)', async () => {
    assert.deepEqual(await diff(CRD_DIR), { stale: [], missing: [], extra: [] });
  });
});
