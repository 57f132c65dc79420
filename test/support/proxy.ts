// A small HTTP proxy on loopback that records what goes through it: CONNECT tunnels (https://
// remotes) and absolute-form requests (http:// remotes), optionally behind basic proxy
// authentication. Only loopback targets are served. Also a TLS terminator, to put an https://
// address in front of a plain HTTP test server.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

export interface ProxiedRequest {
  /** CONNECT, or the forwarded request's method. */
  method: string;
  /** host:port for CONNECT, the absolute URL otherwise. */
  target: string;
  /** Whether the request carried the expected credentials (always true without auth). */
  authorized: boolean;
}

export interface TestProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

/** `CONNECT host:port` or `GET http://host:port/path`, in arrival order. */
export const requestLines = (p: TestProxy): string[] => p.requests.map((r) => `${r.method} ${r.target}`);

/** Requests refused for missing or wrong credentials. */
export const refusedCount = (p: TestProxy): number => p.requests.filter((r) => !r.authorized).length;

const loopback = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '[::1]';

export async function startProxy(auth?: { username: string; password: string }): Promise<TestProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const expected = auth && `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const authorized = (req: IncomingMessage) => !expected || req.headers['proxy-authorization'] === expected;
  // The connection is closed after a 407: the client retries on a new one, with credentials.
  const challenge =
    'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="tide-test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };

  const server: Server = createServer((req, res) => {
    const ok = authorized(req);
    requests.push({ method: req.method ?? '', target: req.url ?? '', authorized: ok });
    if (!ok) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="tide-test"' }).end();
      return;
    }
    const target = new URL(req.url ?? '');
    if (!loopback(target.hostname)) {
      res.writeHead(403).end('only loopback targets\n');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = request(target, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.headersSent || res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    const ok = authorized(req);
    requests.push({ method: 'CONNECT', target: req.url ?? '', authorized: ok });
    if (!ok) {
      client.end(challenge);
      return;
    }
    const [host = '', port = ''] = (req.url ?? '').split(/:(?=\d+$)/);
    if (!loopback(host)) {
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = connect(Number(port), host === 'localhost' ? '127.0.0.1' : host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** TLS on loopback in front of a plain TCP port (the certificate must be valid for 127.0.0.1). */
export async function startTlsTerminator(
  targetPort: number,
  cert: { certFile: string; keyFile: string },
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTlsServer(
    { cert: await readFile(cert.certFile), key: await readFile(cert.keyFile) },
    (tlsSocket) => {
      const plain = connect(targetPort, '127.0.0.1');
      tlsSocket.pipe(plain).pipe(tlsSocket);
      for (const s of [tlsSocket, plain]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          tlsSocket.destroy();
          plain.destroy();
        });
      }
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
