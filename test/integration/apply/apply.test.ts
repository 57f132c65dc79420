// The staged server-side apply engine against a real API server: CRDs and their resources in one call,
// no writes for an unchanged set, per-object ssa/force annotations, immutable fields, drift correction
// and RBAC denials through impersonation.

import assert from 'node:assert/strict';
import { Annotations } from '../../../controllers/api/names.ts';
import { applyAll } from '../../../controllers/runtime/apply/apply.ts';
import { ApplyError, type ChangeSet } from '../../../controllers/runtime/apply/changeset.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import {
  configMap,
  deployment,
  engineClient,
  fieldManager,
  gizmoCrd,
  job,
  otherClient,
  ownerLabels,
  refOf,
} from './fixtures.ts';

const actions = (cs: ChangeSet) => Object.fromEntries(cs.map((e) => [e.subject, e.action]));

async function applyError(p: Promise<unknown>): Promise<ApplyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApplyError, `expected an ApplyError, got ${String(err)}`);
  return err;
}

describe('apply/applyAll', () => {
  const ns = useNamespace('apply');
  const { crd, group, gizmo } = gizmoCrd();
  const extraNs = () => `${ns()}-extra`;

  after(async () => {
    const c = engineClient();
    await c.delete(refOf(crd)).catch(() => {});
    await c.delete({ apiVersion: 'v1', kind: 'Namespace', name: extraNs() }).catch(() => {});
  });

  // The set of the first tests: a CRD, a Namespace, custom resources of the CRD (one in the new
  // Namespace), a ConfigMap in the new Namespace and a Deployment.
  const set = (): KubeObject[] => [
    deployment(ns(), 'web'),
    gizmo(ns(), 'g1', 1),
    gizmo(extraNs(), 'g2', 2),
    configMap(extraNs(), 'settings', { a: '1' }),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: extraNs() } },
    crd,
  ];

  it('applies a CRD and custom resources of it in one call, in stages, with the owner labels', async () => {
    const c = engineClient();
    const cs = await applyAll(c, set(), { fieldManager, labels: ownerLabels });
    assert.deepEqual(
      cs.map((e) => [e.subject, e.action]),
      [
        [`CustomResourceDefinition/gizmos.${group}`, 'created'],
        [`Namespace/${extraNs()}`, 'created'],
        [`ConfigMap/${extraNs()}/settings`, 'created'],
        [`Deployment/${ns()}/web`, 'created'],
        [`Gizmo/${ns()}/g1`, 'created'],
        [`Gizmo/${extraNs()}/g2`, 'created'],
      ],
    );
    assert.equal(cs.find((e) => e.subject.startsWith('Gizmo/'))?.id, `${ns()}_g1_${group}_Gizmo`);
    for (const o of set()) {
      const live = await c.get(refOf(o));
      assert.deepEqual(
        Object.fromEntries(Object.keys(ownerLabels).map((k) => [k, live.metadata.labels?.[k]])),
        ownerLabels,
        `labels of ${o.kind}/${o.metadata.name}`,
      );
    }
    assert.equal((await c.get(refOf(gizmo(ns(), 'g1', 0)))).spec.size, 1);
  });

  it('reports every object unchanged on a second apply, and writes nothing', async () => {
    const c = engineClient();
    const writes: string[] = [];
    const counting: Client = {
      ...c,
      apply: (obj, o) => {
        if (!o?.dryRun) writes.push(`apply ${obj.kind}/${obj.metadata.name}`);
        return c.apply(obj, o);
      },
      patch: (ref, type, body, o) => {
        if (!o?.dryRun) writes.push(`patch ${ref.kind}/${ref.name}`);
        return c.patch(ref, type, body, o);
      },
    };
    const ours = (o: KubeObject) =>
      (o.metadata.managedFields as { manager: string; operation: string }[]).filter(
        (m) => m.manager === fieldManager,
      );
    const before = await Promise.all(set().map((o) => c.get(refOf(o))));
    const cs = await applyAll(counting, set(), { fieldManager, labels: ownerLabels });
    assert.deepEqual(new Set(cs.map((e) => e.action)), new Set(['unchanged']));
    assert.equal(cs.length, set().length);
    assert.deepEqual(writes, []);
    const after = await Promise.all(set().map((o) => c.get(refOf(o))));
    for (const [i, a] of after.entries()) {
      const b = before[i] as KubeObject;
      assert.deepEqual(ours(a), ours(b), `${a.kind} ${a.metadata.name}`);
      // The deployment controller writes its status; nothing else touches the others.
      if (a.kind !== 'Deployment') assert.equal(a.metadata.resourceVersion, b.metadata.resourceVersion);
    }
  });

  it('configures what changed and leaves the rest untouched; a dry run writes nothing', async () => {
    const c = engineClient();
    const changed = set().map((o) =>
      o.kind === 'Gizmo' && o.metadata.name === 'g1' ? gizmo(ns(), 'g1', 5) : o,
    );
    const rvBefore = (await c.get(refOf(gizmo(ns(), 'g1', 0)))).metadata.resourceVersion;

    const planned = await applyAll(c, changed, { fieldManager, labels: ownerLabels, dryRun: true });
    assert.equal(actions(planned)[`Gizmo/${ns()}/g1`], 'configured');
    assert.equal((await c.get(refOf(gizmo(ns(), 'g1', 0)))).metadata.resourceVersion, rvBefore);

    const cs = await applyAll(c, changed, { fieldManager, labels: ownerLabels });
    const got = actions(cs);
    assert.equal(got[`Gizmo/${ns()}/g1`], 'configured');
    assert.deepEqual(
      Object.entries(got).filter(([, a]) => a !== 'unchanged'),
      [[`Gizmo/${ns()}/g1`, 'configured']],
    );
    assert.equal((await c.get(refOf(gizmo(ns(), 'g1', 0)))).spec.size, 5);
  });

  it('creates but never updates an object annotated ssa: IfNotPresent, and skips ssa: Ignore', async () => {
    const c = engineClient();
    const ifNotPresent = { [Annotations.ssa]: 'IfNotPresent' };
    const first = await applyAll(
      c,
      [
        configMap(ns(), 'seed', { v: 'from-git' }, ifNotPresent),
        configMap(ns(), 'ignored', { v: 'x' }, { [Annotations.ssa]: 'ignore' }),
      ],
      { fieldManager },
    );
    assert.deepEqual(actions(first), {
      [`ConfigMap/${ns()}/seed`]: 'created',
      [`ConfigMap/${ns()}/ignored`]: 'skipped',
    });
    assert.equal(await c.tryGet(refOf(configMap(ns(), 'ignored', {}))), undefined);

    await otherClient().patch(refOf(configMap(ns(), 'seed', {})), 'merge', { data: { v: 'edited' } });
    const second = await applyAll(c, [configMap(ns(), 'seed', { v: 'from-git-2' }, ifNotPresent)], {
      fieldManager,
    });
    assert.deepEqual(actions(second), { [`ConfigMap/${ns()}/seed`]: 'skipped' });
    const seed = await c.get(refOf(configMap(ns(), 'seed', {})));
    assert.deepEqual(seed.data, { v: 'edited' });
  });

  it('refuses an immutable change without force, naming the object, and recreates it with force', async () => {
    const c = engineClient();
    await applyAll(c, [job(ns(), 'migrate', 'registry.example/migrate:1')], { fieldManager });
    const uid = (await c.get(refOf(job(ns(), 'migrate', '')))).metadata.uid;

    const v2 = job(ns(), 'migrate', 'registry.example/migrate:2');
    const err = await applyError(applyAll(c, [v2], { fieldManager }));
    assert.equal(err.errors.length, 1);
    assert.match(err.message, new RegExp(`^Job/${ns()}/migrate dry-run failed \\(Invalid\\): `));
    assert.match(err.message, /field is immutable/);
    assert.match(err.message, /spec\.force: true .* would recreate the object/);
    assert.ok(err.message.length < 500, `the old pod template is elided: ${err.message}`);
    assert.equal((await c.get(refOf(v2))).metadata.uid, uid, 'not recreated without force');

    const cs = await applyAll(c, [v2], { fieldManager, force: true });
    assert.deepEqual(actions(cs), { [`Job/${ns()}/migrate`]: 'created' });
    const now = await c.get(refOf(v2));
    assert.notEqual(now.metadata.uid, uid);
    assert.equal(now.spec.template.spec.containers[0].image, 'registry.example/migrate:2');
  });

  it('recreates an object annotated force: Enabled even without spec.force', async () => {
    const c = engineClient();
    const annotated = (o: KubeObject) => ({
      ...o,
      metadata: { ...o.metadata, annotations: { [Annotations.force]: 'Enabled' } },
    });
    await applyAll(c, [annotated(deployment(ns(), 'selector', { app: 'one' }))], { fieldManager });
    const uid = (await c.get(refOf(deployment(ns(), 'selector')))).metadata.uid;
    const cs = await applyAll(c, [annotated(deployment(ns(), 'selector', { app: 'two' }))], { fieldManager });
    assert.deepEqual(actions(cs), { [`Deployment/${ns()}/selector`]: 'created' });
    const now = await c.get(refOf(deployment(ns(), 'selector')));
    assert.notEqual(now.metadata.uid, uid);
    assert.deepEqual(now.spec.selector.matchLabels, { app: 'two' });
  });

  it('reverts a managed field changed by another manager, and drops kubectl edits (not with ssa: Merge)', async () => {
    const c = engineClient();
    const desired = deployment(ns(), 'drift', { replicas: 1 });
    const merged = {
      ...deployment(ns(), 'drift-merge', { replicas: 1 }),
      metadata: {
        name: 'drift-merge',
        namespace: ns(),
        annotations: { [Annotations.ssa]: 'Merge' },
      },
    };
    await applyAll(c, [desired, merged], { fieldManager });

    // Another tool scales it and labels it; kubectl edit changes replicas and adds a label on both.
    await otherClient('other-tool').patch(refOf(desired), 'merge', {
      metadata: { labels: { tool: 'yes' } },
      spec: { replicas: 3 },
    });
    for (const o of [desired, merged])
      await otherClient('kubectl-edit').patch(refOf(o), 'merge', {
        metadata: { labels: { edited: 'yes' } },
        spec: { replicas: 2 },
      });

    const cs = await applyAll(c, [desired, merged], { fieldManager });
    assert.deepEqual(actions(cs), {
      [`Deployment/${ns()}/drift`]: 'configured',
      [`Deployment/${ns()}/drift-merge`]: 'configured',
    });
    const live = await c.get(refOf(desired));
    assert.equal(live.spec.replicas, 1, 'replicas reverted');
    assert.equal(live.metadata.labels?.edited, undefined, 'kubectl edit removed');
    assert.equal(live.metadata.labels?.tool, 'yes', "another manager's own field kept");
    const managers = (live.metadata.managedFields as { manager: string }[]).map((m) => m.manager);
    assert.ok(!managers.includes('kubectl-edit'), managers.join(','));

    const liveMerged = await c.get(refOf(merged));
    assert.equal(liveMerged.spec.replicas, 1);
    assert.equal(liveMerged.metadata.labels?.edited, 'yes', 'ssa: Merge keeps kubectl edits');

    // The next run finds nothing to do.
    assert.deepEqual(
      new Set((await applyAll(c, [desired, merged], { fieldManager })).map((e) => e.action)),
      new Set(['unchanged']),
    );
  });

  it('aggregates the errors of every failing object and applies nothing of the failing stage', async () => {
    const c = engineClient();
    const bad = { ...configMap(ns(), 'bad', {}), data: { k: 5 } } as unknown as KubeObject;
    const err = await applyError(
      applyAll(
        c,
        [
          configMap(ns(), 'good', { k: 'v' }),
          bad,
          { apiVersion: 'nope.tide.dev/v1', kind: 'Thing', metadata: { name: 't', namespace: ns() } },
          { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'no-namespace' } },
        ],
        { fieldManager },
      ),
    );
    assert.equal(err.errors.length, 3, err.message);
    assert.match(err.message, new RegExp(`ConfigMap/${ns()}/bad dry-run failed`));
    assert.match(err.message, new RegExp(`Thing/${ns()}/t: no matches for kind "Thing"`));
    assert.match(err.message, /Secret\/no-namespace namespace not specified/);
    assert.equal(await c.tryGet(refOf(configMap(ns(), 'good', {}))), undefined);
  });

  it('reports an apply denied by RBAC with the API message, through impersonation', async () => {
    const admin = engineClient();
    const sa = 'deployer';
    await admin.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns() } });
    const user = `system:serviceaccount:${ns()}:${sa}`;
    const asSa = createClient(testbed().kubeconfig, { fieldManager, impersonate: { user } });

    const err = await applyError(applyAll(asSa, [configMap(ns(), 'rbac', { k: 'v' })], { fieldManager }));
    assert.match(
      err.message,
      new RegExp(`^ConfigMap/${ns()}/rbac get failed \\(Forbidden\\): access denied: `),
    );
    assert.match(err.message, new RegExp(`User "${user}" cannot get resource "configmaps"`));

    // With the rights, the same client applies: the denial came from the impersonated user.
    await admin.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'cm-writer', namespace: ns() },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'patch', 'create'] }],
    });
    await admin.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'cm-writer', namespace: ns() },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-writer' },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns() }],
    });
    let cs: ChangeSet | undefined;
    for (let i = 0; i < 20 && !cs; i++) {
      cs = await applyAll(asSa, [configMap(ns(), 'rbac', { k: 'v' })], { fieldManager }).catch(async () => {
        await new Promise((r) => setTimeout(r, 500));
        return undefined;
      });
    }
    assert.deepEqual(cs && actions(cs), { [`ConfigMap/${ns()}/rbac`]: 'created' });
  });
});

describe('apply/applyAll with a live selector and an apply memory', () => {
  const ns = useNamespace('apply-mem');
  const selector = Object.entries(ownerLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const set = (second = 'two') => [
    configMap(ns(), 'cm-1', { k: 'one' }),
    configMap(ns(), 'cm-2', { k: second }),
    configMap(ns(), 'cm-3', { k: 'three' }),
  ];

  /** The engine's client, counting its reads and writes by kind of call. */
  function counted() {
    const c = engineClient();
    const calls = { get: 0, list: 0, dryRun: 0, apply: 0 };
    const client: Client = {
      ...c,
      tryGet: (ref) => {
        calls.get++;
        return c.tryGet(ref);
      },
      listAll: (gvk, o) => {
        calls.list++;
        return c.listAll(gvk, o);
      },
      apply: (obj, o) => {
        if (o?.dryRun) calls.dryRun++;
        else calls.apply++;
        return c.apply(obj, o);
      },
    };
    return { client, calls };
  }

  it('reads the live objects with one list, and dry-runs only what changed since the last apply', async () => {
    const memory = new Map();
    const opts = { fieldManager, labels: ownerLabels, liveSelector: selector, memory };

    const first = counted();
    let cs = await applyAll(first.client, set(), opts);
    assert.deepEqual(new Set(cs.map((e) => e.action)), new Set(['created']));
    // New objects are not in the list yet: their dry-run says they do not exist (no read), then they are applied.
    assert.deepEqual(first.calls, { get: 0, list: 1, dryRun: 3, apply: 3 });

    const again = counted();
    cs = await applyAll(again.client, set(), opts);
    assert.deepEqual(new Set(cs.map((e) => e.action)), new Set(['unchanged']));
    assert.deepEqual(again.calls, { get: 0, list: 1, dryRun: 0, apply: 0 }, 'nothing changed: one list');

    // Someone edits cm-1 by hand; Git changes cm-2.
    await otherClient('kubectl-edit').patch(refOf(set()[0] as KubeObject), 'merge', {
      data: { k: 'edited' },
    });
    const third = counted();
    cs = await applyAll(third.client, set('two-v2'), opts);
    assert.deepEqual(actions(cs), {
      [`ConfigMap/${ns()}/cm-1`]: 'configured',
      [`ConfigMap/${ns()}/cm-2`]: 'configured',
      [`ConfigMap/${ns()}/cm-3`]: 'unchanged',
    });
    assert.deepEqual(third.calls, { get: 0, list: 1, dryRun: 2, apply: 2 });
    const live = await engineClient().get(refOf(set()[0] as KubeObject));
    assert.equal((live.data as Record<string, string>).k, 'one', 'the hand edit was reverted');

    // Without the memory (a restarted controller) every object is dry-run again, and nothing is written.
    const fresh = counted();
    cs = await applyAll(fresh.client, set('two-v2'), { ...opts, memory: new Map() });
    assert.deepEqual(new Set(cs.map((e) => e.action)), new Set(['unchanged']));
    assert.deepEqual(fresh.calls, { get: 0, list: 1, dryRun: 3, apply: 0 });
  });
});
