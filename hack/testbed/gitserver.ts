// A Git smart-HTTP server: the real `git http-backend` run as CGI behind basic auth, on loopback.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { run } from './proc.ts';

/** Environment for git commands that ignores the user's and the system's configuration. */
export const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export interface GitHttpServer {
  /** Base URL without credentials, e.g. http://127.0.0.1:PORT */
  url: string;
  root: string;
  username: string;
  password: string;
  /** Creates a bare repository (default branch main, push allowed) and returns its clone URL. */
  createRepo(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function startGitHttpServer(
  root: string,
  username = 'tide',
  password = 'tide-secret',
  /** Sees every authenticated request before it is served (the benchmarks count fetches). */
  onRequest?: (req: IncomingMessage) => void,
): Promise<GitHttpServer> {
  await mkdir(root, { recursive: true });
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="tide-test"' }).end('authentication required\n');
      return;
    }
    onRequest?.(req);
    serveCgi(root, username, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    root,
    username,
    password,
    async createRepo(name) {
      const dir = join(root, `${name}.git`);
      await run('git', ['init', '-q', '--bare', '-b', 'main', dir]);
      await run('git', ['-C', dir, 'config', 'http.receivepack', 'true']);
      return `${url}/${name}.git`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function serveCgi(root: string, user: string, req: IncomingMessage, res: ServerResponse) {
  const u = new URL(req.url ?? '/', 'http://x');
  const cgi = spawn('git', ['http-backend'], {
    env: {
      ...process.env,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(u.pathname),
      QUERY_STRING: u.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      REMOTE_USER: user,
      REMOTE_ADDR: req.socket.remoteAddress ?? '',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      CONTENT_LENGTH: req.headers['content-length'] ?? '',
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
    },
  });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      const key = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (key.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(key, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  cgi.on('close', () => {
    if (!headersDone) res.writeHead(502).end('git http-backend gave no response\n');
    else res.end();
  });
  cgi.on('error', () => res.headersSent || res.writeHead(500).end());
}
