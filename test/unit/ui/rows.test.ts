// Rows of the overview: the state an operator reads off an object, its revision and what it reads from.
import assert from 'node:assert/strict';
import { revisionOf, sourceOf, stateOf, summarize } from '../../../controllers/ui/model/rows.ts';

const withStatus = { hasStatus: true };
const cond = (type: string, status: string, reason = 'R', message = '') => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2025-01-01T00:00:00Z',
});
const obj = (over: { spec?: object; status?: object; generation?: number } = {}) => ({
  metadata: { name: 'app', namespace: 'apps', generation: over.generation ?? 1 },
  spec: over.spec ?? {},
  status: over.status,
});

describe('ui/model/rows', () => {
  it('reads suspended before anything else, and Stalled or Ready=False as failing', () => {
    assert.equal(
      stateOf(obj({ spec: { suspend: true }, status: { conditions: [cond('Ready', 'False')] } }), withStatus),
      'suspended',
    );
    assert.equal(
      stateOf(obj({ status: { conditions: [cond('Stalled', 'True'), cond('Ready', 'False')] } }), withStatus),
      'failing',
    );
    assert.equal(
      stateOf(obj({ status: { conditions: [cond('Ready', 'False', 'BuildFailed')] } }), withStatus),
      'failing',
    );
  });

  it('counts waiting on a dependency, Ready=Unknown, no Ready and an unobserved generation as progressing', () => {
    const p = (o: ReturnType<typeof obj>) => stateOf(o, withStatus);
    assert.equal(
      p(obj({ status: { conditions: [cond('Ready', 'False', 'DependencyNotReady')] } })),
      'progressing',
    );
    assert.equal(
      p(obj({ status: { conditions: [cond('Ready', 'Unknown', 'Progressing')] } })),
      'progressing',
    );
    assert.equal(p(obj({ status: {} })), 'progressing');
    const lagging = obj({
      generation: 3,
      status: { observedGeneration: 2, conditions: [cond('Ready', 'True')] },
    });
    assert.equal(p(lagging), 'progressing');
    const current = obj({
      generation: 3,
      status: { observedGeneration: 3, conditions: [cond('Ready', 'True')] },
    });
    assert.equal(p(current), 'ready');
  });

  it('treats a kind without status (v1beta3 Alert) as ready, unless suspended', () => {
    assert.equal(stateOf(obj(), { hasStatus: false }), 'ready');
    assert.equal(stateOf(obj({ spec: { suspend: true } }), { hasStatus: false }), 'suspended');
  });

  it('takes the revision each kind records', () => {
    assert.equal(
      revisionOf(
        obj({ status: { lastAppliedRevision: 'main@sha1:a', lastAttemptedRevision: 'main@sha1:b' } }),
      ),
      'main@sha1:a',
    );
    assert.equal(
      revisionOf(obj({ status: { artifact: { revision: 'v1.0.0@sha256:c' } } })),
      'v1.0.0@sha256:c',
    );
    assert.equal(revisionOf(obj({ status: { history: [{ chartVersion: '6.9.2' }] } })), '6.9.2');
    assert.equal(
      revisionOf(obj({ status: { latestRef: { name: 'ghcr.io/app', tag: '1.2.3' } } })),
      'ghcr.io/app:1.2.3',
    );
    assert.equal(revisionOf(obj({ status: { lastAttemptedRevision: 'main@sha1:b' } })), 'main@sha1:b');
    assert.equal(revisionOf(obj()), '');
  });

  it('finds the source of every referencing kind, defaulting the namespace to the object’s', () => {
    assert.deepEqual(sourceOf(obj({ spec: { sourceRef: { kind: 'GitRepository', name: 'repo' } } })), {
      kind: 'GitRepository',
      namespace: 'apps',
      name: 'repo',
    });
    assert.deepEqual(
      sourceOf(obj({ spec: { chartRef: { kind: 'OCIRepository', name: 'c', namespace: 'x' } } })),
      {
        kind: 'OCIRepository',
        namespace: 'x',
        name: 'c',
      },
    );
    const template = {
      chart: {
        spec: { chart: 'podinfo', sourceRef: { kind: 'HelmRepository', name: 'r', namespace: 'flux' } },
      },
    };
    assert.deepEqual(sourceOf(obj({ spec: template })), {
      kind: 'HelmChart',
      namespace: 'flux',
      name: 'apps-app',
    });
    assert.deepEqual(sourceOf(obj({ spec: template, status: { helmChart: 'flux/apps-app-2' } })), {
      kind: 'HelmChart',
      namespace: 'flux',
      name: 'apps-app-2',
    });
    assert.deepEqual(
      sourceOf(obj({ spec: { imageRepositoryRef: { name: 'img' } } }))?.kind,
      'ImageRepository',
    );
    assert.deepEqual(sourceOf(obj({ spec: { providerRef: { name: 'slack' } } }))?.kind, 'Provider');
    assert.equal(sourceOf(obj()), undefined);
  });

  it('summarizes an object with its Ready reason and message and its dependencies', () => {
    const row = summarize(
      {
        metadata: { name: 'b', namespace: 'apps', generation: 2 },
        spec: {
          dependsOn: [{ name: 'a' }, { name: 'c', namespace: 'infra' }],
          sourceRef: { kind: 'GitRepository', name: 'repo' },
        },
        status: {
          observedGeneration: 2,
          lastHandledReconcileAt: 'tok',
          conditions: [cond('Ready', 'False', 'DependencyNotReady', "dependency 'apps/a' is not ready")],
        },
      },
      { kind: 'Kustomization', hasStatus: true },
    );
    assert.equal(row.key, 'Kustomization/apps/b');
    assert.equal(row.state, 'progressing');
    assert.equal(row.reason, 'DependencyNotReady');
    assert.equal(row.message, "dependency 'apps/a' is not ready");
    assert.deepEqual(row.dependsOn, [
      { namespace: 'apps', name: 'a' },
      { namespace: 'infra', name: 'c' },
    ]);
    assert.equal(row.lastHandledReconcileAt, 'tok');
    assert.equal(row.since, '2025-01-01T00:00:00Z');
  });

  it('shows a Stalled message when Ready does not say False', () => {
    const row = summarize(
      {
        metadata: { name: 'x' },
        status: { conditions: [cond('Stalled', 'True', 'UnsupportedField', 'spec.x is not supported')] },
      },
      { kind: 'Kustomization', hasStatus: true },
    );
    assert.equal(row.state, 'failing');
    assert.equal(row.reason, 'UnsupportedField');
    assert.equal(row.message, 'spec.x is not supported');
  });
});
