// A small HTTP proxy on loopback that records what goes through it: CONNECT tunnels (https://
// remotes) and absolute-form requests (http:// remotes), optionally behind basic proxy
// authentication; a SOCKS5 proxy likewise (RFC 1928, username/password of RFC 1929). Only loopback
// targets are served. Also a TLS terminator, to put an https:// address in front of a plain HTTP test
// server.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, isIP, type Socket } from 'node:net';
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

/** Reads exact byte counts off a socket; `detach` stops reading and returns what came beyond. */
function byteReader(socket: Socket) {
  let buf = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    wake?.();
  };
  const onEnd = () => wake?.();
  socket.on('data', onData).on('close', onEnd);
  return {
    async take(n: number): Promise<Buffer> {
      while (buf.length < n) {
        if (socket.destroyed) throw new Error('client went away');
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    },
    detach(): Buffer {
      socket.removeListener('data', onData).removeListener('close', onEnd);
      return buf;
    },
  };
}

/** DST.ADDR of a SOCKS5 request, as text: IPv4, [IPv6] or the name. */
async function socksTarget(read: ReturnType<typeof byteReader>): Promise<string> {
  const [atyp] = await read.take(1);
  if (atyp === 1) return [...(await read.take(4))].join('.');
  if (atyp === 4) return `[${((await read.take(16)).toString('hex').match(/.{4}/g) ?? []).join(':')}]`;
  const [len = 0] = await read.take(1);
  return (await read.take(len)).toString();
}

/**
 * A SOCKS5 proxy on loopback: CONNECT only, to loopback targets; with `auth`, only the username/password
 * method and those credentials. Requests record `CONNECT host:port` as the client sent the address;
 * refused credentials (or no acceptable method) record an unauthorized CONNECT with no target.
 */
export async function startSocksProxy(auth?: { username: string; password: string }): Promise<TestProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const reply = (code: number) => Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
  const refuse = (client: Socket, answer: number[]) => {
    requests.push({ method: 'CONNECT', target: '', authorized: false });
    client.end(Buffer.from(answer));
  };

  async function handshake(client: Socket): Promise<void> {
    const read = byteReader(client);
    const [, count = 0] = await read.take(2);
    const methods = [...(await read.take(count))];
    const method = auth ? 2 : 0;
    if (!methods.includes(method)) return refuse(client, [5, 0xff]);
    client.write(Buffer.from([5, method]));
    if (auth) {
      const [, ulen = 0] = await read.take(2);
      const username = (await read.take(ulen)).toString();
      const [plen = 0] = await read.take(1);
      const password = (await read.take(plen)).toString();
      if (username !== auth.username || password !== auth.password) return refuse(client, [1, 1]);
      client.write(Buffer.from([1, 0]));
    }
    await read.take(3); // VER CMD RSV: CONNECT assumed
    const host = await socksTarget(read);
    const port = (await read.take(2)).readUInt16BE(0);
    requests.push({ method: 'CONNECT', target: `${host}:${port}`, authorized: true });
    const rest = read.detach();
    const address = host === 'localhost' ? '127.0.0.1' : host;
    if (!(isIP(address) === 4 && address.startsWith('127.'))) return void client.end(reply(2));
    const upstream = connect(port, address, () => {
      client.write(reply(0));
      upstream.write(rest);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => client.end(reply(5)));
    client.on('close', () => upstream.destroy());
  }

  const server = createTcpServer((client) => {
    track(client);
    handshake(client).catch(() => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `socks5://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
