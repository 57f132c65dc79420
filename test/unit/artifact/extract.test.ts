import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import {
  isArtifactError,
  SizeLimitError,
  UnsafeArchiveError,
} from '../../../controllers/runtime/artifact/errors.ts';
import { extractTarGz, maxStreamBytes } from '../../../controllers/runtime/artifact/extract.ts';
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
      assert.deepEqual((await readdir(work)).sort(), ['a.tar.gz'], 'nothing written, not even dest');
    });
  }

  it('refuses an absolute path', async () => {
    const work = await tmp.make();
    const { file, dest } = await setup([{ name: join(work, 'evil'), body: 'pwned' }]);
    await assert.rejects(extractTarGz(file, dest), /absolute path/);
    await assert.rejects(lstat(join(work, 'evil')), { code: 'ENOENT' });
    await assert.rejects(lstat(dest), { code: 'ENOENT' }, 'nothing written');
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
      await assert.rejects(lstat(dest), { code: 'ENOENT' }, 'refused before ok.yaml was written');
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
    await assert.rejects(lstat(dest), { code: 'ENOENT' }, 'counted, not created');
  });

  it('stops inflating at the end of the archive: trailing gigabytes of zeros (a gzip bomb) are never read', async function () {
    this.timeout(60_000);
    const work = await tmp.make();
    const file = join(work, 'bomb.tar.gz');
    const tar = gunzipSync(rawTarGz([{ name: 'ok.yaml', body: 'ok' }]));
    const zeros = Buffer.alloc(1 << 20);
    const chunks = (function* () {
      yield tar;
      for (let i = 0; i < 1024; i++) yield zeros; // 1 GiB
    })();
    await pipeline(Readable.from(chunks), createGzip({ level: 9 }), createWriteStream(file));
    assert.ok((await stat(file)).size < 2 << 20, 'about a megabyte on the wire');
    const rssBefore = process.memoryUsage().rss;
    const r = await extractTarGz(file, join(work, 'dest'));
    assert.equal(r.files, 1);
    assert.equal(await readFile(join(work, 'dest', 'ok.yaml'), 'utf8'), 'ok');
    assert.ok(process.memoryUsage().rss - rssBefore < 256 << 20, 'the trailing data was not buffered');
  });

  it('caps the inflated stream, whatever its framing (a flood of PAX global headers)', async () => {
    // PAX records are "<length> <key>=<value>\n", the length counting the whole record.
    const record = (value: string) => {
      const rest = ` comment=${value}\n`;
      let n = rest.length + 1;
      while (String(n).length + rest.length !== n) n = String(n).length + rest.length;
      return `${n}${rest}`;
    };
    const pax = record('x'.repeat(30_000));
    const entries: RawEntry[] = Array.from({ length: 100 }, () => ({
      name: 'pax',
      type: TarType.paxGlobal,
      body: pax,
    }));
    const { file, dest } = await setup([...entries, { name: 'ok.yaml', body: 'ok' }]);
    // One small file: within 4000 bytes and 10 entries, but 3 MB of framing.
    await assert.rejects(extractTarGz(file, dest, { maxBytes: 4000, maxEntries: 10 }), SizeLimitError);
    assert.ok(maxStreamBytes(4000, 10) < 3_000_000);
    const ok = await extractTarGz(file, join(dest, 'roomy'), { maxBytes: 4000, maxEntries: 2000 });
    assert.equal(ok.files, 1, 'the same archive passes with room for its framing');
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
