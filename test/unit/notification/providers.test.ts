// Each provider type against a loopback sink: the request it makes (URL, headers, payload) for an
// event, how it treats failures (retries on 5xx, not on 4xx; the token never in an error), and the
// commit status providers' repository, commit, state and duplicate check.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { parseGitAddress, splitCamelCase } from '../../../controllers/notification/providers/commitstatus.ts';
import { notifierFor } from '../../../controllers/notification/providers/index.ts';
import type { Notification, ProviderSettings } from '../../../controllers/notification/providers/types.ts';
import { httpClient } from '../../../controllers/runtime/http.ts';
import { type Answer, type Recorded, type Sink, startSink } from '../../support/sink.ts';
import { event, sha } from './fixtures.ts';

const notification = (over: Partial<Notification> = {}): Notification =>
  ({
    ...event(),
    metadata: { revision: `main@sha1:${sha}`, summary: 'prod cluster' },
    ...over,
  }) as Notification;

const settings = (type: string, address: string, over: Partial<ProviderSettings> = {}): ProviderSettings => ({
  type,
  address,
  http: httpClient(),
  retry: { max: 2, minMs: 5, maxMs: 20 },
  ...over,
});

const post = (s: ProviderSettings, n = notification()) => notifierFor(s).post(n, AbortSignal.timeout(10_000));

describe('notification: providers', () => {
  let sink: Sink;
  let answer: (r: Recorded) => Answer;
  before(async () => {
    sink = await startSink((r) => answer(r));
  });
  after(() => sink.close());
  beforeEach(() => {
    sink.requests.length = 0;
    answer = () => ({ status: 200 });
  });
  const only = () => {
    assert.equal(sink.requests.length, 1);
    return sink.requests[0] as Recorded;
  };

  it('slack: an attachment with the object, the message, the metadata, colour by severity', async () => {
    await post(settings('slack', `${sink.url}/services/x`, { channel: 'ops', token: 'xoxb-1' }));
    const r = only();
    assert.equal(r.headers.authorization, 'Bearer xoxb-1');
    assert.deepEqual(r.json(), {
      channel: 'ops',
      username: 'kustomize-controller',
      icon_url: '',
      icon_emoji: '',
      attachments: [
        {
          fallback: 'kustomization/apps.flux-system: kustomization path not found',
          color: 'danger',
          author_name: 'kustomization/apps.flux-system',
          text: 'kustomization path not found',
          mrkdwn_in: ['text'],
          fields: [
            { title: 'revision', value: `main@sha1:${sha}`, short: false },
            { title: 'summary', value: 'prod cluster', short: false },
          ],
        },
      ],
    });
  });

  it("slack: the Web API's ok:false is a failure; a webhook's 4xx fails without retries", async () => {
    answer = () => ({ status: 200, body: { ok: false, error: 'channel_not_found' } });
    await assert.rejects(post(settings('slack', `${sink.url}/api/chat.postMessage`)), /channel_not_found/);
    sink.requests.length = 0;
    answer = () => ({ status: 404, body: 'no_team' });
    await assert.rejects(post(settings('slack', `${sink.url}/hook`)), /status code 404: no_team/);
    assert.equal(sink.requests.length, 1, 'a 4xx is not retried');
  });

  it('retries 5xx with backoff up to the limit; the token never appears in the error', async () => {
    answer = () => ({ status: 503, body: 'down for token s3cr3t' });
    await assert.rejects(
      post(settings('slack', `${sink.url}/hook`, { token: 's3cr3t' })),
      (err: Error) => /giving up after 3 attempts/.test(err.message) && !err.message.includes('s3cr3t'),
    );
    assert.equal(sink.requests.length, 3);
    sink.requests.length = 0;
    let n = 0;
    answer = () => ({ status: ++n < 2 ? 500 : 200 });
    await post(settings('generic', `${sink.url}/hook`));
    assert.equal(sink.requests.length, 2, 'delivered on the retry');
  });

  it('keeps header values and Basic credentials a refusing server quotes out of errors', async () => {
    answer = (r) => ({ status: 401, body: `refused: ${r.headers['x-api-key'] ?? r.headers.authorization}` });
    const generic = settings('generic', `${sink.url}/hook`, {
      headers: { 'X-Api-Key': 'k3y-s3cr3t-value', 'X-Env': 'prod' },
    });
    await assert.rejects(post(generic), (err: Error) => {
      assert.match(err.message, /status code 401: refused: \*{5}$/);
      return true;
    });
    const grafana = settings('grafana', `${sink.url}/api/annotations`, {
      basic: { username: 'u', password: 'pa55w0rd' },
    });
    await assert.rejects(post(grafana), (err: Error) => {
      assert.match(err.message, /status code 401: refused: Basic \*{5}$/);
      return true;
    });
  });

  it('keeps a webhook URL from the Secret out of errors: its path is a credential', async () => {
    answer = () => ({ status: 400 });
    const s = settings('slack', `${sink.url}/services/T0/B0/s3cr3tpath`, { addressIsSecret: true });
    await assert.rejects(
      post(s),
      (err: Error) => /status code 400/.test(err.message) && !err.message.includes('s3cr3tpath'),
    );
    assert.throws(
      () => notifierFor({ ...s, address: 'not a url' }),
      (err: Error) => !err.message.includes('not a url'),
    );
  });

  it('stops retrying when the provider timeout runs out', async () => {
    answer = () => ({ status: 500 });
    const s = settings('generic', `${sink.url}/hook`, { retry: { max: 10, minMs: 200, maxMs: 200 } });
    await assert.rejects(
      notifierFor(s).post(notification(), AbortSignal.timeout(300)),
      /timed out while retrying/,
    );
    assert.ok(sink.requests.length < 10);
  });

  it('discord posts Slack attachments to the /slack endpoint; rocket keeps the channel', async () => {
    await post(settings('discord', `${sink.url}/api/webhooks/1/abc`));
    assert.equal(only().path, '/api/webhooks/1/abc/slack');
    sink.requests.length = 0;
    await post(settings('rocket', `${sink.url}/hooks/x`, { channel: 'ops', username: 'flux' }));
    const r = only().json();
    assert.equal(r.channel, 'ops');
    assert.equal(r.attachments[0].color, '#FF0000');
  });

  it('msteams sends an Adaptive Card, summary first; googlechat a card', async () => {
    await post(settings('msteams', `${sink.url}/workflows/x`));
    const card = only().json().attachments[0];
    assert.equal(card.contentType, 'application/vnd.microsoft.card.adaptive');
    const [title, message, facts] = card.content.body[0].items;
    assert.equal(title.text, 'kustomization/apps.flux-system');
    assert.deepEqual(message, {
      type: 'TextBlock',
      text: 'kustomization path not found',
      wrap: true,
      color: 'attention',
    });
    assert.deepEqual(facts.facts, [
      { title: 'summary', value: 'prod cluster' },
      { title: 'revision', value: `main@sha1:${sha}` },
    ]);
    sink.requests.length = 0;
    await post(settings('googlechat', `${sink.url}/v1/spaces/x`));
    const chat = only().json().cards[0];
    assert.deepEqual(chat.header, {
      title: 'kustomization/apps.flux-system',
      subtitle: 'kustomize-controller',
    });
    assert.equal(
      chat.sections[0].widgets[0].textParagraph.text,
      '<font color="#ff0000">kustomization path not found</font>',
    );
  });

  it('generic posts the event with Gotk-Component and the Secret headers; generic-hmac signs it', async () => {
    await post(settings('generic', `${sink.url}/events`, { headers: { 'X-Team': 'ops' } }));
    let r = only();
    assert.equal(r.headers['gotk-component'], 'kustomize-controller');
    assert.equal(r.headers['x-team'], 'ops');
    assert.equal(r.json().involvedObject.name, 'apps');
    assert.deepEqual(r.json().metadata, { revision: `main@sha1:${sha}`, summary: 'prod cluster' });
    sink.requests.length = 0;
    await post(settings('generic-hmac', `${sink.url}/events`, { token: 'k' }));
    r = only();
    assert.equal(
      r.headers['x-signature'],
      `sha256=${createHmac('sha256', 'k').update(r.body).digest('hex')}`,
    );
    assert.throws(() => notifierFor(settings('generic-hmac', `${sink.url}/events`)), /token/);
  });

  it('alertmanager fires one alert labelled with the object; grafana annotates with tags', async () => {
    await post(
      settings('alertmanager', `${sink.url}/api/v2/alerts`, { basic: { username: 'u', password: 'p' } }),
    );
    const r = only();
    assert.equal(r.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
    assert.deepEqual(r.json(), [
      {
        status: 'firing',
        labels: {
          revision: `main@sha1:${sha}`,
          alertname: 'FluxKustomizationArtifactfailed',
          severity: 'error',
          reason: 'ArtifactFailed',
          kind: 'Kustomization',
          name: 'apps',
          namespace: 'flux-system',
          reportingcontroller: 'kustomize-controller',
        },
        annotations: { message: 'kustomization path not found', summary: 'prod cluster' },
        startsAt: '2026-01-02T03:04:05Z',
      },
    ]);
    sink.requests.length = 0;
    await post(settings('grafana', `${sink.url}/api/annotations/graphite`, { token: 't' }));
    const g = only();
    assert.equal(g.headers.authorization, 'Bearer t');
    assert.deepEqual(g.json().tags, [
      'flux',
      'kustomize-controller',
      'revision: main@sha1|0123456789abcdef0123456789abcdef01234567',
      'summary: prod cluster',
      'kind: Kustomization',
      'name: apps',
      'namespace: flux-system',
    ]);
  });

  it('refuses a provider type Tide does not implement', () => {
    assert.throws(
      () => notifierFor(settings('pagerduty', sink.url)),
      /provider type 'pagerduty' is not supported by Tide/,
    );
  });
});

describe('notification: commit status providers', () => {
  let sink: Sink;
  let existing: unknown = [];
  before(async () => {
    sink = await startSink((r) =>
      r.method === 'GET' ? { status: existing === undefined ? 404 : 200, body: existing } : { status: 201 },
    );
  });
  after(() => sink.close());
  beforeEach(() => {
    sink.requests.length = 0;
    existing = [];
  });
  const git = (type: string, over: Partial<ProviderSettings> = {}) =>
    settings(type, `${sink.url}/org/repo.git`, {
      token: 'tok',
      commitStatus: 'kustomization/apps/0c9c2e41',
      ...over,
    });
  const ok = notification({ severity: 'info', reason: 'ReconciliationSucceeded' });
  const posts = () => sink.requests.filter((r) => r.method === 'POST');

  it('github: lists the commit statuses, then sets success on the commit of the revision', async () => {
    await post(git('github'), ok);
    assert.equal(sink.requests[0]?.path, `/api/v3/repos/org/repo/commits/${sha}/statuses?per_page=50`);
    const [p] = posts();
    assert.equal(p?.path, `/api/v3/repos/org/repo/statuses/${sha}`);
    assert.equal(p?.headers.authorization, 'Bearer tok');
    assert.deepEqual(p?.json(), {
      state: 'success',
      context: 'kustomization/apps/0c9c2e41',
      description: 'reconciliation succeeded',
    });
    sink.requests.length = 0;
    existing = [
      { context: 'kustomization/apps/0c9c2e41', state: 'success', description: 'reconciliation succeeded' },
    ];
    await post(git('github'), ok);
    assert.equal(posts().length, 0, 'the same status is not written again');
    existing = [
      { context: 'kustomization/apps/0c9c2e41', state: 'success', description: 'reconciliation succeeded' },
    ];
    await post(git('github'));
    assert.equal(posts()[0]?.json().state, 'failure', 'an error changes it');
  });

  it('github: skips progress, refuses an event without a usable revision', async () => {
    await post(git('github'), notification({ reason: 'Progressing', severity: 'info' }));
    assert.equal(sink.requests.length, 0);
    await assert.rejects(post(git('github'), notification({ metadata: {} })), /missing revision metadata/);
    await assert.rejects(
      post(git('github'), notification({ metadata: { revision: 'v1.0.0' } })),
      /commit hash/,
    );
    assert.throws(() => notifierFor(git('github', { token: undefined })), /github token cannot be empty/);
  });

  it('gitlab: the project by path, PRIVATE-TOKEN, failed for errors', async () => {
    await post(git('gitlab'));
    const [p] = posts();
    assert.equal(p?.path, `/api/v4/projects/org%2Frepo/statuses/${sha}`);
    assert.equal(p?.headers['private-token'], 'tok');
    assert.deepEqual(p?.json(), {
      state: 'failed',
      name: 'kustomization/apps/0c9c2e41',
      description: 'artifact failed',
    });
  });

  it('gitea: token auth, pending while progressing', async () => {
    await post(git('gitea'), notification({ reason: 'Progressing', severity: 'info' }));
    const [p] = posts();
    assert.equal(p?.path, `/api/v1/repos/org/repo/statuses/${sha}`);
    assert.equal(p?.headers.authorization, 'token tok');
    assert.deepEqual(p?.json(), {
      state: 'pending',
      target_url: '',
      description: 'progressing',
      context: 'kustomization/apps/0c9c2e41',
    });
  });

  it('bitbucket: user:password token, a 40-character key, an unknown status is a 404', async () => {
    existing = undefined;
    await post(git('bitbucket', { token: 'user:app-password' }), ok);
    const [p] = posts();
    assert.equal(p?.path, `/2.0/repositories/org/repo/commit/${sha}/statuses/build`);
    assert.equal(p?.headers.authorization, `Basic ${Buffer.from('user:app-password').toString('base64')}`);
    assert.equal(p?.json().state, 'SUCCESSFUL');
    assert.equal(p?.json().key.length, 40);
    assert.equal(p?.json().name, 'kustomization/apps');
    assert.throws(() => notifierFor(git('bitbucket')), /<user>:<password>/);
  });

  it('reads repository addresses in https, ssh and scp form; splits reasons as Flux does', () => {
    assert.deepEqual(parseGitAddress('https://github.com/org/repo'), {
      host: 'https://github.com',
      id: 'org/repo',
    });
    assert.deepEqual(parseGitAddress('ssh://git@gitlab.example:2222/group/sub/repo.git'), {
      host: 'https://gitlab.example:2222',
      id: 'group/sub/repo',
    });
    assert.deepEqual(parseGitAddress('git@github.com:org/repo.git'), {
      host: 'https://github.com',
      id: 'org/repo',
    });
    assert.deepEqual(splitCamelCase('ReconciliationSucceeded'), ['Reconciliation', 'Succeeded']);
    assert.deepEqual(splitCamelCase('PDFLoader2x'), ['PDF', 'Loader', '2', 'x']);
  });
});
