// The informer's failure paths, made deterministic with a scripted fake API server (no cluster needed):
// a silently stalled watch, a 410 Gone as an ERROR event and as a status, relist diffs, pagination,
// cache stripping and capped backoff. The real-cluster behaviour is in restart.test.ts.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { createClient } from '../../../controllers/runtime/client.ts';
import { createInformer, type Informer } from '../../../controllers/runtime/informer.ts';
import { createMetrics } from '../../../controllers/runtime/metrics.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { poll } from '../../../hack/testbed/proc.ts';

const kind = { group: 'test.tide.dev', version: 'v1', kind: 'Widget' };

const obj = (name: string, rv: string, value = name): KubeObject => ({
  apiVersion: 'test.tide.dev/v1',
  kind: 'Widget',
  metadata: {
    name,
    namespace: 'ns',
    resourceVersion: rv,
    managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy"}', keep: 'me' },
  },
  spec: { value },
});

type WatchScript = (res: ServerResponse, url: URL) => void;

/** A fake API server serving Widget discovery, a paginated list and scripted watches. */
async function fakeApi() {
  const state = {
    items: [] as KubeObject[],
    listRv: '10',
    lists: [] as URL[],
    watches: [] as { url: URL; at: number }[],
    scripts: [] as WatchScript[],
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/apis/test.tide.dev/v1') {
      return json(200, { resources: [{ name: 'widgets', kind: 'Widget', namespaced: true }] });
    }
    if (url.pathname !== '/apis/test.tide.dev/v1/widgets') return json(404, { message: 'no' });
    if (url.searchParams.get('watch') === 'true') {
      state.watches.push({ url, at: Date.now() });
      const script = state.scripts.shift();
      if (!script) return; // no script: hang forever, silently
      return script(res, url);
    }
    state.lists.push(url);
    const limit = Number(url.searchParams.get('limit') ?? 1000);
    const from = Number(url.searchParams.get('continue') || 0);
    const page = state.items.slice(from, from + limit);
    const next = from + limit < state.items.length ? String(from + limit) : undefined;
    json(200, {
      kind: 'WidgetList',
      metadata: { resourceVersion: state.listRv, ...(next ? { continue: next } : {}) },
      items: page.map((o) => ({ ...o, apiVersion: undefined, kind: undefined })),
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
    currentContext: 'fake',
  });
  return {
    state,
    client: createClient(kc),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const send = (res: ServerResponse, ...events: unknown[]) => {
  if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' });
  for (const e of events) res.write(`${JSON.stringify(e)}\n`);
};

const counter = async (m: ReturnType<typeof createMetrics>, name: string) =>
  ((await m.registry.getSingleMetric(name)?.get())?.values ?? []).reduce((s, v) => s + v.value, 0);

function recordHandlers(inf: Informer) {
  const seen: string[] = [];
  inf.addHandler({
    add: (o) => seen.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
    update: (a, b) =>
      seen.push(`update ${a.metadata.name}@${a.metadata.resourceVersion}->${b.metadata.resourceVersion}`),
    delete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  return seen;
}

describe('runtime/informer against a scripted API server', () => {
  let api: Awaited<ReturnType<typeof fakeApi>>;
  let inf: Informer | undefined;
  beforeEach(async () => {
    api = await fakeApi();
  });
  afterEach(async () => {
    await inf?.stop();
    inf = undefined;
    await api.close();
  });

  it('lists in pages, caches objects without managedFields or last-applied, then watches from the list', async () => {
    api.state.items = ['a', 'b', 'c', 'd', 'e'].map((n, i) => obj(n, String(i + 1)));
    const metrics = createMetrics();
    inf = createInformer({ client: api.client, kind, pageSize: 2, watchTimeoutSeconds: 300, metrics });
    const seen = recordHandlers(inf);
    inf.start();
    await inf.waitForSync();
    assert.equal(api.state.lists.length, 3);
    assert.deepEqual(
      api.state.lists.map((u) => [u.searchParams.get('limit'), u.searchParams.get('continue')]),
      [
        ['2', null],
        ['2', '2'],
        ['2', '4'],
      ],
    );
    assert.deepEqual(seen, ['add a@1', 'add b@2', 'add c@3', 'add d@4', 'add e@5']);
    const a = inf.get('ns/a');
    assert.equal(a?.kind, 'Widget');
    assert.equal(a?.metadata.managedFields, undefined);
    assert.deepEqual(a?.metadata.annotations, { keep: 'me' });

    await poll('watch opened', 5_000, async () => (api.state.watches.length ? true : undefined));
    const w = api.state.watches[0]!.url.searchParams;
    assert.equal(w.get('resourceVersion'), '10');
    assert.equal(w.get('allowWatchBookmarks'), 'true');
    const timeout = Number(w.get('timeoutSeconds'));
    assert.ok(timeout >= 300 && timeout < 600, `timeoutSeconds ${timeout}`);
    assert.equal(await counter(metrics, 'tide_informer_relists_total'), 0, 'the first list is not a relist');
  });

  it('aborts a watch that went silent and re-watches from the last bookmark, without relisting', async () => {
    api.state.items = [obj('a', '1')];
    api.state.scripts.push(
      (res) =>
        send(res, { type: 'BOOKMARK', object: { kind: 'Widget', metadata: { resourceVersion: '20' } } }),
      // then nothing at all: the connection stays open and silent
      (res) => send(res, { type: 'ADDED', object: obj('b', '21') }),
    );
    const metrics = createMetrics();
    inf = createInformer({
      client: api.client,
      kind,
      idleTimeoutMs: 400,
      backoff: { initialMs: 10 },
      metrics,
    });
    const seen = recordHandlers(inf);
    inf.start();
    await poll('b added by the second watch', 5_000, async () => (inf?.get('ns/b') ? true : undefined));
    assert.equal(api.state.watches.length, 2);
    assert.equal(api.state.watches[1]?.url.searchParams.get('resourceVersion'), '20');
    assert.equal(api.state.lists.length, 1, 'no relist');
    assert.deepEqual(seen, ['add a@1', 'add b@21']);
    assert.equal(await counter(metrics, 'tide_informer_restarts_total'), 1);
    assert.ok(inf.isWatching());
    assert.equal(inf.resourceVersion(), '21');
  });

  it('relists on a 410 ERROR event and on a 410 status, delivering the deletes and updates it missed', async () => {
    api.state.items = [obj('a', '1'), obj('b', '2'), obj('c', '3')];
    api.state.scripts.push((res) => {
      send(res, { type: 'MODIFIED', object: obj('a', '4', 'a2') });
      // The world moves on while the watch is broken: b changes, c goes, d appears.
      api.state.items = [obj('a', '4', 'a2'), obj('b', '5', 'b2'), obj('d', '6')];
      api.state.listRv = '30';
      send(res, {
        type: 'ERROR',
        object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' },
      });
    });
    const metrics = createMetrics();
    inf = createInformer({ client: api.client, kind, backoff: { initialMs: 10 }, metrics });
    const seen = recordHandlers(inf);
    inf.start();
    await poll('relisted', 5_000, async () => (inf?.get('ns/d') ? true : undefined));
    assert.deepEqual(seen, [
      'add a@1',
      'add b@2',
      'add c@3',
      'update a@1->4',
      'update b@2->5',
      'add d@6',
      'delete c',
    ]);
    assert.equal(inf.get('ns/c'), undefined);
    assert.equal(inf.get('ns/b')?.spec.value, 'b2');
    assert.equal(inf.get('ns/b')?.metadata.managedFields, undefined);
    await poll('watch from the relist', 5_000, async () =>
      api.state.watches.length >= 2 ? true : undefined,
    );
    assert.equal(api.state.watches[1]?.url.searchParams.get('resourceVersion'), '30');

    // The same through an HTTP 410 answer to the watch request itself.
    api.state.scripts.push((res) => {
      api.state.items = [obj('a', '4', 'a2')];
      api.state.listRv = '40';
      res
        .writeHead(410, { 'content-type': 'application/json' })
        .end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Gone', message: 'gone' }));
    });
    // A fresh informer over the same server meets the 410 on its first watch.
    await inf.stop();
    inf = createInformer({ client: api.client, kind, backoff: { initialMs: 10 }, metrics });
    const seen2 = recordHandlers(inf);
    api.state.items = [obj('a', '4', 'a2'), obj('b', '5', 'b2')];
    inf.start();
    await poll('second relist', 5_000, async () => (seen2.includes('delete b') ? true : undefined));
    assert.deepEqual(seen2, ['add a@4', 'add b@5', 'delete b']);
    assert.equal(await counter(metrics, 'tide_informer_relists_total'), 2);
  });

  it('retries a failing watch with exponential backoff up to the cap', async () => {
    api.state.items = [];
    for (let i = 0; i < 7; i++) {
      api.state.scripts.push((res) =>
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"boom"}'),
      );
    }
    api.state.scripts.push((res) =>
      send(res, { type: 'BOOKMARK', object: { metadata: { resourceVersion: '11' } } }),
    );
    inf = createInformer({ client: api.client, kind, backoff: { initialMs: 100, maxMs: 400 } });
    inf.start();
    await poll('7 failed watches, then one that works', 10_000, async () =>
      api.state.watches.length >= 8 && inf?.resourceVersion() === '11' ? true : undefined,
    );
    const at = api.state.watches.map((w) => w.at);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? t));
    // 100, 200, 400, 400, ...: growing, then flat at the cap (uncapped, the fourth gap would be 800).
    // Bounds leave room for a loaded 2-core machine.
    assert.ok((gaps[0] ?? 0) >= 90 && (gaps[0] ?? 0) < 300, `gaps ${gaps}`);
    assert.ok((gaps[2] ?? 0) >= 360, `gaps ${gaps}`);
    for (const g of gaps.slice(3)) assert.ok(g >= 360 && g < 780, `gaps ${gaps}`);
    assert.equal(inf.isWatching(), true);
  });
});
