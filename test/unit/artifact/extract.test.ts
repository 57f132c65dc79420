import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  isArtifactError,
  SizeLimitError,
  UnsafeArchiveError,
} from '../../../controllers/runtime/artifact/errors.ts';
import { extractTarGz } from '../../../controllers/runtime/artifact/extract.ts';
import { type RawEntry, rawTarGz, TarType, tempDirs } from './support.ts';

describe('artifact/extract', () => {
  const tmp = tempDirs();
  afterEach(() => tmp.cleanup());

  // A work dir holding the tarball, the target `dest` and an `outside` dir that must stay untouched.
  async function setup(entries: RawEntry[]) {
    const work = await tmp.make();
    const file = join(work, 'a.tar.gz');
    await writeFile(file, rawTarGz(entries));
    return { work, file, dest: join(work, 'dest'), outside: join(work, 'outside') };
  }

  it('extracts files and directories with sanitized modes', async () => {
    const { file, dest } = await setup([
      { name: 'dir/', type: TarType.dir, mode: 0o777 },
      { name: 'dir/app.yaml', body: 'a: 1\n', mode: 0o666 },
      { name: 'dir/run.sh', body: '#!/bin/sh\n', mode: 0o4755 },
      { name: './top.yaml', body: 'top\n' },
      { name: 'implicit/parent/file.txt', body: 'x' },
    ]);
    const r = await extractTarGz(file, dest);
    assert.deepEqual(r, { files: 4, dirs: 1, bytes: 20, skipped: [] });
    assert.equal(await readFile(join(dest, 'dir/app.yaml'), 'utf8'), 'a: 1\n');
    assert.equal(await readFile(join(dest, 'top.yaml'), 'utf8'), 'top\n');
    assert.equal((await stat(join(dest, 'dir'))).mode & 0o7777, 0o750);
    assert.equal((await stat(join(dest, 'dir/app.yaml'))).mode & 0o7777, 0o600);
    assert.equal((await stat(join(dest, 'dir/run.sh'))).mode & 0o7777, 0o700);
    assert.equal((await stat(join(dest, 'implicit/parent'))).mode & 0o7777, 0o750);
  });

  const escapes: Array<[string, RawEntry[]]> = [
    ['a `..` path', [{ name: '../evil', body: 'pwned' }]],
    ['a `..` in the middle', [{ name: 'a/../../evil', body: 'pwned' }]],
    ['a `..` directory', [{ name: '../', type: TarType.dir }]],
  ];
  for (const [what, entries] of escapes) {
    it(`refuses ${what}`, async () => {
      const { file, dest, work } = await setup(entries);
      await assert.rejects(extractTarGz(file, dest), UnsafeArchiveError);
      assert.deepEqual((await readdir(work)).sort(), ['a.tar.gz', 'dest']);
    });
  }

  it('refuses an absolute path', async () => {
    const work = await tmp.make();
    const { file, dest } = await setup([{ name: join(work, 'evil'), body: 'pwned' }]);
    await assert.rejects(extractTarGz(file, dest), /absolute path/);
    await assert.rejects(lstat(join(work, 'evil')), { code: 'ENOENT' });
    assert.deepEqual(await readdir(dest), []);
  });

  it('skips symlinks and hard links, so nothing is written through them', async () => {
    const { file, dest, outside } = await setup([
      { name: 'link', type: TarType.symlink, linkname: '../outside' },
      { name: 'link/evil', body: 'pwned' },
      { name: 'passwd', type: TarType.hardlink, linkname: '/etc/passwd' },
      { name: 'abs', type: TarType.symlink, linkname: '/etc' },
    ]);
    await mkdir(outside); // where link/evil would land if the link were made
    const r = await extractTarGz(file, dest);
    assert.deepEqual(r.skipped, ['link', 'passwd', 'abs']);
    assert.ok((await lstat(join(dest, 'link'))).isDirectory(), 'link/evil made a real directory');
    assert.equal(await readFile(join(dest, 'link/evil'), 'utf8'), 'pwned');
    await assert.rejects(lstat(join(dest, 'passwd')), { code: 'ENOENT' });
    await assert.rejects(lstat(join(dest, 'abs')), { code: 'ENOENT' });
    await assert.rejects(lstat(join(outside, 'evil')), { code: 'ENOENT' });
  });

  it('does not follow symlinks already present in the target', async () => {
    const { file, dest } = await setup([{ name: 'pre/sub/evil', body: 'pwned' }]);
    const { file: file2 } = await setup([{ name: 'victim', body: 'pwned' }]);
    const elsewhere = await tmp.make();
    const victim = join(elsewhere, 'victim.txt');
    await writeFile(victim, 'original');
    await mkdir(dest);
    await symlink(elsewhere, join(dest, 'pre'));
    await symlink(victim, join(dest, 'victim'));

    await assert.rejects(extractTarGz(file, dest), /path goes through a symlink/);
    await assert.rejects(extractTarGz(file2, dest), { code: 'ELOOP' });
    assert.equal(await readFile(victim, 'utf8'), 'original');
    assert.deepEqual(await readdir(elsewhere), ['victim.txt'], 'nothing created through the link');
  });

  for (const [what, type] of [
    ['character devices', TarType.charDevice],
    ['block devices', TarType.blockDevice],
    ['FIFOs', TarType.fifo],
  ] as const) {
    it(`refuses ${what}`, async () => {
      const { file, dest } = await setup([
        { name: 'ok.yaml', body: 'ok' },
        { name: 'dev', type },
      ]);
      await assert.rejects(extractTarGz(file, dest), (e) => isArtifactError(e) && e.code === 'UnsafeArchive');
      await assert.rejects(lstat(join(dest, 'dev')), { code: 'ENOENT' });
    });
  }

  it('stops at the extracted size limit', async () => {
    const body = 'x'.repeat(600);
    const { file, dest } = await setup([
      { name: 'a', body },
      { name: 'b', body },
    ]);
    await assert.rejects(extractTarGz(file, dest, { maxBytes: 1000 }), SizeLimitError);
    await assert.rejects(lstat(join(dest, 'b')), { code: 'ENOENT' });
    const ok = await extractTarGz(file, join(dest, 'again'), { maxBytes: 1200 });
    assert.equal(ok.bytes, 1200);
  });

  it('stops at the entry count limit', async () => {
    const { file, dest } = await setup(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}` })));
    await assert.rejects(extractTarGz(file, dest, { maxEntries: 10 }), /more than 10 entries/);
  });

  it('refuses what is not a gzipped tarball', async () => {
    const work = await tmp.make();
    await writeFile(join(work, 'plain'), 'just text, not gzip');
    await assert.rejects(extractTarGz(join(work, 'plain'), join(work, 'dest')));
    await writeFile(
      join(work, 'truncated'),
      rawTarGz([{ name: 'a', body: 'x'.repeat(2000) }]).subarray(0, 40),
    );
    await assert.rejects(extractTarGz(join(work, 'truncated'), join(work, 'dest2')));
  });
});
