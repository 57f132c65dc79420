// The source-controller's artifact storage fails under its consumers: its artifact server goes away
// (the controller killed and started again) while the kustomize-controller downloads, the storage is
// wiped while it downloads, and the storage's file system is full. The kustomize-controller reaches the
// artifact server through a relay that slows the download, so the fault lands in the middle of it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact } from '../../../controllers/api/meta.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { startTcpProxy, type TcpProxy } from '../../support/tcpproxy.ts';
import { testbed } from '../../support/testbed.ts';
import { at, condition, createWorkload, names, useChaosEnv, type Workload } from './support.ts';

type GitRepo = KubeObject & { status?: { artifact?: Artifact } };

/** Incompressible text: the artifact stays about this big. */
const noise = (bytes: number) => randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64');

describe('chaos: the artifact server and its storage', function () {
  this.timeout(400_000);

  describe('restarted and wiped while consumers download', () => {
    const env = useChaosEnv('chaos-art', { startControllers: false });
    let relay: TcpProxy;
    let work: Workload;
    const items = names('item', 20);

    before(async function () {
      this.timeout(180_000);
      await env.source.start();
      relay = await startTcpProxy('127.0.0.1', env.storagePort());
      // Consumers find the artifact server through SOURCE_CONTROLLER_LOCALHOST, as Flux's do out of cluster.
      await env.kustomize.start({ env: { SOURCE_CONTROLLER_LOCALHOST: `127.0.0.1:${relay.port}` } });
      work = await createWorkload(env, 'art', at(items, 'v1'), {
        extraFiles: { 'padding.txt': noise(1 << 20) },
      });
    });
    after(async () => {
      await relay?.close();
    });

    /** Commits `rev`, slows the download and runs `fault` once a good part of the artifact went through. */
    async function midDownload(rev: string, fault: () => Promise<void>): Promise<string> {
      relay.setDelay(100);
      const from = relay.bytesFromTarget();
      const revision = await work.commit(at(items, rev));
      await poll(
        'the download under way',
        120_000,
        async () => (relay.bytesFromTarget() - from > 128 * 1024 ? true : undefined),
        20,
      );
      await fault();
      relay.setDelay(0);
      return revision;
    }

    it('converges when the artifact server goes away in the middle of a download and comes back', async () => {
      const before = await work.live();
      const revision = await midDownload('v2', async () => {
        await env.source.kill();
        await env.source.start();
      });
      const after = await work.converged(revision);
      assert.deepEqual(
        items.filter((n) => before.get(n)?.uid !== after.get(n)?.uid),
        [],
        'nothing was recreated',
      );
    });

    it('rebuilds a wiped artifact as soon as a consumer asks for it, and the consumer converges', async () => {
      const storage = env.storagePath();
      const revision = await midDownload('v3', async () => {
        for (const entry of await readdir(storage))
          await rm(join(storage, entry), { recursive: true, force: true });
      });
      // A consumer asks again (as at its next interval): the artifact is gone until the source rebuilds it.
      const token = `after-wipe-${Date.now()}`;
      await env.client().patch(
        {
          apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
          kind: 'Kustomization',
          namespace: env.ns(),
          name: 'art',
        },
        'merge',
        { metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': token } } },
      );
      await poll(
        'the Kustomization handled the request after the wipe',
        180_000,
        async () => {
          const ks = await work.kustomization();
          const ready = condition(ks, 'Ready');
          if (ks.status?.lastHandledReconcileAt === token && ready?.status === 'True') return ks;
          throw new Error(
            `handled ${ks.status?.lastHandledReconcileAt}, Ready=${ready?.status}: ${ready?.message}`,
          );
        },
        500,
      );
      await work.converged(revision);
      const git = await env.client().get<GitRepo>({
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'GitRepository',
        namespace: env.ns(),
        name: 'art',
      });
      const res = await fetch(git.status?.artifact?.url ?? '');
      assert.equal(res.status, 200, 'the artifact is served again');
      await res.arrayBuffer();
    });
  });

  describe('on a full disk', () => {
    let mountPoint = '';
    const env = useChaosEnv('chaos-disk', {
      // A 4 MiB tmpfs: room for the small artifacts, not for one with a large file.
      storage: async () => {
        mountPoint = join(testbed().dir, `disk-full-${process.pid}`);
        await mkdir(mountPoint, { recursive: true });
        try {
          execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tide-chaos', mountPoint]);
        } catch (err) {
          throw new Error(`this test mounts a small tmpfs and needs root: ${(err as Error).message}`);
        }
        return mountPoint;
      },
    });
    after(() => {
      if (mountPoint) execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
    });
    let work: Workload;
    const items = names('item', 10);
    before(async function () {
      this.timeout(120_000);
      work = await createWorkload(env, 'disk', at(items, 'v1'));
    });

    it('says the storage is full, keeps serving the last artifact and applying nothing new, then recovers', async () => {
      const ref = {
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'GitRepository',
        namespace: env.ns(),
        name: 'disk',
      };
      const last = (await env.client().get<GitRepo>(ref)).status?.artifact;
      assert.ok(last);
      const live = await work.live();
      // More than the file system holds.
      await work.repo.commit({ 'big.txt': noise(6 << 20) }, 'a large file');
      const full = await work.commit(at(items, 'v2'));
      const failed = await poll(
        'GitRepository says the storage is full',
        120_000,
        async () => {
          const o = await env.client().get<GitRepo>(ref);
          const c = condition(o, 'StorageOperationFailed');
          if (c?.status === 'True') return o;
          throw new Error(`Ready: ${condition(o, 'Ready')?.message}`);
        },
        500,
      );
      const ready = condition(failed, 'Ready');
      assert.equal(ready?.status, 'False');
      assert.match(ready?.message ?? '', /no space left on device/);
      assert.equal(failed.status?.artifact?.revision, last.revision, 'the last artifact is kept');
      assert.ok(full !== last.revision);
      const res = await fetch(last.url);
      assert.equal(res.status, 200, 'the last artifact is still served');
      await res.arrayBuffer();
      assert.deepEqual(await work.live(), live, 'nothing new was applied, nothing pruned');
      const leftovers = (await readdir(join(mountPoint, 'gitrepository', env.ns(), 'disk'))).filter((f) =>
        f.startsWith('.'),
      );
      assert.deepEqual(leftovers, [], 'no partial file is left behind');

      // The large file goes: the next revision fits and is applied.
      await work.repo.commit({ 'big.txt': null }, 'drop the large file');
      const revision = await work.commit(at(items, 'v3'));
      await work.converged(revision);
    });
  });
});
