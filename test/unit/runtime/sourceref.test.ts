// Resolving a sourceRef from the cache: the waits and refusals a consumer reports before fetching.

import assert from 'node:assert/strict';
import { GitRepositoryKind, OCIRepositoryKind } from '../../../controllers/api/kinds.ts';

import type { ReconcileError } from '../../../controllers/runtime/errors.ts';
import type { GVK, KubeObject } from '../../../controllers/runtime/object.ts';
import { resolveSource, sourceIndex } from '../../../controllers/runtime/sourceref.ts';

const artifact = {
  revision: 'main@sha1:abc',
  digest: 'sha256:1',
  url: 'http://x/a.tar.gz',
  path: 'a',
  lastUpdateTime: '',
};
const git = (name: string, ns: string, withArtifact = true): KubeObject => ({
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'GitRepository',
  metadata: { name, namespace: ns },
  status: withArtifact ? { artifact } : {},
});
const consumer: KubeObject = {
  apiVersion: 'x/v1',
  kind: 'Consumer',
  metadata: { name: 'c', namespace: 'apps' },
};
const cacheOf = (objs: KubeObject[]) => ({
  cached: (kind: GVK, key: string) =>
    objs.find((o) => o.kind === kind.kind && `${o.metadata.namespace}/${o.metadata.name}` === key),
});
const opts = {
  kinds: { GitRepository: GitRepositoryKind, OCIRepository: OCIRepositoryKind },
  retryMs: 60_000,
  artifactRetryMs: 30_000,
};
const fails = (fn: () => unknown, kind: string, reason: string, message: RegExp, requeue?: number) =>
  assert.throws(fn, (err: ReconcileError & { requeueAfterMs?: number }) => {
    assert.equal(err.kind, kind);
    assert.equal(err.reason, reason);
    assert.match(err.message, message);
    if (requeue !== undefined) assert.equal(err.requeueAfterMs, requeue);
    return true;
  });

describe('runtime/sourceref', () => {
  it("returns the artifact of the source in the consumer's namespace or the one named", () => {
    const ctx = cacheOf([git('app', 'apps'), git('shared', 'infra')]);
    assert.equal(
      resolveSource(consumer, { kind: 'GitRepository', name: 'app' }, ctx, opts).artifact,
      artifact,
    );
    const ref = { kind: 'GitRepository', name: 'shared', namespace: 'infra' };
    assert.equal(resolveSource(consumer, ref, ctx, opts).source.metadata.name, 'shared');
  });

  it('waits with ArtifactFailed while the source (retry interval) or its artifact (30s) is missing', () => {
    const ctx = cacheOf([git('empty', 'apps', false)]);
    const ref = (name: string) => ({ kind: 'GitRepository', name });
    fails(
      () => resolveSource(consumer, ref('ghost'), ctx, opts),
      'waiting',
      'ArtifactFailed',
      /^Source 'GitRepository\/apps\/ghost' not found$/,
      60_000,
    );
    fails(
      () => resolveSource(consumer, ref('empty'), ctx, opts),
      'waiting',
      'ArtifactFailed',
      /artifact not found, retrying in 30s/,
      30_000,
    );
  });

  it('stalls on a blocked cross-namespace reference, an unknown kind or a foreign API group', () => {
    const ctx = cacheOf([git('shared', 'infra')]);
    const blocked = { ...opts, noCrossNamespaceRefs: true };
    fails(
      () =>
        resolveSource(consumer, { kind: 'GitRepository', name: 'shared', namespace: 'infra' }, ctx, blocked),
      'stalling',
      'AccessDenied',
      /can't access 'GitRepository\/infra\/shared', cross-namespace references have been blocked/,
    );
    assert.equal(
      resolveSource(consumer, { kind: 'GitRepository', name: 'shared', namespace: 'infra' }, ctx, opts)
        .artifact,
      artifact,
    );
    fails(
      () => resolveSource(consumer, { kind: 'Bucket', name: 'b' }, ctx, opts),
      'stalling',
      'ArtifactFailed',
      /unsupported source kind 'Bucket'/,
    );
    const foreign = { apiVersion: 'other.io/v1', kind: 'GitRepository', name: 'shared', namespace: 'infra' };
    fails(
      () => resolveSource(consumer, foreign, ctx, opts),
      'stalling',
      'ArtifactFailed',
      /does not match kind GitRepository/,
    );
  });

  it('files a consumer under Kind/namespace/name of its source', () => {
    const index = sourceIndex((o) => o.spec?.sourceRef as never);
    assert.deepEqual(index({ ...consumer, spec: { sourceRef: { kind: 'OCIRepository', name: 'o' } } }), [
      'OCIRepository/apps/o',
    ]);
    assert.deepEqual(index({ ...consumer, spec: {} }), []);
  });
});
