// A static file server on loopback: a Helm chart repository (index.yaml plus .tgz files) for the tests
// and the benchmarks.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves root on 127.0.0.1; with `auth`, only to requests with those basic-auth credentials. */
export async function startStaticServer(
  root: string,
  auth?: { username: string; password: string },
): Promise<StaticServer> {
  const expected = auth && `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const server = createServer(async (req, res) => {
    if (expected && req.headers.authorization !== expected) {
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="charts"' }).end();
    }
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path));
    if (!file.startsWith(root + sep)) return void res.writeHead(404).end();
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) return void res.writeHead(404).end('not found\n');
    res.writeHead(200, { 'content-length': st.size });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
