import assert from 'node:assert/strict';
import { chmod, chown, readFile, rename, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ArchiveFilter,
  buildArchive,
  DIR_MODE,
  EXEC_FILE_MODE,
  FILE_MODE,
} from '../../../controllers/runtime/artifact/archive.ts';
import { extractTarGz } from '../../../controllers/runtime/artifact/extract.ts';
import { listTarGz, sha256File, tempDirs, writeTree } from './support.ts';

const LONG = `${'deep/'.repeat(25)}${'n'.repeat(120)}.yaml`;

const TREE = {
  'deploy/app.yaml': 'kind: ConfigMap\n',
  'deploy/base/kustomization.yaml': 'resources: []\n',
  'a-b.txt': 'dash sorts before slash\n',
  'bin/run.sh': '#!/bin/sh\necho hi\n',
  'README.md': '# repo\n',
  'café/ünïcode.yaml': 'x: 1\n',
  [LONG]: 'long: true\n',
};

describe('artifact/archive', () => {
  const tmp = tempDirs();
  afterEach(() => tmp.cleanup());

  async function tree(): Promise<string> {
    const dir = await tmp.make();
    await writeTree(dir, TREE);
    await chmod(join(dir, 'bin/run.sh'), 0o755);
    return dir;
  }

  it('gives the same digest for the same tree, whatever its mtimes, permissions and location', async () => {
    const out = await tmp.make();
    const first = await tree();
    const a = await buildArchive(first, join(out, 'a.tar.gz'));
    const b = await buildArchive(first, join(out, 'b.tar.gz'));
    assert.equal(a.digest, b.digest);
    assert.equal(a.digest, await sha256File(join(out, 'a.tar.gz')));
    assert.equal(a.size, (await readFile(join(out, 'a.tar.gz'))).length);

    // Another checkout of the same content: other path, other times, other (non-exec / exec) permissions.
    const second = await tree();
    await utimes(join(second, 'README.md'), new Date('2001-01-01'), new Date('2001-01-01'));
    await utimes(join(second, 'deploy'), new Date('2030-05-05'), new Date('2030-05-05'));
    await chmod(join(second, 'README.md'), 0o664);
    await chmod(join(second, 'bin/run.sh'), 0o750);
    await chmod(join(second, 'deploy'), 0o777);
    const c = await buildArchive(second, join(out, 'c.tar.gz'));
    assert.equal(c.digest, a.digest);

    // ...but content, names and the executable bit do count.
    await writeTree(second, { 'README.md': '# repo!\n' });
    assert.notEqual((await buildArchive(second, join(out, 'd.tar.gz'))).digest, a.digest);
    await writeTree(second, { 'README.md': '# repo\n' });
    await chmod(join(second, 'README.md'), 0o744);
    assert.notEqual((await buildArchive(second, join(out, 'e.tar.gz'))).digest, a.digest);
    await chmod(join(second, 'README.md'), 0o600);
    await rename(join(second, 'README.md'), join(second, 'README.MD'));
    assert.notEqual((await buildArchive(second, join(out, 'f.tar.gz'))).digest, a.digest);
  });

  it('ignores file owners', async function () {
    if (process.getuid?.() !== 0) this.skip(); // chown needs root
    const out = await tmp.make();
    const dir = await tree();
    const before = await buildArchive(dir, join(out, 'a.tar.gz'));
    await chown(join(dir, 'README.md'), 1234, 5678);
    await chown(join(dir, 'deploy'), 4321, 8765);
    assert.equal((await buildArchive(dir, join(out, 'b.tar.gz'))).digest, before.digest);
  });

  it('writes normalized headers in a sorted walk, without symlinks', async () => {
    const dir = await tree();
    const outside = await tmp.make();
    await writeTree(outside, { 'secret.txt': 'nope' });
    await symlink(join(outside, 'secret.txt'), join(dir, 'deploy/link.yaml'));
    await symlink(outside, join(dir, 'linkdir'));
    const out = join(await tmp.make(), 'a.tar.gz');
    await buildArchive(dir, out);

    const entries = await listTarGz(out);
    // Directory names carry a trailing slash when it fits the ustar fields; the type flag is what counts.
    assert.deepEqual(
      entries.map((e) => `${e.type === 'Directory' ? 'd' : 'f'} ${e.path.replace(/\/$/, '')}`),
      [
        'f README.md',
        'f a-b.txt',
        'd bin',
        'f bin/run.sh',
        'd café',
        'f café/ünïcode.yaml',
        ...Array.from({ length: 25 }, (_, i) => `d ${'deep/'.repeat(i + 1).slice(0, -1)}`),
        `f ${LONG}`,
        'd deploy',
        'f deploy/app.yaml',
        'd deploy/base',
        'f deploy/base/kustomization.yaml',
      ],
    );
    for (const e of entries) {
      assert.ok(e.type === 'File' || e.type === 'Directory', `${e.path}: ${e.type}`);
      const want = e.type === 'Directory' ? DIR_MODE : e.path === 'bin/run.sh' ? EXEC_FILE_MODE : FILE_MODE;
      assert.equal(e.mode, want, `mode of ${e.path}`);
      assert.deepEqual(
        [e.uid, e.gid, e.uname, e.gname, e.mtime],
        [0, 0, '', '', 0],
        `owner/time of ${e.path}`,
      );
    }
  });

  it('writes a gzip header without time or OS, and round-trips through extraction', async () => {
    const dir = await tree();
    const work = await tmp.make();
    const out = join(work, 'a.tar.gz');
    await buildArchive(dir, out);
    const gz = await readFile(out);
    assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b]);
    assert.equal(gz.readUInt32LE(4), 0, 'gzip mtime');
    assert.equal(gz[9], 0xff, 'gzip OS byte: unknown');

    const dest = join(work, 'x');
    await extractTarGz(out, dest);
    for (const [rel, content] of Object.entries(TREE)) {
      assert.equal(await readFile(join(dest, rel), 'utf8'), content, rel);
    }
  });

  it('streams large files intact', async () => {
    const dir = await tmp.make();
    const big = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    await writeTree(dir, { 'big.bin': big });
    const work = await tmp.make();
    await buildArchive(dir, join(work, 'a.tar.gz'));
    await extractTarGz(join(work, 'a.tar.gz'), join(work, 'x'));
    assert.ok((await readFile(join(work, 'x/big.bin'))).equals(big));
  });

  it('applies the filter; an excluded directory drops its subtree unless the filter walks it', async () => {
    const dir = await tree();
    const out = await tmp.make();
    const noDeploy: ArchiveFilter = (rel) => rel !== 'deploy';
    await buildArchive(dir, join(out, 'a.tar.gz'), { filter: noDeploy });
    const paths = (await listTarGz(join(out, 'a.tar.gz'))).map((e) => e.path);
    assert.ok(!paths.some((p) => p.startsWith('deploy')), paths.join());
    assert.ok(paths.includes('README.md'));

    const reinclude = Object.assign(
      (rel: string) => rel !== 'deploy' && rel !== 'deploy/base/kustomization.yaml',
      {
        walkExcludedDirs: true,
      },
    );
    await buildArchive(dir, join(out, 'b.tar.gz'), { filter: reinclude });
    const walked = (await listTarGz(join(out, 'b.tar.gz')))
      .map((e) => e.path)
      .filter((p) => p.startsWith('deploy'));
    assert.deepEqual(walked, ['deploy/app.yaml', 'deploy/base/']);
  });

  it('refuses a path that is not a directory', async () => {
    const dir = await tree();
    await assert.rejects(buildArchive(join(dir, 'README.md'), join(dir, 'x.tgz')), /invalid dir path/);
  });
});
