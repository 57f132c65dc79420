// The notification kinds in the CLI: get alerts, alert-providers and receivers as flux prints them,
// reconcile receiver (the controller's handshake), suspend and resume alert (nothing to wait for).

import assert from 'node:assert/strict';
import { Annotations } from '../../../controllers/api/names.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { fakeCluster, object, runCli } from './fake.ts';

const token = '2025-01-01T10:00:00.123456789Z';
const fast = ['--poll-interval', '5ms'];
const cells = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) =>
      l
        .split('\t')
        .map((c) => c.trim())
        .filter((c) => c !== ''),
    );

/** An object as a v1beta3 Alert or Provider is stored: a spec and no status. */
const stat = (kind: string, name: string, suspend = false): KubeObject => ({
  apiVersion: 'notification.toolkit.fluxcd.io/v1beta3',
  kind,
  metadata: { name, namespace: 'flux-system', generation: 1 },
  spec: { suspend },
});

function cluster() {
  return fakeCluster([
    stat('Alert', 'on-call'),
    stat('Alert', 'quiet', true),
    stat('Provider', 'slack'),
    object('Receiver', 'flux-system', 'github', {
      ready: ['True', 'Receiver initialized for path: /hook/abc'],
    }),
    object('Receiver', 'flux-system', 'gitlab', { ready: ['False', "unable to read token from secret 'x'"] }),
  ]);
}

describe('cli: alerts, alert providers, receivers', () => {
  it('get alerts: NAME SUSPENDED READY MESSAGE, Ready without a status', async () => {
    const r = await runCli(['get', 'alerts'], cluster());
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(cells(r.out), [
      ['NAME', 'SUSPENDED', 'READY', 'MESSAGE'],
      ['on-call', 'False', 'True', 'Alert is Ready'],
      ['quiet', 'True', 'True', 'Alert is Ready'],
    ]);
  });

  it('get alert-providers: NAME READY MESSAGE; get receivers with their Ready condition', async () => {
    const providers = await runCli(['get', 'alert-providers', '-A'], cluster());
    assert.deepEqual(cells(providers.out), [
      ['NAMESPACE', 'NAME', 'READY', 'MESSAGE'],
      ['flux-system', 'slack', 'True', 'Provider is Ready'],
    ]);
    const receivers = await runCli(['get', 'receivers'], cluster());
    assert.deepEqual(cells(receivers.out), [
      ['NAME', 'SUSPENDED', 'READY', 'MESSAGE'],
      ['github', 'False', 'True', 'Receiver initialized for path: /hook/abc'],
      ['gitlab', 'False', 'False', "unable to read token from secret 'x'"],
    ]);
  });

  it('reconcile receiver annotates and waits for the controller', async () => {
    const c = cluster();
    c.onPatch = (o) => {
      const requested = o.metadata.annotations?.[Annotations.reconcileRequestedAt];
      if (requested) o.status = { ...o.status, lastHandledReconcileAt: requested };
    };
    const r = await runCli(['reconcile', 'receiver', 'github', ...fast], c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.err.split('\n'), [
      '► annotating Receiver github in flux-system namespace',
      '✔ Receiver annotated',
      '◎ waiting for Receiver reconciliation',
      '✔ Receiver reconciliation completed',
      '',
    ]);
    const alert = await runCli(['reconcile', 'alert', 'on-call'], cluster());
    assert.equal(alert.code, 0);
    assert.equal(alert.err, '✔ reconciliation not supported by the object\n');
  });

  it('suspend alert sets spec.suspend; resume alert clears it without waiting for a controller', async () => {
    const c = cluster();
    const s = await runCli(['suspend', 'alert', 'on-call'], c);
    assert.equal(s.code, 0, s.err);
    assert.match(s.err, /► suspending alert on-call in flux-system namespace\n✔ alert suspended/);
    const r = await runCli(['resume', 'alert', 'quiet', ...fast], c);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      c.patches.map((p) => p.body),
      [
        { spec: { suspend: true } },
        {
          spec: { suspend: false },
          metadata: { annotations: { [Annotations.reconcileRequestedAt]: token } },
        },
      ],
    );
    assert.match(r.err, /✔ Alert quiet reconciliation completed\n$/);
  });
});
