// A TCP relay on loopback that a test can cut and restore: connections through it see the target go
// away (every open socket is destroyed, new ones are closed at once) while other clients still reach
// the target directly. Used to hold a controller's watch down for as long as a test needs, or, with a
// delay, to slow a controller's API traffic so that a fault lands in the middle of its work.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TcpProxy {
  /** 127.0.0.1:<port> of the relay. */
  port: number;
  /** Drops every relayed connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  /** Bytes relayed from the target to clients so far. */
  bytesFromTarget(): number;
  /** Holds every chunk this long before relaying it (0: none); order is kept. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/** Pipes from → to, each chunk held `delay()` ms first. */
function relay(from: Socket, to: Socket, delay: () => number): void {
  let chain = Promise.resolve();
  from.on('data', (chunk: Buffer) => {
    const ms = delay();
    if (ms === 0) {
      chain = chain.then(() => void to.write(chunk));
      return;
    }
    chain = chain.then(async () => {
      await sleep(ms);
      if (!to.destroyed) to.write(chunk);
    });
  });
  from.on('end', () => void chain.then(() => to.end()));
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let cut = false;
  let delayMs = 0;
  let fromTarget = 0;
  const server: Server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream, () => delayMs);
    relay(upstream, client, () => delayMs);
    upstream.on('data', (chunk: Buffer) => {
      fromTarget += chunk.length;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    cut() {
      cut = true;
      for (const s of open) s.destroy();
    },
    restore() {
      cut = false;
    },
    bytesFromTarget: () => fromTarget,
    setDelay(ms) {
      delayMs = ms;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
