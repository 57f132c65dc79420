// The runtime's Kubernetes client against a real API server: discovery, errors, pagination, server-side
// apply ownership, status-only writes and finalizer helpers that keep other writers' finalizers.

import assert from 'node:assert/strict';
import { FINALIZER } from '../../../controllers/api/names.ts';
import {
  createClient,
  isConflict,
  isNoMatch,
  isNotFound,
  type WatchEvent,
} from '../../../controllers/runtime/client.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { adminClient, installWidgetCrd, type Widget, widget, widgetKind, widgetRef } from './widget.ts';

describe('runtime/client', () => {
  const ns = useNamespace('rt-client');
  before(installWidgetCrd);

  it('maps a kind to its resource, and finds a CRD installed after the first lookup', async () => {
    const c = adminClient();
    const cm = await c.mapping({ group: '', version: 'v1', kind: 'ConfigMap' });
    assert.deepEqual(cm, {
      group: '',
      version: 'v1',
      kind: 'ConfigMap',
      resource: 'configmaps',
      namespaced: true,
    });
    const gadget = { group: 'late.tide.dev', version: 'v1', kind: 'Gadget' };
    await assert.rejects(c.mapping(gadget), (err) => isNoMatch(err));

    const crdName = 'gadgets.late.tide.dev';
    await c.apply(
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: crdName },
        spec: {
          group: 'late.tide.dev',
          names: { kind: 'Gadget', plural: 'gadgets' },
          scope: 'Cluster',
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          ],
        },
      },
      { force: true },
    );
    try {
      let found: Awaited<ReturnType<typeof c.mapping>> | undefined;
      for (let i = 0; i < 60 && !found; i++) {
        found = await c.mapping(gadget).catch(() => undefined);
        if (!found) await new Promise((r) => setTimeout(r, 500));
      }
      assert.deepEqual(found, { ...gadget, resource: 'gadgets', namespaced: false });
    } finally {
      await c.delete({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name: crdName,
      });
    }
  });

  it('reports API errors with the HTTP status and the server message', async () => {
    const c = adminClient();
    const missing = await c.get(widgetRef(ns(), 'nope')).catch((e: unknown) => e);
    assert.ok(isNotFound(missing));
    assert.match((missing as Error).message, /widgets.test.tide.dev "nope" not found/);
    assert.equal(await c.tryGet(widgetRef(ns(), 'nope')), undefined);
    assert.equal(await c.delete(widgetRef(ns(), 'nope')), false);

    const created = await c.create(widget(ns(), 'e1', { value: 'a' }));
    const dup = await c.create(widget(ns(), 'e1', { value: 'b' })).catch((e: unknown) => e);
    assert.ok(isConflict(dup), String(dup));
    const stale = { ...created, spec: { value: 'c' } };
    await c.update({ ...created, spec: { value: 'b' } });
    const conflict = await c.update(stale).catch((e: unknown) => e);
    assert.ok(isConflict(conflict), String(conflict));
    assert.match((conflict as Error).message, /the object has been modified/);
  });

  it('lists in pages and returns every item with apiVersion and kind', async () => {
    const c = adminClient();
    for (let i = 0; i < 7; i++) await c.create(widget(ns(), `p${i}`, { value: String(i) }));
    const page = await c.list<Widget>(widgetKind, { namespace: ns(), limit: 3 });
    assert.equal(page.items.length, 3);
    assert.ok(page.metadata.continue, 'a continue token');
    const all = await c.listAll<Widget>(widgetKind, { namespace: ns(), limit: 3 });
    const names = all.items.map((w) => w.metadata.name).filter((n) => n?.startsWith('p'));
    assert.deepEqual(names.sort(), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    assert.ok(all.items.every((w) => w.apiVersion === 'test.tide.dev/v1' && w.kind === 'Widget'));
  });

  it('server-side applies with its field manager; a conflicting owner needs force', async () => {
    const user = adminClient('user');
    const ctrl = createClient(testbed().kubeconfig, { fieldManager: 'gotk-widget' });
    await user.apply(widget(ns(), 's1', { value: 'mine' }));
    const clash = await ctrl.apply(widget(ns(), 's1', { value: 'ctrl' })).catch((e: unknown) => e);
    assert.ok(isConflict(clash), String(clash));
    assert.match((clash as Error).message, /conflict with "user"/);
    const forced = await ctrl.apply<Widget>(widget(ns(), 's1', { value: 'ctrl' }), { force: true });
    assert.equal(forced.spec.value, 'ctrl');
    const managers = (forced.metadata.managedFields as { manager: string }[]).map((m) => m.manager);
    assert.ok(managers.includes('gotk-widget'));
  });

  it('writes status through the status subresource only', async () => {
    const c = adminClient();
    await c.create(widget(ns(), 'st', { value: 'v1' }));
    const patched = await c.patchStatus<Widget>(widgetRef(ns(), 'st'), { observed: 'x' });
    assert.equal(patched.status?.observed, 'x');
    // A spec change smuggled into the status write is ignored by the API server.
    await c.patch(
      widgetRef(ns(), 'st'),
      'merge',
      { spec: { value: 'hack' }, status: { observed: 'y' } },
      {
        subresource: 'status',
      },
    );
    const applied = await c.applyStatus<Widget>(
      widgetRef(ns(), 'st'),
      { observed: 'z' },
      { fieldManager: 'gotk-x' },
    );
    assert.equal(applied.status?.observed, 'z');
    const got = await c.get<Widget>(widgetRef(ns(), 'st'));
    assert.equal(got.spec.value, 'v1');
    assert.equal(got.status?.observed, 'z');
  });

  it('adds and removes one finalizer without dropping the finalizers of others', async () => {
    const c = adminClient();
    const w = await c.create<Widget>({
      ...widget(ns(), 'f1', { value: 'a' }),
      metadata: { name: 'f1', namespace: ns(), finalizers: ['other.io/keep'] },
    });
    // Someone else adds a finalizer after our copy was read: the add must not lose it.
    await c.patch(widgetRef(ns(), 'f1'), 'json', [
      { op: 'add', path: '/metadata/finalizers/-', value: 'late.io/also' },
    ]);
    const added = await c.addFinalizer(w, FINALIZER);
    assert.deepEqual(added.metadata.finalizers, ['other.io/keep', 'late.io/also', FINALIZER]);
    // Present already: no request, same object back.
    assert.equal(await c.addFinalizer(added, FINALIZER), added);

    // Removal from a stale copy whose index is wrong: the test op fails, the client rereads, removes ours only.
    await c.patch(widgetRef(ns(), 'f1'), 'json', [{ op: 'remove', path: '/metadata/finalizers/0' }]);
    const removed = await c.removeFinalizer(added, FINALIZER);
    assert.deepEqual(removed.metadata.finalizers, ['late.io/also']);
    await c.removeFinalizer(removed, 'late.io/also');
    assert.equal(await c.tryGet(widgetRef(ns(), 'f1')).then((x) => x?.metadata.finalizers), undefined);
  });

  it('streams watch events and reports an expired resourceVersion as 410', async () => {
    const c = adminClient();
    const first = await c.create<Widget>(widget(ns(), 'w1', { value: '1' }));
    const events: WatchEvent[] = [];
    const ac = new AbortController();
    const watching = c
      .watch(
        widgetKind,
        { namespace: ns(), resourceVersion: first.metadata.resourceVersion, signal: ac.signal },
        (ev) => {
          events.push(ev);
          if (ev.type === 'DELETED') ac.abort();
        },
      )
      // Ends with an abort error once the DELETED event arrived.
      .catch(() => {});
    await c.patch(widgetRef(ns(), 'w1'), 'merge', { spec: { value: '2' } });
    await c.delete(widgetRef(ns(), 'w1'));
    await watching;
    assert.deepEqual(
      events.map((e) => [e.type, e.object.spec?.value]),
      [
        ['MODIFIED', '2'],
        ['DELETED', '2'],
      ],
    );
    assert.equal(events[0]?.object.kind, 'Widget');

    // A resourceVersion far in the past is gone: the server ends the watch with a 410 ERROR event.
    const gone: WatchEvent[] = [];
    await c
      .watch(widgetKind, { namespace: ns(), resourceVersion: '1', timeoutSeconds: 5 }, (ev) => gone.push(ev))
      .catch(() => {});
    assert.equal(gone[0]?.type, 'ERROR');
    assert.equal((gone[0]?.object as unknown as { code?: number } | undefined)?.code, 410);
  });
});
