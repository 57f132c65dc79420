// Connections of the HTTP client through a proxy: a CONNECT tunnel through an HTTP(S) proxy, or a
// SOCKS5 one (RFC 1928, with the username/password method of RFC 1929). Each ends with a socket to
// the target over which the client speaks HTTP, or TLS then HTTP. Failures are TunnelErrors carrying
// the HttpError kind they stand for; they never contain the proxy's credentials.
import { isIP, connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { HttpErrorKind } from './http.ts';

/** A proxy as dialled: where it is and its credentials. */
export interface ProxyEndpoint {
  protocol: 'http:' | 'https:' | 'socks5:';
  hostname: string;
  port: number;
  username: string;
  password: string;
  /** The Proxy-Authorization header of an HTTP proxy, when there are credentials. */
  authorization: string | undefined;
}

/** A failure of the proxy or of a new connection, before any HTTP exchange; `kind` is the HttpError's. */
export class TunnelError extends Error {
  override name = 'TunnelError';
  readonly kind: HttpErrorKind;
  readonly code: string | undefined;
  constructor(kind: HttpErrorKind, message: string, code?: string) {
    super(message);
    this.kind = kind;
    this.code = code;
  }
}

/** IPv6 literals come bracketed out of URLs; sockets want them bare. */
export const bareHost = (host: string) => (host.startsWith('[') ? host.slice(1, -1) : host);

/** Opens a connection to the proxy itself: TCP, or TLS (trusting the system roots) for https://. */
export function dialProxy(proxy: ProxyEndpoint): Duplex {
  const host = bareHost(proxy.hostname);
  const { port } = proxy;
  if (proxy.protocol !== 'https:') return netConnect({ host, port, noDelay: true });
  return tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ALPNProtocols: ['http/1.1'] });
}

/**
 * Writes `out`, then reads until `complete` says how many bytes the answer took (undefined: more
 * needed). Reads in paused mode so that, once done, the next reader of the socket (the HTTP parser or
 * TLS) gets every byte after the answer.
 */
function exchange(
  socket: Duplex,
  out: string | Buffer,
  complete: (buf: Buffer) => number | undefined,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = () => {
      socket.removeListener('readable', read);
      socket.removeListener('error', reject);
      socket.removeListener('end', ended);
      socket.removeListener('close', ended);
    };
    const ended = () => {
      done();
      reject(new TunnelError('Proxy', 'the proxy closed the connection during the handshake'));
    };
    function read() {
      for (
        let chunk = socket.read() as Buffer | null;
        chunk !== null;
        chunk = socket.read() as Buffer | null
      ) {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        let n: number | undefined;
        try {
          n = complete(buf);
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (n === undefined) continue;
        done();
        if (buf.length > n) socket.unshift(buf.subarray(n));
        resolve(buf.subarray(0, n));
        return;
      }
    }
    socket.on('readable', read);
    socket.once('error', reject);
    socket.once('end', ended);
    socket.once('close', ended);
    socket.write(out);
  });
}

const maxConnectAnswer = 16 * 1024;

/** `CONNECT host:port` through an HTTP proxy; any 2xx opens the tunnel, anything else is refused. */
export async function connectTunnel(
  socket: Duplex,
  proxy: ProxyEndpoint,
  host: string,
  port: number,
): Promise<void> {
  const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const auth = proxy.authorization ? `Proxy-Authorization: ${proxy.authorization}\r\n` : '';
  const answer = await exchange(
    socket,
    `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`,
    (buf) => {
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) return end + 4;
      if (buf.length > maxConnectAnswer)
        throw new TunnelError('Proxy', 'the proxy answered CONNECT with oversized headers');
      return undefined;
    },
  );
  const status = /^HTTP\/1\.[01] (\d{3}) ?([^\r\n]*)/.exec(answer.toString('latin1'));
  if (!status) throw new TunnelError('Proxy', 'the proxy answered CONNECT with something other than HTTP');
  const code = Number(status[1]);
  if (code < 200 || code > 299) {
    throw new TunnelError(
      'Proxy',
      `the proxy refused the tunnel to ${target}: ${code} ${status[2]}`.trimEnd(),
    );
  }
}

const SOCKS_VERSION = 5;
const NO_AUTH = 0x00;
const USERNAME_PASSWORD = 0x02;
const NO_ACCEPTABLE_METHOD = 0xff;

/** SOCKS5 replies about the target rather than the proxy, as the socket error they stand for. */
const socksNetworkReplies: Record<number, [string, string]> = {
  3: ['network unreachable', 'ENETUNREACH'],
  4: ['host unreachable', 'EHOSTUNREACH'],
  5: ['connection refused', 'ECONNREFUSED'],
  6: ['TTL expired', 'ETIMEDOUT'],
};
const socksProxyReplies: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  7: 'command not supported',
  8: 'address type not supported',
};

/** The 16 bytes of an IPv6 address (already validated by isIP). */
function ipv6Bytes(ip: string): Buffer {
  const groups = (s: string) =>
    s
      ? s.split(':').flatMap((g) => {
          if (!g.includes('.')) return [Number.parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        })
      : [];
  const [head = '', tail] = ip.replace(/%.*$/, '').split('::');
  const before = groups(head);
  const after = tail === undefined ? [] : groups(tail);
  const all = [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => {
    out.writeUInt16BE(g, i * 2);
  });
  return out;
}

/** ATYP and DST.ADDR: IP literals as addresses, names as names (the proxy resolves them, as Go's does). */
function socksAddress(host: string): Buffer {
  const family = isIP(host);
  if (family === 4) return Buffer.from([1, ...host.split('.').map(Number)]);
  if (family === 6) return Buffer.concat([Buffer.from([4]), ipv6Bytes(host)]);
  const name = Buffer.from(host);
  if (name.length > 255) throw new TunnelError('Proxy', 'host name too long for SOCKS5');
  return Buffer.concat([Buffer.from([3, name.length]), name]);
}

/** VER REP RSV ATYP BND.ADDR BND.PORT: its length once ATYP (and a name's length) arrived. */
function socksReplyLength(buf: Buffer): number | undefined {
  if (buf.length < 5) return undefined;
  const atyp = buf[3];
  const len = atyp === 1 ? 10 : atyp === 4 ? 22 : atyp === 3 ? 7 + (buf[4] ?? 0) : -1;
  if (len < 0)
    throw new TunnelError('Proxy', `the SOCKS5 proxy answered with an unknown address type ${atyp}`);
  return buf.length >= len ? len : undefined;
}

const two = (buf: Buffer) => (buf.length >= 2 ? 2 : undefined);

/** The SOCKS5 handshake: method negotiation, username/password when the proxy asks, CONNECT. */
export async function socksTunnel(
  socket: Duplex,
  proxy: ProxyEndpoint,
  host: string,
  port: number,
): Promise<void> {
  const credentials = proxy.username !== '';
  const methods = credentials ? [NO_AUTH, USERNAME_PASSWORD] : [NO_AUTH];
  const chosen = await exchange(socket, Buffer.from([SOCKS_VERSION, methods.length, ...methods]), two);
  if (chosen[0] !== SOCKS_VERSION) throw new TunnelError('Proxy', 'the proxy does not speak SOCKS5');
  const method = chosen[1];
  if (method === USERNAME_PASSWORD && credentials) {
    const user = Buffer.from(proxy.username);
    const pass = Buffer.from(proxy.password);
    if (user.length > 255 || pass.length > 255)
      throw new TunnelError('Proxy', 'SOCKS5 username and password are limited to 255 bytes each');
    const auth = Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]);
    const status = await exchange(socket, auth, two);
    if (status[1] !== 0) throw new TunnelError('Proxy', 'the SOCKS5 proxy refused the credentials');
  } else if (method !== NO_AUTH) {
    throw new TunnelError(
      'Proxy',
      method === NO_ACCEPTABLE_METHOD
        ? `the SOCKS5 proxy accepts none of the offered authentication methods${credentials ? '' : ' (no credentials given)'}`
        : `the SOCKS5 proxy chose an authentication method that was not offered (${method})`,
    );
  }
  const connect = Buffer.concat([
    Buffer.from([SOCKS_VERSION, 1, 0]),
    socksAddress(host),
    Buffer.from([port >> 8, port & 0xff]),
  ]);
  const reply = await exchange(socket, connect, socksReplyLength);
  const rep = reply[1] ?? -1;
  if (rep === 0) return;
  const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const network = socksNetworkReplies[rep];
  if (network)
    throw new TunnelError('Network', `the SOCKS5 proxy could not reach ${target}: ${network[0]}`, network[1]);
  throw new TunnelError(
    'Proxy',
    `the SOCKS5 proxy refused ${target}: ${socksProxyReplies[rep] ?? `reply ${rep}`}`,
  );
}
