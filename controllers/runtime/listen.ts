// One way to bind the controllers' HTTP servers (metrics, health, artifacts) to a Flux-style address.
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

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

/** Serves `handler` on addr; resolves once listening. close() also ends kept-alive connections. */
export async function listen(addr: string, handler: RequestListener): Promise<Listener> {
  const { host, port } = parseListenAddress(addr);
  const server = createServer(handler);
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
