// One way to bind the controllers' HTTP servers (metrics, health, artifacts) to a Flux-style address.
import type { IncomingMessage, RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeAfter } from './httpbody.ts';

// Not imported: an ES import of node:http loads the undici bundled in Node (see http.ts).
const { createServer } = process.getBuiltinModule('node:http');

export interface Listener {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Splits `host:port`, `:port` or `[v6]:port`. An empty host means every interface (undefined: Node
 * binds `::` dual-stack, as Go's `:8080` does); port 0 picks a free one.
 */
export function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`invalid listen address "${addr}", want host:port or :port`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/**
 * A client gets this long to send its request headers, and this long for the whole request: a slow-loris
 * client trickling bytes holds a connection for seconds, not for Node's default minutes. Every Tide
 * server takes small requests only (the largest is a 3 MiB body).
 */
export const serverTimeouts = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 };

export interface ListenOptions {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /**
   * The handler reads request bodies itself (under a limit). Otherwise no body is read: a request that
   * comes with one is answered on a connection that then closes, instead of Node draining the body to
   * keep the connection alive (a client could stream for as long as it likes).
   */
  readsBodies?: boolean;
}

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** Serves `handler` on addr; resolves once listening. close() also ends kept-alive connections. */
export async function listen(
  addr: string,
  handler: RequestListener,
  opts: ListenOptions = {},
): Promise<Listener> {
  const timeouts = { ...serverTimeouts, ...opts };
  const serve: RequestListener = opts.readsBodies
    ? handler
    : (req, res) => {
        if (hasBody(req)) closeAfter(req, res);
        handler(req, res);
      };
  const { host, port } = parseListenAddress(addr);
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      // How often those timeouts are checked; Node's default (30 s) would triple a short one.
      connectionsCheckingInterval: Math.min(1000, timeouts.headersTimeoutMs),
    },
    serve,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const info = server.address() as AddressInfo;
  return {
    port: info.port,
    address: info.address,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
