// The image-automation-controller SIGKILLed in the middle of a push: once just before the server takes
// it (the push is lost) and once right after the server took it (the status is not written yet). Started
// again, it leaves exactly one commit per update on the branch: the lost push is made again, the landed
// one is not made twice. A relay in front of the Git server kills the controller at those moments.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ImageUpdateAutomation } from '../../../controllers/api/image.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import { poll, run } from '../../../hack/testbed/proc.ts';
import { ensureCrds } from '../../support/crds.ts';
import { type GitProxy, startGitProxy } from '../../support/gitproxy.ts';
import { createWorkRepo } from '../../support/gitwork.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { imageKinds } from '../image/support.ts';
import { condition, controller } from './support.ts';

describe('chaos: image-automation-controller killed mid-push', function () {
  this.timeout(300_000);
  const ns = useNamespace('chaos-push');
  let client: Client;
  let proxy: GitProxy;
  const automation = controller('image-automation', () => [
    '--min-retry-delay=250ms',
    '--max-retry-delay=5s',
  ]);
  const k = imageKinds(() => client, ns);
  const image = 'registry.example/team/app';
  const name = `chaos-push-${process.pid}`;
  const bare = () => join(testbed().git.root, `${name}.git`);
  const server = (...args: string[]) => run('git', ['--git-dir', bare(), ...args]);
  const head = async () => (await server('rev-parse', 'main')).trim();

  /** The ImagePolicy's status as the image-reflector-controller would write it. */
  const pick = (tag: string) =>
    client.applyStatus(
      k.ref('ImagePolicy', 'app'),
      {
        latestRef: { name: image, tag },
        observedGeneration: 1,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Succeeded',
            message: `Latest image tag for ${image} resolved to ${tag}`,
            lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
            observedGeneration: 1,
          },
        ],
      },
      { fieldManager: 'gotk-image-reflector-controller' },
    );

  before(async () => {
    await ensureCrds();
    const tb = testbed();
    client = createClient(tb.kubeconfig, { fieldManager: 'tide-test' });
    proxy = await startGitProxy(tb.git.url);
    const work = await createWorkRepo(name);
    await work.commit({ 'app.yaml': `image: ${image}:1.0.0 # {"$imagepolicy": "${ns()}:app"}\n` }, 'initial');
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-auth', namespace: ns() },
      stringData: { username: tb.git.username, password: tb.git.password },
    });
    await client.create({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: 'repo', namespace: ns() },
      spec: {
        url: `${proxy.url}/${name}.git`,
        interval: '10m',
        secretRef: { name: 'git-auth' },
        ref: { branch: 'main' },
      },
    });
    await k.create('ImagePolicy', 'app', {
      imageRepositoryRef: { name: 'app' },
      policy: { semver: { range: '>=1.0.0' } },
    });
    await pick('1.0.0');
    await automation.start();
  });
  after(async () => {
    if (automation.running()) await automation.process.stop();
    await proxy?.close();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      console.error(`--- image-automation ---\n${automation.logs().split('\n').slice(-30).join('\n')}`);
  });

  /** Asks for a reconcile; resolves once it ran with `tag` picked and found the branch up to date. */
  const settled = async (tag: string, token: string) => {
    await k.request('ImageUpdateAutomation', 'app', token);
    return k.waitReady<ImageUpdateAutomation>(
      'ImageUpdateAutomation',
      'app',
      (o) =>
        o.status?.lastHandledReconcileAt === token &&
        o.status?.observedPolicies?.app?.tag === tag &&
        condition(o, 'Ready')?.message === 'repository up-to-date',
    );
  };

  it('makes a push cut off by the kill again, once', async () => {
    const start = await head();
    proxy.beforeNextPush(() => automation.kill());
    await k.create('ImageUpdateAutomation', 'app', {
      sourceRef: { kind: 'GitRepository', name: 'repo' },
      interval: '10m',
      git: {
        checkout: { ref: { branch: 'main' } },
        commit: { author: { name: 'Tide Bot', email: 'bot@tide.invalid' } },
        push: { branch: 'main' },
      },
      update: { strategy: 'Setters', path: './' },
    });
    await pick('1.1.0');
    await poll('the controller killed at the push', 120_000, async () =>
      automation.running() ? undefined : true,
    );
    assert.equal(await head(), start, 'the cut push did not land');
    await automation.start();
    const pushed = await poll('the update pushed', 120_000, async () => {
      const h = await head();
      return h !== start ? h : undefined;
    });
    assert.equal((await server('rev-list', '--count', `${start}..${pushed}`)).trim(), '1', 'one commit');
    assert.match(await server('show', `${pushed}:app.yaml`), /app:1\.1\.0 /);
    await settled('1.1.0', 'after-first-kill');
    assert.equal(await head(), pushed, 'nothing more was pushed');
  });

  it('does not push again what landed before the kill', async () => {
    const start = await head();
    proxy.afterNextPush(() => automation.kill());
    await pick('1.2.0');
    await poll('the controller killed after the push', 120_000, async () =>
      automation.running() ? undefined : true,
    );
    const landed = await head();
    assert.notEqual(landed, start, 'the push landed');
    await automation.start();
    await settled('1.2.0', 'after-second-kill');
    assert.equal(await head(), landed, 'no second commit for the same update');
    assert.equal((await server('rev-list', '--count', `${start}..main`)).trim(), '1');
  });
});
