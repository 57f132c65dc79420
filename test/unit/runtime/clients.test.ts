// Clients per object: kubeconfigs from Secrets are self-contained or refused; impersonating clients are kept.
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import type { Client } from '../../../controllers/runtime/client.ts';
import {
  createClients,
  KubeConfigError,
  kubeConfigText,
  parseKubeConfig,
  workloadIdentity,
} from '../../../controllers/runtime/clients.ts';

const kubeconfig = (cluster: Record<string, unknown>, user: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'c',
    contexts: [
      { name: 'c', context: { cluster: 'k', user: 'u' } },
      { name: 'other', context: { cluster: 'x', user: 'x' } },
    ],
    clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:6443', ...cluster } }],
    users: [{ name: 'u', user }],
  });
const refused = (text: string, message: RegExp) =>
  assert.throws(
    () => parseKubeConfig(text, 'apps/remote'),
    (err: Error) => err instanceof KubeConfigError && message.test(err.message),
  );

describe('runtime/clients', () => {
  it("reads the kubeconfig under the given key, else 'value', else 'value.yaml'", () => {
    assert.equal(kubeConfigText({ value: 'a', 'value.yaml': 'b' }, 'ns/s'), 'a');
    assert.equal(kubeConfigText({ 'value.yaml': 'b' }, 'ns/s'), 'b');
    assert.equal(kubeConfigText({ config: 'c', value: 'a' }, 'ns/s', 'config'), 'c');
    assert.throws(
      () => kubeConfigText({ other: 'x' }, 'ns/s'),
      /KubeConfig secret 'ns\/s' does not contain a 'value' key/,
    );
    assert.throws(() => kubeConfigText({ value: 'a' }, 'ns/s', 'config'), /does not contain a 'config' key/);
  });

  it('keeps the server, CA and credentials of the current context', () => {
    const kc = parseKubeConfig(
      kubeconfig({ 'certificate-authority-data': 'Q0E=', 'tls-server-name': 'api' }, { token: 't0k' }),
      'apps/remote',
    );
    assert.deepEqual(
      { ...kc.getCurrentCluster() },
      {
        name: 'remote',
        server: 'https://127.0.0.1:6443',
        caData: 'Q0E=',
        tlsServerName: 'api',
        proxyUrl: undefined,
        skipTLSVerify: false,
      },
    );
    assert.equal(kc.getCurrentUser()?.token, 't0k');
  });

  it('refuses files, credential plugins, disabled TLS verification and a missing context, naming the Secret', () => {
    refused(
      kubeconfig({}, { 'client-certificate': '/etc/passwd' }),
      /secret 'apps\/remote': user.client-certificate is not allowed \(files of the controller/,
    );
    refused(kubeconfig({}, { 'token-file': '/var/run/secrets/token' }), /user.token-file is not allowed/);
    refused(kubeconfig({}, { exec: { command: 'aws' } }), /user.exec is not allowed \(credential plugins/);
    refused(
      kubeconfig({ 'insecure-skip-tls-verify': true }, {}),
      /cluster.insecure-skip-tls-verify is not allowed/,
    );
    refused(kubeconfig({ server: 'unix:///x' }, {}), /cluster.server must be an http\(s\) URL/);
    refused('clusters: [', /is not valid YAML/);
    refused('apiVersion: v1\nkind: Config\n', /has no current-context/);
    refused(
      kubeconfig({}, {}).replace('"current-context":"c"', '"current-context":"gone"'),
      /context 'gone' not found/,
    );
  });

  it('returns the local client without a ServiceAccount, and keeps one impersonating client per ServiceAccount', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    const local = { server: 'local' } as Client;
    const clients = createClients({ kubeConfig: kc, fieldManager: 'test' });
    assert.equal(await clients.clientFor({ namespace: 'apps' }, local), local);
    const a = await clients.clientFor({ namespace: 'apps', serviceAccountName: 'deployer' }, local);
    assert.notEqual(a, local);
    assert.equal(await clients.clientFor({ namespace: 'apps', serviceAccountName: 'deployer' }, local), a);
    assert.notEqual(
      await clients.clientFor({ namespace: 'other', serviceAccountName: 'deployer' }, local),
      a,
    );
    const withDefault = createClients({
      kubeConfig: kc,
      fieldManager: 'test',
      defaultServiceAccount: 'restricted',
    });
    assert.notEqual(await withDefault.clientFor({ namespace: 'apps' }, local), local);
  });

  it('reads a generic workload-identity ConfigMap, defaulting the audience to the address', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n';
    assert.deepEqual(
      workloadIdentity(
        { provider: 'generic', address: 'API.example:6443', 'ca.crt': pem, serviceAccountName: 'remote' },
        'apps/wi',
      ),
      {
        address: 'https://api.example:6443',
        caData: Buffer.from(pem).toString('base64'),
        audiences: ['https://api.example:6443'],
        serviceAccountName: 'remote',
      },
    );
    const wi = workloadIdentity(
      {
        provider: 'generic',
        address: 'https://10.0.0.1',
        audiences: 'a\n b \n',
        serviceAccountName: 'remote',
      },
      'apps/wi',
    );
    assert.deepEqual([wi.address, wi.audiences], ['https://10.0.0.1:443', ['a', 'b']]);
  });

  it('refuses cloud providers, a missing address or ServiceAccount, and plain http, naming the ConfigMap', () => {
    const refusedWi = (data: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => workloadIdentity(data, 'apps/wi'),
        (err: Error) => err instanceof KubeConfigError && message.test(err.message),
      );
    refusedWi(
      { provider: 'aws', cluster: 'arn:aws:eks:eu-west-1:1:cluster/c' },
      /ConfigMap 'apps\/wi': provider 'aws' is not supported by Tide: only 'generic'/,
    );
    refusedWi({ provider: 'generic', serviceAccountName: 'remote' }, /'address' is required/);
    refusedWi(
      { provider: 'generic', address: 'http://x:80', serviceAccountName: 'remote' },
      /must use the https scheme/,
    );
    refusedWi({ provider: 'generic', address: 'https://x' }, /'serviceAccountName' is required/);
  });
});
