import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c as tarCreate } from 'tar';
import { extractTarGz } from '../../../controllers/runtime/oci/artifact.ts';

describe('oci/artifact: layer extraction', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tide-oci-extract-'));
    await mkdir(join(dir, 'src/deploy'), { recursive: true });
    await writeFile(join(dir, 'src/deploy/app.yaml'), 'kind: ConfigMap\n');
    await writeFile(join(dir, 'outside.txt'), 'outside\n');
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('unpacks files and directories and skips symlinks, as Flux does', async () => {
    await symlink('/etc/passwd', join(dir, 'src/passwd'));
    const file = join(dir, 'layer.tgz');
    await tarCreate({ gzip: true, file, cwd: join(dir, 'src') }, ['deploy', 'passwd']);
    await extractTarGz(file, join(dir, 'out'));
    assert.deepEqual((await readdir(join(dir, 'out'), { recursive: true })).sort(), [
      'deploy',
      'deploy/app.yaml',
    ]);
    assert.equal(await readFile(join(dir, 'out/deploy/app.yaml'), 'utf8'), 'kind: ConfigMap\n');
  });

  it('refuses an entry that climbs out of the target directory', async () => {
    const file = join(dir, 'evil.tgz');
    await tarCreate({ gzip: true, file, cwd: join(dir, 'src'), preservePaths: true }, ['../outside.txt']);
    await mkdir(join(dir, 'out/inner'), { recursive: true });
    await assert.rejects(extractTarGz(file, join(dir, 'out/inner')));
    assert.deepEqual(await readdir(join(dir, 'out')), ['inner']);
    assert.deepEqual(await readdir(join(dir, 'out/inner')), []);
  });
});
