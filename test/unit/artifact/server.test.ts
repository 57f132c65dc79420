import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { type ArtifactServer, serveArtifacts } from '../../../controllers/runtime/artifact/server.ts';
import { createStorage, type Storage } from '../../../controllers/runtime/artifact/storage.ts';
import { parseListenAddress } from '../../../controllers/runtime/listen.ts';
import { tempDirs } from './support.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

// Raw requests: the path goes on the wire exactly as written (fetch would normalize `..` away).
function send(
  port: number,
  path: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const TARBALL = 'gitrepository/flux-system/podinfo/0123abcd.tar.gz';

describe('artifact/server', () => {
  const tmp = tempDirs();
  let storage: Storage;
  let server: ArtifactServer;
  let outside: string;
  let missing: string[];

  beforeEach(async () => {
    const work = await tmp.make();
    outside = join(work, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'SECRET');
    storage = createStorage({ basePath: join(work, 'storage'), hostname: 'localhost' });
    await storage.writeBytes({ path: TARBALL, url: '', revision: '' }, 'tarball bytes');
    await storage.writeBytes(
      { path: 'helmrepository/ns/repo/index-abc.yaml', url: '', revision: '' },
      'entries: {}\n',
    );
    await storage.writeBytes({ path: 'bucket/ns/b/blob', url: '', revision: '' }, 'blob');
    const dir = join(storage.basePath, 'gitrepository/flux-system/podinfo');
    await writeFile(join(dir, '.tmp-inflight'), 'partial');
    await symlink(join(outside, 'secret.txt'), join(dir, 'escape.tar.gz'));
    await symlink(outside, join(storage.basePath, 'outdir'));
    missing = [];
    server = await serveArtifacts({ storage, addr: '127.0.0.1:0', onNotFound: (p) => missing.push(p) });
  });
  afterEach(async () => {
    await server.close();
    await tmp.cleanup();
  });

  it('serves a file with its length, type and ETag', async () => {
    const r = await send(server.port, `/${TARBALL}`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'tarball bytes');
    assert.equal(r.headers['content-length'], '13');
    assert.equal(r.headers['content-type'], 'application/gzip');
    assert.match(String(r.headers.etag), /^"[0-9a-f]+-d-[0-9a-f]+"$/);

    assert.equal(
      (await send(server.port, '/helmrepository/ns/repo/index-abc.yaml')).headers['content-type'],
      'text/yaml',
    );
    assert.equal(
      (await send(server.port, '/bucket/ns/b/blob')).headers['content-type'],
      'application/octet-stream',
    );
    // Query strings do not change what is served.
    assert.equal((await send(server.port, `/${TARBALL}?x=1`)).body, 'tarball bytes');
  });

  it('answers HEAD with the headers only', async () => {
    const r = await send(server.port, `/${TARBALL}`, 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '13');
    assert.ok(r.headers.etag);
    assert.equal(r.body, '');
  });

  it('answers 304 to a matching If-None-Match, and changes the ETag when the file is replaced', async () => {
    const { headers } = await send(server.port, `/${TARBALL}`);
    const etag = String(headers.etag);
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const r = await send(server.port, `/${TARBALL}`, 'GET', { 'if-none-match': inm });
      assert.equal(r.status, 304, inm);
      assert.equal(r.body, '');
      assert.equal(r.headers.etag, etag);
    }
    assert.equal((await send(server.port, `/${TARBALL}`, 'GET', { 'if-none-match': '"other"' })).status, 200);

    await storage.writeBytes({ path: TARBALL, url: '', revision: '' }, 'tarball bytes'); // same size, new file
    const again = await send(server.port, `/${TARBALL}`, 'GET', { 'if-none-match': etag });
    assert.equal(again.status, 200);
    assert.notEqual(again.headers.etag, etag);
  });

  it('answers 404 for unknown files and directories, without listings', async () => {
    for (const path of [
      '/',
      '/gitrepository',
      '/gitrepository/',
      '/gitrepository/flux-system/podinfo',
      '/gitrepository/flux-system/podinfo/',
      '/gitrepository/flux-system/podinfo/missing.tar.gz',
      '/nothing',
    ]) {
      const r = await send(server.port, path);
      assert.equal(r.status, 404, path);
      assert.ok(!r.body.includes('0123abcd'), `no listing at ${path}`);
    }
  });

  it('tells which valid path was not found, and nothing of requests it could not resolve', async () => {
    await send(server.port, '/gitrepository/flux-system/podinfo/missing.tar.gz');
    await send(server.port, '/gitrepository/flux-system/podinfo/../../../etc/passwd');
    await send(server.port, '/gitrepository/flux-system/podinfo/.tmp-x');
    await send(server.port, `/${TARBALL}`);
    assert.deepEqual(missing, ['gitrepository/flux-system/podinfo/missing.tar.gz']);
  });

  it('answers 404 to every way out of the storage, and for temp files', async () => {
    for (const path of [
      '/../outside/secret.txt',
      '/gitrepository/../../outside/secret.txt',
      '/%2e%2e/outside/secret.txt',
      '/%2E%2E/%2e%2e/outside/secret.txt',
      '/..%2foutside%2fsecret.txt',
      '/gitrepository%2f..%2f..%2foutside%2fsecret.txt',
      '/..%5coutside%5csecret.txt',
      '//etc/passwd',
      '/%2Fetc%2Fpasswd',
      '/./gitrepository/flux-system/podinfo/0123abcd.tar.gz',
      '/gitrepository/flux-system/podinfo/escape.tar.gz',
      '/outdir/secret.txt',
      '/gitrepository/flux-system/podinfo/.tmp-inflight',
      '/%zz',
      `http://127.0.0.1/../outside/secret.txt`,
    ]) {
      const r = await send(server.port, path);
      assert.equal(r.status, 404, path);
      assert.ok(!r.body.includes('SECRET'), path);
    }
  });

  it('refuses other methods with 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await send(server.port, `/${TARBALL}`, method);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
  });

  it('parses listen addresses like Go', () => {
    assert.deepEqual(parseListenAddress(':9090'), { host: undefined, port: 9090 });
    assert.deepEqual(parseListenAddress('127.0.0.1:9090'), { host: '127.0.0.1', port: 9090 });
    assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.throws(() => parseListenAddress('9090'), /invalid listen address/);
    assert.throws(() => parseListenAddress('host:99999'), /invalid listen address/);
  });

  it('listens on all interfaces for :port and serves from basePath', async () => {
    const all = await serveArtifacts({ basePath: storage.basePath, addr: ':0' });
    try {
      assert.equal((await send(all.port, `/${TARBALL}`)).body, 'tarball bytes');
    } finally {
      await all.close();
    }
  });
});
