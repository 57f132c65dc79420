import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { createClient, isApiError, isNoMatch, isNotFound } from '../../../controllers/runtime/client.ts';
import { type KubeObject, mergePatchOf, stripForCache } from '../../../controllers/runtime/object.ts';

// A fake API server: Widget discovery (Gadget appears once `gadgetInstalled`), Widget gets, a Status 404.
async function fakeApi() {
  const seen: IncomingMessage[] = [];
  const state = { gadgetInstalled: false };
  const server = createServer((req, res) => {
    seen.push(req);
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const widget = {
      apiVersion: 'test.tide.dev/v1',
      kind: 'Widget',
      metadata: { name: 'a', namespace: 'ns' },
    };
    const resources = [
      { name: 'widgets', kind: 'Widget', namespaced: true },
      { name: 'widgets/status', kind: 'Widget', namespaced: true },
      ...(state.gadgetInstalled ? [{ name: 'gadgets', kind: 'Gadget', namespaced: false }] : []),
    ];
    const notFound = { kind: 'Status', reason: 'NotFound', code: 404, message: 'widgets "b" not found' };
    const routes: Record<string, () => void> = {
      '/apis/test.tide.dev/v1': () => json(200, { resources }),
      '/apis/test.tide.dev/v1/namespaces/ns/widgets/a': () => json(200, widget),
      '/apis/test.tide.dev/v1/gadgets/g': () => json(200, { metadata: { name: 'g' } }),
      '/apis/test.tide.dev/v1/namespaces/ns/widgets/plain': () => res.writeHead(502).end('bad gateway'),
    };
    (routes[path] ?? (() => json(404, notFound)))();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'tok-123' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
    currentContext: 'fake',
  });
  return {
    seen,
    state,
    kc,
    discoveryCalls: () => seen.filter((r) => r.url === '/apis/test.tide.dev/v1').length,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const ref = (name: string) => ({ apiVersion: 'test.tide.dev/v1', kind: 'Widget', name, namespace: 'ns' });

describe('runtime/client', () => {
  let api: Awaited<ReturnType<typeof fakeApi>>;
  beforeEach(async () => {
    api = await fakeApi();
  });
  afterEach(() => api.close());

  it('discovers a group/version once and reuses it: one round trip per object call', async () => {
    const c = createClient(api.kc, { fieldManager: 'gotk-test' });
    for (let i = 0; i < 5; i++) await c.get(ref('a'));
    assert.equal(api.discoveryCalls(), 1);
    assert.equal(api.seen.length, 6);
    assert.deepEqual(await c.mapping({ group: 'test.tide.dev', version: 'v1', kind: 'Widget' }), {
      group: 'test.tide.dev',
      version: 'v1',
      kind: 'Widget',
      resource: 'widgets',
      namespaced: true,
    });
  });

  it('refreshes discovery on a miss, so a kind installed later is found', async () => {
    const c = createClient(api.kc);
    const gadget = { group: 'test.tide.dev', version: 'v1', kind: 'Gadget' };
    const err = await c.mapping(gadget).catch((e: unknown) => e);
    assert.ok(isNoMatch(err) && isNotFound(err), String(err));
    api.state.gadgetInstalled = true;
    // Misses refetch at most once a second, so a missing CRD cannot flood the API server.
    await c.mapping(gadget).catch(() => {});
    assert.equal(api.discoveryCalls(), 1);
    await new Promise((r) => setTimeout(r, 1100));
    const m = await c.mapping(gadget);
    assert.equal(m.resource, 'gadgets');
    assert.equal(m.namespaced, false);
    assert.equal(api.discoveryCalls(), 2);
    await c.get({ apiVersion: 'test.tide.dev/v1', kind: 'Gadget', name: 'g' });
  });

  it('sends the bearer token and a user agent', async () => {
    const c = createClient(api.kc, { fieldManager: 'gotk-test' });
    await c.get(ref('a'));
    const req = api.seen.at(-1);
    assert.equal(req?.headers.authorization, 'Bearer tok-123');
    assert.equal(req?.headers['user-agent'], 'tide/gotk-test');
  });

  it('turns failures into ApiError with the status and the server message', async () => {
    const c = createClient(api.kc);
    const notFound = await c.get(ref('b')).catch((e: unknown) => e);
    assert.ok(isApiError(notFound) && notFound.status === 404 && notFound.reason === 'NotFound');
    assert.match(notFound.message, /widgets "b" not found/);
    assert.equal(isNoMatch(notFound), false);
    const plain = await c.get(ref('plain')).catch((e: unknown) => e);
    assert.ok(isApiError(plain) && plain.status === 502);
    assert.match(plain.message, /bad gateway/);
    await api.close();
    const down = await c.get(ref('a')).catch((e: unknown) => e);
    assert.ok(isApiError(down) && down.status === 0, String(down));
  });
});

describe('runtime/object helpers used by the client and the runner', () => {
  it('mergePatchOf gives the smallest RFC 7386 patch, nulling removed keys and replacing arrays', () => {
    const from = { a: 1, b: { c: 2, d: 3 }, conds: [{ type: 'Ready' }], gone: 'x' };
    const to = { a: 1, b: { c: 2, d: 4 }, conds: [{ type: 'Ready' }, { type: 'Stalled' }], added: true };
    assert.deepEqual(mergePatchOf(from, to), {
      b: { d: 4 },
      conds: [{ type: 'Ready' }, { type: 'Stalled' }],
      gone: null,
      added: true,
    });
    assert.equal(mergePatchOf({ x: [1, { y: 2 }] }, { x: [1, { y: 2 }] }), undefined);
  });

  it('stripForCache drops managedFields and the last-applied annotation only', () => {
    const obj: KubeObject = {
      metadata: {
        name: 'a',
        managedFields: [{}],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'v' },
      },
      spec: { x: 1 },
    };
    const stripped = stripForCache(obj);
    assert.deepEqual(stripped, { metadata: { name: 'a', annotations: { keep: 'v' } }, spec: { x: 1 } });
    assert.ok(obj.metadata.managedFields, 'the input is not modified');
  });
});
