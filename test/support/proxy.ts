// An HTTP proxy on loopback that records what it was asked: CONNECT tunnels (HTTPS targets) and
// forwarded absolute-URI requests (plain HTTP targets), optionally behind basic credentials.
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

export interface ProxyLog {
  /** `CONNECT host:port` or `GET http://host:port/path`, in arrival order, accepted or not. */
  requests: string[];
  /** Requests refused for missing or wrong credentials. */
  refused: number;
}

export interface TestProxy extends ProxyLog {
  url: string;
  close(): Promise<void>;
}

export async function startProxy(auth?: { username: string; password: string }): Promise<TestProxy> {
  const expected = auth && `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const log: ProxyLog = { requests: [], refused: 0 };
  const sockets = new Set<Socket>();
  const allowed = (req: IncomingMessage) => {
    if (!expected || req.headers['proxy-authorization'] === expected) return true;
    log.refused++;
    return false;
  };
  const server = createServer((req, res) => {
    log.requests.push(`${req.method} ${req.url}`);
    if (!allowed(req)) return void res.writeHead(407, { 'proxy-authenticate': 'Basic realm="p"' }).end();
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest(target, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    log.requests.push(`CONNECT ${req.url}`);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (!allowed(req)) return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
    const [host, port] = (req.url ?? '').split(':');
    const up = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(log, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
