// An HTTP relay in front of the test bed's Git server that can run a step just before a client learns
// the refs it is about to push to: a test makes "someone else" push right between a controller's
// clone and its push, deterministically.
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Relays one request to `target` as is (Host rewritten), calling `onResponse` with the upstream answer. */
export function forwardTo(
  target: URL,
  req: IncomingMessage,
  res: ServerResponse,
  onResponse?: (upstream: IncomingMessage) => void,
): void {
  const up = request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
    },
    (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
      onResponse?.(ur);
    },
  );
  up.on('error', () => res.destroy());
  req.pipe(up);
}

export interface GitProxy {
  /** Base URL (no credentials), e.g. http://127.0.0.1:PORT; repositories keep their paths. */
  url: string;
  /**
   * Runs `fn` once, at the next push's ref advertisement (GET info/refs?service=git-receive-pack),
   * before the server answers it.
   */
  beforeNextPush(fn: () => Promise<void>): void;
  /** Runs `fn` once, when the server has answered the next push (POST git-receive-pack): it landed. */
  afterNextPush(fn: () => Promise<void>): void;
  /** Pushes seen so far (ref advertisements for receive-pack). */
  pushes: number;
  close(): Promise<void>;
}

export async function startGitProxy(upstream: string): Promise<GitProxy> {
  const target = new URL(upstream);
  let hook: (() => Promise<void>) | undefined;
  let after: (() => Promise<void>) | undefined;
  const proxy: GitProxy = {
    url: '',
    pushes: 0,
    beforeNextPush: (fn) => {
      hook = fn;
    },
    afterNextPush: (fn) => {
      after = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const forward = () =>
      forwardTo(target, req, res, (ur) => {
        if (req.method === 'POST' && req.url?.endsWith('/git-receive-pack') && after) {
          const step = after;
          after = undefined;
          ur.on('end', () => void step().catch(() => {}));
        }
      });
    const advertisement = req.method === 'GET' && req.url?.includes('service=git-receive-pack');
    if (!advertisement) return forward();
    proxy.pushes++;
    const step = hook;
    hook = undefined;
    if (!step) return forward();
    req.pause();
    step().then(
      () => {
        req.resume();
        forward();
      },
      () => res.writeHead(500).end('the test step before the push failed\n'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
