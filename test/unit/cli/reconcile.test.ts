// reconcile, suspend and resume against the in-memory cluster, with onPatch playing the controller.

import assert from 'node:assert/strict';
import { Annotations } from '../../../controllers/api/names.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { type FakeCluster, fakeCluster, object, runCli } from './fake.ts';

const token = '2025-01-01T10:00:00.123456789Z'; // what runCli's clock gives
const requested = (o: KubeObject) => o.metadata.annotations?.[Annotations.reconcileRequestedAt];
const fast = ['--poll-interval', '5ms'];

/** Answers every reconcile request like a controller: Ready (status, message) at the current generation. */
function controller(c: FakeCluster, answer: (o: KubeObject) => [string, string] | undefined) {
  c.onPatch = (o) => {
    const a = requested(o) && answer(o);
    if (!a) return;
    o.status = {
      ...o.status,
      lastHandledReconcileAt: requested(o),
      observedGeneration: o.metadata.generation,
      conditions: [
        {
          type: 'Ready',
          status: a[0],
          reason: 'R',
          message: a[1],
          lastTransitionTime: '2025-01-01T10:00:01Z',
          observedGeneration: o.metadata.generation,
        },
      ],
    };
    if (o.kind === 'GitRepository')
      o.status.artifact = { revision: 'main@sha1:1111111111111111111111111111111111111111' };
    if (o.kind === 'Kustomization')
      o.status.lastAppliedRevision = 'main@sha1:2222222222222222222222222222222222222222';
  };
}

describe('cli reconcile', () => {
  it('annotates, waits for the controller and prints flux lines on stderr', async () => {
    const c = fakeCluster([object('GitRepository', 'flux-system', 'podinfo')]);
    controller(c, () => ['True', 'stored artifact']);
    const r = await runCli(['reconcile', 'source', 'git', 'podinfo', ...fast], c);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '');
    assert.equal(
      r.err,
      [
        '► annotating GitRepository podinfo in flux-system namespace',
        '✔ GitRepository annotated',
        '◎ waiting for GitRepository reconciliation',
        '✔ GitRepository reconciliation completed',
        '✔ fetched revision main@sha1:1111111111111111111111111111111111111111',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      c.patches.map((p) => p.body),
      [{ metadata: { annotations: { [Annotations.reconcileRequestedAt]: token } } }],
    );
  });

  it('refuses a suspended object without writing anything', async () => {
    const c = fakeCluster([object('Kustomization', 'flux-system', 'apps', { suspend: true })]);
    assert.deepEqual(await runCli(['reconcile', 'ks', 'apps'], c), {
      code: 1,
      out: '',
      err: '✗ resource is suspended\n',
    });
    assert.equal(c.patches.length, 0);
  });

  it('exits 1 with the Ready message when the controller reports a failure', async () => {
    const c = fakeCluster([object('GitRepository', 'flux-system', 'podinfo')]);
    controller(c, () => ['False', 'authentication required']);
    const r = await runCli(['reconcile', 'source', 'git', 'podinfo', ...fast], c);
    assert.equal(r.code, 1);
    assert.match(r.err, /\n✗ GitRepository reconciliation failed: authentication required\n$/);
  });

  it('times out naming the controller when the request is never handled', async () => {
    const c = fakeCluster([object('HelmRelease', 'apps', 'redis')]);
    const r = await runCli(['reconcile', 'hr', 'redis', '-n', 'apps', '--timeout', '50ms', ...fast], c);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /\n✗ timed out after 50ms waiting for HelmRelease redis reconciliation: the controller has not handled the request yet \(is helm-controller running\?\)\n$/,
    );
  });

  it('says which object is missing', async () => {
    const r = await runCli(['reconcile', 'ks', 'ghost'], fakeCluster([]));
    assert.deepEqual(r, {
      code: 1,
      out: '',
      err: `✗ Kustomization 'ghost' not found in "flux-system" namespace\n`,
    });
  });

  it('--with-source reconciles the sourceRef (its own namespace) before the Kustomization', async () => {
    const ks = object('Kustomization', 'apps', 'backend');
    ks.spec.sourceRef = { kind: 'GitRepository', name: 'repo', namespace: 'flux-system' };
    const c = fakeCluster([ks, object('GitRepository', 'flux-system', 'repo')]);
    controller(c, () => ['True', 'ok']);
    const r = await runCli(['reconcile', 'ks', 'backend', '-n', 'apps', '--with-source', ...fast], c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      c.patches.map((p) => `${p.ref.kind}/${p.ref.namespace}/${p.ref.name}`),
      ['GitRepository/flux-system/repo', 'Kustomization/apps/backend'],
    );
    const lines = r.err.split('\n');
    assert.equal(lines[0], '► annotating GitRepository repo in flux-system namespace');
    assert.equal(lines[4], '✔ fetched revision main@sha1:1111111111111111111111111111111111111111');
    assert.equal(lines[5], '► annotating Kustomization backend in apps namespace');
    assert.equal(lines[9], '✔ applied revision main@sha1:2222222222222222222222222222222222222222');
  });

  it('--with-source on a HelmRelease goes through its HelmChart to the HelmRepository', async () => {
    const hr = object('HelmRelease', 'apps', 'redis');
    hr.spec.chart = {
      spec: {
        chart: 'redis',
        sourceRef: { kind: 'HelmRepository', name: 'bitnami', namespace: 'flux-system' },
      },
    };
    const chart = object('HelmChart', 'flux-system', 'apps-redis');
    chart.spec.chart = 'redis';
    chart.spec.sourceRef = { kind: 'HelmRepository', name: 'bitnami' };
    const c = fakeCluster([hr, chart, object('HelmRepository', 'flux-system', 'bitnami')]);
    controller(c, () => ['True', 'ok']);
    const r = await runCli(['reconcile', 'hr', 'redis', '-n', 'apps', '--with-source', ...fast], c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      c.patches.map((p) => `${p.ref.kind}/${p.ref.namespace}/${p.ref.name}`),
      ['HelmRepository/flux-system/bitnami', 'HelmChart/flux-system/apps-redis', 'HelmRelease/apps/redis'],
    );
  });
});

describe('cli reconcile helmrelease --force and --reset', () => {
  it('writes forceAt and resetAt with the request token, as flux does', async () => {
    const c = fakeCluster([object('HelmRelease', 'apps', 'redis')]);
    controller(c, () => ['True', 'ok']);
    const r = await runCli(['reconcile', 'hr', 'redis', '-n', 'apps', '--force', '--reset', ...fast], c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      c.patches.map((p) => p.body),
      [
        {
          metadata: {
            annotations: {
              [Annotations.reconcileForceAt]: token,
              [Annotations.reconcileResetAt]: token,
              [Annotations.reconcileRequestedAt]: token,
            },
          },
        },
      ],
    );
  });

  it('refuses --force for kinds that have no such request', async () => {
    const c = fakeCluster([object('Kustomization', 'flux-system', 'apps')]);
    const r = await runCli(['reconcile', 'ks', 'apps', '--force'], c);
    assert.deepEqual(r, {
      code: 1,
      out: '',
      err: '✗ unknown flag: --force (tide reconcile kustomization)\n',
    });
    assert.equal(c.patches.length, 0);
  });
});

describe('cli suspend and resume', () => {
  it('suspend sets spec.suspend and does not wait', async () => {
    const c = fakeCluster([object('Kustomization', 'flux-system', 'apps')]);
    const r = await runCli(['suspend', 'ks', 'apps'], c);
    assert.deepEqual(r, {
      code: 0,
      out: '',
      err: '► suspending kustomization apps in flux-system namespace\n✔ kustomization suspended\n',
    });
    assert.deepEqual(
      c.patches.map((p) => p.body),
      [{ spec: { suspend: true } }],
    );
  });

  it('suspend --all patches every object of the kind in the namespace; a missing name fails', async () => {
    const c = fakeCluster([
      object('GitRepository', 'flux-system', 'a'),
      object('GitRepository', 'flux-system', 'b'),
      object('GitRepository', 'other', 'c'),
    ]);
    const all = await runCli(['suspend', 'source', 'git', '--all'], c);
    assert.equal(all.code, 0, all.err);
    assert.deepEqual(
      c.patches.map((p) => p.ref.name),
      ['a', 'b'],
    );
    assert.match(all.err, /^► suspending source git a in flux-system namespace\n✔ source git suspended\n/);
    const missing = await runCli(['suspend', 'source', 'git', 'a', 'zzz'], c);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^✗ GitRepository 'zzz' not found in "flux-system" namespace$/m);
  });

  it('resume clears suspend with a reconcile request in one patch and waits for Ready', async () => {
    const c = fakeCluster([object('Kustomization', 'flux-system', 'apps', { suspend: true })]);
    controller(c, (o) => (o.spec.suspend ? undefined : ['True', 'Applied revision']));
    const r = await runCli(['resume', 'ks', 'apps', ...fast], c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      c.patches.map((p) => p.body),
      [
        {
          spec: { suspend: false },
          metadata: { annotations: { [Annotations.reconcileRequestedAt]: token } },
        },
      ],
    );
    assert.equal(
      r.err,
      [
        '► resuming kustomization apps in flux-system namespace',
        '✔ kustomization resumed',
        '◎ waiting for Kustomization reconciliation',
        '✔ Kustomization apps reconciliation completed',
        '✔ applied revision main@sha1:2222222222222222222222222222222222222222',
        '',
      ].join('\n'),
    );
  });

  it('resume exits 1 with the message when the resumed object fails to reconcile', async () => {
    const c = fakeCluster([object('HelmRelease', 'flux-system', 'redis', { suspend: true })]);
    controller(c, () => ['False', 'install retries exhausted']);
    const r = await runCli(['resume', 'hr', 'redis', ...fast], c);
    assert.equal(r.code, 1);
    assert.ok(r.err.endsWith('\n✗ HelmRelease reconciliation failed: install retries exhausted\n'), r.err);
  });

  it('resume --all does not wait unless --wait, and reports each failure', async () => {
    const c = fakeCluster([
      object('Kustomization', 'flux-system', 'a', { suspend: true }),
      object('Kustomization', 'flux-system', 'b', { suspend: true }),
    ]);
    const quick = await runCli(['resume', 'ks', '--all'], c);
    assert.equal(quick.code, 0, quick.err);
    assert.doesNotMatch(quick.err, /waiting/);
    controller(c, (o) => (o.metadata.name === 'a' ? ['True', 'ok'] : ['False', 'health check failed']));
    const waited = await runCli(['resume', 'ks', '--all', '--wait', ...fast], c);
    assert.equal(waited.code, 1);
    assert.match(waited.err, /^✔ Kustomization a reconciliation completed$/m);
    assert.match(waited.err, /^✗ b: Kustomization reconciliation failed: health check failed$/m);
  });
});
