// status.history: snapshots by digest and outcome, most recent first, five at most.
import assert from 'node:assert/strict';
import { manifestsDigest, upsertHistory } from '../../../controllers/kustomize/history.ts';

const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));
const rec = (digest: string, status: string, s: number) => ({
  digest,
  status,
  at: at(s),
  durationMs: 1500,
  metadata: { revision: `main@sha1:${digest}` },
});

describe('kustomize/history', () => {
  it('counts repeated reconciliations of one digest and outcome in one snapshot, keeping the first time', () => {
    let h = upsertHistory(undefined, rec('a', 'ReconciliationSucceeded', 1));
    h = upsertHistory(h, rec('a', 'ReconciliationSucceeded', 2));
    assert.equal(h.length, 1);
    assert.deepEqual(h[0], {
      digest: 'a',
      firstReconciled: '2025-01-01T00:00:01Z',
      lastReconciled: '2025-01-01T00:00:02Z',
      lastReconciledDuration: '1.5s',
      lastReconciledStatus: 'ReconciliationSucceeded',
      totalReconciliations: 2,
      metadata: { revision: 'main@sha1:a' },
    });
  });

  it('puts a new digest or outcome in front, moves a recurring one back to the front, keeps five', () => {
    let h = upsertHistory(undefined, rec('a', 'ReconciliationSucceeded', 1));
    h = upsertHistory(h, rec('a', 'HealthCheckFailed', 2));
    h = upsertHistory(h, rec('b', 'ReconciliationSucceeded', 3));
    h = upsertHistory(h, rec('a', 'ReconciliationSucceeded', 4));
    assert.deepEqual(
      h.map((s) => `${s.digest}:${s.lastReconciledStatus}:${s.totalReconciliations}`),
      ['a:ReconciliationSucceeded:2', 'b:ReconciliationSucceeded:1', 'a:HealthCheckFailed:1'],
    );
    for (const d of ['c', 'd', 'e', 'f']) h = upsertHistory(h, rec(d, 'ReconciliationSucceeded', 5));
    assert.deepEqual(
      h.map((s) => s.digest),
      ['f', 'e', 'd', 'c', 'a'],
    );
  });

  it('digests the objects in order, as sha256', () => {
    const a = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } };
    const b = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } };
    assert.match(manifestsDigest([a, b]), /^sha256:[0-9a-f]{64}$/);
    assert.equal(manifestsDigest([a, b]), manifestsDigest([structuredClone(a), structuredClone(b)]));
    assert.notEqual(manifestsDigest([a, b]), manifestsDigest([b, a]));
  });
});
