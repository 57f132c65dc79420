// Forged webhooks, oversize bodies, path traversal, garbage and slow clients at every HTTP endpoint Tide
// serves, with the controllers as processes on the test bed: the notification-controller's event intake
// and webhook receiver, the source-controller's artifact server, every controller's metrics and health
// endpoints, and the dashboard. Each is refused with a 4xx (or the connection is dropped) and nothing
// happens: no object annotated, no file served from outside the storage, no body read whole.
// (The helm-controller's API gateway exists only during a helm run, on a random loopback port with a
// per-run token: test/unit/helm-controller/gateway-abuse.test.ts.)

import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RECEIVER_TYPES } from '../../../controllers/api/kinds.ts';
import { Annotations, ConditionTypes } from '../../../controllers/api/names.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { freePort, poll } from '../../../hack/testbed/proc.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { type Served, serve } from '../../support/browser.ts';
import { type ControllerProcess, startController } from '../../support/controllers.ts';
import { ensureCrds } from '../../support/crds.ts';
import { rawRequest, request, rssOf, slowLoris, streamBody, type Target } from '../../support/httpabuse.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';

const MiB = 1024 * 1024;
const receiverApiVersion = 'notification.toolkit.fluxcd.io/v1';
const gitApiVersion = 'source.toolkit.fluxcd.io/v1';

interface Endpoint {
  name: string;
  target: Target;
  process: () => ControllerProcess;
}

describe('abuse: every HTTP endpoint refuses hostile requests', function () {
  this.timeout(300_000);
  const ns = useNamespace('abuse-http');
  let client: Client;
  const procs: Record<string, ControllerProcess> = {};
  const ports: Record<string, number> = {};
  let storage = '';
  let uiToken = '';
  let ui: Served | undefined;

  const port = async (key: string) => {
    ports[key] = await freePort();
    return `127.0.0.1:${ports[key]}`;
  };
  const at = (key: string): Target => ({ port: ports[key] ?? 0 });

  before(async function () {
    this.timeout(180_000);
    await ensureCrds();
    const tb = testbed();
    client = createClient(tb.kubeconfig, { fieldManager: 'tide-test' });
    const tools = await toolPaths(['helm', 'kustomize', 'sops']);
    const work = await mkdtemp(join(tb.dir, 'abuse-http-'));
    storage = join(work, 'storage');
    await mkdir(storage);
    const common = async (name: string) => [
      `--metrics-addr=${await port(`${name}-metrics`)}`,
      `--health-addr=${await port(`${name}-health`)}`,
    ];
    const tokenFile = join(work, 'tokens.csv');
    uiToken = createHash('sha256').update(`${process.pid}-ui`).digest('hex');
    await writeFile(tokenFile, `${uiToken},admin,admin,system:masters\n`);
    const started = await Promise.all([
      startController('source', [
        ...(await common('source')),
        `--storage-path=${storage}`,
        `--storage-addr=${await port('artifacts')}`,
      ]),
      startController('kustomize', [
        ...(await common('kustomize')),
        `--kustomize-path=${tools.kustomize}`,
        `--sops-path=${tools.sops}`,
      ]),
      startController('helm', [
        ...(await common('helm')),
        `--helm-path=${tools.helm}`,
        `--kustomize-path=${tools.kustomize}`,
      ]),
      startController('image-reflector', [
        ...(await common('image-reflector')),
        `--storage-path=${join(work, 'tags')}`,
      ]),
      startController('image-automation', await common('image-automation')),
      startController('notification', [
        ...(await common('notification')),
        `--events-addr=${await port('events')}`,
        `--receiverAddr=${await port('receiver')}`,
      ]),
    ]);
    for (const [i, name] of controllers.entries()) procs[name] = started[i] as ControllerProcess;
    // The dashboard as it runs in a cluster (controllers/ui/main.ts), signing in with a token file.
    ui = await serve(
      [
        'controllers/ui/main.ts',
        `--listen-address=${await port('ui')}`,
        '--auth-mode=token',
        `--token-file=${tokenFile}`,
        `--watch-namespace=${ns()}`,
        `--kustomize-path=${tools.kustomize}`,
        `--sops-path=${tools.sops}`,
      ],
      { KUBECONFIG: tb.controlPlane.kubeconfig },
      (line) => (line.includes('dashboard serving') ? 'ok' : undefined),
    );
    // Every endpoint answers before the tests start.
    for (const key of Object.keys(ports)) {
      const path = key.endsWith('-health') ? '/healthz' : key === 'ui' ? '/healthz' : '/';
      await poll(
        `${key} listening`,
        90_000,
        async () => ((await request(at(key), 'GET', path)).status ? true : undefined),
        500,
      );
    }
  });
  after(async () => {
    await Promise.all([...Object.values(procs).map((p) => p.stop()), ui?.stop()]);
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [name, p] of Object.entries(procs))
      console.error(`--- ${name} ---\n${p.logs().split('\n').slice(-20).join('\n')}`);
    console.error(`--- ui ---\n${ui?.output().split('\n').slice(-20).join('\n')}`);
  });

  const controllers = ['source', 'kustomize', 'helm', 'image-reflector', 'image-automation', 'notification'];
  const metricsAndHealth = (): Endpoint[] =>
    controllers.flatMap((c) => [
      { name: `${c} metrics`, target: at(`${c}-metrics`), process: () => procs[c] as ControllerProcess },
      { name: `${c} health`, target: at(`${c}-health`), process: () => procs[c] as ControllerProcess },
    ]);

  describe('metrics and health endpoints of every controller', () => {
    it('serve GET, and refuse other methods on /metrics', async () => {
      for (const c of controllers) {
        assert.equal((await request(at(`${c}-metrics`), 'GET', '/metrics')).status, 200, c);
        assert.equal((await request(at(`${c}-health`), 'GET', '/healthz')).status, 200, c);
        assert.equal((await request(at(`${c}-health`), 'GET', '/readyz')).status, 200, c);
        for (const method of ['POST', 'PUT', 'DELETE']) {
          const r = await request(at(`${c}-metrics`), method, '/metrics', 'x=1');
          assert.ok(r.status >= 400 && r.status < 500, `${c} ${method} /metrics: ${r.status}`);
        }
        assert.equal((await request(at(`${c}-metrics`), 'GET', '/../../etc/passwd')).status, 404, c);
      }
    });

    it('answer garbage with 400 and keep serving', async () => {
      for (const e of metricsAndHealth()) {
        const r = await rawRequest(e.target, '\u0000\u0001GARBAGE \u00ff\r\n\r\n');
        assert.equal(r.status, 400, `${e.name}: ${r.response.slice(0, 60)}`);
        const header = await rawRequest(e.target, `GET /healthz HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n`);
        assert.equal(header.status, 400, e.name);
      }
      for (const c of controllers)
        assert.equal((await request(at(`${c}-metrics`), 'GET', '/metrics')).status, 200);
    });

    it('do not read a 50 MiB body: the connection ends before it is sent, RSS stays flat', async () => {
      for (const e of metricsAndHealth()) {
        const pid = e.process().child.pid ?? 0;
        const before = await rssOf(pid);
        const path = e.name.endsWith('metrics') ? '/metrics' : '/healthz';
        const r = await streamBody(e.target, path, 50 * MiB);
        assert.ok(r.sent < 50 * MiB, `${e.name} read the whole body`);
        const grown = (await rssOf(pid)) - before;
        assert.ok(grown < 32 * MiB, `${e.name}: RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
      }
    });
  });

  describe('the source-controller artifact server', () => {
    before(async () => {
      await writeFile(join(storage, '..', 'outside.txt'), 'secret outside the storage\n');
      await mkdir(join(storage, 'gitrepository', 'ns', 'repo'), { recursive: true });
      await writeFile(join(storage, 'gitrepository', 'ns', 'repo', 'a.tar.gz'), 'artifact');
      await symlink(
        join(storage, '..', 'outside.txt'),
        join(storage, 'gitrepository', 'ns', 'repo', 'link.tar.gz'),
      );
    });

    it('serves a stored artifact (the control case)', async () => {
      const r = await request(at('artifacts'), 'GET', '/gitrepository/ns/repo/a.tar.gz');
      assert.equal(r.status, 200);
      assert.match(r.response, /\r\n\r\nartifact$/);
    });

    for (const path of [
      '/../outside.txt',
      '/gitrepository/../../outside.txt',
      '/%2e%2e/outside.txt',
      '/%2E%2E%2Foutside.txt',
      '/gitrepository/ns/repo/..%2f..%2f..%2f..%2foutside.txt',
      '/..%5coutside.txt',
      '//outside.txt',
      '/gitrepository/ns/repo/link.tar.gz',
      '/gitrepository/ns/repo/a.tar.gz%00.txt',
      '/etc/passwd',
      '/.tmp-artifact',
      '/gitrepository/',
    ]) {
      it(`answers 404 to GET ${path}`, async () => {
        const r = await rawRequest(
          at('artifacts'),
          `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
        );
        assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
        assert.doesNotMatch(r.response, /secret outside/);
      });
    }

    it('answers an absolute-form or asterisk target without serving outside the storage', async () => {
      for (const target of ['http://x/../outside.txt', '/../../../../../../etc/passwd', '*']) {
        const r = await rawRequest(
          at('artifacts'),
          `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
        );
        assert.ok(r.status >= 400 && r.status < 500, `${target}: ${r.status}`);
        assert.doesNotMatch(r.response, /secret outside|root:/);
      }
    });

    it('answers 405 to every method but GET and HEAD, and leaves the file as it was', async () => {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        const r = await request(at('artifacts'), method, '/gitrepository/ns/repo/a.tar.gz', 'overwritten');
        assert.equal(r.status, 405, method);
      }
      const r = await request(at('artifacts'), 'GET', '/gitrepository/ns/repo/a.tar.gz');
      assert.match(r.response, /\r\n\r\nartifact$/);
    });

    it('does not read a 50 MiB upload', async () => {
      const r = await streamBody(at('artifacts'), '/gitrepository/ns/repo/a.tar.gz', 50 * MiB);
      assert.equal(r.status, 405);
      assert.ok(r.sent < 50 * MiB);
    });
  });

  describe('the notification-controller event intake', () => {
    it('refuses other methods (405), non-events (400) and a 50 MiB body (413, unread)', async () => {
      assert.equal((await request(at('events'), 'GET', '/')).status, 405);
      assert.equal((await request(at('events'), 'POST', '/', '{"not":"an event"')).status, 400);
      assert.equal(
        (await request(at('events'), 'POST', '/', 'x', { 'content-length': String(50 * MiB) })).status,
        413,
      );
      const r = await streamBody(at('events'), '/', 50 * MiB, { 'content-type': 'application/json' });
      assert.equal(r.status, 413);
      assert.ok(r.sent < 50 * MiB, `the client sent all ${r.sent} bytes`);
    });
  });

  describe('the notification-controller webhook receiver', () => {
    const token = 'receiver-token-0123456789';
    const target = 'target';
    const requested = async () => {
      const git = await client.get({
        apiVersion: gitApiVersion,
        kind: 'GitRepository',
        namespace: ns(),
        name: target,
      });
      return git.metadata.annotations?.[Annotations.reconcileRequestedAt];
    };
    const paths: Record<string, string> = {};

    before(async function () {
      this.timeout(120_000);
      await client.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'webhook', namespace: ns() },
        stringData: { token, email: 'gcr@example.iam.gserviceaccount.com', audience: 'https://tide.example' },
      } as KubeObject);
      // Never reconciled here (no source-controller watches it being annotated): only the annotation counts.
      await client.create({
        apiVersion: gitApiVersion,
        kind: 'GitRepository',
        metadata: { name: target, namespace: ns() },
        spec: { url: 'https://example.invalid/repo.git', interval: '10m', suspend: true },
      } as KubeObject);
      // generic-oidc is refused (Stalled, UnsupportedField): it never takes a call.
      const types = RECEIVER_TYPES.filter((t) => t !== 'generic-oidc');
      for (const type of types)
        await client.create({
          apiVersion: receiverApiVersion,
          kind: 'Receiver',
          metadata: { name: type, namespace: ns() },
          spec: {
            type,
            secretRef: { name: 'webhook' },
            resources: [{ apiVersion: gitApiVersion, kind: 'GitRepository', name: target }],
          },
        } as KubeObject);
      for (const type of types)
        paths[type] = await poll(`Receiver ${type} ready`, 60_000, async () => {
          const r = await client.get({
            apiVersion: receiverApiVersion,
            kind: 'Receiver',
            namespace: ns(),
            name: type,
          });
          const ready = (r.status?.conditions as { type: string; status: string }[] | undefined)?.find(
            (c) => c.type === ConditionTypes.Ready,
          );
          return ready?.status === 'True' ? (r.status?.webhookPath as string) : undefined;
        });
    });

    const body = JSON.stringify({ ref: 'refs/heads/main', repository: { full_name: 'org/repo' } });
    const hmac = (alg: string, key: string) => createHmac(alg, key).update(body).digest('hex');
    const forged: [string, Record<string, string>][] = [
      ['generic-hmac', { 'x-signature': `sha256=${hmac('sha256', 'not-the-token')}` }],
      ['generic-hmac', {}],
      [
        'github',
        {
          'x-hub-signature-256': `sha256=${hmac('sha256', 'not-the-token')}`,
          'x-github-event': 'push',
          'content-type': 'application/json',
        },
      ],
      ['github', { 'x-github-event': 'push', 'content-type': 'application/json' }],
      ['gitlab', { 'x-gitlab-token': 'not-the-token', 'x-gitlab-event': 'Push Hook' }],
      [
        'bitbucket',
        {
          'x-hub-signature': `sha256=${hmac('sha256', 'not-the-token')}`,
          'x-event-key': 'repo:push',
          'content-type': 'application/json',
        },
      ],
      ['harbor', { authorization: 'not-the-token' }],
      ['nexus', { 'x-nexus-webhook-signature': hmac('sha1', 'not-the-token') }],
      ['gcr', { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6Im1lQGV2aWwifQ.c2ln' }],
      ['cdevents', { 'ce-type': 'not.a.cdevent' }],
    ];
    for (const [type, headers] of forged) {
      it(`answers a forged ${type} call with 400 and annotates nothing (${Object.keys(headers).join(', ') || 'no signature'})`, async () => {
        const r = await request(at('receiver'), 'POST', paths[type] ?? '', body, headers);
        assert.equal(r.status, 400, `${type}: ${r.response.slice(0, 60)}`);
        assert.equal(await requested(), undefined);
      });
    }

    it('answers a guessed path for the types authenticated by their path alone with 404', async () => {
      for (const type of ['generic', 'dockerhub', 'quay', 'acr']) {
        const guess = `/hook/${createHash('sha256').update(`guess${type}${ns()}`).digest('hex')}`;
        assert.equal((await request(at('receiver'), 'POST', guess, body)).status, 404, type);
      }
      assert.equal((await request(at('receiver'), 'POST', '/hook/../metrics', body)).status, 404);
      assert.equal((await request(at('receiver'), 'POST', '/', body)).status, 404);
      assert.equal(await requested(), undefined);
    });

    it('answers 413 to a 50 MiB body before authenticating it, and annotates nothing', async () => {
      const r = await streamBody(at('receiver'), paths['generic-hmac'] ?? '', 50 * MiB);
      assert.equal(r.status, 413);
      assert.ok(r.sent < 50 * MiB, `the client sent all ${r.sent} bytes`);
      assert.equal(await requested(), undefined);
    });

    it('takes a correctly signed call (the control case)', async () => {
      const r = await request(at('receiver'), 'POST', paths['generic-hmac'] ?? '', body, {
        'x-signature': `sha256=${hmac('sha256', token)}`,
      });
      assert.equal(r.status, 200);
      assert.ok(await requested());
    });
  });

  describe('the dashboard', () => {
    const auth = () => ({ authorization: `Bearer ${uiToken}` });
    const reconcile = () => `/api/objects/GitRepository/${ns()}/target/actions/reconcile`;

    it('refuses the API without a session or with a wrong token (401)', async () => {
      assert.equal((await request(at('ui'), 'GET', '/api/session')).status, 401);
      assert.equal(
        (await request(at('ui'), 'GET', '/api/session', '', { authorization: 'Bearer nope' })).status,
        401,
      );
      assert.equal((await request(at('ui'), 'GET', '/api/session', '', auth())).status, 200);
    });

    it('refuses a write without the x-tide-request header (CSRF) with 403', async () => {
      const r = await request(at('ui'), 'POST', reconcile(), '{}', {
        ...auth(),
        'content-type': 'application/json',
      });
      assert.equal(r.status, 403);
      assert.match(r.response, /x-tide-request/);
    });

    it('refuses a sign-in form posted from another site (403) and a wrong token (401)', async () => {
      const form = `token=${uiToken}`;
      const headers = { 'content-type': 'application/x-www-form-urlencoded' };
      const cross = await request(at('ui'), 'POST', '/login', form, {
        ...headers,
        origin: 'https://evil.example',
      });
      assert.equal(cross.status, 403);
      assert.doesNotMatch(cross.response, /set-cookie/i);
      assert.equal((await request(at('ui'), 'POST', '/login', 'token=wrong', headers)).status, 401);
      const own = await request(at('ui'), 'POST', '/login', form, {
        ...headers,
        origin: `http://127.0.0.1:${ports.ui}`,
      });
      assert.equal(own.status, 303);
      assert.match(own.response, /set-cookie: tide_session=/i);
    });

    it('answers 413 to an oversize sign-in form and action body, without reading them', async () => {
      const requestedAt = async () => {
        const git = await client.get({
          apiVersion: gitApiVersion,
          kind: 'GitRepository',
          namespace: ns(),
          name: 'target',
        });
        return git.metadata.annotations?.[Annotations.reconcileRequestedAt];
      };
      const before = await requestedAt();
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const login = await streamBody(at('ui'), '/login', 50 * MiB, form);
      assert.equal(login.status, 413);
      assert.ok(login.sent < 50 * MiB);
      const action = await streamBody(at('ui'), reconcile(), 50 * MiB, { ...auth(), 'x-tide-request': '1' });
      assert.equal(action.status, 413);
      assert.ok(action.sent < 50 * MiB);
      assert.equal(await requestedAt(), before);
    });

    it('answers a path outside the API with the page, never a file', async () => {
      for (const path of ['/assets/../../../../etc/passwd', '/assets/%2e%2e%2f%2e%2e%2fpackage.json']) {
        const r = await request(at('ui'), 'GET', path, '', auth());
        assert.doesNotMatch(r.response, /root:|"name": "tide"/, path);
      }
    });
  });

  it('drops slow-loris clients at every endpoint', async function () {
    this.timeout(120_000);
    const keys = Object.keys(ports);
    const results = await Promise.all(keys.map((k) => slowLoris(at(k), 500)));
    for (const [i, r] of results.entries()) {
      assert.ok(r.bytes > 0, `${keys[i]}: the client had started trickling`);
      assert.equal(r.status, 408, `${keys[i]}: ${r.response.slice(0, 60)}`);
    }
  });
});
