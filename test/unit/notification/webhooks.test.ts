// Webhook authentication by Receiver type, Google ID tokens for gcr, the webhook path, the bounded
// request body, and the requestedAt value written on the resources.
import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { createServer, request } from 'node:http';
import { createGcrVerifier } from '../../../controllers/notification/gcr.ts';
import { webhookPath } from '../../../controllers/notification/receiver.ts';
import { goTimeString } from '../../../controllers/notification/receiver-server.ts';
import {
  validateWebhook,
  verifySignature,
  type WebhookAuth,
} from '../../../controllers/notification/webhooks.ts';
import { BodyTooLargeError, readBody } from '../../../controllers/runtime/httpbody.ts';
import { close, listen } from '../../support/listen.ts';

const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', repository: { name: 'app' } }));
const hmac = (alg: string, key: string, b: Buffer | string = body) =>
  createHmac(alg, key).update(b).digest('hex');
const unusedGcr = { verify: async () => assert.fail('not a gcr receiver') };
const auth = (type: string, over: Partial<WebhookAuth> = {}): WebhookAuth => ({
  type,
  token: 'tok',
  secret: {},
  events: [],
  gcr: unusedGcr,
  ...over,
});
const call = (headers: Record<string, string>, b = body) => ({ headers, body: b });
const json = { 'content-type': 'application/json' };

describe('notification: webhook authentication', () => {
  it('github: X-Hub-Signature-256 (or the SHA-1 header) over the body, and the event filter', async () => {
    const signed = {
      ...json,
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${hmac('sha256', 'tok')}`,
    };
    const ok = await validateWebhook(call(signed), auth('github', { events: ['Push'] }));
    assert.equal(ok.note, 'GitHub event: push');
    const sha1 = { ...json, 'x-github-event': 'push', 'x-hub-signature': `sha1=${hmac('sha1', 'tok')}` };
    await validateWebhook(call(sha1), auth('github'));
    await assert.rejects(
      validateWebhook(
        call({ ...signed, 'x-hub-signature-256': `sha256=${hmac('sha256', 'other')}` }),
        auth('github'),
      ),
      /signature check failed/,
    );
    await assert.rejects(
      validateWebhook(call({ ...json, 'x-github-event': 'push' }), auth('github')),
      /missing signature/,
    );
    await assert.rejects(
      validateWebhook(call(signed), auth('github', { events: ['release'] })),
      /GitHub event 'push' is not authorised/,
    );
    await assert.rejects(validateWebhook(call(signed), auth('github', { token: '' })), /token is empty/);
  });

  it('github: a form-encoded payload is signed as sent and read from its payload field', async () => {
    const form = Buffer.from(`payload=${encodeURIComponent(body.toString())}`);
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-hub-signature-256': `sha256=${hmac('sha256', 'tok', form)}`,
    };
    const ok = await validateWebhook(call(headers, form), auth('github'));
    assert.deepEqual(ok.body, body);
    await assert.rejects(
      validateWebhook(call({ ...headers, 'content-type': 'text/plain' }, form), auth('github')),
      /unsupported Content-Type/,
    );
  });

  it('gitlab and harbor compare the token header; generic-hmac and nexus check their HMACs', async () => {
    await validateWebhook(
      call({ 'x-gitlab-token': 'tok', 'x-gitlab-event': 'Push Hook' }),
      auth('gitlab', { events: ['push hook'] }),
    );
    await assert.rejects(validateWebhook(call({ 'x-gitlab-token': 'to' }), auth('gitlab')), /does not match/);
    await validateWebhook(call({ authorization: 'tok' }), auth('harbor'));
    await assert.rejects(
      validateWebhook(call({ authorization: 'Bearer tok' }), auth('harbor')),
      /does not match/,
    );
    await validateWebhook(call({ 'x-signature': `sha512=${hmac('sha512', 'tok')}` }), auth('generic-hmac'));
    await assert.rejects(
      validateWebhook(call({ 'x-signature': 'md5=00' }), auth('generic-hmac')),
      /unsupported signature/,
    );
    const nexus = Buffer.from('{"action":"CREATED","repositoryName":"charts"}');
    await validateWebhook(
      call({ 'x-nexus-webhook-signature': hmac('sha1', 'tok', nexus) }, nexus),
      auth('nexus'),
    );
    await assert.rejects(
      validateWebhook(call({ 'x-nexus-webhook-signature': 'ab' }, nexus), auth('nexus')),
      /invalid Nexus signature/,
    );
    const bitbucket = {
      ...json,
      'x-event-key': 'repo:refs_changed',
      'x-hub-signature': `sha256=${hmac('sha256', 'tok')}`,
    };
    assert.equal(
      (await validateWebhook(call(bitbucket), auth('bitbucket'))).note,
      'Bitbucket server event: repo:refs_changed',
    );
  });

  it('registries and generic take the secret path alone but need a payload that parses', async () => {
    await validateWebhook(call({}), auth('generic'));
    await validateWebhook(
      call({}, Buffer.from('{"docker_url":"quay.io/x","updated_tags":["1"]}')),
      auth('quay'),
    );
    await validateWebhook(
      call({}, Buffer.from('{"push_data":{"tag":"1"},"repository":{"repo_url":"x"}}')),
      auth('dockerhub'),
    );
    await validateWebhook(call({}, Buffer.from('{"target":{"repository":"x","tag":"1"}}')), auth('acr'));
    await assert.rejects(
      validateWebhook(call({}, Buffer.from('not json')), auth('quay')),
      /cannot decode Quay/,
    );
  });

  it('cdevents: a CDEvent with context and subject, filtered by Ce-Type', async () => {
    const cd = Buffer.from(
      JSON.stringify({
        context: {
          version: '0.4.1',
          id: '1',
          source: 'ci',
          type: 'dev.cdevents.artifact.published.0.2.0',
          timestamp: 'now',
        },
        subject: { id: 'pkg:oci/app', content: {} },
      }),
    );
    await validateWebhook(call({ 'ce-type': 'dev.cdevents.artifact.published.0.2.0' }, cd), auth('cdevents'));
    await assert.rejects(
      validateWebhook(
        call({ 'ce-type': 'x' }, cd),
        auth('cdevents', { events: ['dev.cdevents.artifact.published.0.2.0'] }),
      ),
      /not authorised/,
    );
    await assert.rejects(
      validateWebhook(call({}, Buffer.from('{"context":{}}')), auth('cdevents')),
      /unable to validate CDEvent/,
    );
  });

  it('refuses a type it cannot authenticate', async () => {
    await assert.rejects(
      validateWebhook(call({}), auth('generic-oidc')),
      /receiver type 'generic-oidc' not supported/,
    );
    assert.throws(() => verifySignature('sha256=00', body, 'tok'), /signature check failed/);
  });
});

describe('notification: gcr ID tokens', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1' };
  const now = 1_800_000_000_000;
  const jwt = (claims: Record<string, unknown>, kid = 'k1') => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const head = `${enc({ alg: 'RS256', kid })}.${enc(claims)}`;
    return `Bearer ${head}.${sign('RSA-SHA256', Buffer.from(head), privateKey).toString('base64url')}`;
  };
  const good = {
    iss: 'https://accounts.google.com',
    aud: 'https://hooks.example/gcr',
    email: 'push@project.iam.gserviceaccount.com',
    email_verified: true,
    exp: now / 1000 + 600,
    iat: now / 1000,
  };
  let fetches = 0;
  const verifier = createGcrVerifier({
    now: () => now,
    fetchKeys: async () => {
      fetches++;
      return { keys: [jwk] };
    },
  });
  const check = (token: string) => verifier.verify(token, good.email, good.aud);

  it('accepts a token Google signed for this audience and service account, and unwraps the event', async () => {
    await check(jwt(good));
    const data = Buffer.from(
      '{"action":"INSERT","digest":"gcr.io/p/app@sha256:1","tag":"gcr.io/p/app:1"}',
    ).toString('base64');
    const gcrAuth = auth('gcr', {
      secret: { email: Buffer.from(good.email), audience: Buffer.from(good.aud) },
      gcr: verifier,
    });
    const ok = await validateWebhook(
      call({ authorization: jwt(good) }, Buffer.from(JSON.stringify({ message: { data } }))),
      gcrAuth,
    );
    assert.deepEqual(JSON.parse(ok.body.toString()), {
      action: 'INSERT',
      digest: 'gcr.io/p/app@sha256:1',
      tag: 'gcr.io/p/app:1',
    });
    await assert.rejects(
      validateWebhook(call({ authorization: jwt(good) }), auth('gcr', { gcr: verifier })),
      /'email'/,
    );
  });

  it('refuses other audiences, issuers, emails, expired tokens, bad signatures, unknown keys', async () => {
    await assert.rejects(check(jwt({ ...good, aud: 'x' })), /audience is 'x'/);
    await assert.rejects(check(jwt({ ...good, iss: 'https://evil.example' })), /token issuer/);
    await assert.rejects(check(jwt({ ...good, email: 'other@x' })), /token email is 'other@x'/);
    await assert.rejects(check(jwt({ ...good, email_verified: false })), /not verified/);
    await assert.rejects(check(jwt({ ...good, exp: now / 1000 - 60 })), /expired/);
    const forged = jwt(good).replace(/\.[^.]+$/, `.${Buffer.from('forged').toString('base64url')}`);
    await assert.rejects(check(forged), /signature check failed/);
    const before = fetches;
    await assert.rejects(check(jwt(good, 'k2')), /unknown signing key 'k2'/);
    await assert.rejects(check(jwt(good, 'k3')), /unknown signing key 'k3'/);
    assert.equal(fetches, before, 'unknown key ids do not make it refetch more than once a minute');
    await assert.rejects(check('Basic x'), /missing or malformed/);
  });
});

describe('notification: receiver details', () => {
  it('derives the webhook path from token, name and namespace', () => {
    const digest = createHash('sha256').update('tokgithubflux-system').digest('hex');
    assert.equal(webhookPath('tok', 'github', 'flux-system'), `/hook/${digest}`);
  });

  it("writes requestedAt as Go's time String", () => {
    assert.equal(goTimeString(1_767_323_045_123_456_789n), '2026-01-02 03:04:05.123456789 +0000 UTC');
    assert.equal(goTimeString(1_767_323_045_000_000_000n), '2026-01-02 03:04:05 +0000 UTC');
  });

  it('bounds the request body: 413 by Content-Length or by what arrives', async () => {
    const server = createServer((req, res) => {
      readBody(req, 1024).then(
        (b) => res.writeHead(200).end(String(b.length)),
        (err) => res.writeHead(err instanceof BodyTooLargeError ? 413 : 400, { connection: 'close' }).end(),
      );
    });
    const addr = await listen(server);
    try {
      const send = (size: number, chunked: boolean) =>
        new Promise<number>((resolve) => {
          const req = request(
            `http://${addr}/`,
            { method: 'POST', headers: chunked ? {} : { 'content-length': size } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', () => resolve(-1));
          req.end(Buffer.alloc(size));
        });
      assert.equal(await send(1024, false), 200);
      assert.equal(await send(1025, false), 413);
      assert.equal(await send(4096, true), 413);
    } finally {
      await close(server);
    }
  });
});
