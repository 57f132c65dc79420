// reconcile --force and --reset (HelmRelease): the same token in forceAt/resetAt as in requestedAt, in
// the one patch the controller sees; other kinds refuse the flags.

import assert from 'node:assert/strict';
import { Annotations } from '../../../controllers/api/names.ts';
import { fakeCluster, object, runCli } from './fake.ts';

const token = '2025-01-01T10:00:00.123456789Z'; // what runCli's clock gives

describe('cli reconcile --force and --reset', () => {
  it('asks a HelmRelease for a one-off release and a reset with the request token', async () => {
    const c = fakeCluster([object('HelmRelease', 'apps', 'redis')]);
    c.onPatch = (o) => {
      o.status = {
        lastHandledReconcileAt: o.metadata.annotations?.[Annotations.reconcileRequestedAt],
        lastAttemptedRevision: '18.1.0',
        observedGeneration: o.metadata.generation,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'UpgradeSucceeded',
            message: 'ok',
            observedGeneration: o.metadata.generation,
          },
        ],
      };
    };
    const r = await runCli(
      ['reconcile', 'hr', 'redis', '-n', 'apps', '--force', '--reset', '--poll-interval', '5ms'],
      c,
    );
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
    assert.match(r.err, /✔ applied revision 18\.1\.0\n$/);
  });

  it('refuses --force for kinds without it, before writing anything', async () => {
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
