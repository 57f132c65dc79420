// Faults a test injects around Tide: a controller killed like a pod dies (the process and everything it
// started, SIGKILL), and an HTTP relay in front of a Git server, registry or chart repository that can go
// down, answer 500, or answer too slowly.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { forwardTo } from './gitproxy.ts';
import { withDescendants } from './sockets.ts';

/** SIGKILLs pid and all its descendants (a container's processes die together); resolves once gone. */
export async function killTree(pid: number): Promise<void> {
  for (const p of (await withDescendants([pid])).reverse()) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * pass: forward; down: nothing listens on the port (connections are refused); error: every request is
 * answered 500; slow: every answer is held back `slowMs` before it is forwarded.
 */
export type FaultMode = 'pass' | 'down' | 'error' | 'slow';

export interface FaultProxy {
  /** Base URL, e.g. http://127.0.0.1:PORT; paths are kept. */
  readonly url: string;
  /** host:port of the relay (image references). */
  readonly host: string;
  mode(): FaultMode;
  set(mode: FaultMode, opts?: { slowMs?: number }): Promise<void>;
  /** Requests seen (answered or not) since the proxy started. */
  requests: number;
  close(): Promise<void>;
}

/** An HTTP relay on loopback in front of `upstream` (http://host:port), on a port of its own. */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  let mode: FaultMode = 'pass';
  let slowMs = 30_000;
  const sockets = new Set<Socket>();
  const held = new Set<NodeJS.Timeout>();
  let port = 0;
  let server: Server | undefined;

  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    proxy.requests++;
    if (mode === 'error') {
      req.resume();
      res.writeHead(500, { 'content-type': 'text/plain' }).end('injected failure\n');
      return;
    }
    const forward = () => forwardTo(target, req, res);
    if (mode !== 'slow') return forward();
    req.pause();
    const t = setTimeout(() => {
      held.delete(t);
      req.resume();
      forward();
    }, slowMs);
    held.add(t);
    res.on('close', () => {
      clearTimeout(t);
      held.delete(t);
    });
  };

  const listen = async () => {
    const s = createServer(handler);
    s.on('connection', (sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    // The same port again after "down": clients keep their URLs.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(port, '127.0.0.1', () => {
            s.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (err) {
        if (attempt > 50) throw err;
        await sleep(100);
      }
    }
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    for (const t of held) clearTimeout(t);
    held.clear();
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests: 0,
    mode: () => mode,
    async set(next, opts = {}) {
      if (opts.slowMs !== undefined) slowMs = opts.slowMs;
      if (next === mode) return;
      const was = mode;
      mode = next;
      if (next === 'down') await stop();
      else if (was === 'down') await listen();
      // Leaving a fault: connections kept alive through it start afresh.
      if (next === 'pass') for (const sock of sockets) sock.destroySoon();
    },
    close: stop,
  };
  return proxy;
}
