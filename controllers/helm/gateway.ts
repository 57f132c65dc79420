// The API server as the helm binary sees it: a loopback HTTPS gateway that passes every request of a
// helm run on with the credentials of the client that run's reconcile acts with (the controller's own,
// an impersonated ServiceAccount, or a remote cluster's), so that helm never holds a credential of the
// controller. Each run has a session with a random token only it knows; the gateway speaks TLS with a
// certificate made for it, because client-go sends no token to a plain http:// server.
//
// The gateway also separates the Helm storage from the release namespace, which the helm CLI cannot:
// helm keeps its release records in the namespace of the release (-n), while a HelmRelease keeps them
// in spec.storageNamespace (its own namespace by default) and installs into spec.targetNamespace. The
// requests helm makes for its storage objects (`sh.helm.release.v1.*` Secrets or ConfigMaps, and lists
// selected by owner=helm) in the release namespace are sent to the storage namespace instead.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Labels } from '../api/names.ts';
import type { Client } from '../runtime/client.ts';
import { BodyTooLargeError, closeAfter, readBody } from '../runtime/httpbody.ts';
import { serverTimeouts } from '../runtime/listen.ts';
import { selfSignedCertificate } from './selfsigned.ts';
import { isStorageKey, type StorageDriver, StorageDrivers } from './storage.ts';

export interface StorageRedirect {
  driver: StorageDriver;
  /** The release namespace helm uses for everything. */
  from: string;
  /** Where the release records live. */
  to: string;
}

export interface SessionOptions {
  /** The client helm acts with. */
  client: Client;
  storage?: StorageRedirect;
}

/** One helm run's way in: the gateway's URL and certificate, and the token only this run knows. */
export interface Session {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** The bearer token helm must present. */
  token: string;
  /** PEM certificate of the gateway, to trust. */
  ca: string;
  /** Ends the session: its token stops working and its requests in flight are aborted. */
  close(): void;
}

export interface Gateway {
  open(opts: SessionOptions): Promise<Session>;
  close(): Promise<void>;
}

const forwardedRequestHeaders = ['accept', 'content-type'];
const forwardedResponseHeaders = ['content-type', 'content-length', 'warning', 'audit-id'];

const collectionPath = /^\/api\/v1\/namespaces\/([^/]+)\/(secrets|configmaps)(\/[^/]+)?$/;

/**
 * The path a request for Helm's storage goes to: the storage namespace's, when it addresses a storage
 * object of the release namespace (by name, by the owner=helm selector, or creating one); else as is.
 */
export function redirectPath(
  method: string,
  pathAndQuery: string,
  body: Buffer,
  storage: StorageRedirect | undefined,
): string {
  if (!storage || storage.from === storage.to) return pathAndQuery;
  const q = pathAndQuery.indexOf('?');
  const path = q >= 0 ? pathAndQuery.slice(0, q) : pathAndQuery;
  const query = q >= 0 ? pathAndQuery.slice(q) : '';
  const m = collectionPath.exec(path);
  const resource = storage.driver === StorageDrivers.Secret ? 'secrets' : 'configmaps';
  if (!m || decodeURIComponent(m[1] ?? '') !== storage.from || m[2] !== resource) return pathAndQuery;
  const name = m[3] ? decodeURIComponent(m[3].slice(1)) : undefined;
  const isStorage = name
    ? isStorageKey(name)
    : method === 'GET'
      ? selectsStorage(new URLSearchParams(query).get('labelSelector') ?? '')
      : method === 'POST' && createsStorage(body);
  if (!isStorage) return pathAndQuery;
  return `/api/v1/namespaces/${encodeURIComponent(storage.to)}/${resource}${m[3] ?? ''}${query}`;
}

const selectsStorage = (selector: string) =>
  selector.split(',').some((r) => r.trim() === `${Labels.helmStorageOwner}=helm`);

function createsStorage(body: Buffer): boolean {
  try {
    const name = (JSON.parse(body.toString('utf8')) as { metadata?: { name?: string } }).metadata?.name;
    return typeof name === 'string' && isStorageKey(name);
  } catch {
    // Not JSON (protobuf): the storage key is in the bytes as they are.
    return body.includes('sh.helm.release.v1.');
  }
}

/** The API server's own cap on a request body (3 MiB): a bigger one is refused here, unread. */
export const maxGatewayBodyBytes = 3 * 1024 * 1024;

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code });

const unauthorized = status(401, 'Unauthorized', 'Unauthorized');

interface LiveSession extends SessionOptions {
  inFlight: Set<AbortController>;
}

/** Passes one request on with the session's client, streaming the answer back. */
async function forward(session: LiveSession, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  let body: Buffer;
  try {
    body = await readBody(req, maxGatewayBodyBytes);
  } catch (err) {
    // Read errors (a client gone mid-body) must not become an unhandled rejection of the controller.
    if (!(err instanceof BodyTooLargeError)) return void res.destroy();
    closeAfter(req, res);
    res.writeHead(413, { 'content-type': 'application/json' });
    return void res.end(status(413, 'RequestEntityTooLarge', err.message));
  }
  const headers: Record<string, string> = {};
  for (const h of forwardedRequestHeaders) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const abort = new AbortController();
  session.inFlight.add(abort);
  // helm closing a watch (or dying) must end the upstream request too.
  res.on('close', () => abort.abort());
  try {
    const upstream = await session.client.forward({
      method,
      path: redirectPath(method, req.url ?? '/', body, session.storage),
      headers,
      body: body.length > 0 ? body : undefined,
      signal: abort.signal,
    });
    const out: Record<string, string> = {};
    for (const h of forwardedResponseHeaders) {
      const v = upstream.header(h);
      if (v !== undefined) out[h] = v;
    }
    res.writeHead(upstream.status, out);
    await pipeline(upstream.body, res);
  } catch (err) {
    if (res.headersSent) res.destroy();
    else {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(status(502, 'BadGateway', `gateway: ${(err as Error).message}`));
    }
  } finally {
    session.inFlight.delete(abort);
  }
}

/**
 * The gateway of a controller process: one loopback HTTPS server (started on first use, with a
 * certificate made for it), serving each helm run's session by its token.
 */
export function createGateway(timeouts = serverTimeouts): Gateway {
  const sessions = new Map<string, LiveSession>();
  let started: Promise<{ url: string; ca: string; close(): Promise<void> }> | undefined;

  async function start() {
    const tls = selfSignedCertificate('tide-helm-gateway', 3650);
    const server = createServer(
      {
        key: tls.key,
        cert: tls.cert,
        headersTimeout: timeouts.headersTimeoutMs,
        requestTimeout: timeouts.requestTimeoutMs,
        connectionsCheckingInterval: Math.min(1000, timeouts.headersTimeoutMs),
      },
      (req, res) => {
        const auth = req.headers.authorization ?? '';
        const session = auth.startsWith('Bearer ') ? sessions.get(auth.slice('Bearer '.length)) : undefined;
        if (!session) {
          closeAfter(req, res);
          res.writeHead(401, { 'content-type': 'application/json' }).end(unauthorized);
          return;
        }
        void forward(session, req, res);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // The gateway must not keep a stopping controller alive.
    server.unref();
    return {
      url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      ca: tls.cert,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  return {
    async open(opts) {
      started ??= start();
      const { url, ca } = await started;
      const token = randomBytes(32).toString('hex');
      const session: LiveSession = { ...opts, inFlight: new Set() };
      sessions.set(token, session);
      return {
        url,
        token,
        ca,
        close: () => {
          sessions.delete(token);
          for (const a of session.inFlight) a.abort();
        },
      };
    },
    async close() {
      for (const s of sessions.values()) for (const a of s.inFlight) a.abort();
      sessions.clear();
      await (await started)?.close();
      started = undefined;
    },
  };
}
