// Index and chart downloads against loopback HTTP(S) servers: status handling, limits, redirects,
// where credentials go, custom CAs and client certificates.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { isHelmError } from '../../../controllers/runtime/helm/errors.ts';
import { downloadChart, parseIndex } from '../../../controllers/source/helm/index.ts';
import { fetchIndex, indexArtifact } from '../../../controllers/source/helm/repository.ts';
import { close, listen } from '../../support/listen.ts';

const exec = promisify(execFile);

const CHART = Buffer.from('not really a chart, but bytes with a digest');
const CHART_HEX = createHash('sha256').update(CHART).digest('hex');
const index = (chartUrl: string, digest = CHART_HEX) =>
  `apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    digest: ${digest}\n    urls: [${chartUrl}]\n`;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isHelmError(err, code as never), `expected a ${code} HelmError, got: ${err}`);
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /s3cret/, 'the password must not appear in messages');
    return true;
  });
}

describe('source/helm HTTP: fetchIndex and downloadChart', function () {
  this.timeout(30_000);
  let base: string;
  let other: string;
  const servers: Server[] = [];
  const seenAuth: Record<string, string | undefined> = {};

  const routes: Record<string, Handler> = {
    '/repo/index.yaml': (_req, res) => res.end(index('app-1.0.0.tgz')),
    '/repo/app-1.0.0.tgz': (_req, res) => res.end(CHART),
    '/baddigest/index.yaml': (_req, res) => res.end(index('../repo/app-1.0.0.tgz', 'ab'.repeat(32))),
    '/err/index.yaml': (_req, res) => res.writeHead(500).end('boom'),
    '/html/index.yaml': (_req, res) => res.end('<html><body>Welcome to nginx!</body></html>'),
    '/big/index.yaml': (_req, res) => res.end('x'.repeat(1000)),
    '/chunked/index.yaml': (_req, res) => {
      res.write('x'.repeat(600));
      res.end('x'.repeat(600));
    },
    '/gzip/index.yaml': (_req, res) =>
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(index('app-1.0.0.tgz'))),
    '/slow/index.yaml': () => {},
    '/moved/index.yaml': (_req, res) => res.writeHead(302, { location: '/repo/index.yaml' }).end(),
  };

  before(async () => {
    const main = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seenAuth[`main${path}`] = req.headers.authorization;
      const route = routes[path];
      if (route) route(req, res);
      else res.writeHead(404).end();
    });
    const second = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seenAuth[`other${path}`] = req.headers.authorization;
      if (path === '/app-1.0.0.tgz') res.end(CHART);
      else if (path === '/index.yaml')
        res.writeHead(302, { location: `http://${base}/repo/index.yaml` }).end();
      else res.writeHead(404).end();
    });
    servers.push(main, second);
    base = await listen(main);
    other = await listen(second);
    // The main server also serves an index whose chart lives on the second server.
    routes['/elsewhere/index.yaml'] = (_req, res) => res.end(index(`http://${other}/app-1.0.0.tgz`));
    routes['/hop/index.yaml'] = (_req, res) =>
      res.writeHead(302, { location: `http://${other}/index.yaml` }).end();
  });
  after(() => Promise.all(servers.map(close)));

  it('fetches index.yaml under the URL, with its digest as revision and index-<hex>.yaml as file', async () => {
    for (const url of [`http://${base}/repo`, `http://${base}/repo/`]) {
      const got = await fetchIndex(url);
      const served = index('app-1.0.0.tgz');
      assert.equal(got.url, `http://${base}/repo/index.yaml`);
      assert.equal(got.bytes.toString(), served);
      const hex = createHash('sha256').update(served).digest('hex');
      assert.equal(got.digest, `sha256:${hex}`);
      assert.deepEqual(got.index, parseIndex(served));
      const artifact = indexArtifact(got);
      assert.equal(artifact.revision, `sha256:${hex}`);
      assert.equal(artifact.fileName, `index-${hex}.yaml`);
      assert.deepEqual(parseIndex(artifact.data), got.index);
    }
  });

  it('says what went wrong: no index, server error, not an index', async () => {
    await rejectsWith(
      fetchIndex(`http://${base}/missing`),
      'NotFound',
      new RegExp(`^no index.yaml at http://${base}/missing/index.yaml \\(404 Not Found\\)$`),
    );
    await rejectsWith(
      fetchIndex(`http://${base}/err`),
      'HttpStatus',
      /failed to fetch .*\/err\/index.yaml: 500 Internal Server Error/,
    );
    await rejectsWith(
      fetchIndex(`http://${base}/html`),
      'InvalidIndex',
      /not a Helm repository index: not a YAML map \(http:.*\/html\/index.yaml\)/,
    );
  });

  it('enforces the size limit with and without Content-Length', async () => {
    await rejectsWith(
      fetchIndex(`http://${base}/big`, { maxBytes: 100 }),
      'TooLarge',
      /repository index at .* exceeds the size limit of 100 bytes/,
    );
    await rejectsWith(
      fetchIndex(`http://${base}/chunked`, { maxBytes: 1000 }),
      'TooLarge',
      /exceeds the size limit of 1000 bytes/,
    );
  });

  it('times out and reports unreachable hosts', async () => {
    await rejectsWith(
      fetchIndex(`http://${base}/slow`, { timeoutMs: 300 }),
      'Timeout',
      /timed out after 0.3s fetching .*\/slow\/index.yaml/,
    );
    const closed = createServer();
    const addr = await listen(closed);
    await close(closed);
    await rejectsWith(
      fetchIndex(`http://${addr}/`),
      'Unreachable',
      new RegExp(`connection refused by ${addr}`),
    );
    await rejectsWith(
      fetchIndex('http://no-such-host.invalid/'),
      'Unreachable',
      /host 'no-such-host.invalid' (not found|could not be resolved)/,
    );
  });

  it('follows redirects and decodes a gzip response', async () => {
    assert.deepEqual((await fetchIndex(`http://${base}/moved`)).index.entries.app?.[0]?.version, '1.0.0');
    assert.equal((await fetchIndex(`http://${base}/gzip`)).bytes.toString(), index('app-1.0.0.tgz'));
  });

  it('sends credentials to the repository host only, unless passCredentials', async () => {
    const creds = { username: 'u', password: 's3cret' };
    const basic = `Basic ${Buffer.from('u:s3cret').toString('base64')}`;
    await fetchIndex(`http://${base}/repo`, creds);
    assert.equal(seenAuth['main/repo/index.yaml'], basic);

    // A redirect to another port is another host.
    await fetchIndex(`http://${base}/hop`, creds);
    assert.equal(seenAuth['main/hop/index.yaml'], basic);
    assert.equal(seenAuth['other/index.yaml'], undefined);

    const { index: idx } = await fetchIndex(`http://${base}/elsewhere`, creds);
    const cv = idx.entries.app?.[0];
    assert.ok(cv);
    await downloadChart(`http://${base}/elsewhere`, cv, creds);
    assert.equal(seenAuth['other/app-1.0.0.tgz'], undefined);
    await downloadChart(`http://${base}/elsewhere`, cv, { ...creds, passCredentials: true });
    assert.equal(seenAuth['other/app-1.0.0.tgz'], basic);
  });

  it('downloads a chart by its relative URL and verifies the index digest', async () => {
    const { index: idx } = await fetchIndex(`http://${base}/repo`);
    const got = await downloadChart(`http://${base}/repo`, idx.entries.app?.[0] as never);
    assert.equal(got.url, `http://${base}/repo/app-1.0.0.tgz`);
    assert.ok(got.data.equals(CHART));
    assert.equal(got.digest, `sha256:${CHART_HEX}`);

    const { index: bad } = await fetchIndex(`http://${base}/baddigest`);
    const cv = bad.entries.app?.[0];
    assert.ok(cv);
    await rejectsWith(
      downloadChart(`http://${base}/baddigest`, cv),
      'DigestMismatch',
      new RegExp(`has digest sha256:${CHART_HEX}, but the repository index says sha256:${'ab'.repeat(32)}`),
    );
    assert.ok(
      (await downloadChart(`http://${base}/baddigest`, cv, { verifyDigest: false })).data.equals(CHART),
    );
    await rejectsWith(
      downloadChart(`http://${base}/repo`, { ...cv, urls: ['nope.tgz'] }),
      'NotFound',
      /chart 'app' 1.0.0 not found at/,
    );
    await rejectsWith(
      downloadChart(`http://${base}/repo`, { ...cv, urls: [] }),
      'InvalidIndex',
      /has no downloadable URLs/,
    );
  });

  describe('TLS', () => {
    let dir: string;
    let pem: Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', Buffer>;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tide-helm-tls-'));
      const ossl = (args: string[]) => exec('openssl', args, { cwd: dir });
      const subj = (cn: string) => ['-subj', `/CN=${cn}`];
      await ossl([
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '2',
        ...subj('tide-test-ca'),
      ]);
      for (const [name, ext] of [
        ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
        ['client', 'extendedKeyUsage=clientAuth\n'],
      ] as const) {
        await ossl([
          'req',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.csr`,
          ...subj(name),
        ]);
        await exec('sh', ['-c', `printf '${ext}' > ${name}.ext`], { cwd: dir });
        await ossl([
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-days',
          '2',
          '-out',
          `${name}.crt`,
          '-extfile',
          `${name}.ext`,
        ]);
      }
      const read = (f: string) => readFile(join(dir, f));
      pem = {
        ca: await read('ca.crt'),
        serverCert: await read('server.crt'),
        serverKey: await read('server.key'),
        clientCert: await read('client.crt'),
        clientKey: await read('client.key'),
      };
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('trusts a custom CA when given, and says so when verification fails', async () => {
      const server = createTlsServer({ cert: pem.serverCert, key: pem.serverKey }, (_req, res) =>
        res.end(index('a.tgz')),
      );
      const addr = await listen(server);
      try {
        await rejectsWith(
          fetchIndex(`https://${addr}/`),
          'Unreachable',
          /TLS verification of 127.0.0.1:\d+ failed .*provide the repository's CA certificate/,
        );
        const got = await fetchIndex(`https://${addr}/`, { caCert: pem.ca });
        assert.equal(got.index.entries.app?.[0]?.version, '1.0.0');
      } finally {
        await close(server);
      }
    });

    it('presents a client certificate for mutual TLS', async () => {
      const server = createTlsServer(
        { cert: pem.serverCert, key: pem.serverKey, ca: pem.ca, requestCert: true, rejectUnauthorized: true },
        (_req, res) => res.end(index('a.tgz')),
      );
      const addr = await listen(server);
      try {
        await assert.rejects(fetchIndex(`https://${addr}/`, { caCert: pem.ca }), (err: unknown) =>
          isHelmError(err, 'Unreachable'),
        );
        const got = await fetchIndex(`https://${addr}/`, {
          caCert: pem.ca,
          clientCert: pem.clientCert,
          clientKey: pem.clientKey,
        });
        assert.equal(got.index.entries.app?.[0]?.version, '1.0.0');
      } finally {
        await close(server);
      }
    });
  });
});
