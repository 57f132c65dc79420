// notification-controller end to end: the source-, kustomize- and notification-controller run as
// processes against the test bed, the first two posting their events to the third's --events-addr;
// loopback sinks stand in for Slack, GitHub's status API and generic webhooks, and a signed GitHub
// push webhook asks for a GitRepository's reconciliation.

import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { join } from 'node:path';
import { Annotations, ConditionTypes } from '../../../controllers/api/names.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { freePort, poll, run } from '../../../hack/testbed/proc.ts';
import { type ControllerProcess, startController } from '../../support/controllers.ts';
import { ensureCrds } from '../../support/crds.ts';
import { createWorkRepo } from '../../support/gitwork.ts';
import { type Recorded, type Sink, startSink } from '../../support/sink.ts';
import { testbed } from '../../support/testbed.ts';
import { configMap, ready, useKustomizeEnv, yaml } from '../kustomize/kustomization-support.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const ncApiVersion = 'notification.toolkit.fluxcd.io/v1beta3';
const receiverApiVersion = 'notification.toolkit.fluxcd.io/v1';
const gitApiVersion = 'source.toolkit.fluxcd.io/v1';

describe('notification-controller: alerts, commit statuses and webhooks', function () {
  this.timeout(240_000);
  let eventsPort = 0;
  let receiverPort = 0;
  let nc: ControllerProcess | undefined;
  before(async function () {
    this.timeout(60_000);
    eventsPort = await freePort();
    receiverPort = await freePort();
    await ensureCrds();
    nc = await startController('notification', [
      `--events-addr=127.0.0.1:${eventsPort}`,
      `--receiverAddr=127.0.0.1:${receiverPort}`,
      // Longer than any test: every duplicate of a failure lands in the same window.
      '--rate-limit-interval=1h',
      '--log-level=debug',
    ]);
  });
  const env = useKustomizeEnv('notif', {
    controllerArgs: () => [`--events-addr=http://127.0.0.1:${eventsPort}/`],
  });
  const ns = () => env.ns();
  const sinks: Sink[] = [];
  const sink = async (answer?: Parameters<typeof startSink>[0]) => {
    const s = await startSink(answer);
    sinks.push(s);
    return s;
  };

  after(async () => {
    await nc?.stop();
    await Promise.all(sinks.map((s) => s.close()));
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      console.error(`--- notification-controller ---\n${nc?.logs().split('\n').slice(-60).join('\n')}`);
  });

  const create = (obj: Record<string, unknown>) => env.client().create(obj as KubeObject);
  const secret = (name: string, stringData: Record<string, string>) =>
    create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns() }, stringData });
  const provider = (name: string, spec: Record<string, unknown>) =>
    create({ apiVersion: ncApiVersion, kind: 'Provider', metadata: { name, namespace: ns() }, spec });
  const alert = (name: string, spec: Record<string, unknown>) =>
    create({ apiVersion: ncApiVersion, kind: 'Alert', metadata: { name, namespace: ns() }, spec });
  /** Kubernetes Events of an object with this reason, as `kubectl events --for` lists them. */
  const eventsOf = async (kind: string, name: string, reason: string) => {
    const list = await env
      .client()
      .list(
        { group: '', version: 'v1', kind: 'Event' },
        { namespace: ns(), fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` },
      );
    return list.items.filter((e) => e.reason === reason);
  };
  const artifactRevision = async (name: string): Promise<string> => {
    const git = await env
      .client()
      .get({ apiVersion: gitApiVersion, kind: 'GitRepository', namespace: ns(), name });
    return git.status?.artifact?.revision;
  };
  const slackFor = (requests: Recorded[], name: string) =>
    requests.filter((r) => r.json().attachments?.[0]?.author_name === `kustomization/${name}.${ns()}`);

  it('sends a failing Kustomization to Slack once per window, with object, cause and revision; exclusionList drops', async () => {
    const slack = await sink();
    const control = await sink();
    await provider('slack', {
      type: 'slack',
      address: `${slack.url}/services/T000/B000/XXX`,
      channel: 'ops',
    });
    await provider('control', { type: 'slack', address: `${control.url}/hook` });
    const sources = [{ kind: 'Kustomization', name: '*' }];
    await alert('failures', {
      providerRef: { name: 'slack' },
      eventSeverity: 'error',
      eventSources: sources,
      exclusionList: ['excluded-marker'],
    });
    await alert('everything', {
      providerRef: { name: 'control' },
      eventSeverity: 'error',
      eventSources: sources,
    });
    const repo = await env.repo('failing', { 'app/cm.yaml': yaml(configMap('one', { v: '1' })) });
    const revision = await artifactRevision('failing');

    // Excluded: the path names the marker, so does the failure message.
    await env.createKs('excluded', repo, { path: './excluded-marker' });
    await control.until(
      'the control sink got the excluded failure',
      (rs) => slackFor(rs, 'excluded').length > 0,
    );
    await env.createKs('broken', repo, { path: './does-not-exist' });
    const [message] = slackFor(
      await slack.until('Slack got the failure', (rs) => slackFor(rs, 'broken').length > 0),
      'broken',
    );
    assert.ok(message);

    const a = message.json().attachments[0];
    assert.equal(a.color, 'danger');
    assert.match(a.text, /does-not-exist/, 'the cause');
    assert.equal(message.json().channel, 'ops');
    assert.equal(message.json().username, 'kustomize-controller');
    assert.deepEqual(
      a.fields.find((f: { title: string }) => f.title === 'revision'),
      { title: 'revision', value: revision, short: false },
    );

    // The kustomize-controller keeps failing and reporting; the duplicates reach the controller and go nowhere.
    await poll('the failure reported again', 60_000, async () => {
      const [e] = await eventsOf('Kustomization', 'broken', 'ArtifactFailed');
      const count = Number(e?.count ?? 0);
      if (count >= 2) return true;
      throw new Error(`reported ${count} times`);
    });
    await poll('a duplicate discarded', 60_000, async () =>
      nc
        ?.logs()
        .split('\n')
        .some((l) => l.includes('rate limiting duplicate') && l.includes('"broken"'))
        ? true
        : undefined,
    );
    assert.equal(slackFor(slack.requests, 'broken').length, 1, 'one message per window');
    assert.equal(slackFor(slack.requests, 'excluded').length, 0, 'exclusionList dropped it');
    assert.ok(slackFor(control.requests, 'excluded').length >= 1);
  });

  it('sets a commit status on the GitHub-shaped sink for the revision a Kustomization applied', async () => {
    const github = await sink((r) =>
      r.method === 'GET' ? { status: 200, body: [] } : { status: 201, body: {} },
    );
    await secret('github-token', { token: 'ghp_example' });
    const gh = await provider('github', {
      type: 'github',
      address: `${github.url}/tide-org/gitops.git`,
      secretRef: { name: 'github-token' },
    });
    await alert('statuses', {
      providerRef: { name: 'github' },
      eventSources: [{ kind: 'Kustomization', name: 'applied' }],
    });
    const repo = await env.repo('status', { 'app/cm.yaml': yaml(configMap('status', { v: '1' })) });
    await env.createKs('applied', repo, { path: './app', targetNamespace: ns() });
    const ks = await env.waitReady('applied');
    const sha = String(ks.status?.lastAppliedRevision).split(':')[1];

    const requests = await github.until('a commit status', (rs) => rs.some((r) => r.method === 'POST'));
    const post = requests.find((r) => r.method === 'POST') as Recorded;
    assert.equal(post.path, `/api/v3/repos/tide-org/gitops/statuses/${sha}`);
    assert.deepEqual(post.json(), {
      state: 'success',
      context: `kustomization/applied/${String(gh.metadata.uid).split('-')[0]}`,
      description: 'reconciliation succeeded',
    });
    assert.equal(post.headers.authorization, 'Bearer ghp_example');
    // It looked at the commit's statuses first, so an unchanged status is not written twice.
    assert.ok(
      requests.some(
        (r) =>
          r.method === 'GET' && r.path.startsWith(`/api/v3/repos/tide-org/gitops/commits/${sha}/statuses`),
      ),
    );
  });

  it('retries a provider that answers 500 and delivers to another provider meanwhile', async () => {
    const down = await sink(() => ({ status: 500, body: 'unavailable' }));
    const up = await sink();
    await provider('down', { type: 'generic', address: `${down.url}/events`, timeout: '10s' });
    await provider('up', { type: 'generic', address: `${up.url}/events` });
    const sources = [{ kind: 'Kustomization', name: 'fanout' }];
    await alert('to-down', { providerRef: { name: 'down' }, eventSources: sources });
    await alert('to-up', { providerRef: { name: 'up' }, eventSources: sources });
    const repo = await env.repo('fanout', { 'app/cm.yaml': yaml(configMap('fanout', { v: '1' })) });
    await env.createKs('fanout', repo, { path: './app', targetNamespace: ns() });
    await env.waitReady('fanout');

    const succeeded = (r: Recorded) => r.json().reason === 'ReconciliationSucceeded';
    const delivered = (await up.until('the healthy provider got the event', (rs) => rs.some(succeeded))).find(
      succeeded,
    );
    const attempts = (
      await down.until('the failing provider retried', (rs) => rs.filter(succeeded).length >= 2)
    ).filter(succeeded);
    assert.ok(delivered);
    assert.equal(delivered.headers['gotk-component'], 'kustomize-controller');
    assert.equal(delivered.json().involvedObject.name, 'fanout');
    // The healthy provider had the event before the failing one was even tried a second time.
    assert.ok(delivered.at < (attempts[1] as Recorded).at, 'delivery to the healthy provider did not wait');
    const [warning] = await poll('the failed delivery reported on its Alert', 60_000, async () => {
      const es = await eventsOf('Alert', 'to-down', 'NotificationDispatchFailed');
      return es.length > 0 ? es : undefined;
    });
    assert.match(String(warning?.message), /status code 500/);
  });

  it('fetches a pushed commit at once on a signed GitHub push webhook; a forged one changes nothing', async () => {
    const work = await createWorkRepo(`notif-hook-${process.pid}`);
    const first = await work.commit({ 'app/cm.yaml': yaml(configMap('hooked', { v: '1' })) }, 'initial');
    const gitRef = { apiVersion: gitApiVersion, kind: 'GitRepository', namespace: ns(), name: 'hooked' };
    // A 1h interval: only the webhook can explain a new revision during the test.
    await create({
      ...gitRef,
      metadata: { name: 'hooked', namespace: ns() },
      spec: { url: work.url, interval: '1h', secretRef: { name: 'git-auth' }, ref: { branch: 'main' } },
    });
    await env.until('the first commit fetched', async () =>
      (await artifactRevision('hooked')) === `main@sha1:${first}` ? true : undefined,
    );
    await secret('webhook-token', { token: 'webhook-secret' });
    const receiverRef = { apiVersion: receiverApiVersion, kind: 'Receiver', namespace: ns(), name: 'github' };
    await create({
      ...receiverRef,
      metadata: { name: 'github', namespace: ns() },
      spec: {
        type: 'github',
        events: ['push'],
        secretRef: { name: 'webhook-token' },
        resources: [{ kind: 'GitRepository', name: 'hooked' }],
      },
    });
    const receiver = await env.until('the Receiver ready', async () => {
      const r = await env.client().get(receiverRef);
      return ready(r)?.status === 'True' ? r : undefined;
    });
    const path = receiver.status?.webhookPath as string;
    const digest = createHash('sha256').update(`webhook-secret${'github'}${ns()}`).digest('hex');
    assert.equal(path, `/hook/${digest}`, 'sha256 of token, name and namespace');
    assert.match(String(ready(receiver)?.message), new RegExp(`Receiver initialized for path: ${path}`));

    const second = await work.commit({ 'app/cm.yaml': yaml(configMap('hooked', { v: '2' })) }, 'second');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: second });
    const sign = (key: string, b = body) => `sha256=${createHmac('sha256', key).update(b).digest('hex')}`;
    const call = (hookPath: string, signature: string, event = 'push') =>
      fetch(`http://127.0.0.1:${receiverPort}${hookPath}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-hub-signature-256': signature,
        },
        body,
      });

    assert.equal((await call(path, sign('not-the-secret'))).status, 400, 'forged signature');
    assert.equal((await call(path, '')).status, 400, 'no signature');
    assert.equal(
      (await call(path, sign('webhook-secret'), 'issues')).status,
      400,
      'an event type not asked for',
    );
    assert.equal((await call(`/hook/${'0'.repeat(64)}`, sign('webhook-secret'))).status, 404, 'unknown path');
    const untouched = await env.client().get(gitRef);
    assert.equal(untouched.metadata.annotations?.[Annotations.reconcileRequestedAt], undefined);
    assert.equal(untouched.status?.artifact?.revision, `main@sha1:${first}`);

    const sent = Date.now();
    assert.equal((await call(path, sign('webhook-secret'))).status, 200);
    await poll(
      'the pushed commit fetched',
      60_000,
      async () => ((await artifactRevision('hooked')) === `main@sha1:${second}` ? true : undefined),
      50,
    );
    console.log(`      push webhook → GitRepository at the pushed commit: ${Date.now() - sent} ms`);
    const annotated = await env.client().get(gitRef);
    assert.ok(annotated.metadata.annotations?.[Annotations.reconcileRequestedAt], 'the webhook asked for it');
  });

  it('tide get and reconcile the notification kinds against the running controller', async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, [join(root, 'controllers', 'cli', 'main.ts'), ...args, '-n', ns()], {
        env: { ...process.env, KUBECONFIG: testbed().controlPlane.kubeconfig },
      });
    const receivers = await cli('get', 'receivers');
    assert.match(receivers, /^NAME\s+SUSPENDED\s+READY\s+MESSAGE/);
    assert.match(receivers, /\ngithub\s+False\s+True\s+Receiver initialized for path: \/hook\/[0-9a-f]{8}/);
    assert.match(await cli('get', 'alerts'), /\nfailures\s+False\s+True\s+Alert is Ready/);
    assert.match(await cli('get', 'alert-providers'), /\nslack\s+True\s+Provider is Ready/);
    await cli('reconcile', 'receiver', 'github');
    const handled = await env
      .client()
      .get({ apiVersion: receiverApiVersion, kind: 'Receiver', namespace: ns(), name: 'github' });
    assert.ok(handled.status?.lastHandledReconcileAt, 'the controller handled the request');
  });

  it('refuses provider and receiver types it does not implement, telling the user', async () => {
    await provider('pager', { type: 'pagerduty', address: 'https://events.pagerduty.com/v2/enqueue' });
    await alert('paging', {
      providerRef: { name: 'pager' },
      eventSources: [{ kind: 'Kustomization', name: '*' }],
    });
    // Provider and Alert have no status: the refusal is a Warning event on both.
    for (const kind of ['Provider', 'Alert']) {
      const name = kind === 'Provider' ? 'pager' : 'paging';
      const [warning] = await poll(`a warning on the ${kind}`, 60_000, async () => {
        const es = await eventsOf(kind, name, 'UnsupportedField');
        return es.length > 0 ? es : undefined;
      });
      assert.match(String(warning?.message), /spec\.type 'pagerduty' is not supported by Tide/);
      assert.equal(warning?.type, 'Warning');
    }
    const receiverRef = { apiVersion: receiverApiVersion, kind: 'Receiver', namespace: ns(), name: 'oidc' };
    await create({
      ...receiverRef,
      metadata: { name: 'oidc', namespace: ns() },
      spec: {
        type: 'generic-oidc',
        resources: [{ kind: 'GitRepository', name: 'hooked' }],
        oidcProviders: [
          {
            issuerURL: 'https://token.actions.githubusercontent.com',
            validations: [{ expression: 'true', message: 'x' }],
          },
        ],
      },
    });
    const stalled = await env.until('the Receiver stalled', async () => {
      const r = await env.client().get(receiverRef);
      const c = (r.status?.conditions ?? []).find((x: { type: string }) => x.type === ConditionTypes.Stalled);
      return c?.status === 'True' ? c : undefined;
    });
    assert.equal(stalled.reason, 'UnsupportedField');
    assert.match(stalled.message, /spec\.type 'generic-oidc' is not supported by Tide/);
  });
});
