import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isArtifactError } from '../../../controllers/runtime/artifact/errors.ts';
import { createStorage, TEMP_PREFIX } from '../../../controllers/runtime/artifact/storage.ts';
import { deferred, sha256File, tempDirs, writeTree } from './support.ts';

const NOW = Date.parse('2025-06-01T12:00:00.700Z');
const COMMIT = 'a'.repeat(40);

describe('artifact/storage', () => {
  const tmp = tempDirs();
  afterEach(() => tmp.cleanup());

  async function storage(hostname = 'source-controller.flux-system.svc.cluster.local.') {
    const basePath = await tmp.make();
    return createStorage({ basePath, hostname, now: () => NOW });
  }

  it('lays artifacts out as <kind>/<namespace>/<name>/<file> and builds their URL', async () => {
    const s = await storage();
    const a = s.artifactFor(
      'GitRepository',
      'flux-system',
      'podinfo',
      `main@sha1:${COMMIT}`,
      `${COMMIT}.tar.gz`,
    );
    assert.deepEqual(a, {
      path: `gitrepository/flux-system/podinfo/${COMMIT}.tar.gz`,
      url: `http://source-controller.flux-system.svc.cluster.local./gitrepository/flux-system/podinfo/${COMMIT}.tar.gz`,
      revision: `main@sha1:${COMMIT}`,
    });
    assert.equal(s.localPath(a), join(s.basePath, 'gitrepository/flux-system/podinfo', `${COMMIT}.tar.gz`));

    // The advertised address changes (flag, port-forward): the URL follows, the rest stays.
    const moved = createStorage({ basePath: s.basePath, hostname: 'localhost:9090' }).setArtifactUrl(a);
    assert.equal(moved.url, `http://localhost:9090/${a.path}`);
    assert.equal(moved.revision, a.revision);
    assert.equal(a.url.startsWith('http://source-controller'), true, 'input left untouched');
    const https = createStorage({ basePath: s.basePath, hostname: 'https://artifacts.example.com/' });
    assert.equal(https.setArtifactUrl(a).url, `https://artifacts.example.com/${a.path}`);
  });

  it('rejects path components that could leave the storage', async () => {
    const s = await storage();
    const bad: Array<[string, string, string, string]> = [
      ['GitRepository', '..', 'x', 'f.tar.gz'],
      ['GitRepository', 'ns', 'a/b', 'f.tar.gz'],
      ['GitRepository', 'ns', '', 'f.tar.gz'],
      ['Git/Repository', 'ns', 'x', 'f.tar.gz'],
      ['GitRepository', 'ns', 'x', '../../etc/passwd'],
      ['GitRepository', 'ns', 'x', '..'],
      ['GitRepository', 'ns', 'x', 'a\\b'],
    ];
    for (const [kind, ns, name, file] of bad) {
      assert.throws(
        () => s.artifactFor(kind, ns, name, 'r', file),
        (e) => isArtifactError(e) && e.code === 'InvalidPath',
        `${kind}/${ns}/${name}/${file}`,
      );
    }
    assert.throws(
      () => s.localPath({ path: 'gitrepository/ns/x/../../../../etc/passwd' }),
      /invalid artifact path/,
    );
    await assert.rejects(
      s.writeBytes({ path: 'gitrepository/ns/x/.hidden', url: '', revision: '' }, 'x'),
      /dot/,
    );
  });

  it('archives a directory: records digest, size and time, and verifies the file', async () => {
    const s = await storage();
    const src = await tmp.make();
    await writeTree(src, { 'deploy/app.yaml': 'kind: ConfigMap\n' });
    const ref = s.artifactFor('GitRepository', 'default', 'app', `main@sha1:${COMMIT}`, `${COMMIT}.tar.gz`);
    const a = await s.archive(ref, src);
    const file = s.localPath(a);
    assert.equal(a.digest, await sha256File(file));
    assert.equal(a.size, (await stat(file)).size);
    assert.equal(a.lastUpdateTime, '2025-06-01T12:00:00Z');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(await s.exists(a), true);
    assert.equal(await s.verify(a), true);
    assert.deepEqual(await readdir(join(s.basePath, 'gitrepository/default/app')), [`${COMMIT}.tar.gz`]);

    // Same tree again: same digest (the reconciler can tell nothing changed).
    assert.equal((await s.archive(ref, src)).digest, a.digest);

    await writeFile(file, 'tampered');
    assert.equal(await s.verify(a), false);
    assert.equal(await s.verify({ path: a.path, digest: 'sha256:zz' }), false);
    assert.equal(await s.exists({ path: 'gitrepository/default/app/missing.tar.gz' }), false);
    assert.equal(
      await s.verify({ path: 'gitrepository/default/app/missing.tar.gz', digest: a.digest }),
      false,
    );
  });

  it('copies files and writes bytes with their digest', async () => {
    const s = await storage();
    const src = join(await tmp.make(), 'chart.tgz');
    await writeFile(src, 'chart bytes');
    const c = await s.copyFromPath(
      s.artifactFor('HelmChart', 'ns', 'podinfo', '6.0.0', 'podinfo-6.0.0.tgz'),
      src,
    );
    assert.equal(c.digest, await sha256File(src));
    assert.equal(c.size, 11);
    const b = await s.writeBytes(
      s.artifactFor('HelmRepository', 'ns', 'repo', 'x', 'index.yaml'),
      'entries: {}\n',
    );
    assert.equal(await readFile(s.localPath(b), 'utf8'), 'entries: {}\n');
    assert.equal(b.digest, await sha256File(s.localPath(b)));
  });

  it('never shows a partial file and cleans up after a failed write', async () => {
    const s = await storage();
    const ref = s.artifactFor('Bucket', 'ns', 'b', 'rev', 'data.tar.gz');
    await s.writeBytes(ref, 'old content');
    const dir = join(s.basePath, 'bucket/ns/b');

    const gate = deferred();
    const writing = s.writeStream(
      ref,
      (async function* () {
        yield Buffer.from('new con');
        await gate.promise;
        throw new Error('upstream connection reset');
      })(),
    );
    // Mid-write: the temp file holds the partial bytes, the artifact still has the old content.
    for (let i = 0; i < 50 && (await readdir(dir)).length < 2; i++)
      await new Promise((r) => setTimeout(r, 5));
    const during = await readdir(dir);
    assert.equal(during.length, 2, during.join());
    assert.ok(during.some((f) => f.startsWith(TEMP_PREFIX)));
    assert.equal(await readFile(s.localPath(ref), 'utf8'), 'old content');

    gate.resolve();
    await assert.rejects(writing, /upstream connection reset/);
    assert.deepEqual(await readdir(dir), ['data.tar.gz']);
    assert.equal(await readFile(s.localPath(ref), 'utf8'), 'old content');
  });

  it('serializes writes to the same artifact', async () => {
    const s = await storage();
    const ref = s.artifactFor('Bucket', 'ns', 'b', 'rev', 'data.tar.gz');
    const gate = deferred();
    const first = s.writeStream(
      ref,
      (async function* () {
        yield Buffer.from('first');
        await gate.promise;
      })(),
    );
    let secondDone = false;
    const second = s.writeBytes(ref, 'second').then((a) => {
      secondDone = true;
      return a;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(secondDone, false, 'second write waits for the first');
    const temps = (await readdir(join(s.basePath, 'bucket/ns/b'))).filter((f) => f.startsWith(TEMP_PREFIX));
    assert.equal(temps.length, 1, 'only one write in flight');
    gate.resolve();
    await first;
    const b = await second;
    assert.equal(await readFile(s.localPath(ref), 'utf8'), 'second');
    assert.equal(await s.verify(b), true);
  });

  describe('garbage collection', () => {
    // Files of one object with their age in seconds at NOW.
    async function seed(s: ReturnType<typeof createStorage>, ages: Record<string, number>): Promise<string> {
      const dir = join(s.basePath, 'gitrepository/ns/app');
      await mkdir(dir, { recursive: true });
      for (const [name, age] of Object.entries(ages)) {
        await writeFile(join(dir, name), name);
        const t = new Date(NOW - age * 1000);
        await utimes(join(dir, name), t, t);
      }
      return dir;
    }
    const current = { path: 'gitrepository/ns/app/current.tar.gz' };

    it('keeps the current artifact and the newest others up to the retention records', async () => {
      const s = await storage();
      const dir = await seed(s, {
        'current.tar.gz': 1,
        'a.tar.gz': 5,
        'b.tar.gz': 4,
        'c.tar.gz': 3,
        'd.tar.gz': 2,
      });
      const deleted = await s.garbageCollect('GitRepository', 'ns', 'app', current, { retentionRecords: 2 });
      assert.deepEqual(
        deleted.sort(),
        ['a', 'b', 'c'].map((n) => `gitrepository/ns/app/${n}.tar.gz`),
      );
      assert.deepEqual((await readdir(dir)).sort(), ['current.tar.gz', 'd.tar.gz']);
    });

    it('deletes what is older than the TTL even within the retention records', async () => {
      const s = await storage();
      const dir = await seed(s, { 'current.tar.gz': 100, 'old.tar.gz': 61, 'recent.tar.gz': 30 });
      const deleted = await s.garbageCollect('GitRepository', 'ns', 'app', current, {
        retentionRecords: 5,
        ttlMs: 60_000,
      });
      assert.deepEqual(deleted, ['gitrepository/ns/app/old.tar.gz']);
      // The current artifact is kept however old it is (and even when it is not the newest file).
      assert.deepEqual((await readdir(dir)).sort(), ['current.tar.gz', 'recent.tar.gz']);
    });

    it('uses the Flux defaults: 2 records, 60 s', async () => {
      const s = await storage();
      const dir = await seed(s, { 'current.tar.gz': 0, 'a.tar.gz': 10, 'b.tar.gz': 20 });
      assert.deepEqual(await s.garbageCollect('GitRepository', 'ns', 'app', current), [
        'gitrepository/ns/app/b.tar.gz',
      ]);
      await seed(s, { 'a.tar.gz': 61 });
      assert.deepEqual(await s.garbageCollect('GitRepository', 'ns', 'app', current), [
        'gitrepository/ns/app/a.tar.gz',
      ]);
      assert.deepEqual(await readdir(dir), ['current.tar.gz']);
    });

    it('removes stale temp files of crashed writes but not fresh ones', async () => {
      const s = await storage();
      const dir = await seed(s, {
        'current.tar.gz': 0,
        [`${TEMP_PREFIX}current.tar.gz-1`]: 120,
        [`${TEMP_PREFIX}current.tar.gz-2`]: 1,
      });
      const deleted = await s.garbageCollect('GitRepository', 'ns', 'app', current, { retentionRecords: 1 });
      assert.deepEqual(deleted, [`gitrepository/ns/app/${TEMP_PREFIX}current.tar.gz-1`]);
      assert.deepEqual((await readdir(dir)).sort(), [`${TEMP_PREFIX}current.tar.gz-2`, 'current.tar.gz']);
    });

    it('is a no-op for an object without artifacts', async () => {
      const s = await storage();
      assert.deepEqual(await s.garbageCollect('GitRepository', 'ns', 'none', undefined), []);
    });
  });

  it('removes everything of a deleted object and nothing else', async () => {
    const s = await storage();
    await s.writeBytes(s.artifactFor('GitRepository', 'ns', 'gone', 'r', 'a.tar.gz'), 'a');
    await s.writeBytes(s.artifactFor('GitRepository', 'ns', 'gone', 'r', 'b.tar.gz'), 'b');
    const keep = await s.writeBytes(s.artifactFor('GitRepository', 'ns', 'stays', 'r', 'a.tar.gz'), 'a');
    assert.equal(await s.removeAll('GitRepository', 'ns', 'gone'), 'gitrepository/ns/gone');
    assert.deepEqual(await readdir(join(s.basePath, 'gitrepository/ns')), ['stays']);
    assert.equal(await s.exists(keep), true);
    assert.equal(await s.removeAll('GitRepository', 'ns', 'gone'), undefined);
  });
});
