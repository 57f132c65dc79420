// source-controller's HelmRepository, run as its own process, against the test bed's chart server
// with indexes written by the real helm binary.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Condition } from '../../../controllers/api/meta.ts';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import type { HelmRepository } from '../../../controllers/api/source-helm.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import type { StaticServer } from '../../../hack/testbed/staticserver.ts';
import {
  sourceApiVersion as apiVersion,
  cond,
  download,
  helmCli,
  sha256,
  startBasicAuthServer,
  useSourceController,
} from '../../support/sources.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';

describe('source-controller: HelmRepository', function () {
  this.timeout(180_000);
  const ns = useNamespace('helmrepo');
  const source = useSourceController(['--artifact-retention-ttl=1h', '--concurrent=2']);
  const { get, patchSpec, requestReconcile, waitReady, waitNotReady } = source.kind<HelmRepository>(
    'HelmRepository',
    ns,
  );
  let work: string;
  let repoDir: string;
  let repoUrl: string;
  let helm: (args: string[]) => Promise<string>;

  /** Packages the demo chart at `version` into `dir` and rewrites its index.yaml with helm. */
  const publish = async (dir: string, version: string, url?: string) => {
    await helm(['package', join(work, 'demo'), '--version', version, '-d', dir]);
    await helm(['repo', 'index', dir, ...(url ? ['--url', url] : [])]);
  };

  before(async () => {
    const tb = testbed();
    work = await mkdtemp(join(tb.dir, 'helmrepo-'));
    helm = await helmCli(work);
    await mkdir(join(work, 'demo', 'templates'), { recursive: true });
    await writeFile(join(work, 'demo', 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 0.0.0\n');
    await writeFile(
      join(work, 'demo', 'templates', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n',
    );
    // Our own directory of the shared chart server, so other suites' index.yaml is left alone.
    repoDir = join(tb.chartsDir, `helmrepo-${process.pid}`);
    repoUrl = `${tb.charts.url}/helmrepo-${process.pid}`;
    await mkdir(repoDir, { recursive: true });
    await publish(repoDir, '1.0.0', repoUrl);
  });

  const create = (name: string, spec: Partial<HelmRepository['spec']>) =>
    source.client.create({
      apiVersion,
      kind: 'HelmRepository',
      metadata: { name, namespace: ns() },
      spec: { url: repoUrl, interval: '10m', ...spec },
    });
  const served = async () => readFile(join(repoDir, 'index.yaml'));

  it('stores the index: revision is the digest of the served index.yaml, digest that of the served artifact', async () => {
    await create('main', {});
    const o = await waitReady('main');
    const a = o.status!.artifact!;
    const revision = sha256(await served());
    assert.equal(a.revision, revision);
    assert.equal(a.path, `helmrepository/${ns()}/main/index-${revision.slice('sha256:'.length)}.yaml`);
    assert.equal(cond(o, ConditionTypes.Ready)!.message, `stored artifact: revision '${revision}'`);
    assert.equal(cond(o, ConditionTypes.ArtifactInStorage)?.status, 'True');
    const bytes = await download(a.url);
    assert.equal(sha256(bytes), a.digest);
    assert.equal(bytes.length, a.size);
    // The stored form is the parsed index (JSON), with the chart helm indexed.
    const index = JSON.parse(bytes.toString('utf8')) as { entries: Record<string, { version: string }[]> };
    assert.deepEqual(
      index.entries.demo?.map((v) => v.version),
      ['1.0.0'],
    );
    const newArtifact = await poll('NewArtifact event', 30_000, async () => {
      const events = await source.client.list(
        { group: '', version: 'v1', kind: 'Event' },
        { namespace: ns(), fieldSelector: 'involvedObject.name=main' },
      );
      return events.items.find((e) => (e as { reason?: string }).reason === 'NewArtifact') as
        | { message: string }
        | undefined;
    });
    assert.match(newArtifact?.message ?? '', /^stored fetched index of size \d+(\.\d+)?[kM]?B from 'http:/);
  });

  it('stores a new revision after helm repo index and requestedAt, and nothing new when unchanged', async () => {
    const before = (await waitReady('main')).status!.artifact!;
    await requestReconcile('main', 'same-1');
    const same = await waitReady('main', (o) => o.status?.lastHandledReconcileAt === 'same-1');
    assert.deepEqual(same.status!.artifact, before, 'an unchanged index gives the same artifact');

    await publish(repoDir, '1.1.0', repoUrl);
    const revision = sha256(await served());
    assert.notEqual(revision, before.revision);
    await requestReconcile('main', 'new-1');
    const o = await waitReady('main', (x) => x.status?.artifact?.revision === revision);
    assert.equal(o.status?.lastHandledReconcileAt, 'new-1');
    const index = JSON.parse((await download(o.status!.artifact!.url)).toString('utf8'));
    assert.deepEqual(
      index.entries.demo.map((v: { version: string }) => v.version),
      ['1.1.0', '1.0.0'],
    );
    assert.equal(cond(o, ConditionTypes.ArtifactOutdated), undefined);
  });

  describe('behind basic auth', () => {
    const user = 'tide';
    const password = 'hr-s3cret-pass';
    let server: StaticServer;

    before(async () => {
      const root = join(work, 'private');
      await mkdir(root);
      await publish(root, '2.0.0');
      server = await startBasicAuthServer(root, user, password);
      for (const [name, pw] of [
        ['wrong-auth', 'not-the-password'],
        ['right-auth', password],
      ] as const) {
        await source.client.create({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name, namespace: ns() },
          stringData: { username: user, password: pw },
        });
      }
    });
    after(async () => {
      await server?.close();
    });

    it('fails with AuthenticationFailed on a wrong password, without the password in status; works with the right one', async () => {
      await create('private', { url: server.url, secretRef: { name: 'wrong-auth' } });
      let o = await waitNotReady('private', /authentication failed/);
      assert.equal(cond(o, ConditionTypes.Ready)?.reason, 'AuthenticationFailed');
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');
      assert.ok(!JSON.stringify(o.status).includes('not-the-password'), 'the password is not in status');
      assert.equal(o.status?.artifact, undefined);

      await patchSpec('private', { secretRef: { name: 'right-auth' } });
      o = await waitReady('private');
      assert.equal(cond(o, ConditionTypes.FetchFailed), undefined);
      const index = JSON.parse((await download(o.status!.artifact!.url)).toString('utf8'));
      assert.deepEqual(Object.keys(index.entries), ['demo']);
    });

    it('names a missing Secret', async () => {
      await create('no-secret', { url: server.url, secretRef: { name: 'absent' } });
      const o = await waitNotReady('no-secret', /absent/);
      assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'AuthenticationFailed');
    });
  });

  it('keeps serving the last artifact when the host is unreachable or the index is invalid', async () => {
    await create('flaky', {});
    const good = (await waitReady('flaky')).status!.artifact!;

    await patchSpec('flaky', { url: 'http://127.0.0.1:1/charts' });
    let o = await waitNotReady('flaky', /127\.0\.0\.1:1/);
    assert.equal(cond(o, ConditionTypes.FetchFailed)?.status, 'True');
    assert.deepEqual(o.status!.artifact, good);
    assert.equal(sha256(await download(o.status!.artifact!.url)), good.digest);

    const junk = join(testbed().chartsDir, `junk-${process.pid}`);
    await mkdir(junk, { recursive: true });
    await writeFile(join(junk, 'index.yaml'), 'just: [a, yaml, doc]\n');
    await patchSpec('flaky', { url: `${testbed().charts.url}/junk-${process.pid}` });
    o = await waitNotReady('flaky', /not a Helm repository index/);
    assert.equal(cond(o, ConditionTypes.FetchFailed)?.reason, 'IndexationFailed');
    assert.equal(o.status!.artifact!.digest, good.digest);
    assert.equal((await fetch(o.status!.artifact!.url)).status, 200);
  });

  it('type oci: Ready without an artifact; a non-oci URL stalls', async () => {
    await create('oci', { type: 'oci', url: `oci://${testbed().registry.host}/charts` });
    const o = await waitReady('oci');
    assert.equal(cond(o, ConditionTypes.Ready)?.message, 'Helm repository is ready');
    assert.equal(o.status?.artifact, undefined);
    assert.deepEqual(((o.status?.conditions ?? []) as Condition[]).map((c) => c.type).sort(), ['Ready']);

    await create('oci-bad', { type: 'oci', url: repoUrl });
    const bad = await poll('oci-bad Stalled', 60_000, async () => {
      const x = await get('oci-bad');
      if (cond(x, ConditionTypes.Stalled)?.status === 'True') return x;
      throw new Error(JSON.stringify(x.status?.conditions));
    });
    assert.equal(cond(bad, ConditionTypes.Ready)?.reason, 'URLInvalid');
    assert.match(cond(bad, ConditionTypes.Ready)!.message, /URL scheme 'http' in '.*' is not supported/);
  });

  it('switching to type oci drops the artifact; deletion empties the storage', async () => {
    await create('switch', {});
    await waitReady('switch');
    const dir = join(source.storagePath, 'helmrepository', ns(), 'switch');
    assert.equal((await readdir(dir)).length, 1);
    await patchSpec('switch', { type: 'oci', url: `oci://${testbed().registry.host}/charts` });
    const o = await waitReady('switch', (x) => x.status?.artifact === undefined);
    assert.equal(cond(o, ConditionTypes.ArtifactInStorage), undefined);
    assert.equal(await readdir(dir).catch(() => undefined), undefined);

    await create('gone', {});
    await waitReady('gone');
    const goneDir = join(source.storagePath, 'helmrepository', ns(), 'gone');
    assert.ok(await stat(goneDir));
    await source.client.delete({ apiVersion, kind: 'HelmRepository', namespace: ns(), name: 'gone' });
    await poll('storage emptied', 30_000, async () =>
      (await readdir(goneDir).catch(() => undefined)) === undefined ? true : undefined,
    );
  });
});
