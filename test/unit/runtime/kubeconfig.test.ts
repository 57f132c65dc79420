import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HttpsOptions, KubeConfig } from '../../../controllers/runtime/kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const config = (user: Record<string, unknown>, cluster: Record<string, unknown> = {}) => `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: ${b64('CA PEM')}
    ${Object.entries(cluster)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join('\n    ')}
users:
- name: dev-user
  user: ${JSON.stringify(user)}
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: apps}
- name: other
  context: {cluster: other-cluster, user: dev-user}
`;

async function options(kc: KubeConfig): Promise<HttpsOptions> {
  const opts: HttpsOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return opts;
}

describe('runtime/kubeconfig', () => {
  let dir: string;
  const savedEnv = { ...process.env };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tide-kubeconfig-'));
  });
  afterEach(async () => {
    process.env = { ...savedEnv };
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the current context: server, CA, client certificate and namespace', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(config({ 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') }));
    assert.equal(kc.getCurrentContext(), 'dev');
    assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
    assert.equal(kc.getContextObject('dev')?.namespace, 'apps');
    const opts = await options(kc);
    assert.equal(opts.ca?.toString(), 'CA PEM');
    assert.equal(opts.cert?.toString(), 'CERT');
    assert.equal(opts.key?.toString(), 'KEY');
    assert.equal(opts.headers, undefined);
    kc.setCurrentContext('other');
    assert.equal(kc.getCurrentCluster(), null, 'a context naming a missing cluster has none');
  });

  it('sends a token, a token file read afresh each time, or basic credentials', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(config({ token: 'abc' }));
    assert.deepEqual((await options(kc)).headers, { Authorization: 'Bearer abc' });

    const file = join(dir, 'token');
    await writeFile(file, 'first\n');
    kc.loadFromString(config({ tokenFile: file }));
    assert.deepEqual((await options(kc)).headers, { Authorization: 'Bearer first' });
    await writeFile(file, 'rotated\n');
    assert.deepEqual((await options(kc)).headers, { Authorization: 'Bearer rotated' });

    kc.loadFromString(config({ username: 'u', password: 'p' }));
    assert.equal((await options(kc)).auth, 'u:p');
  });

  it('resolves file references relative to the kubeconfig file, and honours skip-verify and the server name', async () => {
    await writeFile(join(dir, 'ca.crt'), 'CA FROM FILE');
    await writeFile(join(dir, 'client.crt'), 'CERT FROM FILE');
    await writeFile(join(dir, 'client.key'), 'KEY FROM FILE');
    const text = config(
      { 'client-certificate': 'client.crt', 'client-key': 'client.key' },
      { 'insecure-skip-tls-verify': true, 'tls-server-name': 'api.internal' },
    ).replace(/certificate-authority-data: .*/, 'certificate-authority: ca.crt');
    await writeFile(join(dir, 'config'), text);
    const kc = new KubeConfig();
    kc.loadFromFile(join(dir, 'config'));
    const opts = await options(kc);
    assert.equal(opts.ca?.toString(), 'CA FROM FILE');
    assert.equal(opts.cert?.toString(), 'CERT FROM FILE');
    assert.equal(opts.key?.toString(), 'KEY FROM FILE');
    assert.equal(opts.rejectUnauthorized, false);
    assert.equal(opts.servername, 'api.internal');
  });

  it('merges the files of $KUBECONFIG, the first file winning', async () => {
    await writeFile(join(dir, 'a'), config({ token: 'from-a' }));
    await writeFile(
      join(dir, 'b'),
      config({ token: 'from-b' })
        .replace('current-context: dev', 'current-context: other')
        .replaceAll('dev-user', 'b-user')
        .replace('name: other-cluster', 'name: x'),
    );
    process.env.KUBECONFIG = `${join(dir, 'missing')}:${join(dir, 'a')}:${join(dir, 'b')}`;
    const kc = new KubeConfig();
    kc.loadFromDefault();
    assert.equal(kc.getCurrentContext(), 'dev', "the first file's current-context");
    assert.deepEqual(
      kc.users.map((u) => u.name),
      ['dev-user', 'b-user'],
    );
    assert.deepEqual((await options(kc)).headers, { Authorization: 'Bearer from-a' });
  });

  it('runs an exec credential plugin with its env and caches the credential until it expires', async () => {
    const plugin = join(dir, 'plugin.sh');
    const calls = join(dir, 'calls');
    await writeFile(
      plugin,
      `#!/bin/sh\necho call >> ${calls}\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2999-01-01T00:00:00Z"}}' "$TOKEN_VALUE"\n`,
    );
    await chmod(plugin, 0o755);
    const kc = new KubeConfig();
    kc.loadFromString(
      config({
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: plugin,
          env: [{ name: 'TOKEN_VALUE', value: 'from-plugin' }],
        },
      }),
    );
    assert.deepEqual((await options(kc)).headers, { Authorization: 'Bearer from-plugin' });
    assert.deepEqual((await options(kc)).headers, { Authorization: 'Bearer from-plugin' });
    assert.equal((await readFile(calls, 'utf8')).trim().split('\n').length, 1, 'the plugin ran once');
  });

  it('refuses auth-provider users with a clear message', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(config({ 'auth-provider': { name: 'gcp' } }));
    await assert.rejects(options(kc), /auth-provider 'gcp' is not supported; use an exec credential plugin/);
  });

  it('builds the in-cluster config from the service environment', () => {
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    const kc = new KubeConfig();
    kc.loadFromCluster();
    assert.equal(kc.getCurrentCluster()?.server, 'https://10.96.0.1:443');
    assert.equal(kc.getCurrentUser()?.tokenFile, '/var/run/secrets/kubernetes.io/serviceaccount/token');
  });

  it('exports a kubeconfig that loads back the same', () => {
    const kc = new KubeConfig();
    kc.loadFromString(config({ token: 'abc' }));
    const again = new KubeConfig();
    again.loadFromString(kc.exportConfig());
    assert.deepEqual(again.clusters, kc.clusters);
    assert.deepEqual(again.users, kc.users);
    assert.deepEqual(again.contexts, kc.contexts);
    assert.equal(again.currentContext, 'dev');
  });
});
