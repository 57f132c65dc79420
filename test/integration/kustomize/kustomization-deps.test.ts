// dependsOn, health checks and serviceAccountName impersonation of Kustomizations, with the source- and
// kustomize-controller running as processes against the test bed's Git server (kwok runs the pods).

import assert from 'node:assert/strict';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import {
  condition,
  configMap,
  type DataObject,
  deployment,
  ready,
  useKustomizeEnv,
  yaml,
} from './kustomization-support.ts';

describe('kustomize-controller: Kustomization dependsOn, health and impersonation', function () {
  this.timeout(240_000);
  const env = useKustomizeEnv('ks-deps');
  const ns = () => env.ns();
  const cmRef = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name });
  const target = () => ({ targetNamespace: ns() });

  /** Waits for Ready=False with this reason; checks that nothing of the Kustomization was applied. */
  const held = async (name: string, reason: string, objectName: string) => {
    const ks = await env.until(`${name} ${reason}`, async () => {
      const o = await env.getKs(name);
      if (ready(o)?.status === 'False' && ready(o)?.reason === reason) return o;
      throw new Error(`Ready=${ready(o)?.status} ${ready(o)?.reason}: ${ready(o)?.message}`);
    });
    assert.equal(await env.tryGet(cmRef(objectName)), undefined, `${objectName} not applied yet`);
    return ks;
  };

  it('holds a Kustomization with DependencyNotReady until its dependency is fixed and Ready', async () => {
    const repo = await env.repo('deps', {
      'a/cm.yaml': yaml(configMap('from-a', { v: 'a' })),
      'b/cm.yaml': yaml(configMap('from-b', { v: 'b' })),
    });
    await env.createKs('dep-a', repo, { path: './no-such-dir', ...target() });
    await env.createKs('dep-b', repo, { path: './b', ...target(), dependsOn: [{ name: 'dep-a' }] });
    await env.waitNotReady('dep-a', /no-such-dir/);
    const b = await held('dep-b', 'DependencyNotReady', 'from-b');
    assert.match(ready(b)?.message ?? '', new RegExp(`dependency '${ns()}/dep-a' is not ready`));

    await env.patchKs('dep-a', { path: './a' });
    await env.waitReady('dep-a');
    await env.waitReady('dep-b');
    assert.equal((await env.get<DataObject>(cmRef('from-b'))).data?.v, 'b');
  });

  it('holds a Kustomization whose dependency is suspended before its first apply', async () => {
    const repo = await env.repo('deps-suspended', {
      'a/cm.yaml': yaml(configMap('from-sa', { v: 'a' })),
      'b/cm.yaml': yaml(configMap('from-sb', { v: 'b' })),
    });
    await env.createKs('sus-a', repo, { path: './a', ...target(), suspend: true });
    await env.createKs('sus-b', repo, { path: './b', ...target(), dependsOn: [{ name: 'sus-a' }] });
    await held('sus-b', 'DependencyNotReady', 'from-sb');
    assert.equal(await env.tryGet(cmRef('from-sa')), undefined, 'a suspended Kustomization applies nothing');

    await env.patchKs('sus-a', { suspend: false });
    await env.waitReady('sus-a');
    await env.waitReady('sus-b');
    await env.get(cmRef('from-sb'));
  });

  it('holds a Kustomization until a dependency on the same source applied the new revision', async () => {
    // rev-a waits for a Deployment that can only schedule once the node gets a label: while it waits it
    // is still Ready at the old revision, and rev-b must not apply the new one yet.
    const gate = { [`tide.test/gate-${process.pid}`]: 'open' };
    const repo = await env.repo('deps-revision', {
      'a/cm.yaml': yaml(configMap('rev-a', { v: '1' })),
      'b/cm.yaml': yaml(configMap('rev-b', { v: '1' })),
    });
    await env.createKs('rev-a', repo, { path: './a', ...target(), wait: true, timeout: '2m' });
    await env.createKs('rev-b', repo, { path: './b', ...target(), dependsOn: [{ name: 'rev-a' }] });
    const first = await env.waitReady('rev-b');
    const rev = await repo.commit({
      'a/cm.yaml': yaml(configMap('rev-a', { v: '2' })),
      'a/deploy.yaml': yaml(deployment('gated', { nodeSelector: gate })),
      'b/cm.yaml': yaml(configMap('rev-b', { v: '2' })),
    });
    const b = await env.waitNotReady('rev-b', /revision is not up to date/);
    assert.equal(ready(b)?.reason, 'DependencyNotReady');
    assert.equal(b.status?.lastAppliedRevision, first.status?.lastAppliedRevision);
    assert.equal((await env.get<DataObject>(cmRef('rev-b'))).data?.v, '1');

    const nodes = await env.client().list({ group: '', version: 'v1', kind: 'Node' });
    const node = nodes.items[0]?.metadata.name ?? '';
    const nodeRef = { apiVersion: 'v1', kind: 'Node', name: node };
    await env.client().patch(nodeRef, 'merge', { metadata: { labels: gate } });
    try {
      await env.waitReady('rev-a', rev);
      await env.waitReady('rev-b', rev);
    } finally {
      const off = Object.fromEntries(Object.keys(gate).map((k) => [k, null]));
      await env.client().patch(nodeRef, 'merge', { metadata: { labels: off } });
    }
    assert.equal((await env.get<DataObject>(cmRef('rev-b'))).data?.v, '2');
  });

  it('passes wait: true once kwok makes the Deployments available', async () => {
    const repo = await env.repo('healthy', {
      'app/deploy.yaml': yaml(deployment('web', { replicas: 2 }), deployment('api')),
      'app/cm.yaml': yaml(configMap('web-config', { v: '1' })),
    });
    await env.createKs('healthy', repo, { path: './app', ...target(), wait: true, timeout: '2m' });
    const ks = await env.waitReady('healthy');
    assert.equal(condition(ks, ConditionTypes.Healthy)?.status, 'True');
    for (const [name, replicas] of [
      ['web', 2],
      ['api', 1],
    ] as const) {
      const d = await env.get<KubeObject & { status?: { availableReplicas?: number } }>({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: ns(),
        name,
      });
      assert.equal(d.status?.availableReplicas, replicas, `Deployment ${name} available`);
    }
  });

  it('checks only the listed healthChecks, taking a missing apiVersion from the applied object', async () => {
    const nowhere = { 'tide.test/no-such-node': 'true' };
    const repo = await env.repo('checks', {
      'app/deploy.yaml': yaml(deployment('listed'), deployment('unlisted-stuck', { nodeSelector: nowhere })),
    });
    await env.createKs('checks', repo, {
      path: './app',
      ...target(),
      timeout: '1m',
      healthChecks: [{ kind: 'Deployment', name: 'listed', namespace: ns() }],
    });
    const ks = await env.waitReady('checks');
    assert.equal(condition(ks, ConditionTypes.Healthy)?.status, 'True');
  });

  it('fails the health check within the timeout, naming a Deployment that can never be ready', async () => {
    const nowhere = { 'tide.test/no-such-node': 'true' };
    const repo = await env.repo('unhealthy', {
      'app/deploy.yaml': yaml(deployment('stuck', { nodeSelector: nowhere }), deployment('fine')),
    });
    await env.createKs('unhealthy', repo, { path: './app', ...target(), wait: true, timeout: '10s' });
    const ks = await env.waitNotReady('unhealthy', /stuck/);
    assert.equal(ready(ks)?.reason, 'HealthCheckFailed');
    assert.match(ready(ks)?.message ?? '', new RegExp(`Deployment/${ns()}/stuck`));
    assert.doesNotMatch(ready(ks)?.message ?? '', /Deployment\/[^/]+\/fine/);
    assert.equal(condition(ks, ConditionTypes.Healthy)?.status, 'False');
    // The objects were applied; only their health failed.
    assert.ok(ks.status?.inventory?.entries.some((e) => e.id === `${ns()}_stuck_apps_Deployment`));
  });

  it('is denied without RBAC for its serviceAccountName, and applies once a RoleBinding grants it', async () => {
    const c = env.client();
    await c.create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'deployer', namespace: ns() },
    });
    const repo = await env.repo('rbac', { 'app/cm.yaml': yaml(configMap('impersonated', { v: '1' })) });
    await env.createKs('rbac', repo, {
      path: './app',
      ...target(),
      serviceAccountName: 'deployer',
      retryInterval: '2s',
    });
    const denied = await env.waitNotReady('rbac', /forbidden|denied/i);
    assert.match(ready(denied)?.message ?? '', /system:serviceaccount:[^:]+:deployer/);
    assert.equal(await env.tryGet(cmRef('impersonated')), undefined);

    await c.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'deployer', namespace: ns() },
      rules: [
        {
          apiGroups: [''],
          resources: ['configmaps'],
          verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
        },
      ],
    });
    await c.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'deployer', namespace: ns() },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns() }],
    });
    await env.waitReady('rbac');
    const o = await env.get<DataObject>(cmRef('impersonated'));
    assert.equal(o.data?.v, '1');
    const manager = (o.metadata.managedFields as { manager?: string }[] | undefined)?.map((m) => m.manager);
    assert.ok(manager?.includes('kustomize-controller'), `managers: ${manager}`);
  });
  it('is deleted without pruning when its ServiceAccount is gone, with a Warning listing what it left', async () => {
    const c = env.client();
    await c.create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'leaver', namespace: ns() },
    });
    await c.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'leaver', namespace: ns() },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'ServiceAccount', name: 'leaver', namespace: ns() }],
    });
    const repo = await env.repo('sa-gone', { 'app/cm.yaml': yaml(configMap('left-behind', { v: '1' })) });
    await env.createKs('sa-gone', repo, { path: './app', ...target(), serviceAccountName: 'leaver' });
    await env.waitReady('sa-gone');
    await c.delete({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: ns(), name: 'leaver' });

    const ksRef = {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      namespace: ns(),
      name: 'sa-gone',
    };
    await c.delete(ksRef);
    await env.until('Kustomization sa-gone deleted', async () =>
      (await env.tryGet(ksRef)) ? undefined : true,
    );
    assert.equal((await env.get<DataObject>(cmRef('left-behind'))).data?.v, '1', 'nothing pruned');
    const warning = await env.until('PruneFailed event of sa-gone', async () => {
      const events = await c.list(
        { group: '', version: 'v1', kind: 'Event' },
        { namespace: ns(), fieldSelector: 'involvedObject.kind=Kustomization,involvedObject.name=sa-gone' },
      );
      return events.items.find((e) => (e as KubeObject & { reason?: string }).reason === 'PruneFailed') as
        | (KubeObject & { message?: string })
        | undefined;
    });
    assert.match(
      warning.message ?? '',
      new RegExp(`ServiceAccount 'leaver' not found: ConfigMap/${ns()}/left-behind`),
    );
  });
});
