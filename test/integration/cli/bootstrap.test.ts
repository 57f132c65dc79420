// tide bootstrap git from an empty repository on the test Git server into an empty cluster (a second
// control plane, so installing and uninstalling CRDs never touches the other tests' cluster). The
// controllers run as local processes standing in for the pods, started with the arguments of the
// Deployments bootstrap created; kwok's node makes those Deployments Available.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConditionTypes, Labels, PART_OF } from '../../../controllers/api/names.ts';
import { chartComponents, selectComponents } from '../../../controllers/cli/install/components.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { gitEnv } from '../../../hack/testbed/gitserver.ts';
import { poll, run } from '../../../hack/testbed/proc.ts';
import { type LocalControllers, startFromDeployments } from '../../support/deployments.ts';
import { useSecondCluster } from '../../support/secondcluster.ts';
import { testbed } from '../../support/testbed.ts';
import { killTide, startTide, tide } from '../../support/tide.ts';

const path = 'clusters/test';
const ns = 'flux-system';
const deploymentKind = { group: 'apps', version: 'v1', kind: 'Deployment' };
const ksRef = {
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  name: ns,
  namespace: ns,
};

describe('tide bootstrap git, an empty repository and an empty cluster', function () {
  this.timeout(600_000);
  const cluster = useSecondCluster();
  let url = '';
  let work = '';
  let local: LocalControllers | undefined;
  const kubeconfig = () => cluster().state.kubeconfig;
  const client = () => cluster().client;
  const expected = selectComponents(chartComponents(), undefined).selected.map((k) => `${k}-controller`);

  /** git in a working copy of the repository, as its user. */
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=Fleet Admin', '-c', 'user.email=admin@tide.invalid', '-C', work, ...args], {
      env: gitEnv,
    });
  const authed = () => url.replace('http://', `http://${testbed().git.username}:${testbed().git.password}@`);
  const pull = async () => {
    await git('fetch', '-q', authed(), 'main');
    await git('checkout', '-q', '-B', 'main', 'FETCH_HEAD');
  };
  const head = async () => (await git('ls-remote', authed(), 'refs/heads/main')).split('\t')[0] ?? '';
  const bootstrap = (...more: string[]) => [
    'bootstrap',
    'git',
    '--url',
    url,
    '--branch',
    'main',
    '--path',
    path,
    '--username',
    testbed().git.username,
    '--password',
    testbed().git.password,
    '--allow-insecure-http',
    '--silent',
    '--timeout',
    '4m',
    '--poll-interval',
    '500ms',
    ...more,
  ];
  const deployment = (name: string) =>
    client().get({ apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: ns });

  before(async () => {
    url = await testbed().git.createRepo(`fleet-${process.pid}`);
    work = await mkdtemp(join(testbed().dir, 'fleet-'));
    await git('init', '-q', '-b', 'main');
  });
  after(async () => {
    killTide();
    await local?.stop();
  });

  it('writes the three files, installs Tide and syncs the pushed commit once the controllers run', async () => {
    const boot = await startTide(bootstrap(), kubeconfig());
    // Stand in for the pods as soon as bootstrap created the Deployments.
    const deployments = await poll(
      'the controller Deployments',
      120_000,
      async () => {
        if (boot.child.exitCode !== null) throw new Error(`bootstrap ended early: ${boot.stderr()}`);
        const list = await client().listAll<KubeObject>(deploymentKind, {
          namespace: ns,
          labelSelector: `${Labels.partOf}=${PART_OF}`,
        });
        return list.items.length === expected.length ? list.items : undefined;
      },
      200,
    );
    local = await startFromDeployments(
      deployments,
      kubeconfig(),
      await mkdtemp(join(testbed().dir, 'pods-')),
    );
    assert.deepEqual(local.controllers.map((c) => c.name).sort(), [...expected].sort());
    const r = await boot.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /✔ Kustomization reconciled successfully\n/);
    assert.match(r.stderr, /✔ all components are healthy\n/);

    // The repository: the three files, in two commits.
    await pull();
    assert.deepEqual((await git('ls-tree', '-r', '--name-only', 'HEAD')).trim().split('\n'), [
      `${path}/tide-system/components.yaml`,
      `${path}/tide-system/kustomization.yaml`,
      `${path}/tide-system/sync.yaml`,
    ]);
    assert.deepEqual((await git('log', '--format=%s')).trim().split('\n'), [
      'Add Tide sync manifests',
      'Add Tide v0.1.0 component manifests',
    ]);
    const sync = await readFile(join(work, path, 'tide-system', 'sync.yaml'), 'utf8');
    assert.match(
      sync,
      /kind: GitRepository[\s\S]*secretRef:\n {4}name: flux-system\n {2}url: http:\/\/127\.0\.0\.1:\d+\/fleet-/,
    );
    assert.match(sync, /kind: Kustomization[\s\S]*path: \.\/clusters\/test\n {2}prune: true/);

    // The cluster: every CRD, the Deployments Available (kwok's node), the sync at the pushed commit.
    const crds = await client().listAll({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      kind: 'CustomResourceDefinition',
    });
    assert.equal(crds.items.filter((c) => c.metadata.name?.endsWith('.toolkit.fluxcd.io')).length, 13);
    for (const name of expected) assert.equal((await deployment(name)).status?.availableReplicas, 1, name);
    const ks = await client().get(ksRef);
    assert.equal(ks.status?.lastAppliedRevision, `main@sha1:${await head()}`);
    assert.equal(
      ks.status?.conditions?.find((c: { type: string }) => c.type === ConditionTypes.Ready)?.status,
      'True',
    );
    const secret = await client().get({ apiVersion: 'v1', kind: 'Secret', name: ns, namespace: ns });
    const data = secret.data as Record<string, string>;
    assert.equal(Buffer.from(data.password ?? '', 'base64').toString(), testbed().git.password);
  });

  it('makes no commit when run again', async () => {
    const before = await head();
    const r = await tide(bootstrap(), kubeconfig());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /✔ component manifests are up to date\n/);
    assert.match(r.stderr, /✔ sync manifests are up to date\n/);
    assert.equal(await head(), before);
  });

  it('applies a change committed to <path>/tide-system from the cluster itself', async () => {
    await pull();
    const file = join(work, path, 'tide-system', 'kustomization.yaml');
    const patch = [
      'patches:',
      '- target: {kind: Deployment, name: kustomize-controller}',
      '  patch: |',
      '    - op: add',
      '      path: /metadata/annotations',
      '      value: {tide.test/patched: "yes"}',
      '',
    ].join('\n');
    await writeFile(file, `${await readFile(file, 'utf8')}${patch}`);
    await git('commit', '-q', '-am', 'Patch the kustomize-controller');
    await git('push', '-q', authed(), 'HEAD:refs/heads/main');
    const r = await tide(['reconcile', 'ks', ns, '--with-source', '--poll-interval', '500ms'], kubeconfig());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`✔ applied revision main@sha1:${await head()}\n`));
    assert.equal(
      (await deployment('kustomize-controller')).metadata.annotations?.['tide.test/patched'],
      'yes',
    );
  });

  it('upgrades through Git when run with a new version, keeping the patches of kustomization.yaml', async () => {
    const r = await tide(bootstrap('--version', '0.2.0'), kubeconfig());
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /✔ components are reconciled from Git by Kustomization flux-system\/flux-system\n/,
    );
    await pull();
    assert.equal((await git('log', '-1', '--format=%s')).trim(), 'Add Tide v0.2.0 component manifests');
    assert.match(
      await readFile(join(work, path, 'tide-system', 'kustomization.yaml'), 'utf8'),
      /tide\.test\/patched/,
    );
    for (const name of expected) {
      const d = await deployment(name);
      assert.equal(d.spec.template.spec.containers[0].image, 'tide:0.2.0', name);
      assert.equal(d.status?.updatedReplicas, 1, name);
    }
    assert.equal(
      (await deployment('kustomize-controller')).metadata.annotations?.['tide.test/patched'],
      'yes',
    );
    assert.equal((await client().get(ksRef)).status?.lastAppliedRevision, `main@sha1:${await head()}`);
  });

  it('rollback kustomization restores the previous objects through a revert commit', async () => {
    const manifest = (value: string, extra: boolean) =>
      [
        'apiVersion: v1',
        'kind: Namespace',
        'metadata: {name: rollback-demo}',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: settings, namespace: rollback-demo}',
        `data: {color: ${value}}`,
        ...(extra
          ? [
              '---',
              'apiVersion: v1',
              'kind: ConfigMap',
              'metadata: {name: extra, namespace: rollback-demo}',
              'data: {a: b}',
            ]
          : []),
        '',
      ].join('\n');
    const commitApp = async (value: string, extra: boolean, message: string) => {
      await pull();
      await mkdir(join(work, 'apps'), { recursive: true });
      await writeFile(join(work, 'apps', 'app.yaml'), manifest(value, extra));
      await git('add', '-A');
      await git('commit', '-q', '-m', message);
      await git('push', '-q', authed(), 'HEAD:refs/heads/main');
    };
    const cm = (name: string) =>
      client().tryGet<KubeObject & { data?: Record<string, string> }>({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name,
        namespace: 'rollback-demo',
      });

    await commitApp('blue', false, 'Deploy blue');
    const good = await head();
    let r = await tide(['reconcile', 'source', 'git', ns, '--poll-interval', '500ms'], kubeconfig());
    assert.equal(r.code, 0, r.stderr);
    r = await tide(
      [
        'create',
        'ks',
        'apps',
        '--source',
        `GitRepository/${ns}`,
        '--path',
        './apps',
        '--prune',
        '--poll-interval',
        '500ms',
      ],
      kubeconfig(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`✔ applied revision main@sha1:${good}\n`));
    assert.equal((await cm('settings'))?.data?.color, 'blue');

    await commitApp('green', true, 'Deploy green');
    r = await tide(['reconcile', 'ks', 'apps', '--with-source', '--poll-interval', '500ms'], kubeconfig());
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await cm('settings'))?.data?.color, 'green');
    assert.ok(await cm('extra'));

    r = await tide(['rollback', 'ks', 'apps', '--poll-interval', '500ms'], kubeconfig());
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await cm('settings'))?.data?.color, 'blue');
    assert.equal(await cm('extra'), undefined, 'the object only the reverted commit had is pruned');
    await pull();
    const log = (await git('log', '-2', '--format=%s%n%b')).trim();
    assert.match(log, /^Revert "Deploy green"\nThis reverts commit [0-9a-f]{40}\.\n\nDeploy green$/);
    // The revert restores the files of the good commit, and the cluster applied the revert commit.
    assert.equal(await git('diff', good, 'HEAD', '--', 'apps'), '');
    assert.equal(
      (await client().get({ ...ksRef, name: 'apps' })).status?.lastAppliedRevision,
      `main@sha1:${await head()}`,
    );
  });

  it('switches the sync to SSH with --private-key-file: a key Secret with the scanned host keys', async () => {
    const tb = testbed();
    const sshUrl = tb.ssh.urlFor(join(tb.git.root, `fleet-${process.pid}.git`));
    const r = await tide(
      [
        'bootstrap',
        'git',
        '--url',
        sshUrl,
        '--path',
        path,
        '--private-key-file',
        tb.ssh.clientKey,
        '--silent',
        '--timeout',
        '4m',
        '--poll-interval',
        '500ms',
      ],
      kubeconfig(),
    );
    assert.equal(r.code, 0, r.stderr);
    const secret = await client().get({ apiVersion: 'v1', kind: 'Secret', name: ns, namespace: ns });
    const data = Object.fromEntries(
      Object.entries(secret.data as Record<string, string>).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString(),
      ]),
    );
    assert.deepEqual(Object.keys(data).sort(), ['identity', 'known_hosts']);
    assert.equal(data.identity, await readFile(tb.ssh.clientKey, 'utf8'));
    assert.match(
      data.known_hosts ?? '',
      new RegExp(`^\\[127\\.0\\.0\\.1\\]:${tb.ssh.port} ssh-ed25519 `, 'm'),
    );
    const source = await client().get({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      name: ns,
      namespace: ns,
    });
    assert.equal(source.spec.url, sshUrl);
    assert.equal(source.status?.artifact?.revision, `main@sha1:${await head()}`, 'fetched over SSH');
    await pull();
    assert.equal((await git('log', '-1', '--format=%s')).trim(), 'Add Tide sync manifests');
  });

  it('uninstall --purge removes what Kustomizations applied, then Tide, leaving no finalizer behind', async () => {
    const r = await tide(['uninstall', '--purge', '--silent', '--poll-interval', '500ms'], kubeconfig());
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /► keeping what Kustomization\/flux-system\/flux-system applied: it manages Tide itself\n/,
    );
    const pruned = await client().tryGet({ apiVersion: 'v1', kind: 'Namespace', name: 'rollback-demo' });
    assert.ok(!pruned || pruned.metadata.deletionTimestamp, 'the namespace apps applied is deleted');
    const crds = await client().listAll({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      kind: 'CustomResourceDefinition',
    });
    assert.deepEqual(
      crds.items.map((c) => c.metadata.name).filter((n) => n?.endsWith('.toolkit.fluxcd.io')),
      [],
    );
    assert.equal(await client().tryGet({ apiVersion: 'v1', kind: 'Namespace', name: ns }), undefined);
  });
});
