// source-controller's GitRepository, run as its own process against the real Git servers.

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import type { GitRepository } from '../../../controllers/api/source.ts';
import { emptyGitCounts, gitRequestCounter } from '../../../hack/bench/gitcount.ts';
import { startGitHttpServer } from '../../../hack/testbed/gitserver.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { createWorkRepo, type WorkRepo } from '../../support/gitwork.ts';
import {
  sourceApiVersion as apiVersion,
  artifactContents,
  cond,
  download,
  sha256,
  useSourceController,
} from '../../support/sources.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';

describe('source-controller: GitRepository', function () {
  this.timeout(180_000);
  const ns = useNamespace('gitrepo');
  const source = useSourceController([
    '--artifact-retention-records=2',
    '--artifact-retention-ttl=1h',
    '--max-source-size=1Mi',
    '--concurrent=4',
  ]);
  const { patchSpec, requestReconcile, waitReady, waitNotReady } = source.kind<GitRepository>(
    'GitRepository',
    ns,
  );
  let repo: WorkRepo;
  let first: string;

  before(async () => {
    const tb = testbed();
    repo = await createWorkRepo(`gitrepo-${process.pid}`);
    first = await repo.commit(
      { 'deploy/app.yaml': 'kind: ConfigMap\n', 'README.md': 'docs\n', 'logo.png': 'x' },
      'first',
    );
    await repo.tag('v1.0.0');
    await repo.tag('v1.1.0', { annotated: true });
    await repo.tag('not-semver');
    await source.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'http-auth', namespace: ns() },
      stringData: { username: tb.git.username, password: tb.git.password },
    });
  });

  const create = (name: string, spec: Partial<GitRepository['spec']>) =>
    source.client.create({
      apiVersion,
      kind: 'GitRepository',
      metadata: { name, namespace: ns() },
      spec: { url: repo.url, interval: '10m', secretRef: { name: 'http-auth' }, ...spec },
    });
  const files = async (url: string) => Object.keys(await artifactContents(url)).sort();

  it('stores a branch as an artifact whose digest is the sha256 of the served bytes', async () => {
    await create('branch', { ref: { branch: 'main' } });
    const o = await waitReady('branch');
    const a = o.status!.artifact!;
    assert.equal(a.revision, `main@sha1:${first}`);
    assert.equal(a.path, `gitrepository/${ns()}/branch/${first}.tar.gz`);
    assert.match(
      cond(o, ConditionTypes.Ready)!.message,
      new RegExp(`stored artifact for revision 'main@sha1:${first}'`),
    );
    assert.equal(cond(o, ConditionTypes.ArtifactInStorage)?.status, 'True');
    const bytes = await download(a.url);
    assert.equal(sha256(bytes), a.digest);
    assert.equal(bytes.length, a.size);
    // Flux's default exclusions drop images.
    assert.deepEqual(await files(a.url), ['README.md', 'deploy/app.yaml']);
  });

  it('gives two GitRepositories on the same commit identical digests', async () => {
    await create('branch-twin', { ref: { branch: 'main' } });
    const [a, b] = await Promise.all([waitReady('branch'), waitReady('branch-twin')]);
    assert.equal(a.status!.artifact!.digest, b.status!.artifact!.digest);
    assert.notEqual(a.status!.artifact!.path, b.status!.artifact!.path);
  });

  it('resolves tag, semver, name and commit refs to Flux revision strings', async () => {
    await create('tag', { ref: { tag: 'v1.1.0' } });
    await create('semver', { ref: { semver: '>=1.0.0 <2.0.0' } });
    await create('name', { ref: { name: 'refs/heads/main' } });
    await create('commit', { ref: { commit: first } });
    const revs = await Promise.all(
      ['tag', 'semver', 'name', 'commit'].map(async (n) => (await waitReady(n)).status!.artifact!.revision),
    );
    assert.deepEqual(revs, [
      `v1.1.0@sha1:${first}`,
      `v1.1.0@sha1:${first}`,
      `refs/heads/main@sha1:${first}`,
      `sha1:${first}`,
    ]);
  });

  it('clones once for many GitRepositories on one revision, and lists refs without git on every poll', async () => {
    const tb = testbed();
    const counts = emptyGitCounts();
    // The same repositories behind a second server that counts what the controller asks.
    const counted = await startGitHttpServer(
      tb.git.root,
      tb.git.username,
      tb.git.password,
      gitRequestCounter(counts),
    );
    try {
      const url = repo.url.replace(tb.git.url, counted.url);
      const names = ['fan-1', 'fan-2', 'fan-3', 'fan-4', 'fan-5', 'fan-6'];
      for (const n of names) await create(n, { url, ref: { branch: 'main' } });
      const objs = await Promise.all(names.map((n) => waitReady(n)));
      const digests = new Set(objs.map((o) => o.status?.artifact?.digest));
      assert.equal(digests.size, 1, 'every artifact has the same content');
      for (const o of objs) {
        const a = o.status!.artifact!;
        assert.equal(sha256(await download(a.url)), a.digest, `${o.metadata.name} serves its own file`);
      }
      assert.equal(counts.fetch, 1, `one clone for ${names.length} objects: ${JSON.stringify(counts)}`);
      assert.ok(
        counts['ref-listing'] >= names.length,
        `each object listed the refs: ${JSON.stringify(counts)}`,
      );

      // An unchanged revision costs a ref listing, no clone.
      const listed = counts['ref-listing'];
      await requestReconcile('fan-1', 'poll-1');
      await waitReady('fan-1', (x) => x.status?.lastHandledReconcileAt === 'poll-1');
      assert.equal(counts.fetch, 1, JSON.stringify(counts));
      assert.ok(counts['ref-listing'] > listed, JSON.stringify(counts));
    } finally {
      await counted.close();
    }
  });

  it('clones over SSH with identity and known_hosts', async () => {
    const tb = testbed();
    const { readFile } = await import('node:fs/promises');
    await source.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'ssh-auth', namespace: ns() },
      stringData: { identity: await readFile(tb.ssh.clientKey, 'utf8'), known_hosts: tb.ssh.knownHosts },
    });
    await create('ssh', {
      url: tb.ssh.urlFor(repo.barePath),
      secretRef: { name: 'ssh-auth' },
      ref: { branch: 'main' },
    });
    const o = await waitReady('ssh');
    assert.equal(o.status!.artifact!.revision, `main@sha1:${first}`);
  });

  it('picks up a new commit at once on requestedAt, and on the next interval', async () => {
    await create('fast', { interval: '2s', ref: { branch: 'main' } });
    await waitReady('fast');
    const second = await repo.commit({ 'deploy/extra.yaml': 'kind: Secret\n' }, 'second');
    // The 10m interval of 'branch' would not come round in this test: requestedAt must trigger it.
    await requestReconcile('branch', 'now-1');
    const o = await waitReady('branch', (x) => x.status?.artifact?.revision === `main@sha1:${second}`);
    assert.equal(o.status?.lastHandledReconcileAt, 'now-1');
    await waitReady('fast', (x) => x.status?.artifact?.revision === `main@sha1:${second}`);
  });

  it('applies spec.ignore and .sourceignore', async () => {
    await repo.commit(
      { '.sourceignore': 'docs/\n', 'docs/a.md': 'a\n', 'deploy/skip.txt': 's\n' },
      'ignore files',
    );
    await create('ignore', { ref: { branch: 'main' }, ignore: '*.txt\n' });
    const o = await waitReady('ignore');
    const list = await files(o.status!.artifact!.url);
    assert.ok(!list.includes('deploy/skip.txt'), 'spec.ignore excluded *.txt');
    assert.ok(!list.some((f) => f.startsWith('docs/')), '.sourceignore excluded docs/');
    assert.ok(list.includes('logo.png'), 'spec.ignore replaced the default exclusions');
    assert.equal(o.status?.observedIgnore, '*.txt\n');
  });

  it('includes another GitRepository artifact at toPath', async () => {
    const other = await createWorkRepo(`included-${process.pid}`);
    await other.commit({ 'base/one.yaml': 'one\n', 'base/two.yaml': 'two\n', 'other.txt': 'o\n' });
    await source.client.create({
      apiVersion,
      kind: 'GitRepository',
      metadata: { name: 'lib', namespace: ns() },
      spec: { url: other.url, interval: '10m', secretRef: { name: 'http-auth' }, ref: { branch: 'main' } },
    });
    await create('with-include', {
      ref: { branch: 'main' },
      include: [{ repository: { name: 'lib' }, fromPath: 'base', toPath: 'vendor/lib' }],
    });
    const o = await waitReady('with-include');
    const list = await files(o.status!.artifact!.url);
    assert.ok(list.includes('vendor/lib/one.yaml') && list.includes('vendor/lib/two.yaml'), list.join(','));
    assert.ok(!list.includes('vendor/lib/other.txt'));
    assert.equal(o.status?.includedArtifacts?.length, 1);
  });

  it('keeps serving the last artifact when the ref, the credentials or the host go bad', async () => {
    await create('bad', { ref: { branch: 'main' } });
    const good = (await waitReady('bad')).status!.artifact!;

    await patchSpec('bad', { ref: { branch: 'does-not-exist' } });
    let o = await waitNotReady('bad', /does-not-exist/);
    assert.equal(cond(o, ConditionTypes.FetchFailed)?.status, 'True');
    assert.equal(o.status!.artifact!.digest, good.digest);
    assert.equal(sha256(await download(o.status!.artifact!.url)), good.digest);

    await source.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'wrong-auth', namespace: ns() },
      stringData: { username: testbed().git.username, password: 'not-the-password' },
    });
    await patchSpec('bad', { ref: { branch: 'main' }, secretRef: { name: 'wrong-auth' } });
    o = await waitNotReady('bad', /auth/i);
    assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');
    assert.ok(!JSON.stringify(o.status).includes('not-the-password'), 'the password is not in status');
    assert.equal(o.status!.artifact!.digest, good.digest);

    await patchSpec('bad', { url: 'http://127.0.0.1:1/nothing.git', secretRef: null });
    o = await waitNotReady('bad', /127\.0\.0\.1:1/);
    assert.equal(o.status!.artifact!.digest, good.digest);
    assert.equal((await fetch(o.status!.artifact!.url)).status, 200);
  });

  it('refuses a host key that does not match known_hosts', async () => {
    const tb = testbed();
    const { readFile } = await import('node:fs/promises');
    const wrongHost = tb.ssh.knownHosts.replace(
      /ssh-ed25519 \S+/,
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEvTgH5yFb1fV6lC0rJ6I6qLqQ0cQm0m9w7c2G2Zx1aB',
    );
    await source.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'ssh-wrong-host', namespace: ns() },
      stringData: { identity: await readFile(tb.ssh.clientKey, 'utf8'), known_hosts: wrongHost },
    });
    await create('hostkey', { url: tb.ssh.urlFor(repo.barePath), secretRef: { name: 'ssh-wrong-host' } });
    const o = await waitNotReady('hostkey', /host key|known_hosts|verification/i);
    assert.equal(cond(o, ConditionTypes.FetchFailed)?.status, 'True');
    assert.equal(o.status?.artifact, undefined);
  });

  it('refuses a repository over the size limit', async () => {
    const big = await createWorkRepo(`big-${process.pid}`);
    // 2 MiB of incompressible data, over the controller's --max-source-size=1Mi.
    const { randomBytes } = await import('node:crypto');
    await big.commit({ 'blob.bin': randomBytes(2 * 1024 * 1024).toString('base64') });
    await create('big', { url: big.url, ref: { branch: 'main' } });
    await waitNotReady('big', /size|large|limit/i);
  });

  it('garbage-collects old artifacts and empties the storage on deletion', async () => {
    await create('gc', { ref: { branch: 'main' } });
    await waitReady('gc');
    for (let i = 0; i < 3; i++) {
      const sha = await repo.commit({ [`gc/${i}.yaml`]: `n: ${i}\n` }, `gc ${i}`);
      await requestReconcile('gc', `gc-${i}`);
      await waitReady('gc', (x) => x.status?.artifact?.revision === `main@sha1:${sha}`);
    }
    const dir = join(source.storagePath, 'gitrepository', ns(), 'gc');
    const kept = (await readdir(dir)).filter((f) => f.endsWith('.tar.gz'));
    assert.equal(kept.length, 2, `kept ${kept.join(', ')}`);
    await source.client.delete({ apiVersion, kind: 'GitRepository', namespace: ns(), name: 'gc' });
    await poll('storage emptied', 30_000, async () => {
      const left = await readdir(dir).catch(() => undefined);
      return left === undefined ? true : undefined;
    });
  });
});
