// The dashboard's HTTP server: the bundled front-end, a JSON API read and written as the viewer, and one
// server-sent event stream per page that starts with every row and then carries each change the watches
// see (batched every 100 ms), so pages update without a reload.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { closeAfter } from '../runtime/httpbody.ts';
import type { Logger } from '../runtime/log.ts';
import type { Identity, Viewer } from './access.ts';
import { type ActionName, actionNames, type Rollback, runAction } from './actions.ts';
import type { Assets } from './assets.ts';
import type { Authenticator } from './auth.ts';
import { objectDetail } from './detail.ts';
import { computeDrift, type DriftTools } from './drift.ts';
import { problemOf, readBodyOr413, UiError } from './errors.ts';
import { buildGraph } from './graph.ts';
import { inventoryTree } from './inventory.ts';
import type { Row } from './model/rows.ts';
import type { DriftView } from './model/views.ts';
import type { Change, Store } from './store.ts';

export interface UiServerOptions {
  store: Store;
  auth: Authenticator;
  /** The viewer acting for an identity (the kubeconfig user locally, an impersonating one in a cluster). */
  viewerFor(identity: Identity): Viewer;
  assets: Assets;
  tools: DriftTools;
  rollback?: Rollback;
  /** Host headers accepted (loopback names with the port, locally: no DNS rebinding); any when unset. */
  allowedHosts?: readonly string[];
  log?: Logger;
  /** Flush interval of the event streams. */
  batchMs?: number;
}

/** The header every write must carry: a cross-site form or image cannot set it. */
export const requestHeader = 'x-tide-request';

const securityHeaders = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const driftKinds = new Set(['Kustomization']);

function text(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${body}\n`);
}

function json(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

async function readJson(req: IncomingMessage, max = 64 * 1024): Promise<Record<string, unknown>> {
  const body = (await readBodyOr413(req, max)).toString('utf8');
  if (!body) return {};
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new UiError(400, 'request body is not JSON');
  }
}

/** Runs one computation per key at a time, and at most `limit` at once. */
function gate<T>(limit: number) {
  const running = new Map<string, Promise<T>>();
  const waiters: (() => void)[] = [];
  let active = 0;
  return async (key: string, fn: () => Promise<T>): Promise<T> => {
    const same = running.get(key);
    if (same) return same;
    const p = (async () => {
      while (active >= limit) await new Promise<void>((r) => waiters.push(r));
      active++;
      try {
        return await fn();
      } finally {
        active--;
        waiters.shift()?.();
        running.delete(key);
      }
    })();
    running.set(key, p);
    return p;
  };
}

export function createUiHandler(opts: UiServerOptions): RequestListener {
  const { store, auth, assets, log } = opts;
  const batchMs = opts.batchMs ?? 100;
  const drifts = gate<DriftView>(2);

  const mayView = async (viewer: Viewer, kind: string, namespace: string) => {
    const info = store.kindInfo(kind);
    return Boolean(info && (viewer.mayList(info, namespace) ?? (await viewer.checkList(info, namespace))));
  };

  async function visibleRows(viewer: Viewer, rows: Row[]): Promise<Row[]> {
    const pairs = new Map<string, Row>();
    for (const r of rows) pairs.set(`${r.kind}/${r.namespace}`, r);
    const allowed = new Set<string>();
    await Promise.all(
      [...pairs].map(async ([key, r]) => {
        if (await mayView(viewer, r.kind, r.namespace)) allowed.add(key);
      }),
    );
    return rows.filter((r) => allowed.has(`${r.kind}/${r.namespace}`));
  }

  /** The changes of one batch the viewer may see; deletions pass (the page drops what it does not have). */
  async function visibleChanges(viewer: Viewer, batch: Change[], kindsChanged: boolean): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const c of batch) {
      if (c.type !== 'upsert' || (await mayView(viewer, c.row.kind, c.row.namespace))) out.push(c);
    }
    if (kindsChanged) out.push({ type: 'kinds', kinds: store.kinds() });
    return out;
  }

  /** The event stream: `snapshot` (kinds and rows), then `changes` batches, and a comment every 20 s. */
  async function stream(req: IncomingMessage, res: ServerResponse, viewer: Viewer) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const pending = new Map<string, Change>();
    let kindsChanged = false;
    let timer: NodeJS.Timeout | undefined;
    const flush = async () => {
      timer = undefined;
      const out = await visibleChanges(viewer, [...pending.values()], kindsChanged);
      pending.clear();
      kindsChanged = false;
      if (out.length && !res.writableEnded) send('changes', out);
    };
    const unsubscribe = store.subscribe((c) => {
      if (c.type === 'kinds') kindsChanged = true;
      else pending.set(c.type === 'upsert' ? c.row.key : c.key, c);
      timer ??= setTimeout(
        () => void flush().catch((err) => log?.error('event stream flush failed', err)),
        batchMs,
      );
    });
    const ping = setInterval(() => res.write(': ping\n\n'), 20_000);
    req.on('close', () => {
      unsubscribe();
      clearInterval(ping);
      clearTimeout(timer);
    });
    send('snapshot', { kinds: store.kinds(), rows: await visibleRows(viewer, store.rows()) });
  }

  interface Call {
    req: IncomingMessage;
    res: ServerResponse;
    viewer: Viewer;
    identity: Identity;
  }

  /** POST `…/actions/<action>`: only with the request header, logged with the user. */
  async function actionApi(
    c: Call,
    target: { kind: string; namespace: string; name: string },
    action?: string,
  ) {
    if (!actionNames.includes(action as ActionName)) throw new UiError(404, `no such action: ${action}`);
    if (c.req.headers[requestHeader] !== '1')
      throw new UiError(403, `writes need the ${requestHeader} header`);
    const body = await readJson(c.req);
    const result = await runAction(store, c.viewer, target, action as ActionName, {
      withSource: body.withSource === true,
      rollback: opts.rollback,
    });
    log?.info('dashboard action', { user: c.identity.user, action, ...target });
    return json(c.res, 200, result);
  }

  /** `/api/objects/<kind>/<namespace>/<name>[/inventory|/drift|/actions/<action>]`. */
  async function objectApi(
    c: Call,
    target: { kind: string; namespace: string; name: string },
    sub?: string,
    action?: string,
  ) {
    const { req, res, viewer } = c;
    const { kind, namespace, name } = target;
    if (req.method === 'GET' && sub === undefined) {
      const detailOpts = { rollback: Boolean(opts.rollback), driftKinds };
      return json(res, 200, await objectDetail(store, viewer, kind, namespace, name, detailOpts));
    }
    if (req.method === 'POST' && sub === 'actions') return actionApi(c, target, action);
    const obj = store.object(kind, namespace, name);
    if (!obj || !(await mayView(viewer, kind, namespace)))
      throw new UiError(404, `${kind} ${namespace}/${name} not found`);
    if (req.method === 'GET' && sub === 'inventory') return json(res, 200, await inventoryTree(viewer, obj));
    if (req.method === 'GET' && sub === 'drift') {
      if (!driftKinds.has(kind))
        throw new UiError(400, `the drift view is for ${[...driftKinds].join(', ')}`);
      const key = `${c.identity.user}\u0000${obj.metadata.uid}\u0000${obj.metadata.resourceVersion}`;
      return json(res, 200, await drifts(key, () => computeDrift(store, viewer, obj, opts.tools)));
    }
    throw new UiError(404, `no such API: ${req.method} ${req.url}`);
  }

  async function api(c: Call, url: URL) {
    const [first, kind = '', namespace = '', name = '', sub, action] = url.pathname
      .split('/')
      .slice(2)
      .map(decodeURIComponent);
    const get = c.req.method === 'GET';
    if (get && first === 'session') {
      const { user, groups } = c.identity;
      return json(c.res, 200, { user, groups, mode: auth.mode, rollback: Boolean(opts.rollback) });
    }
    if (get && first === 'stream') return stream(c.req, c.res, c.viewer);
    if (get && first === 'graph') return json(c.res, 200, await buildGraph(store, c.viewer));
    if (first === 'objects' && name) return objectApi(c, { kind, namespace, name }, sub, action);
    throw new UiError(404, `no such API: ${c.req.method} ${url.pathname}`);
  }

  function serveAsset(req: IncomingMessage, res: ServerResponse, name: string) {
    const a = assets.get(name);
    if (!a) return text(res, 404, 'not found');
    if (req.headers['if-none-match'] === a.etag) {
      res.writeHead(304);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': a.type, etag: a.etag, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : a.body);
  }

  /** What needs no session: a Host check, health, the bundle, the sign-in routes. True when answered. */
  async function open(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const host = (req.headers.host ?? '').toLowerCase();
    if (opts.allowedHosts && !opts.allowedHosts.includes(host)) text(res, 421, 'unexpected Host header');
    else if (url.pathname === '/healthz') text(res, 200, 'ok');
    else if (url.pathname.startsWith('/assets/')) serveAsset(req, res, url.pathname.slice('/assets/'.length));
    else return auth.handle(req, res, url);
    return true;
  }

  function signIn(res: ServerResponse, isApi: boolean) {
    if (isApi) return json(res, 401, { message: 'not signed in' });
    if (auth.mode === 'local')
      return text(
        res,
        401,
        'Open the dashboard with the link tide ui printed (it carries the session token).',
      );
    res.writeHead(303, { location: '/login' });
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    for (const [k, v] of Object.entries(securityHeaders)) res.setHeader(k, v);
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (await open(req, res, url)) return;
    const identity = auth.identify(req);
    const isApi = url.pathname.startsWith('/api/');
    if (!identity) return signIn(res, isApi);
    if (!isApi) return serveAsset(req, res, 'index.html');
    await api({ req, res, viewer: opts.viewerFor(identity), identity }, url);
  }

  // Any refusal (a UiError, an API server's) keeps its status; a body over its limit ends the connection.
  return (req, res) => {
    handle(req, res).catch((err) => {
      const p = problemOf(err);
      if (p.status >= 500) log?.error('dashboard request failed', err, { path: req.url });
      if (res.headersSent) return void res.end();
      if (p.status === 413) closeAfter(req, res);
      json(res, p.status, { message: p.message });
    });
  };
}
