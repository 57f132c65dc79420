// Release snapshots: the digest equals what Flux's helm-controller computes (expected values computed
// with Go's encoding/json over Helm 4's release structs), test hooks and history rules.
import assert from 'node:assert/strict';
import type { Snapshot } from '../../../controllers/api/helm.ts';
import {
  hasBeenTested,
  isTestSelected,
  observationDigest,
  previous,
  snapshotOf,
  testHooksOf,
  truncate,
} from '../../../controllers/helm/snapshot.ts';
import { decodeRelease, encodeRelease, type Release } from '../../../controllers/helm/storage.ts';

// A release as Helm 3 would have stored it (zero times as ""), with HTML characters, a U+2028, map keys
// out of order, numbers Go formats specially, a test hook and a hook that never ran.
const stored: Release = {
  name: 'web',
  info: {
    first_deployed: '2025-03-01T10:00:00.123456789Z',
    last_deployed: '2025-03-02T11:30:00Z',
    deleted: '',
    description: 'Upgrade complete',
    status: 'deployed',
    notes: 'Visit <http://web> & enjoy\u2028',
  },
  chart: {
    metadata: {
      name: 'web',
      home: 'https://example.com',
      version: '1.2.3+build.7',
      description: 'A web app',
      keywords: ['a', 'b'],
      maintainers: [{ name: 'Ada', email: 'ada@example.com' }],
      apiVersion: 'v2',
      appVersion: '2.0',
      annotations: { z: '1', a: '2' },
      dependencies: [{ name: 'db', version: '~1.0', repository: 'oci://r/charts', condition: 'db.enabled' }],
      type: 'application',
    },
  },
  config: { z: { b: 1, a: [1, 2.5, 'x'] }, a: true, big: 1e21, small: 0.0000001, n: null },
  manifest:
    '---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  html: "<b>&</b>"\n',
  hooks: [
    {
      name: 'web-test',
      kind: 'Pod',
      path: 'web/templates/tests/t.yaml',
      manifest: 'apiVersion: v1\nkind: Pod\n',
      events: ['test'],
      last_run: {
        started_at: '2025-03-02T11:31:00Z',
        completed_at: '2025-03-02T11:32:00Z',
        phase: 'Succeeded',
      },
      weight: 0,
      delete_policies: ['before-hook-creation'],
    },
    {
      name: 'web-migrate',
      kind: 'Job',
      path: 'web/templates/job.yaml',
      manifest: 'apiVersion: batch/v1\nkind: Job\n',
      events: ['pre-upgrade', 'pre-install'],
      last_run: { started_at: '', completed_at: '', phase: '' },
      weight: -5,
      delete_policies: ['hook-succeeded'],
    },
  ],
  version: 3,
  namespace: 'apps',
};

describe('helm-controller snapshots', () => {
  it("computes Flux's snapshot digest (Go encoding of Helm 4's structs)", () => {
    assert.equal(
      observationDigest(stored),
      'sha256:dea8f6cdfbb446e7d17074f92bf27986432fab102b3218aafed41689a8d88125',
    );
    assert.equal(
      observationDigest(stored, 'sha256:abc'),
      'sha256:c49330f01f868279945215ae9e8acadb7def50797b43224c9056705096183da2',
    );
    // Flux's own test vector: an observation of nothing but a name.
    assert.equal(
      observationDigest({ name: 'foo', namespace: '', version: 0 }),
      'sha256:f1498f27a16a09cd7e1ee610d924df065c03d30035638babc95dd9a8d412ce4d',
    );
  });

  it('keeps the digest through the storage encoding, and ignores test runs', () => {
    const rel = decodeRelease(encodeRelease(stored));
    assert.equal(observationDigest(rel), observationDigest(stored));
    const retested = structuredClone(stored);
    (retested.hooks ?? [])[0]!.last_run = { started_at: '2026-01-01T00:00:00Z', phase: 'Failed' };
    assert.equal(observationDigest(retested), observationDigest(stored), 'a helm test run changes nothing');
    const changed = structuredClone(stored);
    changed.info = { ...changed.info, status: 'superseded' };
    assert.notEqual(observationDigest(changed), observationDigest(stored));
  });

  it('snapshots a release as Flux does', () => {
    const s = snapshotOf(stored, { action: 'upgrade', ociDigest: 'sha256:0123' });
    assert.deepEqual(
      { ...s, digest: undefined },
      {
        apiVersion: 'v2',
        digest: undefined,
        name: 'web',
        namespace: 'apps',
        version: 3,
        status: 'deployed',
        chartName: 'web',
        chartVersion: '1.2.3+build.7',
        appVersion: '2.0',
        configDigest: s.configDigest,
        firstDeployed: '2025-03-01T10:00:00Z',
        lastDeployed: '2025-03-02T11:30:00Z',
        action: 'upgrade',
        ociDigest: 'sha256:0123',
      },
    );
    assert.match(s.configDigest, /^sha256:[0-9a-f]{64}$/);
  });

  it('reads test hooks with filters', () => {
    assert.deepEqual(testHooksOf(stored), {
      'web-test': {
        lastStarted: '2025-03-02T11:31:00Z',
        lastCompleted: '2025-03-02T11:32:00Z',
        phase: 'Succeeded',
      },
    });
    assert.deepEqual(testHooksOf(stored, [{ name: 'web-test', exclude: true }]), {});
    assert.equal(isTestSelected('a', [{ name: 'b' }]), false);
    assert.equal(isTestSelected('b', [{ name: 'b' }]), true);
    assert.equal(isTestSelected('a', [{ name: 'b', exclude: true }]), true);
  });

  const snap = (version: number, status: string, tests?: Record<string, string>): Snapshot => ({
    digest: `d${version}`,
    name: 'web',
    namespace: 'apps',
    version,
    status,
    chartName: 'web',
    chartVersion: '1.0.0',
    configDigest: 'c',
    firstDeployed: '2025-01-01T00:00:00Z',
    lastDeployed: '2025-01-01T00:00:00Z',
    ...(tests
      ? { testHooks: Object.fromEntries(Object.entries(tests).map(([k, phase]) => [k, { phase }])) }
      : {}),
  });

  it("follows Flux's tested rule: all passed, one failed, or no tests at all", () => {
    assert.equal(hasBeenTested(snap(1, 'deployed')), false);
    assert.equal(hasBeenTested(snap(1, 'deployed', {})), true);
    assert.equal(hasBeenTested(snap(1, 'deployed', { a: 'Succeeded', b: '' })), false);
    assert.equal(hasBeenTested(snap(1, 'deployed', { a: 'Failed', b: '' })), true);
  });

  it('finds the rollback target and truncates the history after it', () => {
    const h = [
      snap(4, 'failed'),
      snap(3, 'superseded', { t: 'Failed' }),
      snap(2, 'superseded'),
      snap(1, 'superseded'),
    ];
    assert.equal(previous(h, false)?.version, 2, 'a release with failed tests is skipped');
    assert.equal(previous(h, true)?.version, 3);
    assert.deepEqual(
      truncate(h, false).map((s) => s.version),
      [4, 3, 2],
    );
    assert.deepEqual(
      truncate([snap(2, 'failed'), snap(1, 'failed')], false).map((s) => s.version),
      [2, 1],
    );
  });
});
