// The static types follow the schemas (checked by tsc), and the shared wire names are Flux's.
import assert from 'node:assert/strict';
import {
  Annotations,
  type Artifact,
  ConditionTypes,
  FINALIZER,
  type GitRepository,
  type GitRepositorySpec,
  type HelmRelease,
  HelmReleaseSchema,
  type Kustomization,
  Reasons,
  type Receiver,
} from '../../../controllers/api/index.ts';

describe('api: static types and well-known names', () => {
  it('types a GitRepository the way the schema describes it', () => {
    const repo: GitRepository = {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: 'podinfo', namespace: 'default' },
      spec: { url: 'https://github.com/stefanprodan/podinfo', interval: '1m', ref: { branch: 'master' } },
      status: { observedGeneration: -1 },
    };
    const artifact: Artifact = {
      path: 'gitrepository/default/podinfo/abc.tar.gz',
      url: 'http://source-controller/gitrepository/default/podinfo/abc.tar.gz',
      revision: 'master@sha1:abc',
      digest: 'sha256:0123',
      lastUpdateTime: '2026-01-01T00:00:00Z',
    };
    repo.status = { ...repo.status, artifact };
    // @ts-expect-error url and interval are required
    const incomplete: GitRepositorySpec = { ref: { tag: 'v1' } };
    // @ts-expect-error provider is an enum
    const badProvider: GitRepositorySpec = { url: 'https://x', interval: '1m', provider: 'gitlab' };
    assert.equal(repo.status.artifact?.revision, 'master@sha1:abc');
    assert.ok(incomplete && badProvider);
  });

  it('types free-form Helm values, references and enums', () => {
    const hr: HelmRelease = {
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: 'podinfo' },
      spec: {
        interval: '5m',
        chartRef: { kind: 'OCIRepository', name: 'podinfo' },
        values: { replicaCount: 2, ingress: { enabled: true } },
        valuesFrom: [{ kind: 'ConfigMap', name: 'podinfo-values', valuesKey: 'values.yaml' }],
        upgrade: { remediation: { retries: 3, strategy: 'rollback' } },
      },
    };
    const ks: Kustomization['spec'] = {
      interval: '10m',
      prune: true,
      sourceRef: { kind: 'GitRepository', name: 'flux-system' },
      dependsOn: [{ name: 'infra', readyExpr: 'status.conditions.exists(c, c.type == "Ready")' }],
    };
    const rcv: Receiver['spec'] = { type: 'github', resources: [{ kind: 'GitRepository', name: '*' }] };
    assert.equal(hr.spec.values?.replicaCount, 2);
    assert.equal(ks.dependsOn?.[0]?.name, 'infra');
    assert.equal(rcv.resources.length, 1);
    assert.ok('values' in HelmReleaseSchema.properties.spec.properties);
  });

  it('uses the annotation, finalizer and condition names Flux tools read', () => {
    assert.equal(Annotations.reconcileRequestedAt, 'reconcile.fluxcd.io/requestedAt');
    assert.equal(Annotations.reconcileForceAt, 'reconcile.fluxcd.io/forceAt');
    assert.equal(Annotations.reconcileResetAt, 'reconcile.fluxcd.io/resetAt');
    assert.equal(FINALIZER, 'finalizers.fluxcd.io');
    // Condition types and reasons are written as-is on the wire: each constant equals its name.
    for (const [name, value] of Object.entries({ ...ConditionTypes, ...Reasons })) assert.equal(value, name);
    assert.ok(Object.keys(ConditionTypes).length >= 14);
  });
});
