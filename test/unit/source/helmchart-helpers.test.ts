// The small pure parts of the HelmRepository and HelmChart reconcilers: which values files count,
// the size in Flux's NewArtifact event, and the HTTP options read from a HelmRepository's Secrets.
import assert from 'node:assert/strict';
import type { HelmChart, HelmRepository } from '../../../controllers/api/source-helm.ts';
import { ApiError, type Client } from '../../../controllers/runtime/client.ts';
import type { KubeObject, ObjectRef } from '../../../controllers/runtime/object.ts';
import { valuesFilesOf } from '../../../controllers/source/helmchart.ts';
import { humanSize, repositoryHttpOptions } from '../../../controllers/source/helmrepository.ts';

const spec = (s: Partial<HelmChart['spec']>) =>
  ({
    chart: 'x',
    interval: '1m',
    sourceRef: { kind: 'HelmRepository', name: 'r' },
    ...s,
  }) as HelmChart['spec'];

/** A client whose get serves the given Secrets (stringData-like maps) and 404s the rest. */
function secretsClient(secrets: Record<string, Record<string, string>>): Client {
  return {
    get: async (ref: ObjectRef) => {
      const data = secrets[ref.name];
      if (!data) throw new ApiError(404, `secrets "${ref.name}" not found`, 'NotFound');
      const encoded = Object.fromEntries(
        Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      );
      return { apiVersion: 'v1', kind: 'Secret', metadata: { name: ref.name }, data: encoded } as KubeObject;
    },
  } as unknown as Client;
}

const repo = (s: Partial<HelmRepository['spec']>): HelmRepository =>
  ({
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'HelmRepository',
    metadata: { name: 'r', namespace: 'ns' },
    spec: { url: 'https://charts.example.com', ...s },
  }) as HelmRepository;

describe('source/helmchart helpers', () => {
  it('takes valuesFile before valuesFiles, and a lone values.yaml as none', () => {
    assert.deepEqual(valuesFilesOf(spec({})), []);
    assert.deepEqual(valuesFilesOf(spec({ valuesFiles: ['values.yaml'] })), []);
    assert.deepEqual(valuesFilesOf(spec({ valuesFiles: ['./values.yaml'] })), []);
    assert.deepEqual(valuesFilesOf(spec({ valuesFiles: ['values.yaml', 'prod.yaml'] })), [
      'values.yaml',
      'prod.yaml',
    ]);
    assert.deepEqual(valuesFilesOf(spec({ valuesFile: 'a.yaml', valuesFiles: ['b.yaml'] })), [
      'a.yaml',
      'b.yaml',
    ]);
  });

  it('prints sizes as Go units.HumanSize', () => {
    assert.equal(humanSize(0), '0B');
    assert.equal(humanSize(999), '999B');
    assert.equal(humanSize(1435), '1.435kB');
    assert.equal(humanSize(12_500), '12.5kB');
    assert.equal(humanSize(3_000_000), '3MB');
  });
});

describe('source/helmrepository repositoryHttpOptions', () => {
  const client = secretsClient({
    auth: { username: 'u', password: 'p' },
    'auth-with-tls': { username: 'u', password: 'p', caFile: 'LEGACY-CA', 'tls.crt': 'C', 'tls.key': 'K' },
    certs: { 'ca.crt': 'CA' },
    'half-basic': { username: 'u' },
    'half-tls': { 'tls.crt': 'C' },
  });

  it('reads basic auth, the timeout and passCredentials', async () => {
    const opts = await repositoryHttpOptions(
      repo({ secretRef: { name: 'auth' }, timeout: '2m', passCredentials: true }),
      client,
    );
    assert.deepEqual(opts, { passCredentials: true, timeoutMs: 120_000, username: 'u', password: 'p' });
    assert.deepEqual(await repositoryHttpOptions(repo({}), client), {
      passCredentials: false,
      timeoutMs: 60_000,
    });
  });

  it('prefers certSecretRef for TLS and falls back to the deprecated keys in secretRef', async () => {
    const both = await repositoryHttpOptions(
      repo({ secretRef: { name: 'auth-with-tls' }, certSecretRef: { name: 'certs' } }),
      client,
    );
    assert.equal(both.caCert?.toString(), 'CA');
    assert.equal(both.clientCert, undefined);
    assert.equal(both.username, 'u');
    const legacy = await repositoryHttpOptions(repo({ secretRef: { name: 'auth-with-tls' } }), client);
    assert.equal(legacy.caCert?.toString(), 'LEGACY-CA');
    assert.equal(legacy.clientCert?.toString(), 'C');
    assert.equal(legacy.clientKey?.toString(), 'K');
  });

  it('names the Secret that is missing or incomplete', async () => {
    await assert.rejects(
      repositoryHttpOptions(repo({ secretRef: { name: 'absent' } }), client),
      /failed to get authentication secret 'ns\/absent'/,
    );
    await assert.rejects(
      repositoryHttpOptions(repo({ certSecretRef: { name: 'absent' } }), client),
      /failed to get TLS authentication secret 'ns\/absent'/,
    );
    await assert.rejects(
      repositoryHttpOptions(repo({ secretRef: { name: 'half-basic' } }), client),
      /'ns\/half-basic' must hold both 'username' and 'password'/,
    );
    await assert.rejects(
      repositoryHttpOptions(repo({ certSecretRef: { name: 'half-tls' } }), client),
      /'ns\/half-tls' must hold both 'tls.crt' and 'tls.key'/,
    );
  });
});
