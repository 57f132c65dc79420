// Flux inventory ids (cli-utils ObjMetadata strings), inventory building and the stale-object diff.
import assert from 'node:assert/strict';
import {
  diffInventory,
  formatId,
  formatSubject,
  idOf,
  parseId,
  refOfEntry,
  toInventory,
} from '../../../controllers/runtime/apply/inventory.ts';

const deploy = (ns: string, name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
});

describe('apply/inventory', () => {
  it('formats ids as <namespace>_<name>_<group>_<kind>, empty parts for cluster scope and the core group', () => {
    assert.equal(idOf(deploy('apps', 'web')), 'apps_web_apps_Deployment');
    assert.equal(
      idOf({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } }),
      '_apps__Namespace',
    );
    assert.equal(
      idOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'a' } }),
      'a_cfg__ConfigMap',
    );
    assert.equal(
      idOf({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'x.y.z' },
      }),
      '_x.y.z_apiextensions.k8s.io_CustomResourceDefinition',
    );
  });

  it('writes the colons of RBAC names as "__" and reads them back', () => {
    const id = idOf({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:aggregate-to-view' },
    });
    assert.equal(id, '_system__aggregate-to-view_rbac.authorization.k8s.io_ClusterRole');
    assert.deepEqual(parseId(id), {
      namespace: '',
      name: 'system:aggregate-to-view',
      group: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
    });
  });

  it('parses every id it formats, and rejects malformed ids', () => {
    for (const m of [
      { namespace: 'ns', name: 'web', group: 'apps', kind: 'Deployment' },
      { namespace: '', name: 'ns', group: '', kind: 'Namespace' },
      { namespace: 'a', name: 'b.c', group: 'x.io', kind: 'Thing' },
    ])
      assert.deepEqual(parseId(formatId(m)), m);
    for (const bad of ['', 'nounderscore', 'a_b', '__', 'ns__apps_Deployment'])
      assert.throws(() => parseId(bad), /invalid inventory id/, bad);
  });

  it('turns entries back into references and subjects', () => {
    assert.deepEqual(refOfEntry({ id: 'apps_web_apps_Deployment', v: 'v1' }), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'web',
      namespace: 'apps',
    });
    assert.deepEqual(refOfEntry({ id: '_apps__Namespace', v: 'v1' }), {
      apiVersion: 'v1',
      kind: 'Namespace',
      name: 'apps',
      namespace: undefined,
    });
    assert.equal(formatSubject(parseId('apps_web_apps_Deployment')), 'Deployment/apps/web');
    assert.equal(formatSubject(parseId('_apps__Namespace')), 'Namespace/apps');
  });

  it('builds a sorted inventory without duplicates from objects or ChangeSet entries', () => {
    const inv = toInventory([
      deploy('b', 'web'),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } },
      deploy('a', 'web'),
      deploy('b', 'web'),
      { id: 'a_x_test.tide.dev_Widget', v: 'v1beta1', subject: 'Widget/a/x', action: 'created' as const },
    ]);
    assert.deepEqual(inv, [
      { id: '_b__Namespace', v: 'v1' },
      { id: 'a_web_apps_Deployment', v: 'v1' },
      { id: 'a_x_test.tide.dev_Widget', v: 'v1beta1' },
      { id: 'b_web_apps_Deployment', v: 'v1' },
    ]);
  });

  it('diffs by id regardless of version and returns stale entries in reverse apply order', () => {
    const previous = [
      { id: '_apps__Namespace', v: 'v1' },
      { id: '_widgets.test.tide.dev_apiextensions.k8s.io_CustomResourceDefinition', v: 'v1' },
      { id: 'apps_cfg__ConfigMap', v: 'v1' },
      { id: 'apps_w_test.tide.dev_Widget', v: 'v1' },
      { id: 'apps_web_apps_Deployment', v: 'v1' },
      { id: 'apps_hpa_autoscaling_HorizontalPodAutoscaler', v: 'v2beta2' },
    ];
    const next = [
      { id: 'apps_web_apps_Deployment', v: 'v1' },
      { id: 'apps_hpa_autoscaling_HorizontalPodAutoscaler', v: 'v2' },
    ];
    assert.deepEqual(diffInventory(previous, next), [
      { id: 'apps_w_test.tide.dev_Widget', v: 'v1' },
      { id: 'apps_cfg__ConfigMap', v: 'v1' },
      { id: '_apps__Namespace', v: 'v1' },
      { id: '_widgets.test.tide.dev_apiextensions.k8s.io_CustomResourceDefinition', v: 'v1' },
    ]);
    assert.deepEqual(diffInventory(undefined, next), []);
    assert.deepEqual(diffInventory(next, undefined), [
      { id: 'apps_hpa_autoscaling_HorizontalPodAutoscaler', v: 'v2' },
      { id: 'apps_web_apps_Deployment', v: 'v1' },
    ]);
  });
});
