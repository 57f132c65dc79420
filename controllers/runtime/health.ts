// Liveness (/healthz) and readiness (/readyz) endpoints, as controller-runtime serves them on :9440.
// Each endpoint runs its named checks; 200 "ok" when all pass, 500 listing every check otherwise.
import { type Listener, listen } from './listen.ts';

/** Passes with true; fails with false or a message. */
export type HealthCheck = () => boolean | string | Promise<boolean | string>;

export interface HealthChecks {
  healthz: Record<string, HealthCheck>;
  readyz: Record<string, HealthCheck>;
}

export type HealthServer = Listener;

async function runChecks(checks: Record<string, HealthCheck>): Promise<{ ok: boolean; text: string }> {
  const lines: string[] = [];
  let ok = true;
  for (const [name, check] of Object.entries(checks)) {
    let result: boolean | string;
    try {
      result = await check();
    } catch (err) {
      result = (err as Error).message || 'error';
    }
    if (result === true) lines.push(`[+]${name} ok`);
    else {
      ok = false;
      lines.push(`[-]${name} failed: ${result === false ? 'not ready' : result}`);
    }
  }
  return { ok, text: `${lines.join('\n')}\n` };
}

/** Serves the checks on addr (`:9440`, `127.0.0.1:0`); resolves once listening. */
export async function serveHealth(addr: string, checks: HealthChecks): Promise<HealthServer> {
  return listen(addr, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '');
    const set = path === '/healthz' ? checks.healthz : path === '/readyz' ? checks.readyz : undefined;
    if (!set) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    runChecks(set).then(({ ok, text }) => {
      const verbose = url.searchParams.has('verbose');
      res
        .writeHead(ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8' })
        .end(ok && !verbose ? 'ok\n' : text);
    });
  });
}
