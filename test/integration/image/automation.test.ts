// Image automation end to end, every controller its own process on the test bed: a tag pushed to the
// registry is scanned (image-reflector), picked (ImagePolicy), committed to the Git server
// (image-automation) and applied (source- and kustomize-controller). What Git ends up with is read
// from the server's bare repositories, byte for byte.

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImagePolicy, ImageUpdateAutomation } from '../../../controllers/api/image.ts';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import { parseCommit } from '../../../controllers/runtime/git/objects.ts';
import { verifySignature } from '../../../controllers/runtime/git/signature.ts';
import { poll, run } from '../../../hack/testbed/proc.ts';
import { pushImage } from '../../../hack/testbed/registry.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { type ControllerProcess, startController } from '../../support/controllers.ts';
import { ensureCrds } from '../../support/crds.ts';
import { type GitProxy, startGitProxy } from '../../support/gitproxy.ts';
import { createWorkRepo, type WorkRepo } from '../../support/gitwork.ts';
import { type PgpKeyPair, pgpKeyPair } from '../../support/signing.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { cond, eventsOf, imageKinds } from './support.ts';

const author = { name: 'Tide Bot', email: 'bot@tide.invalid' };

describe('image automation end to end: registry → policy → Git → cluster', function () {
  this.timeout(300_000);
  const ns = useNamespace('imgauto');
  let client: Client;
  let procs: Record<string, ControllerProcess> = {};
  let proxy: GitProxy;
  let key: PgpKeyPair;
  const k = imageKinds(() => client, ns);
  const image = (app: string) => `${testbed().registry.host}/tide-${process.pid}/${ns()}/${app}`;
  const push = (app: string, tags: string[]) =>
    pushImage(testbed().registry, `tide-${process.pid}/${ns()}/${app}`, tags);

  interface Repo {
    name: string;
    work: WorkRepo;
    /** `git` in the server's bare repository. */
    server(...args: string[]): Promise<string>;
    head(): Promise<string>;
    show(rev: string, path: string): Promise<string>;
  }
  async function repo(name: string, files: Record<string, string>, opts: { viaProxy?: boolean } = {}) {
    const tb = testbed();
    const full = `imgauto-${name}-${process.pid}`;
    const work = await createWorkRepo(full);
    await work.commit(files, 'initial');
    const bare = join(tb.git.root, `${full}.git`);
    const server = (...args: string[]) => run('git', ['--git-dir', bare, ...args]);
    const url = opts.viaProxy ? `${proxy.url}/${full}.git` : work.url;
    await client.create({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name, namespace: ns() },
      spec: { url, interval: '5s', secretRef: { name: 'git-auth' }, ref: { branch: 'main' } },
    });
    const r: Repo = {
      name,
      work,
      server,
      head: async () => (await server('rev-parse', 'main')).trim(),
      show: (rev, path) => server('show', `${rev}:${path}`),
    };
    return r;
  }

  /** An ImageRepository scanning every 5 s and a semver policy, labelled for one automation. */
  async function policy(name: string, range: string, extra: Record<string, unknown> = {}) {
    await k.create('ImageRepository', name, { image: image(name), interval: '5s' });
    await k.create(
      'ImagePolicy',
      name,
      { imageRepositoryRef: { name }, policy: { semver: { range } }, ...extra },
      {
        automation: name,
      },
    );
    return k.waitReady<ImagePolicy>('ImagePolicy', name);
  }

  function automation(
    name: string,
    repoName: string,
    opts: { path?: string; commit?: Record<string, unknown>; policies?: string } = {},
  ) {
    return k.create('ImageUpdateAutomation', name, {
      sourceRef: { kind: 'GitRepository', name: repoName },
      interval: '10m',
      policySelector: { matchLabels: { automation: opts.policies ?? name } },
      git: {
        checkout: { ref: { branch: 'main' } },
        commit: { author, ...opts.commit },
        push: { branch: 'main' },
      },
      update: { strategy: 'Setters', path: opts.path ?? './' },
    });
  }

  const untilHeadMoves = (r: Repo, from: string) =>
    poll(`a new commit on ${r.name}`, 120_000, async () => {
      const head = await r.head();
      return head !== from ? head : undefined;
    });

  before(async function () {
    this.timeout(180_000);
    await ensureCrds();
    const tb = testbed();
    client = createClient(tb.kubeconfig, { fieldManager: 'tide-test' });
    key = await pgpKeyPair('Tide Bot', 'bot@tide.invalid');
    proxy = await startGitProxy(tb.git.url);
    const tools = await toolPaths(['kustomize', 'sops']);
    const [source, kustomize, reflector, automationCtl] = await Promise.all([
      startController('source', [
        `--storage-path=${await mkdtemp(join(tb.dir, 'img-src-'))}`,
        '--storage-addr=127.0.0.1:0',
      ]),
      startController('kustomize', [`--kustomize-path=${tools.kustomize}`, `--sops-path=${tools.sops}`]),
      startController('image-reflector', [`--storage-path=${await mkdtemp(join(tb.dir, 'img-refl-'))}`]),
      startController('image-automation', []),
    ]);
    procs = { source: source!, kustomize: kustomize!, reflector: reflector!, automation: automationCtl! };
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-auth', namespace: ns() },
      stringData: { username: tb.git.username, password: tb.git.password },
    });
  });
  after(async function () {
    this.timeout(60_000);
    await Promise.all(Object.values(procs).map((p) => p.stop()));
    await proxy?.close();
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [name, p] of Object.entries(procs))
      console.error(`--- ${name} ---\n${p.logs().split('\n').slice(-25).join('\n')}`);
  });

  const deployment = (app: string, tag: string) => `# The app, as its team wrote it.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${app}
  labels: {app: ${app}}   # flow style stays
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${app}
  template:
    metadata:
      labels:
        app: ${app}
    spec:
      containers:
          - name: app
            image: "${image(app)}:${tag}" # {"$imagepolicy": "${ns()}:${app}"}
            ports:
              - containerPort: 80     # http
`;

  it('commits a pushed tag as exactly one commit changing the marked line, which the cluster then runs', async () => {
    await push('app', ['1.2.0', '1.3.0']);
    const r = await repo('gitops', {
      'deploy/deployment.yaml': deployment('app', '1.3.0'),
      'README.md': 'The GitOps repository.\n',
    });
    await client.create({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'app', namespace: ns() },
      spec: {
        interval: '10m',
        prune: true,
        path: './deploy',
        targetNamespace: ns(),
        sourceRef: { kind: 'GitRepository', name: 'gitops' },
      },
    });
    await policy('app', '>=1.0.0');
    const start = await r.head();
    await automation('app', 'gitops', { path: './deploy' });

    // The repository already has the latest image: no commit.
    const idle = await k.waitReady<ImageUpdateAutomation>('ImageUpdateAutomation', 'app');
    assert.equal(cond(idle, ConditionTypes.Ready)?.message, 'repository up-to-date');
    assert.equal(idle.status?.lastPushCommit, undefined);
    assert.deepEqual(idle.status?.observedPolicies, { app: { name: image('app'), tag: '1.3.0' } });
    assert.equal(idle.status?.observedSourceRevision, `main@sha1:${start}`);
    assert.equal(await r.head(), start);
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns(), name: 'app' };
    type Dep = { spec: { template: { spec: { containers: { image: string }[] } } } };
    const running = () =>
      poll('the Deployment', 120_000, async () => {
        const d = (await client.tryGet(dep)) as (Dep & object) | undefined;
        return d?.spec.template.spec.containers[0]?.image;
      });
    assert.equal(await running(), `${image('app')}:1.3.0`);

    await push('app', ['1.4.0']);
    const head = await untilHeadMoves(r, start);
    assert.equal((await r.server('rev-list', '--count', `${start}..${head}`)).trim(), '1');
    const before = deployment('app', '1.3.0');
    assert.equal(
      await r.show(head, 'deploy/deployment.yaml'),
      before.replace(`"${image('app')}:1.3.0"`, `"${image('app')}:1.4.0"`),
    );
    assert.equal(
      (await r.server('diff', '--numstat', start, head)).trim(),
      '1\t1\tdeploy/deployment.yaml',
      'one line changed, in one file',
    );
    const commit = parseCommit(Buffer.from(await r.server('cat-file', 'commit', head)));
    assert.equal(commit.author?.email, author.email);
    assert.equal(commit.message, 'Update from image update automation\n');

    const done = await k.waitReady<ImageUpdateAutomation>(
      'ImageUpdateAutomation',
      'app',
      (o) => o.status?.lastPushCommit === head,
    );
    assert.equal(done.status?.observedSourceRevision, `main@sha1:${head}`);
    assert.deepEqual(done.status?.observedPolicies, { app: { name: image('app'), tag: '1.4.0' } });
    assert.ok(done.status?.lastPushTime);
    const events = await eventsOf(client, ns(), 'ImageUpdateAutomation', 'app');
    const pushed = events.find((e) =>
      e.message.startsWith(`pushed commit '${head.slice(0, 7)}' to branch 'main'`),
    );
    assert.ok(pushed, JSON.stringify(events));
    assert.ok(
      pushed.message.includes(`- deploy/deployment.yaml: ${image('app')}:1.3.0 -> ${image('app')}:1.4.0`),
      pushed.message,
    );

    // source-controller fetches the commit, kustomize-controller applies it.
    await poll('the Deployment to run 1.4.0', 120_000, async () =>
      (await running()) === `${image('app')}:1.4.0` ? true : undefined,
    );
  });

  it('keeps a change someone else pushed between the clone and the push, and its own', async () => {
    await push('race', ['1.0.0']);
    const r = await repo(
      'race',
      {
        'app.yaml': `image: ${image('race')}:1.0.0 # {"$imagepolicy": "${ns()}:race"}\n`,
        'other.yaml': 'replicas: 1\n',
      },
      { viaProxy: true },
    );
    await policy('race', '>=1.0.0');
    await automation('race', 'race');
    await k.waitReady<ImageUpdateAutomation>('ImageUpdateAutomation', 'race');
    const start = await r.head();

    // At the automation's push, someone else's commit lands first.
    let theirs = '';
    proxy.beforeNextPush(async () => {
      theirs = await r.work.commit({ 'other.yaml': 'replicas: 2\n' }, 'Scale to 2');
    });
    await push('race', ['1.1.0']);
    const head = await poll('the automation commit on top of theirs', 120_000, async () => {
      const h = await r.head();
      return theirs && h !== theirs && h !== start ? h : undefined;
    });
    const commit = parseCommit(Buffer.from(await r.server('cat-file', 'commit', head)));
    assert.deepEqual(commit.parents, [theirs], 'replayed on top of the other commit');
    assert.equal(await r.show(head, 'other.yaml'), 'replicas: 2\n');
    assert.equal(
      await r.show(head, 'app.yaml'),
      `image: ${image('race')}:1.1.0 # {"$imagepolicy": "${ns()}:race"}\n`,
    );
    assert.equal((await r.server('diff', '--numstat', theirs, head)).trim(), '1\t1\tapp.yaml');
    assert.ok(proxy.pushes >= 2, `the automation pushed twice (${proxy.pushes})`);
    await k.waitReady<ImageUpdateAutomation>(
      'ImageUpdateAutomation',
      'race',
      (o) => o.status?.lastPushCommit === head,
    );
  });

  it('updates a multi-document file, a flow mapping and kustomization.yaml images in one signed commit', async () => {
    const digestOf = await push('multi', ['2.0.0']);
    const files = {
      'apps/config.yaml': `---
# first document
apiVersion: v1
kind: ConfigMap
metadata: {name: one}
data:
  tag: "1.0.0" # {"$imagepolicy": "${ns()}:multi:tag"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: two
data: {
  image: 'old/multi:1.0.0', # {"$imagepolicy": "${ns()}:multi"}
  keep: 'x'
}
...
`,
      'apps/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: multi
    newName: old/multi # {"$imagepolicy": "${ns()}:multi:name"}
    newTag: 1.0.0 # {"$imagepolicy": "${ns()}:multi:tag"}
    digest: sha256:${'0'.repeat(64)} # {"$imagepolicy": "${ns()}:multi:digest"}
`,
      'apps/untouched.yaml': `image: old/multi:1.0.0 # {"$imagepolicy": "${ns()}:other"}\n`,
    };
    const r = await repo('multi', files);
    const start = await r.head();
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'signing', namespace: ns() },
      stringData: { 'git.asc': key.privateKey },
    });
    await policy('multi', '>=1.0.0', { digestReflectionPolicy: 'IfNotPresent' });
    await automation('multi', 'multi', {
      path: './apps',
      commit: {
        signingKey: { secretRef: { name: 'signing' } },
        messageTemplate:
          'Bump {{ .AutomationObject.Name }}\n\n{{ range $file, $_ := .Changed.FileChanges }}- {{ $file }}\n{{ end }}' +
          '{{ range .Changed.Changes }}{{ .Setter }}: {{ .OldValue }} -> {{ .NewValue }}\n{{ end }}',
      },
    });
    const head = await untilHeadMoves(r, start);
    assert.equal((await r.server('rev-list', '--count', `${start}..${head}`)).trim(), '1');
    const latest = image('multi');
    assert.equal(
      await r.show(head, 'apps/config.yaml'),
      files['apps/config.yaml']
        .replace('tag: "1.0.0"', 'tag: "2.0.0"')
        .replace("image: 'old/multi:1.0.0'", `image: '${latest}:2.0.0@${digestOf}'`),
    );
    assert.equal(
      await r.show(head, 'apps/kustomization.yaml'),
      files['apps/kustomization.yaml']
        .replace('newName: old/multi', `newName: ${latest}`)
        .replace('newTag: 1.0.0', 'newTag: 2.0.0')
        .replace(`sha256:${'0'.repeat(64)}`, digestOf),
    );
    assert.equal(await r.show(head, 'apps/untouched.yaml'), files['apps/untouched.yaml']);

    const raw = Buffer.from(await r.server('cat-file', 'commit', head));
    const commit = parseCommit(raw);
    assert.equal(
      commit.message,
      `Bump multi

- config.yaml
- kustomization.yaml
${ns()}:multi:tag: 1.0.0 -> 2.0.0
${ns()}:multi: old/multi:1.0.0 -> ${latest}:2.0.0@${digestOf}
${ns()}:multi:name: old/multi -> ${latest}
${ns()}:multi:digest: sha256:${'0'.repeat(64)} -> ${digestOf}
`,
    );
    assert.equal(
      await verifySignature('commit', commit.signature, commit.payload, { pgp: [key.publicKey], ssh: [] }),
      key.keyId,
    );
  });

  it('checks out a tag and pushes to another branch, which later runs continue', async () => {
    await push('branchy', ['1.0.0', '1.1.0']);
    const marked = (tag: string) =>
      `image: ${image('branchy')}:${tag} # {"$imagepolicy": "${ns()}:branchy"}\n`;
    const r = await repo('branchy', { 'app.yaml': marked('1.0.0') });
    await r.work.tag('v1');
    const main = await r.head();
    await policy('branchy', '>=1.0.0');
    await k.create('ImageUpdateAutomation', 'branchy', {
      sourceRef: { kind: 'GitRepository', name: 'branchy' },
      interval: '10m',
      policySelector: { matchLabels: { automation: 'branchy' } },
      git: { checkout: { ref: { tag: 'v1' } }, commit: { author }, push: { branch: 'auto' } },
    });
    const auto = () =>
      r.server('rev-parse', '--verify', '-q', 'refs/heads/auto').then(
        (o) => o.trim(),
        () => '',
      );
    const first = await poll('the auto branch', 120_000, async () => (await auto()) || undefined);
    assert.deepEqual(parseCommit(Buffer.from(await r.server('cat-file', 'commit', first))).parents, [main]);
    assert.equal(await r.show(first, 'app.yaml'), marked('1.1.0'));
    assert.equal(await r.head(), main, 'the checkout branch is untouched');
    const o = await k.waitReady<ImageUpdateAutomation>(
      'ImageUpdateAutomation',
      'branchy',
      (a) => a.status?.lastPushCommit === first,
    );
    assert.equal(o.status?.observedSourceRevision, `v1@sha1:${main}`);

    // The next change starts from the branch as the remote has it.
    await push('branchy', ['1.2.0']);
    const second = await poll('a second commit on auto', 120_000, async () => {
      const h = await auto();
      return h !== first ? h : undefined;
    });
    assert.deepEqual(parseCommit(Buffer.from(await r.server('cat-file', 'commit', second))).parents, [first]);
    assert.equal(await r.show(second, 'app.yaml'), marked('1.2.0'));
  });

  it('reports a template it cannot render and commits nothing', async () => {
    await push('tmpl', ['1.0.0', '2.0.0']);
    const r = await repo('tmpl', { 'app.yaml': `image: x:1.0.0 # {"$imagepolicy": "${ns()}:tmpl"}\n` });
    const start = await r.head();
    await policy('tmpl', '>=1.0.0');
    const cases: [string, string, RegExp, boolean][] = [
      [
        'tmpl',
        '{{ .Changed.Nope }}',
        /^failed to update source: failed to run template from spec: template: commit message:1:11: executing "commit message" at <\.Changed\.Nope>: can't evaluate field Nope in type update\.Result$/,
        false,
      ],
      [
        'tmpl-removed',
        '{{ .Changed.ImageResult.Files }}',
        /^template uses removed '\.Changed\.ImageResult' field/,
        true,
      ],
      [
        'tmpl-unsupported',
        '{{ sha256sum "x" }}',
        /messageTemplate is not supported by Tide: the function "sha256sum"/,
        true,
      ],
    ];
    // Every automation applies the same policy to the same repository.
    for (const [name, messageTemplate] of cases)
      await automation(name, 'tmpl', { commit: { messageTemplate }, policies: 'tmpl' });
    for (const [name, , message, stalled] of cases) {
      const o = await k.waitNotReady('ImageUpdateAutomation', name, message);
      assert.equal(cond(o, ConditionTypes.Stalled)?.status === 'True', stalled, name);
    }
    assert.equal(await r.head(), start, 'nothing was committed');
  });
});
