// The history view: status.history of Kustomizations and HelmReleases, else revisions named by events.
import assert from 'node:assert/strict';
import { durationFromEvent, historyOf } from '../../../controllers/ui/model/history.ts';

describe('ui/model/history', () => {
  it('maps Kustomization snapshots with their outcome, duration and count', () => {
    const h = historyOf(
      {
        history: [
          {
            digest: 'sha256:b',
            firstReconciled: '2025-01-01T00:02:00Z',
            lastReconciled: '2025-01-01T00:03:00Z',
            lastReconciledDuration: '1.2s',
            lastReconciledStatus: 'HealthCheckFailed',
            totalReconciliations: 2,
            metadata: { revision: 'main@sha1:b' },
          },
          {
            digest: 'sha256:a',
            lastReconciledStatus: 'ReconciliationSucceeded',
            metadata: { revision: 'main@sha1:a' },
          },
        ],
      },
      [],
    );
    assert.deepEqual(
      h.map((e) => [e.revision, e.status, e.ok, e.duration, e.count]),
      [
        ['main@sha1:b', 'HealthCheckFailed', false, '1.2s', 2],
        ['main@sha1:a', 'ReconciliationSucceeded', true, undefined, undefined],
      ],
    );
  });

  it('maps HelmRelease releases by chart and version', () => {
    const h = historyOf(
      {
        history: [
          {
            chartName: 'podinfo',
            chartVersion: '6.9.2',
            status: 'deployed',
            firstDeployed: 't1',
            lastDeployed: 't2',
          },
        ],
      },
      [],
    );
    assert.deepEqual(h[0], {
      revision: 'podinfo@6.9.2',
      status: 'deployed',
      ok: true,
      first: 't1',
      last: 't2',
      duration: undefined,
      count: undefined,
      digest: undefined,
    });
  });

  it('derives one entry per revision from events when there is no status.history, the latest first', () => {
    const ev = (at: string, revision: string, type = 'Normal', reason = 'NewArtifact') => ({
      type,
      reason,
      lastTimestamp: at,
      metadata: { annotations: { 'source.toolkit.fluxcd.io/revision': revision } },
    });
    const h = historyOf({}, [
      ev('2025-01-01T00:01:00Z', 'main@sha1:a'),
      ev('2025-01-01T00:05:00Z', 'main@sha1:b', 'Warning', 'BuildFailed'),
      ev('2025-01-01T00:02:00Z', 'main@sha1:a'),
      { type: 'Normal', reason: 'Other', lastTimestamp: '2025-01-01T00:09:00Z' },
    ]);
    assert.deepEqual(
      h.map((e) => [e.revision, e.ok, e.status, e.count, e.last]),
      [
        ['main@sha1:b', false, 'BuildFailed', 1, '2025-01-01T00:05:00Z'],
        ['main@sha1:a', true, 'NewArtifact', 2, '2025-01-01T00:02:00Z'],
      ],
    );
  });

  it("reads the duration of Flux's success event", () => {
    assert.equal(durationFromEvent('Reconciliation finished in 1.823s, next run in 10m0s'), '1.823s');
    assert.equal(durationFromEvent('Reconciliation finished in 1m2.5s, next run in 5m0s'), '1m2.5s');
    assert.equal(durationFromEvent('stored artifact'), undefined);
  });
});
