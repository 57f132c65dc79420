// Smoke tests: each part of the test bed is real and usable the way later suites use it.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { componentNames } from '../../hack/testbed/controlplane.ts';
import { poll, run } from '../../hack/testbed/proc.ts';
import { pushImage } from '../../hack/testbed/registry.ts';
import { toolPaths } from '../../hack/testbed/tools.ts';
import { isLoopback, listeners, withDescendants } from '../support/sockets.ts';
import { testbed, useNamespace } from '../support/testbed.ts';

const gitEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
const git = (args: string[], env: NodeJS.ProcessEnv = gitEnv) =>
  run('git', ['-c', 'user.name=Tide Test', '-c', 'user.email=test@tide.invalid', ...args], { env });
const withAuth = (url: string, user: string, pass: string) =>
  url.replace('http://', `http://${user}:${pass}@`);

describe('test bed', () => {
  const ns = useNamespace('testbed');

  it('runs a Deployment to Available with its Pod Running on the kwok node', async function () {
    this.timeout(120_000);
    const kc = testbed().kubeconfig;
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const body: V1Deployment = {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1.0' }] },
        },
      },
    };
    await apps.createNamespacedDeployment({ namespace: ns(), body });
    // A bounded wait: with the scheduler or kwok stopped this fails with the last state seen.
    await poll('Deployment web Available with 2 ready replicas', 90_000, async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns() });
      const available = d.status?.conditions?.find((c) => c.type === 'Available');
      if (available?.status === 'True' && d.status?.readyReplicas === 2) return true;
      throw new Error(`status: ${JSON.stringify(d.status ?? {})}`);
    });
    const pods = await core.listNamespacedPod({ namespace: ns(), labelSelector: 'app=web' });
    assert.equal(pods.items.length, 2);
    for (const pod of pods.items) {
      assert.equal(pod.status?.phase, 'Running');
      assert.equal(pod.spec?.nodeName, testbed().controlPlane.nodeName);
    }
  });

  it('reports the pinned Kubernetes version', async () => {
    const tools = await toolPaths();
    const out = await run(tools['kube-apiserver'], ['--version']);
    const pinned = (await readFile(join(import.meta.dirname, '../../hack/versions.env'), 'utf8')).match(
      /KUBERNETES_VERSION=(\S+)/,
    )?.[1];
    assert.equal(out.trim(), `Kubernetes v${pinned}`);
  });

  it('serves Git over HTTP with basic auth: clone and push succeed, no credentials are refused', async () => {
    const tb = testbed();
    const url = await tb.git.createRepo('smoke-http');
    const work = await mkdtemp(join(tb.dir, 'http-'));
    const authed = withAuth(url, tb.git.username, tb.git.password);
    await git(['clone', '-q', authed, join(work, 'a')]);
    await writeFile(join(work, 'a', 'README.md'), 'hello\n');
    await git(['-C', join(work, 'a'), 'add', '.']);
    await git(['-C', join(work, 'a'), 'commit', '-q', '-m', 'first']);
    await git(['-C', join(work, 'a'), 'push', '-q', 'origin', 'main']);
    const head = (await git(['-C', join(work, 'a'), 'rev-parse', 'HEAD'])).trim();

    await git(['clone', '-q', authed, join(work, 'b')]);
    assert.equal((await git(['-C', join(work, 'b'), 'rev-parse', 'HEAD'])).trim(), head);
    assert.equal(await readFile(join(work, 'b', 'README.md'), 'utf8'), 'hello\n');

    await assert.rejects(
      git(['clone', '-q', url, join(work, 'c')]),
      /Authentication failed|401|could not read Username/,
    );
    await assert.rejects(
      git(['clone', '-q', withAuth(url, tb.git.username, 'wrong'), join(work, 'd')]),
      /Authentication failed|401/,
    );
  });

  it('serves Git over SSH: the right key and host key clone, a wrong host key is refused', async () => {
    const tb = testbed();
    const url = await tb.git.createRepo('smoke-ssh');
    const work = await mkdtemp(join(tb.dir, 'ssh-'));
    await git(['clone', '-q', withAuth(url, tb.git.username, tb.git.password), join(work, 'seed')]);
    await writeFile(join(work, 'seed', 'f.txt'), 'ssh\n');
    await git(['-C', join(work, 'seed'), 'add', '.']);
    await git(['-C', join(work, 'seed'), 'commit', '-q', '-m', 'seed']);
    await git(['-C', join(work, 'seed'), 'push', '-q', 'origin', 'main']);

    const known = join(work, 'known_hosts');
    await writeFile(known, tb.ssh.knownHosts);
    const sshCmd = (knownHosts: string) =>
      `ssh -i ${tb.ssh.clientKey} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHosts}`;
    const sshUrl = tb.ssh.urlFor(join(tb.git.root, 'smoke-ssh.git'));
    await git(['clone', '-q', sshUrl, join(work, 'ok')], { ...gitEnv, GIT_SSH_COMMAND: sshCmd(known) });
    assert.equal(await readFile(join(work, 'ok', 'f.txt'), 'utf8'), 'ssh\n');

    // A known_hosts entry with another key for the same host must stop the clone.
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'other')]);
    const otherPub = (await readFile(join(work, 'other.pub'), 'utf8'))
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
    const wrong = join(work, 'wrong_known_hosts');
    await writeFile(wrong, `[127.0.0.1]:${tb.ssh.port} ${otherPub}\n`);
    await assert.rejects(
      git(['clone', '-q', sshUrl, join(work, 'bad')], { ...gitEnv, GIT_SSH_COMMAND: sshCmd(wrong) }),
      /HOST IDENTIFICATION HAS CHANGED|Host key verification failed/,
    );
  });

  it('stores pushed image tags in the OCI registry', async () => {
    const tb = testbed();
    await pushImage(tb.registry, 'team/app', ['1.0.0', '1.1.0', '2.0.0-rc.1']);
    const res = await fetch(`${tb.registry.url}/v2/team/app/tags/list`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { tags: string[] };
    assert.deepEqual([...body.tags].sort(), ['1.0.0', '1.1.0', '2.0.0-rc.1']);
  });

  it('serves a Helm chart repository that helm pull reads', async function () {
    this.timeout(60_000);
    const tb = testbed();
    const { helm } = await toolPaths();
    const work = await mkdtemp(join(tb.dir, 'helm-'));
    const env = {
      ...process.env,
      HELM_CACHE_HOME: join(work, 'cache'),
      HELM_CONFIG_HOME: join(work, 'config'),
      HELM_DATA_HOME: join(work, 'data'),
    };
    const chart = join(work, 'demo');
    await mkdir(join(chart, 'templates'), { recursive: true });
    await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 0.1.0\n');
    await writeFile(
      join(chart, 'templates', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  k: v\n',
    );
    await run(helm, ['package', chart, '-d', tb.chartsDir], { env });
    await run(helm, ['repo', 'index', tb.chartsDir, '--url', tb.charts.url], { env });

    const index = await fetch(`${tb.charts.url}/index.yaml`);
    assert.equal(index.status, 200);
    assert.match(await index.text(), /demo-0\.1\.0\.tgz/);
    assert.equal((await fetch(`${tb.charts.url}/missing.tgz`)).status, 404);

    const dest = join(work, 'pulled');
    await mkdir(dest);
    await run(helm, ['pull', 'demo', '--repo', tb.charts.url, '--version', '0.1.0', '-d', dest], { env });
    const shown = await run(helm, ['show', 'chart', join(dest, 'demo-0.1.0.tgz')], { env });
    assert.match(shown, /name: demo/);
  });

  it('gives a ClusterIP to more Services than a /24 holds (the benchmarks create thousands)', async function () {
    this.timeout(120_000);
    const core = testbed().kubeconfig.makeApiClient(CoreV1Api);
    const names = Array.from({ length: 300 }, (_, i) => `svc-${i}`);
    const ips = new Set<string>();
    for (let i = 0; i < names.length; i += 20) {
      const created = await Promise.all(
        names.slice(i, i + 20).map((name) =>
          core.createNamespacedService({
            namespace: ns(),
            body: { metadata: { name }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } },
          }),
        ),
      );
      for (const svc of created) ips.add(svc.spec?.clusterIP ?? '');
    }
    ips.delete('');
    assert.equal(ips.size, 300);
  });

  it('listens on loopback only', async () => {
    const tb = testbed();
    const cp = tb.controlPlane;
    const pids = await withDescendants([
      ...componentNames.map((c) => cp.pids[c]!),
      tb.ssh.pid,
      tb.registry.pid,
      process.pid, // the Git HTTP and chart servers run in this process
    ]);
    const found = await listeners(pids);
    // The API server, etcd, the registry and sshd at least: an empty list would mean the check reads nothing.
    for (const port of [cp.ports.apiserver, cp.ports.etcdClient, tb.ssh.port]) {
      assert.ok(
        found.some((l) => l.address.endsWith(`:${port}`)),
        `no listener found on port ${port}`,
      );
    }
    const exposed = found.filter((l) => !isLoopback(l.address));
    assert.deepEqual(exposed, [], `non-loopback listeners: ${JSON.stringify(exposed)}`);
  });
});
