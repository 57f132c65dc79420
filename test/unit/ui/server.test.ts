// The dashboard server's guards, against a fake store: loopback Host names only, nothing without a
// session, writes only with the request header, and the event stream's first snapshot.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '../../../controllers/runtime/client.ts';
import { localViewer } from '../../../controllers/ui/access.ts';
import { createSessions, localAuth } from '../../../controllers/ui/auth.ts';
import { kindInfo, uiKinds } from '../../../controllers/ui/kinds.ts';
import { summarize } from '../../../controllers/ui/model/rows.ts';
import { createUiHandler } from '../../../controllers/ui/server.ts';
import type { Store } from '../../../controllers/ui/store.ts';

const ks = {
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  metadata: { name: 'apps', namespace: 'flux-system' },
  spec: {},
  status: {
    conditions: [
      { type: 'Ready', status: 'False', reason: 'BuildFailed', message: 'boom', lastTransitionTime: 't' },
    ],
  },
};

function fakeStore(): Store {
  const infos = uiKinds().map((d) => ({ ...kindInfo(d), availability: 'ok' as const }));
  const row = summarize(ks, { kind: 'Kustomization', hasStatus: true });
  return {
    start: async () => {},
    stop: async () => {},
    kinds: () => infos,
    kindInfo: (k) => infos.find((i) => i.kind === k),
    descriptor: (k) => uiKinds().find((d) => d.kind === k),
    rows: () => [row],
    row: (k) => (k === row.key ? row : undefined),
    object: (kind, ns, name) =>
      kind === 'Kustomization' && ns === 'flux-system' && name === 'apps' ? ks : undefined,
    cached: () => undefined,
    subscribe: () => () => {},
  };
}

describe('ui/server', () => {
  let server: Server;
  let base = '';
  let host = '';
  const patches: unknown[] = [];
  const allowed: string[] = [];
  before(async () => {
    const client = {
      patch: async (_ref: unknown, _type: string, body: unknown) => {
        patches.push(body);
        return {};
      },
    } as unknown as Client;
    const viewer = localViewer(client, { user: 'me', groups: [] });
    const handler = createUiHandler({
      store: fakeStore(),
      auth: localAuth({ user: 'me', groups: [] }, 'tok', createSessions()),
      viewerFor: () => viewer,
      assets: {
        get: (n) =>
          n === 'index.html' ? { body: Buffer.from('<html>'), type: 'text/html', etag: '"e"' } : undefined,
      },
      tools: { kustomizeBin: 'kustomize', sopsBin: 'sops' },
      allowedHosts: allowed,
    });
    server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    host = `127.0.0.1:${port}`;
    // As dashboard.ts does once the port is known.
    allowed.push(host);
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const bearer = { authorization: 'Bearer tok' };

  it('refuses a Host name it does not serve (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const r = request(
        `${base}/api/session`,
        { headers: { ...bearer, host: `evil.example:${host.split(':')[1]}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      r.on('error', reject);
      r.end();
    });
    assert.equal(status, 421);
  });

  it('answers nothing but health and assets without a session', async () => {
    assert.equal((await fetch(`${base}/api/session`)).status, 401);
    assert.equal((await fetch(`${base}/`)).status, 401);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const session = await fetch(`${base}/api/session`, { headers: bearer });
    assert.deepEqual(await session.json(), { user: 'me', groups: [], mode: 'local', rollback: false });
    assert.match(session.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  });

  it('refuses writes without the request header, and does them with it', async () => {
    const url = `${base}/api/objects/Kustomization/flux-system/apps/actions/suspend`;
    const no = await fetch(url, { method: 'POST', headers: bearer, body: '{}' });
    assert.equal(no.status, 403);
    assert.equal(patches.length, 0);
    const yes = await fetch(url, {
      method: 'POST',
      headers: { ...bearer, 'x-tide-request': '1' },
      body: '{}',
    });
    assert.deepEqual(await yes.json(), { message: 'Kustomization flux-system/apps suspended' });
    assert.deepEqual(patches, [{ spec: { suspend: true } }]);
    const missing = await fetch(`${base}/api/objects/Kustomization/flux-system/nope/actions/suspend`, {
      method: 'POST',
      headers: { ...bearer, 'x-tide-request': '1' },
    });
    assert.equal(missing.status, 404);
    const rollback = await fetch(url.replace('suspend', 'rollback'), {
      method: 'POST',
      headers: { ...bearer, 'x-tide-request': '1' },
    });
    assert.equal(rollback.status, 501);
  });

  it('starts the event stream with every kind and row', async () => {
    const ac = new AbortController();
    const res = await fetch(`${base}/api/stream`, { headers: bearer, signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    const [event, data] = text.split('\n');
    assert.equal(event, 'event: snapshot');
    const snap = JSON.parse((data ?? '').slice('data: '.length));
    assert.equal(snap.kinds.length, uiKinds().length);
    assert.deepEqual(
      snap.rows.map((r: { key: string; state: string; message: string }) => [r.key, r.state, r.message]),
      [['Kustomization/flux-system/apps', 'failing', 'boom']],
    );
  });
});
