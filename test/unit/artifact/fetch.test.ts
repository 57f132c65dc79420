import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  ArtifactNotFoundError,
  DigestMismatchError,
  isArtifactError,
  SizeLimitError,
} from '../../../controllers/runtime/artifact/errors.ts';
import { type FetchOptions, fetchArtifact } from '../../../controllers/runtime/artifact/fetch.ts';
import { serveArtifacts } from '../../../controllers/runtime/artifact/server.ts';
import { createStorage } from '../../../controllers/runtime/artifact/storage.ts';
import { tempDirs, writeTree } from './support.ts';

const FAST = { backoff: { minMs: 5, maxMs: 20 }, timeoutMs: 2000 } satisfies Partial<FetchOptions>;
const FILES = { 'deploy/app.yaml': 'kind: ConfigMap\n', 'README.md': '# hi\n' };

async function listen(handler: RequestListener): Promise<{ port: number; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

describe('artifact/fetch', () => {
  const tmp = tempDirs();
  const servers: Server[] = [];
  let tarball: Buffer;
  let digest: string;

  beforeEach(async () => {
    // A real artifact, built by the storage as source-controller would.
    const storage = createStorage({ basePath: await tmp.make(), hostname: 'x' });
    const src = await tmp.make();
    await writeTree(src, FILES);
    const a = await storage.archive(storage.artifactFor('GitRepository', 'ns', 'app', 'r', 'a.tar.gz'), src);
    tarball = await readFile(storage.localPath(a));
    digest = a.digest;
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await close(s);
    await tmp.cleanup();
  });

  // A server answering with the given statuses in turn, then with the tarball; counts requests.
  async function flaky(statuses: number[], body: Buffer = tarball, chunked = false) {
    let hits = 0;
    const { port, server } = await listen((_req, res) => {
      const status = statuses[hits++];
      if (status !== undefined) return void res.writeHead(status).end('nope');
      res.writeHead(200, chunked ? {} : { 'content-length': body.length });
      res.end(body);
    });
    servers.push(server);
    return { url: `http://127.0.0.1:${port}/gitrepository/ns/app/a.tar.gz`, hits: () => hits };
  }

  async function expectFiles(dest: string): Promise<void> {
    for (const [rel, content] of Object.entries(FILES))
      assert.equal(await readFile(join(dest, rel), 'utf8'), content);
  }

  it('downloads from the artifact server, verifies and extracts', async () => {
    const storage = createStorage({ basePath: await tmp.make(), hostname: 'x' });
    const src = await tmp.make();
    await writeTree(src, FILES);
    const a = await storage.archive(storage.artifactFor('GitRepository', 'ns', 'app', 'r', 'a.tar.gz'), src);
    const srv = await serveArtifacts({ storage, addr: '127.0.0.1:0' });
    try {
      const url = createStorage({
        basePath: storage.basePath,
        hostname: `127.0.0.1:${srv.port}`,
      }).setArtifactUrl(a).url;
      const dest = join(await tmp.make(), 'out');
      const r = await fetchArtifact(url, { ...FAST, digest: a.digest, dest });
      assert.equal(r.size, a.size);
      assert.equal(r.extracted.files, 2);
      await expectFiles(dest);
    } finally {
      await srv.close();
    }
  });

  it('accepts a bare hex digest as sha256', async () => {
    const { url } = await flaky([]);
    const dest = join(await tmp.make(), 'out');
    await fetchArtifact(url, { ...FAST, digest: digest.replace('sha256:', ''), dest });
    await expectFiles(dest);
  });

  it('refuses an artifact whose digest differs, and extracts nothing', async () => {
    const { url } = await flaky([]);
    const dest = join(await tmp.make(), 'out');
    const other = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(
      fetchArtifact(url, { ...FAST, digest: other, dest }),
      (e) => e instanceof DigestMismatchError && e.expected === other && e.actual === digest,
    );
    await assert.rejects(readdir(dest), { code: 'ENOENT' });
    await assert.rejects(fetchArtifact(url, { ...FAST, digest: 'md5:abc', dest }), /unsupported digest/);
  });

  it('retries 5xx and 429 answers, then succeeds', async () => {
    const { url, hits } = await flaky([503, 500, 429]);
    const dest = join(await tmp.make(), 'out');
    await fetchArtifact(url, { ...FAST, digest, dest, retries: 3 });
    assert.equal(hits(), 4);
    await expectFiles(dest);
  });

  it('gives up after the retries', async () => {
    const { url, hits } = await flaky([503, 503, 503, 503]);
    await assert.rejects(
      fetchArtifact(url, { ...FAST, digest, dest: join(await tmp.make(), 'out'), retries: 2 }),
      (e) => isArtifactError(e) && e.code === 'FetchFailed' && /after 3 attempt\(s\).*503/.test(e.message),
    );
    assert.equal(hits(), 3);
  });

  it('does not retry a 404, reported as ArtifactNotFoundError', async () => {
    const { url, hits } = await flaky([404]);
    await assert.rejects(
      fetchArtifact(url, { ...FAST, digest, dest: join(await tmp.make(), 'out') }),
      ArtifactNotFoundError,
    );
    assert.equal(hits(), 1);
  });

  it('retries connection errors', async () => {
    const { port, server } = await listen(() => {});
    await close(server); // nothing listens there any more
    const started = Date.now();
    await assert.rejects(
      fetchArtifact(`http://127.0.0.1:${port}/x.tar.gz`, {
        ...FAST,
        digest,
        dest: join(await tmp.make(), 'out'),
        retries: 2,
      }),
      (e) => isArtifactError(e) && /after 3 attempt/.test(e.message),
    );
    assert.ok(Date.now() - started >= 5 + 10, 'backed off between attempts');
  });

  it('enforces the download size limit, trusting neither Content-Length nor its absence', async () => {
    const dest = join(await tmp.make(), 'out');
    const declared = await flaky([]);
    await assert.rejects(
      fetchArtifact(declared.url, { ...FAST, digest, dest, maxDownloadBytes: tarball.length - 1 }),
      SizeLimitError,
    );
    assert.equal(declared.hits(), 1, 'a size error is not retried');
    const chunked = await flaky([], tarball, true);
    await assert.rejects(
      fetchArtifact(chunked.url, { ...FAST, digest, dest, maxDownloadBytes: tarball.length - 1 }),
      SizeLimitError,
    );
    await assert.rejects(readdir(dest), { code: 'ENOENT' });
    await fetchArtifact(chunked.url, { ...FAST, digest, dest, maxDownloadBytes: tarball.length });
    await expectFiles(dest);
  });

  it('enforces the extracted size limit', async () => {
    const { url } = await flaky([]);
    const total = Object.values(FILES).reduce((n, c) => n + c.length, 0);
    await assert.rejects(
      fetchArtifact(url, { ...FAST, digest, dest: join(await tmp.make(), 'out'), maxUntarBytes: total - 1 }),
      (e) => e instanceof SizeLimitError && /extracted/.test(e.message),
    );
    await fetchArtifact(url, { ...FAST, digest, dest: join(await tmp.make(), 'out'), maxUntarBytes: total });
  });

  it('times out a stalled attempt and retries it', async () => {
    let hits = 0;
    const { port, server } = await listen((_req, res) => {
      if (hits++ === 0) return; // never answers
      res.writeHead(200, { 'content-length': tarball.length }).end(tarball);
    });
    servers.push(server);
    const dest = join(await tmp.make(), 'out');
    await fetchArtifact(`http://127.0.0.1:${port}/a.tar.gz`, {
      ...FAST,
      timeoutMs: 200,
      digest,
      dest,
      retries: 1,
    });
    assert.equal(hits, 2);
    await expectFiles(dest);
  });

  it('replaces the host with SOURCE_CONTROLLER_LOCALHOST', async () => {
    const { url } = await flaky([]);
    const local = new URL(url).host;
    const inCluster = url.replace(local, 'source-controller.flux-system.svc.cluster.local.');
    const saved = process.env.SOURCE_CONTROLLER_LOCALHOST;
    process.env.SOURCE_CONTROLLER_LOCALHOST = local;
    try {
      const dest = join(await tmp.make(), 'out');
      const r = await fetchArtifact(inCluster, { ...FAST, digest, dest, retries: 0 });
      assert.equal(r.url, url);
      await expectFiles(dest);
    } finally {
      if (saved === undefined) delete process.env.SOURCE_CONTROLLER_LOCALHOST;
      else process.env.SOURCE_CONTROLLER_LOCALHOST = saved;
    }
  });
});
