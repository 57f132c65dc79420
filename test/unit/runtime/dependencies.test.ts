// dependsOn: the built-in readiness rule, the caller's revision rule, and readyExpr.

import assert from 'node:assert/strict';
import { KustomizationKind } from '../../../controllers/api/kinds.ts';

import {
  checkDependencies,
  dependsOnIndex,
  validateReadyExprs,
} from '../../../controllers/runtime/dependencies.ts';
import type { ReconcileError } from '../../../controllers/runtime/errors.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';

const ks = (
  name: string,
  opts: {
    ready?: string;
    generation?: number;
    observed?: number;
    labels?: Record<string, string>;
    applied?: string;
  } = {},
): KubeObject => ({
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  metadata: { name, namespace: 'apps', generation: opts.generation ?? 1, labels: opts.labels },
  status: {
    observedGeneration: opts.observed ?? 1,
    lastAppliedRevision: opts.applied,
    conditions: opts.ready ? [{ type: 'Ready', status: opts.ready }] : [],
  },
});
const dependent = (dependsOn: unknown[], labels?: Record<string, string>): KubeObject => ({
  ...ks('app', { labels }),
  spec: { dependsOn },
});
const cacheOf = (objs: KubeObject[]) => ({
  cached: (_k: unknown, key: string) =>
    objs.find((o) => `${o.metadata.namespace}/${o.metadata.name}` === key),
});
const opts = { kind: KustomizationKind, requeueMs: 2000 };
const waits = (fn: () => unknown, message: string) =>
  assert.throws(fn, (err: ReconcileError & { requeueAfterMs: number }) => {
    assert.equal(err.kind, 'waiting');
    assert.equal(err.reason, 'DependencyNotReady');
    assert.equal(err.requeueAfterMs, 2000);
    assert.equal(err.message, message);
    return true;
  });

describe('runtime/dependencies', () => {
  it('waits until the dependency exists and is Ready at its generation, then applies the revision rule', () => {
    const obj = dependent([{ name: 'db' }]);
    waits(() => checkDependencies(obj, cacheOf([]), opts), "dependency 'apps/db' not found");
    waits(
      () => checkDependencies(obj, cacheOf([ks('db', { ready: 'False' })]), opts),
      "dependency 'apps/db' is not ready",
    );
    const stale = ks('db', { ready: 'True', generation: 2, observed: 1 });
    waits(() => checkDependencies(obj, cacheOf([stale]), opts), "dependency 'apps/db' is not ready");
    const ready = ks('db', { ready: 'True', applied: 'main@sha1:old' });
    checkDependencies(obj, cacheOf([ready]), opts);
    const revisionRule = (d: KubeObject) =>
      d.status?.lastAppliedRevision === 'main@sha1:new' ? undefined : 'revision is not up to date';
    waits(
      () => checkDependencies(obj, cacheOf([ready]), { ...opts, revisionRule }),
      "dependency 'apps/db' revision is not up to date",
    );
  });

  it('lets readyExpr replace the built-in check, or add to it with additiveCel', () => {
    const obj = dependent(
      [{ name: 'db', readyExpr: "dep.metadata.labels['v'] == self.metadata.labels['v']" }],
      { v: '2' },
    );
    const notReadyButLabelled = ks('db', { ready: 'False', labels: { v: '2' } });
    checkDependencies(obj, cacheOf([notReadyButLabelled]), opts);
    waits(
      () => checkDependencies(obj, cacheOf([notReadyButLabelled]), { ...opts, additiveCel: true }),
      "dependency 'apps/db' is not ready",
    );
    waits(
      () => checkDependencies(obj, cacheOf([ks('db', { ready: 'True', labels: { v: '1' } })]), opts),
      "dependency 'apps/db' is not ready according to readyExpr eval",
    );
    waits(
      () => checkDependencies(obj, cacheOf([ks('db', { ready: 'True' })]), opts),
      "dependency 'apps/db' is not ready: failed to evaluate the CEL expression " +
        "'dep.metadata.labels['v'] == self.metadata.labels['v']': No such key: labels",
    );
  });

  it('stalls with InvalidCELExpression on a readyExpr that does not compile', () => {
    const obj = dependent([{ name: 'db', readyExpr: 'dep.status.' }]);
    assert.throws(
      () => validateReadyExprs(obj),
      (err: ReconcileError) => {
        assert.equal(err.kind, 'stalling');
        assert.equal(err.reason, 'InvalidCELExpression');
        assert.match(
          err.message,
          /^Reconciliation failed terminally due to configuration error: failed to evaluate dependency apps\/db: failed to parse/,
        );
        return true;
      },
    );
    validateReadyExprs(dependent([{ name: 'db', readyExpr: 'dep.metadata.name == "db"' }]));
  });

  it('files an object under namespace/name of each dependency', () => {
    assert.deepEqual(dependsOnIndex(dependent([{ name: 'db' }, { name: 'crds', namespace: 'infra' }])), [
      'apps/db',
      'infra/crds',
    ]);
  });
});
