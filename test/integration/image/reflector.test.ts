// image-reflector-controller as its own process against the test bed's registry (plain HTTP on
// loopback, as a local registry is) and a token-auth front of it: scans, every policy kind over one
// tag list, digests, credentials, a restart that does not rescan, and the errors a user sees.

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImagePolicy, ImageRepository } from '../../../controllers/api/image.ts';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import { pushArtifact } from '../../../controllers/runtime/oci/artifact.ts';
import { dockerConfigJson } from '../../../controllers/runtime/oci/auth.ts';
import { createRegistryClient } from '../../../controllers/runtime/oci/client.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { pushImage } from '../../../hack/testbed/registry.ts';
import { type ControllerProcess, startController } from '../../support/controllers.ts';
import { ensureCrds } from '../../support/crds.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { makeTarGz, startAuthRegistry, startTokenProxy, type TokenProxy } from '../oci/fixtures.ts';
import { cond, dockerConfigSecret, eventsOf, imageKinds } from './support.ts';

const user = { username: 'scanner', password: 'Sc4n:pa55-word' };

describe('image-reflector-controller: ImageRepository and ImagePolicy', function () {
  this.timeout(240_000);
  const ns = useNamespace('imgrefl');
  let client: Client;
  let reflector: ControllerProcess;
  let storage: string;
  let tokens: TokenProxy;
  const k = imageKinds(() => client, ns);
  const repo = () => `${testbed().registry.host}/tide-${process.pid}/${ns()}/app`;
  const repoPath = () => `tide-${process.pid}/${ns()}/app`;
  const start = async () => {
    reflector = await startController('image-reflector', [
      `--storage-path=${storage}`,
      '--requeue-dependency=2s',
    ]);
  };

  // The tags a release process leaves: releases, pre-releases, CalVer, builds, a signature.
  const tags = [
    '1.0.0',
    '1.2.0',
    '1.10.0',
    '1.9.0',
    '2.0.0-rc.1',
    'latest',
    'main-abc123-1700000000',
    'main-def456-1700000100',
    'feature-aaa-1800000000',
    '20240101',
    '20231231',
    'sha256-abc.sig',
  ];
  let digest: string;

  before(async function () {
    this.timeout(120_000);
    await ensureCrds();
    const tb = testbed();
    client = createClient(tb.kubeconfig, { fieldManager: 'tide-test' });
    storage = await mkdtemp(join(tb.dir, 'reflector-'));
    digest = await pushImage(tb.registry, repoPath(), tags);
    tokens = await startTokenProxy(tb.registry.url, user);
    await start();
  });
  after(async () => {
    await reflector?.stop();
    await tokens?.close();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      console.error(reflector.logs().split('\n').slice(-40).join('\n'));
  });

  it('scans the tags, leaving out signatures, and records what it found', async () => {
    await k.create('ImageRepository', 'app', { image: repo(), interval: '10m' });
    const o = await k.waitReady<ImageRepository>('ImageRepository', 'app');
    const scan = o.status!.lastScanResult!;
    assert.equal(scan.tagCount, tags.length - 1);
    assert.deepEqual(
      scan.latestTags,
      tags
        .filter((t) => !t.endsWith('.sig'))
        .sort()
        .reverse()
        .slice(0, 10),
    );
    assert.match(scan.revision ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(o.status!.canonicalImageName, repo());
    assert.deepEqual(o.status!.observedExclusionList, ['^.*\\.sig$']);
    assert.equal(
      cond(o, ConditionTypes.Ready)?.message,
      `successful scan: found ${tags.length - 1} tags with checksum ${scan.revision}`,
    );
  });

  it('picks the documented tag with each policy kind over the same tag list', async () => {
    const policies: [string, Record<string, unknown>, string][] = [
      ['semver', { policy: { semver: { range: '>=1.0.0' } } }, '1.10.0'],
      ['semver-pre', { policy: { semver: { range: '>=1.0.0-0' } } }, '2.0.0-rc.1'],
      ['alphabetical', { policy: { alphabetical: { order: 'asc' } } }, 'main-def456-1700000100'],
      ['alphabetical-desc', { policy: { alphabetical: { order: 'desc' } } }, '1.0.0'],
      [
        'numerical',
        { policy: { numerical: { order: 'asc' } }, filterTags: { pattern: '^[0-9]+$' } },
        '20240101',
      ],
      [
        'timestamp',
        {
          policy: { numerical: { order: 'asc' } },
          filterTags: { pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)$', extract: '$ts' },
        },
        'main-def456-1700000100',
      ],
    ];
    for (const [name, spec] of policies)
      await k.create('ImagePolicy', name, { imageRepositoryRef: { name: 'app' }, ...spec });
    for (const [name, , tag] of policies) {
      const o = await k.waitReady<ImagePolicy>('ImagePolicy', name);
      assert.deepEqual(o.status!.latestRef, { name: repo(), tag }, name);
      assert.equal(
        cond(o, ConditionTypes.Ready)?.message,
        `Latest image tag for ${repo()} resolved to ${tag}`,
      );
    }
  });

  it('resolves the digest of the pick from the registry when asked to', async () => {
    await k.create('ImagePolicy', 'digest', {
      imageRepositoryRef: { name: 'app' },
      policy: { semver: { range: '1.x' } },
      digestReflectionPolicy: 'IfNotPresent',
    });
    const o = await k.waitReady<ImagePolicy>('ImagePolicy', 'digest');
    assert.deepEqual(o.status!.latestRef, { name: repo(), tag: '1.10.0', digest });
  });

  it('moves to a new tag after the next scan, keeping the previous pick and recording an event', async () => {
    await pushImage(testbed().registry, repoPath(), ['1.11.0']);
    await k.request('ImageRepository', 'app', 'new-tag');
    const o = await k.waitReady<ImagePolicy>(
      'ImagePolicy',
      'semver',
      (p) => p.status?.latestRef?.tag === '1.11.0',
    );
    assert.deepEqual(o.status!.observedPreviousRef, { name: repo(), tag: '1.10.0' });
    const message = `Latest image tag for ${repo()} resolved to 1.11.0 (previously ${repo()}:1.10.0)`;
    assert.equal(cond(o, ConditionTypes.Ready)?.message, message);
    const events = await eventsOf(client, ns(), 'ImagePolicy', 'semver');
    assert.ok(
      events.some((e) => e.type === 'Normal' && e.reason === 'Succeeded' && e.message === message),
      JSON.stringify(events),
    );
  });

  it('authenticates through a token challenge with secretRef, and says so when the secret is wrong', async () => {
    const image = `${tokens.host}/${repoPath()}`;
    await client.create(dockerConfigSecret(ns(), 'good', dockerConfigJson(tokens.host, user)));
    const wrongPassword = 'N0t-the-pa55word';
    await client.create(
      dockerConfigSecret(ns(), 'bad', dockerConfigJson(tokens.host, { ...user, password: wrongPassword })),
    );
    await k.create('ImageRepository', 'private', { image, interval: '10m', secretRef: { name: 'good' } });
    const ok = await k.waitReady<ImageRepository>('ImageRepository', 'private');
    assert.equal(ok.status!.lastScanResult!.tagCount, tags.length);
    assert.ok(
      tokens.tokenRequests.some((r) => r.granted && r.scopes.includes(`repository:${repoPath()}:pull`)),
    );

    await k.create('ImageRepository', 'wrong', { image, interval: '10m', secretRef: { name: 'bad' } });
    const bad = await k.waitNotReady('ImageRepository', 'wrong', /token service refused the credentials/);
    assert.equal(cond(bad, ConditionTypes.Ready)?.reason, 'ReadOperationFailed');
    assert.match(
      cond(bad, ConditionTypes.Ready)!.message,
      /^scan failed: token for .* refused the credentials \(HTTP 401\)$/,
    );
    assert.ok(!JSON.stringify(bad).includes(wrongPassword), 'no password in the status');

    await k.create('ImageRepository', 'anonymous', { image, interval: '10m' });
    await k.waitNotReady(
      'ImageRepository',
      'anonymous',
      /anonymous access refused \(HTTP 401\); credentials are needed/,
    );

    await k.create('ImageRepository', 'missing', { image, interval: '10m', secretRef: { name: 'nope' } });
    const missing = await k.waitNotReady('ImageRepository', 'missing', /secret/);
    assert.equal(cond(missing, ConditionTypes.Ready)?.reason, 'AuthenticationFailed');
    assert.equal(
      cond(missing, ConditionTypes.Ready)?.message,
      `failed to configure authentication options: secret '${ns()}/nope' not found`,
    );
  });

  it("reads credentials from the ServiceAccount's imagePullSecrets, and speaks plain HTTP when insecure", async () => {
    await client.create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'scanner', namespace: ns() },
      imagePullSecrets: [{ name: 'good' }],
    });
    const image = `${tokens.host}/${repoPath()}`;
    await k.create('ImageRepository', 'via-sa', {
      image,
      interval: '10m',
      serviceAccountName: 'scanner',
      insecure: true,
    });
    const o = await k.waitReady<ImageRepository>('ImageRepository', 'via-sa');
    assert.equal(o.status!.lastScanResult!.tagCount, tags.length);
  });

  it('trusts the CA of certSecretRef and answers a Basic challenge with secretRef', async () => {
    const tls = await startAuthRegistry(await mkdtemp(join(testbed().dir, 'img-tls-')), user);
    try {
      const admin = createRegistryClient({ registry: tls.host, credentials: user, caCert: tls.caCert });
      await pushArtifact(admin, 'team/tls', {
        layer: await makeTarGz({ 'a.yaml': 'a: 1\n' }),
        tags: ['0.1.0', '0.2.0'],
      });
      await admin.close();
      await client.create(dockerConfigSecret(ns(), 'tls-creds', dockerConfigJson(tls.host, user)));
      await client.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'tls-ca', namespace: ns() },
        data: { 'ca.crt': tls.caCert.toString('base64') },
      });
      const spec = { image: `${tls.host}/team/tls`, interval: '10m', secretRef: { name: 'tls-creds' } };
      await k.create('ImageRepository', 'tls', { ...spec, certSecretRef: { name: 'tls-ca' } });
      const ok = await k.waitReady<ImageRepository>('ImageRepository', 'tls');
      assert.deepEqual(ok.status!.lastScanResult!.latestTags, ['0.2.0', '0.1.0']);
      await k.create('ImageRepository', 'tls-no-ca', spec);
      const bad = await k.waitNotReady('ImageRepository', 'tls-no-ca', /certificate/);
      assert.match(cond(bad, ConditionTypes.Ready)!.message, /for a private CA set its certificate/);
    } finally {
      await tls.close();
    }
  });

  it('stalls on an image with a tag, an unsupported provider, and waits for a missing repository', async () => {
    await k.create('ImageRepository', 'tagged', { image: `${repo()}:1.0.0`, interval: '10m' });
    const tagged = await k.waitNotReady('ImageRepository', 'tagged', /should not include a tag/);
    assert.equal(cond(tagged, ConditionTypes.Stalled)?.reason, 'ImageURLInvalid');
    assert.equal(
      cond(tagged, ConditionTypes.Ready)?.message,
      `image '${repo()}:1.0.0' should not include a tag; remove ':1.0.0'`,
    );

    await k.create('ImageRepository', 'cloud', { image: repo(), interval: '10m', provider: 'aws' });
    const cloud = await k.waitNotReady(
      'ImageRepository',
      'cloud',
      /spec.provider 'aws' is not supported by Tide/,
    );
    assert.equal(cond(cloud, ConditionTypes.Stalled)?.reason, 'UnsupportedField');

    await k.create('ImagePolicy', 'orphan', {
      imageRepositoryRef: { name: 'nope' },
      policy: { semver: { range: '*' } },
    });
    const orphan = await k.waitNotReady('ImagePolicy', 'orphan', /referenced ImageRepository does not exist/);
    assert.equal(cond(orphan, ConditionTypes.Ready)?.reason, 'DependencyNotReady');
  });

  it('uses an ImageRepository of another namespace only when its accessFrom selects this one', async () => {
    const other = { apiVersion: 'image.toolkit.fluxcd.io/v1', kind: 'ImageRepository', namespace: 'default' };
    const name = `shared-${process.pid}`;
    await client.create({
      ...other,
      metadata: { name, namespace: 'default' },
      spec: { image: repo(), interval: '10m' },
    });
    try {
      await k.create('ImagePolicy', 'foreign', {
        imageRepositoryRef: { name, namespace: 'default' },
        policy: { semver: { range: '1.x' } },
      });
      const denied = await k.waitNotReady('ImagePolicy', 'foreign', /access denied/);
      assert.equal(cond(denied, ConditionTypes.Ready)?.reason, 'AccessDenied');
      assert.equal(
        cond(denied, ConditionTypes.Ready)?.message,
        `failed to get the referred ImageRepository: access denied: 'default/${name}' can't be accessed due to missing ACL labels on 'accessFrom'`,
      );
      await client.patch({ ...other, name }, 'merge', {
        spec: {
          accessFrom: { namespaceSelectors: [{ matchLabels: { 'kubernetes.io/metadata.name': ns() } }] },
        },
      });
      await k.request('ImagePolicy', 'foreign', 'allowed');
      const allowed = await k.waitReady<ImagePolicy>('ImagePolicy', 'foreign');
      assert.equal(allowed.status!.latestRef!.tag, '1.11.0');
    } finally {
      await client.delete({ ...other, name });
    }
  });

  it('after a restart, finds the stored tags instead of rescanning every repository at once', async () => {
    const before = await k.get<ImageRepository>('ImageRepository', 'app');
    const scanned = before.status!.lastScanResult!.scanTime;
    await reflector.stop();
    await start();
    // A new policy is answered from the store the scans left on disk.
    await k.create('ImagePolicy', 'after-restart', {
      imageRepositoryRef: { name: 'app' },
      policy: { semver: { range: '1.x' } },
    });
    const o = await k.waitReady<ImagePolicy>('ImagePolicy', 'after-restart');
    assert.equal(o.status!.latestRef!.tag, '1.11.0');
    // The restarted controller reconciled the repository (its informer listed it) without a scan.
    const lines = () =>
      reflector
        .logs()
        .split('\n')
        .filter(
          (l) =>
            l.includes('"controller":"imagerepository"') &&
            l.includes('"name":"app"') &&
            // Other suites' controllers may watch an ImageRepository named app elsewhere.
            l.includes(`"namespace":"${ns()}"`),
        );
    await poll('the restarted controller reconciled ImageRepository app', 60_000, async () =>
      lines().some((l) => l.includes('Reconciliation finished')) ? true : undefined,
    );
    assert.ok(!lines().some((l) => l.includes('"msg":"scanning"')), lines().join('\n'));
    const after = await k.get<ImageRepository>('ImageRepository', 'app');
    assert.equal(after.status!.lastScanResult!.scanTime, scanned);
    assert.equal(cond(after, ConditionTypes.Ready)?.status, 'True');
  });
});
