// The image kinds in the CLI: flux's `get images` tables (their own columns), `reconcile image …`
// success lines, suspend and resume, against the in-memory cluster.

import assert from 'node:assert/strict';
import { Annotations } from '../../../controllers/api/names.ts';
import { fakeCluster, object, runCli } from './fake.ts';

const image = 'registry.example/team/app';

function cluster() {
  return fakeCluster([
    object('ImageRepository', 'flux-system', 'app', {
      ready: ['True', 'successful scan: found 3 tags with checksum sha256:abcd'],
      status: { lastScanResult: { tagCount: 3, scanTime: '2025-01-01T10:00:00Z', revision: 'sha256:abcd' } },
    }),
    object('ImagePolicy', 'flux-system', 'app', {
      ready: ['True', `Latest image tag for ${image} resolved to 1.4.0`],
      status: { latestRef: { name: image, tag: '1.4.0' } },
    }),
    object('ImageUpdateAutomation', 'flux-system', 'auto', {
      suspend: true,
      ready: ['True', 'repository up-to-date'],
      status: { lastAutomationRunTime: '2025-01-01T10:05:00Z' },
    }),
  ]);
}

const cells = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      l
        .split('\t')
        .map((c) => c.trim())
        .filter(Boolean),
    );

describe('cli image kinds', () => {
  it("prints each image kind with flux's columns", async () => {
    const repos = await runCli(['get', 'images', 'repository'], cluster());
    assert.equal(repos.code, 0, repos.err);
    assert.deepEqual(cells(repos.out), [
      ['NAME', 'LAST SCAN', 'SUSPENDED', 'READY', 'MESSAGE'],
      [
        'app',
        '2025-01-01T10:00:00Z',
        'False',
        'True',
        'successful scan: found 3 tags with checksum sha256:abcd',
      ],
    ]);
    const policies = await runCli(['get', 'image', 'policy'], cluster());
    assert.deepEqual(cells(policies.out), [
      ['NAME', 'IMAGE', 'TAG', 'READY', 'MESSAGE'],
      ['app', image, '1.4.0', 'True', `Latest image tag for ${image} resolved to 1.4.0`],
    ]);
    const updates = await runCli(['get', 'images', 'update', 'auto'], cluster());
    assert.deepEqual(cells(updates.out), [
      ['NAME', 'LAST RUN', 'SUSPENDED', 'READY', 'MESSAGE'],
      ['auto', '2025-01-01T10:05:00Z', 'True', 'True', 'repository up-to-date'],
    ]);
  });

  it('lists all three kinds with `get images all`, names prefixed with their kind', async () => {
    const r = await runCli(['get', 'images', 'all'], cluster());
    assert.equal(r.code, 0, r.err);
    const rows = cells(r.out);
    assert.deepEqual(
      rows.filter((c) => c[0] !== 'NAME').map((c) => c[0]),
      ['imagerepository/app', 'imagepolicy/app', 'imageupdateautomation/auto'],
    );
    assert.deepEqual(
      rows.filter((c) => c[0] === 'NAME').map((c) => c[1]),
      ['LAST SCAN', 'IMAGE', 'LAST RUN'],
    );
  });

  it("reconciles an image policy and prints flux's success line", async () => {
    const c = cluster();
    c.onPatch = (o) => {
      const token = o.metadata.annotations?.[Annotations.reconcileRequestedAt];
      if (token) o.status = { ...o.status, lastHandledReconcileAt: token };
    };
    const r = await runCli(['reconcile', 'image', 'policy', 'app', '--poll-interval', '5ms'], c);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.err,
      /✔ ImagePolicy reconciliation completed\n✔ selected ref registry\.example\/team\/app:1\.4\.0\n$/,
    );
    const scan = await runCli(['reconcile', 'image', 'repository', 'app', '--poll-interval', '5ms'], c);
    assert.match(scan.err, /✔ scan fetched 3 tags\n$/);
  });

  it('suspends and resumes an image update automation', async () => {
    const c = cluster();
    const s = await runCli(['suspend', 'image', 'update', 'auto'], c);
    assert.equal(s.code, 0, s.err);
    assert.match(s.err, /► suspending image update automation auto in flux-system namespace/);
    assert.deepEqual(c.patches.at(-1)?.body, { spec: { suspend: true } });
    const r = await runCli(
      ['resume', 'image', 'update', 'auto', '--poll-interval', '5ms', '--timeout', '50ms'],
      c,
    );
    assert.match(r.err, /► resuming image update automation auto in flux-system namespace/);
    const body = c.patches.at(-1)?.body as { spec?: unknown } | undefined;
    assert.deepEqual(body?.spec, { suspend: false });
  });

  it('names the image kinds in its errors', async () => {
    const r = await runCli(['get', 'image', 'tags']);
    assert.equal(r.code, 1);
    assert.match(r.err, /^✗ unknown image kind "tags"; want one of: all, policy, repository, update/);
  });
});
