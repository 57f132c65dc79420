// The README's run command: on a machine without KUBECONFIG it brings up a local control plane,
// installs the CRDs, runs the controllers and syncs the documented example until
// `tide get kustomizations -A` shows every environment Ready.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { stopControlPlane } from '../../hack/testbed/controlplane.ts';
import { poll, run } from '../../hack/testbed/proc.ts';
import { testbed } from '../support/testbed.ts';

const root = join(import.meta.dirname, '..', '..');

describe('make run (hack/run.ts) on the local control plane', function () {
  this.timeout(300_000);
  let dir: string;
  let child: ChildProcess;
  let output = '';

  before(async () => {
    dir = await mkdtemp(join(testbed().dir, 'run-'));
    const env: NodeJS.ProcessEnv = { ...process.env, TIDE_TESTBED_DIR: dir };
    delete env.KUBECONFIG;
    child = spawn(process.execPath, [join(root, 'hack', 'run.ts')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
  });

  after(async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    await stopControlPlane(dir);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(output.split('\n').slice(-40).join('\n'));
  });

  const kubeconfig = () => join(dir, 'kubeconfig');
  /** The tide CLI against the local control plane, as the README runs it. */
  const cli = (...args: string[]) =>
    run(process.execPath, [join(root, 'controllers', 'cli', 'main.ts'), ...args], {
      env: { ...process.env, KUBECONFIG: kubeconfig() },
    });

  it('syncs the example: every environment Ready in tide get kustomizations -A', async () => {
    const table = await poll(
      'the example Kustomizations Ready',
      240_000,
      async () => {
        if (child.exitCode !== null) throw new Error(`hack/run.ts exited with ${child.exitCode}`);
        const out = await cli('get', 'kustomizations', '-A');
        const rows = out.split('\n').filter((l) => l.startsWith('flux-system'));
        if (rows.length === 3 && rows.every((r) => /\bTrue\b.*Applied revision: main@sha1:/.test(r)))
          return out;
        throw new Error(out);
      },
      2_000,
    );
    for (const env of ['dev', 'staging', 'prod']) assert.match(table, new RegExp(`apps-${env}`));
    // notification-controller runs too, its receiver on a loopback port the run prints.
    assert.match(output, /webhook receiver: http:\/\/127\.0\.0\.1:\d+\/hook\//);
    assert.match(output, /"msg":"starting webhook receiver server"/);

    // What the overlays promise: replicas 1, 2, 3 per environment, available on the kwok node.
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig());
    const apps = kc.makeApiClient(AppsV1Api);
    for (const [ns, replicas] of [
      ['dev', 1],
      ['staging', 2],
      ['prod', 3],
    ] as const) {
      const d = await apps.readNamespacedDeployment({ name: 'frontend', namespace: ns });
      assert.equal(d.spec?.replicas, replicas);
      assert.equal(d.status?.availableReplicas, replicas);
    }
  });

  it('moves the backend to the newest 1.x tag of the example registry with a commit to Git', async () => {
    // 1.0.0 in Git; the registry also holds 1.1.0 and 2.0.0-rc.1, which a 1.x range leaves out.
    const images = await poll(
      'the image automation pushed',
      120_000,
      async () => {
        const out = await cli('get', 'images', 'all', '-n', 'flux-system');
        if (
          /imagepolicy\/backend\s+\S+\/example\/backend\s+1\.1\.0\s+True/.test(out) &&
          /imageupdateautomation\/gitops-repo\s+\S+\s+False\s+True\s+repository up-to-date/.test(out)
        )
          return out;
        throw new Error(out);
      },
      2_000,
    );
    assert.match(images, /imagerepository\/backend\s+\S+\s+False\s+True\s+successful scan: found 3 tags/);
    const git = join(dir, 'git', 'gitops-repo.git');
    const log = await run('git', ['--git-dir', git, 'log', '-1', '--format=%an%n%B', 'main']);
    assert.match(
      log,
      /^Tide\nUpdate images\n\n- \S+\/example\/backend:1\.0\.0 -> \S+\/example\/backend:1\.1\.0\n/,
    );
    const diff = await run('git', ['--git-dir', git, 'diff', '--numstat', 'main~1', 'main']);
    assert.equal(diff.trim(), '1\t1\tapps/backend/base/deployment.yaml');
    // Applied once the source is fetched again.
    await cli('reconcile', 'kustomization', 'apps-dev', '--with-source', '-n', 'flux-system');
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig());
    const d = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: 'backend', namespace: 'dev' });
    assert.match(d.spec?.template.spec?.containers[0]?.image ?? '', /\/example\/backend:1\.1\.0$/);
  });
});
