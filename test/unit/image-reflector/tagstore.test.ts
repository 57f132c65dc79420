// The tag store on disk: Flux's layout and revision, atomic replacement, gzip past the threshold.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createTagStore, tagsRevision } from '../../../controllers/image-reflector/tagstore.ts';

describe('image-reflector/tagstore', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tide-tags-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('stores one tag per line at imagerepository/<ns>/<name>/tags.txt, revision sha256 of the lines', async () => {
    const store = createTagStore({ root });
    const revision = await store.setTags('apps', 'podinfo', ['6.1.0', '6.0.0']);
    const file = join(root, 'imagerepository', 'apps', 'podinfo', 'tags.txt');
    assert.equal(await readFile(file, 'utf8'), '6.1.0\n6.0.0\n');
    assert.equal(revision, `sha256:${createHash('sha256').update('6.1.0\n6.0.0\n').digest('hex')}`);
    assert.equal(revision, tagsRevision(['6.1.0', '6.0.0']));
    assert.deepEqual(await store.tags('apps', 'podinfo'), ['6.1.0', '6.0.0']);
    // A second store on the same directory (a restarted controller) reads the same tags.
    assert.deepEqual(await createTagStore({ root }).tags('apps', 'podinfo'), ['6.1.0', '6.0.0']);
  });

  it('gzips a list past the threshold and drops the other form when the size crosses it', async () => {
    const store = createTagStore({ root, compressionThreshold: 64 });
    const many = Array.from({ length: 20 }, (_, i) => `1.0.${i}`);
    await store.setTags('ns', 'big', many);
    const dir = join(root, 'imagerepository', 'ns', 'big');
    assert.deepEqual(await readdir(dir), ['tags.txt.gz']);
    assert.equal(
      gunzipSync(await readFile(join(dir, 'tags.txt.gz'))).toString(),
      many.map((t) => `${t}\n`).join(''),
    );
    assert.deepEqual(await store.tags('ns', 'big'), many);
    await store.setTags('ns', 'big', ['1.0.0']);
    assert.deepEqual(await readdir(dir), ['tags.txt']);
    assert.deepEqual(await store.tags('ns', 'big'), ['1.0.0']);
  });

  it('has no tags for an unknown repository, and none after delete', async () => {
    const store = createTagStore({ root });
    assert.deepEqual(await store.tags('ns', 'none'), []);
    await store.setTags('ns', 'gone', ['a']);
    await store.delete('ns', 'gone');
    assert.deepEqual(await store.tags('ns', 'gone'), []);
  });

  it('refuses names that would leave the store', async () => {
    const store = createTagStore({ root });
    for (const [ns, name] of [
      ['..', 'x'],
      ['ns', '../x'],
      ['ns', 'a/b'],
      ['', 'x'],
    ] as const)
      await assert.rejects(store.setTags(ns, name, ['a']), /invalid (namespace|name)/);
  });
});
