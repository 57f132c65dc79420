// The inventory tree's ownership rules.
import assert from 'node:assert/strict';
import { childKindOf, ownedBy, selectorOf } from '../../../controllers/ui/model/tree.ts';

const rs = (name: string, owner: string, replicas: number, created: string) => ({
  kind: 'ReplicaSet',
  metadata: {
    name,
    uid: `uid-${name}`,
    creationTimestamp: created,
    ownerReferences: [{ uid: owner, controller: true }],
  },
  spec: { replicas },
  status: { replicas },
});

describe('ui/model/tree', () => {
  it('knows what each workload kind creates', () => {
    assert.deepEqual(childKindOf('apps', 'Deployment'), { apiVersion: 'apps/v1', kind: 'ReplicaSet' });
    assert.deepEqual(childKindOf('batch', 'CronJob'), { apiVersion: 'batch/v1', kind: 'Job' });
    assert.equal(childKindOf('apps', 'StatefulSet')?.kind, 'Pod');
    assert.equal(childKindOf('', 'ConfigMap'), undefined);
  });

  it("keeps a Deployment's running ReplicaSets, newest first, and drops scaled-down history", () => {
    const dep = { kind: 'Deployment', metadata: { uid: 'd1' } };
    const items = [
      rs('old', 'd1', 0, '2025-01-01T00:00:00Z'),
      rs('mid', 'd1', 1, '2025-01-02T00:00:00Z'),
      rs('new', 'd1', 2, '2025-01-03T00:00:00Z'),
      rs('other', 'd2', 3, '2025-01-03T00:00:00Z'),
    ];
    assert.deepEqual(
      ownedBy(dep, items).map((i) => i.metadata.name),
      ['new', 'mid'],
    );
    const idle = [rs('a', 'd1', 0, '2025-01-01T00:00:00Z'), rs('b', 'd1', 0, '2025-01-02T00:00:00Z')];
    assert.deepEqual(
      ownedBy(dep, idle).map((i) => i.metadata.name),
      ['b'],
    );
  });

  it('keeps every owned object of other parents, and none without a uid', () => {
    const set = { kind: 'ReplicaSet', metadata: { uid: 'r1' } };
    const pods = [rs('p1', 'r1', 0, '1'), rs('p2', 'r1', 0, '2'), rs('p3', 'x', 0, '3')];
    assert.deepEqual(
      ownedBy(set, pods).map((p) => p.metadata.name),
      ['p2', 'p1'],
    );
    assert.deepEqual(ownedBy({ kind: 'ReplicaSet', metadata: {} }, pods), []);
  });

  it('narrows child lists with the selector labels', () => {
    assert.equal(
      selectorOf({ metadata: {}, spec: { selector: { matchLabels: { app: 'web', tier: 'fe' } } } }),
      'app=web,tier=fe',
    );
    assert.equal(selectorOf({ metadata: {}, spec: {} }), undefined);
  });
});
