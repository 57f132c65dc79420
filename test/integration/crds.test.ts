// The generated CRDs on a real API server: they install, accept valid objects with Flux's
// defaults, reject invalid ones with a message naming the field, and document fields for
// `kubectl explain`.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  loadYaml,
  PatchStrategy,
} from '@kubernetes/client-node';
import { allKinds, findKind, type KindDescriptor } from '../../controllers/api/index.ts';
import { CRD_DIR } from '../../hack/gen-crds.ts';
import { poll, run } from '../../hack/testbed/proc.ts';
import { testbed, useNamespace } from '../support/testbed.ts';

type Obj = Record<string, unknown>;

/**
 * Server-side applies every CRD in crds/ and waits until each is Established. Idempotent.
 * loadYaml matters: KubernetesObjectApi serializes a CRD through the client's model, which
 * silently drops raw keys such as `default`, `enum` and `x-kubernetes-validations`.
 */
async function installCrds(): Promise<string[]> {
  const kc = testbed().kubeconfig;
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const files = (await readdir(CRD_DIR)).filter((f) => f.endsWith('.yaml'));
  const names: string[] = [];
  for (const file of files) {
    const crd = loadYaml<KubernetesObject>(await readFile(join(CRD_DIR, file), 'utf8'));
    await objects.patch(crd, undefined, undefined, 'tide-test', true, PatchStrategy.ServerSideApply);
    names.push(crd.metadata!.name!);
  }
  for (const name of names) {
    await poll(`CRD ${name} Established`, 30_000, async () => {
      const crd = await ext.readCustomResourceDefinition({ name });
      const established = crd.status?.conditions?.find((c) => c.type === 'Established');
      if (established?.status === 'True') return true;
      throw new Error(JSON.stringify(crd.status?.conditions ?? []));
    });
  }
  return names;
}

const kindOf = (apiVersion: string, kind: string): KindDescriptor => {
  const d = findKind(apiVersion, kind);
  if (!d) throw new Error(`${apiVersion} ${kind} is not served`);
  return d;
};

/** Creates an object of the kind in the namespace and returns what the API server stored. */
async function create(d: KindDescriptor, namespace: string, name: string, spec: Obj): Promise<Obj> {
  const api = testbed().kubeconfig.makeApiClient(CustomObjectsApi);
  const body = { apiVersion: d.apiVersion, kind: d.kind, metadata: { name }, spec };
  return api.createNamespacedCustomObject({
    group: d.group,
    version: d.version,
    namespace,
    plural: d.plural,
    body,
  }) as Promise<Obj>;
}

async function read(d: KindDescriptor, namespace: string, name: string): Promise<Obj> {
  const api = testbed().kubeconfig.makeApiClient(CustomObjectsApi);
  return api.getNamespacedCustomObject({
    group: d.group,
    version: d.version,
    namespace,
    plural: d.plural,
    name,
  }) as Promise<Obj>;
}

/** The API server's message for a create it refused with 422 Invalid. */
async function rejection(d: KindDescriptor, namespace: string, name: string, spec: Obj): Promise<string> {
  try {
    await create(d, namespace, name, spec);
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    assert.equal(err.code, 422, `expected 422 Invalid, got ${err.code}: ${err.body}`);
    const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
    return String(body.message);
  }
  assert.fail(`${d.kind} ${name} was accepted`);
}

const kubectl = (args: string[]) =>
  run('kubectl', args, { env: { ...process.env, KUBECONFIG: testbed().controlPlane.kubeconfig } });

const GIT = kindOf('source.toolkit.fluxcd.io/v1', 'GitRepository');
const OCI = kindOf('source.toolkit.fluxcd.io/v1', 'OCIRepository');
const HELMREPO = kindOf('source.toolkit.fluxcd.io/v1', 'HelmRepository');
const CHART = kindOf('source.toolkit.fluxcd.io/v1', 'HelmChart');
const BUCKET = kindOf('source.toolkit.fluxcd.io/v1', 'Bucket');
const KS = kindOf('kustomize.toolkit.fluxcd.io/v1', 'Kustomization');
const HR = kindOf('helm.toolkit.fluxcd.io/v2', 'HelmRelease');
const IMGREPO = kindOf('image.toolkit.fluxcd.io/v1', 'ImageRepository');
const IMGPOL = kindOf('image.toolkit.fluxcd.io/v1', 'ImagePolicy');
const IUA = kindOf('image.toolkit.fluxcd.io/v1', 'ImageUpdateAutomation');
const PROVIDER = kindOf('notification.toolkit.fluxcd.io/v1beta3', 'Provider');
const ALERT = kindOf('notification.toolkit.fluxcd.io/v1beta3', 'Alert');
const RECEIVER = kindOf('notification.toolkit.fluxcd.io/v1', 'Receiver');

const helmChart = { spec: { chart: 'podinfo', sourceRef: { kind: 'HelmRepository', name: 'podinfo' } } };

/** A minimal valid object of every kind and the defaults the API server must fill in. */
const samples: { d: KindDescriptor; spec: Obj; defaults: Obj }[] = [
  {
    d: GIT,
    spec: { url: 'https://github.com/stefanprodan/podinfo', interval: '1m' },
    defaults: { timeout: '60s' },
  },
  {
    d: OCI,
    spec: { url: 'oci://ghcr.io/stefanprodan/manifests/podinfo', interval: '5m' },
    defaults: { provider: 'generic', timeout: '60s' },
  },
  { d: HELMREPO, spec: { url: 'https://stefanprodan.github.io/podinfo' }, defaults: { provider: 'generic' } },
  {
    d: CHART,
    spec: { chart: 'podinfo', sourceRef: { kind: 'HelmRepository', name: 'podinfo' }, interval: '10m' },
    defaults: { version: '*', reconcileStrategy: 'ChartVersion' },
  },
  {
    d: BUCKET,
    spec: { bucketName: 'manifests', endpoint: 'minio.example.com', interval: '5m' },
    defaults: { provider: 'generic', timeout: '60s' },
  },
  {
    d: KS,
    spec: {
      interval: '10m',
      prune: true,
      sourceRef: { kind: 'GitRepository', name: 'podinfo' },
      path: './kustomize',
    },
    defaults: { force: false },
  },
  {
    d: HR,
    spec: { interval: '5m', chart: helmChart, uninstall: {} },
    defaults: {
      chart: { spec: { ...helmChart.spec, version: '*', reconcileStrategy: 'ChartVersion' } },
      uninstall: { deletionPropagation: 'background' },
    },
  },
  {
    d: IMGREPO,
    spec: { image: 'ghcr.io/stefanprodan/podinfo', interval: '5m' },
    defaults: { provider: 'generic', exclusionList: ['^.*\\.sig$'] },
  },
  {
    d: IMGPOL,
    spec: { imageRepositoryRef: { name: 'podinfo' }, policy: { semver: { range: '6.x' } } },
    defaults: { digestReflectionPolicy: 'Never' },
  },
  {
    d: IUA,
    spec: {
      interval: '30m',
      sourceRef: { name: 'podinfo' },
      git: { commit: { author: { email: 'fluxcdbot@users.noreply.github.com' } } },
    },
    defaults: { sourceRef: { kind: 'GitRepository', name: 'podinfo' }, update: { strategy: 'Setters' } },
  },
  { d: PROVIDER, spec: { type: 'slack', channel: 'general' }, defaults: {} },
  {
    d: ALERT,
    spec: { providerRef: { name: 'slack' }, eventSources: [{ kind: 'Kustomization', name: '*' }] },
    defaults: { eventSeverity: 'info' },
  },
  {
    d: RECEIVER,
    spec: {
      type: 'github',
      secretRef: { name: 'webhook-token' },
      resources: [{ kind: 'GitRepository', name: 'podinfo' }],
    },
    defaults: { interval: '10m' },
  },
];

describe('CRDs on a real API server', () => {
  const ns = useNamespace('crds');
  let installed: string[] = [];

  before(async function () {
    this.timeout(120_000);
    installed = await installCrds();
  });

  it('installs every generated CRD and each becomes Established', async () => {
    assert.deepEqual(installed.sort(), allKinds.map((d) => `${d.plural}.${d.group}`).sort());
    // A second apply by the same field manager is a no-op, so other suites may install them too.
    assert.deepEqual((await installCrds()).sort(), installed);
  });

  it('covers every kind with a sample', () => {
    assert.deepEqual(samples.map((s) => s.d.kind).sort(), allKinds.map((d) => d.kind).sort());
  });

  for (const { d, spec, defaults } of samples) {
    it(`accepts a minimal ${d.kind} and fills in Flux's defaults`, async () => {
      const name = `sample-${d.singular}`;
      await create(d, ns(), name, spec);
      const stored = await read(d, ns(), name);
      assert.deepEqual(stored.spec, { ...spec, ...defaults });
      if (d.statusSubresource) assert.deepEqual(stored.status, { observedGeneration: -1 });
    });
  }

  it('does not default GitRepository spec.ref (the controller falls back to master)', async () => {
    const stored = await read(GIT, ns(), 'sample-gitrepository');
    assert.equal((stored.spec as Obj).ref, undefined);
  });

  it('rejects an interval that is not a Go duration, naming spec.interval', async () => {
    const msg = await rejection(GIT, ns(), 'bad-interval', {
      url: 'https://example.com/repo',
      interval: '1 minute',
    });
    assert.match(msg, /spec\.interval/);
    assert.match(msg, /should match/);
  });

  it('rejects Git URLs with a scheme Flux does not support, naming spec.url', async () => {
    for (const url of ['ftp://example.com/repo.git', 'git@github.com:fluxcd/flux2.git']) {
      const msg = await rejection(GIT, ns(), 'bad-url', { url, interval: '1m' });
      assert.match(msg, /spec\.url/, url);
    }
  });

  it('rejects a GitRepository without url, naming the required field', async () => {
    const msg = await rejection(GIT, ns(), 'no-url', { interval: '1m' });
    assert.match(msg, /spec\.url: Required value/);
  });

  it('rejects a HelmRelease with both chart and chartRef, and one with neither', async () => {
    const both = await rejection(HR, ns(), 'both', {
      interval: '5m',
      chart: helmChart,
      chartRef: { kind: 'OCIRepository', name: 'podinfo' },
    });
    assert.match(both, /either chart or chartRef must be set/);
    const neither = await rejection(HR, ns(), 'neither', { interval: '5m' });
    assert.match(neither, /either chart or chartRef must be set/);
  });

  it('rejects a HelmRelease releaseName longer than Helm allows, naming spec.releaseName', async () => {
    const msg = await rejection(HR, ns(), 'long-name', {
      interval: '5m',
      chart: helmChart,
      releaseName: 'r'.repeat(54),
    });
    assert.match(msg, /spec\.releaseName/);
  });

  it('rejects unknown enum values, naming the field and the allowed values', async () => {
    const ks = await rejection(KS, ns(), 'bad-policy', {
      interval: '10m',
      prune: true,
      sourceRef: { kind: 'GitRepository', name: 'podinfo' },
      deletionPolicy: 'Sometimes',
    });
    assert.match(ks, /spec\.deletionPolicy: Unsupported value: "Sometimes"/);
    assert.match(ks, /"MirrorPrune"/);
    const repo = await rejection(HELMREPO, ns(), 'bad-type', {
      url: 'https://charts.example.com',
      type: 'svn',
    });
    assert.match(repo, /spec\.type: Unsupported value: "svn"/);
  });

  it('evaluates the Flux cross-field rules of Bucket, GitRepository, ImagePolicy and Receiver', async () => {
    const sts = await rejection(BUCKET, ns(), 'gcp-sts', {
      provider: 'gcp',
      bucketName: 'b',
      endpoint: 'storage.googleapis.com',
      interval: '5m',
      sts: { provider: 'aws', endpoint: 'https://sts.amazonaws.com' },
    });
    assert.match(sts, /STS configuration is only supported for the 'aws' and 'generic' Bucket providers/);
    const sa = await rejection(GIT, ns(), 'generic-sa', {
      url: 'https://example.com/repo',
      interval: '1m',
      serviceAccountName: 'git',
    });
    assert.match(sa, /serviceAccountName can only be set when provider is 'azure' or 'aws'/);
    const pol = await rejection(IMGPOL, ns(), 'interval-never', {
      imageRepositoryRef: { name: 'podinfo' },
      policy: { semver: { range: '1.x' } },
      interval: '5m',
    });
    assert.match(pol, /spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'/);
    const rcv = await rejection(RECEIVER, ns(), 'no-secret', {
      type: 'github',
      resources: [{ kind: 'GitRepository', name: 'podinfo' }],
    });
    assert.match(rcv, /secretRef is required when type is not generic-oidc/);
  });

  it('prints the Flux columns and resolves short names', async () => {
    const out = await kubectl(['get', 'gitrepo', '-n', ns()]);
    assert.match(out.split('\n')[0]!, /^NAME\s+URL\s+AGE\s+READY\s+STATUS\s*$/);
    assert.match(out, /sample-gitrepository\s+https:\/\/github\.com\/stefanprodan\/podinfo/);
    const ks = await kubectl(['get', 'ks', '-n', ns()]);
    assert.match(ks.split('\n')[0]!, /^NAME\s+AGE\s+READY\s+STATUS\s*$/);
  });

  it('lists the sources under the fluxcd-sources category', async () => {
    const out = await kubectl(['get', 'fluxcd-sources', '-n', ns(), '-o', 'name']);
    for (const d of [GIT, OCI, HELMREPO, CHART, BUCKET]) {
      assert.match(
        out,
        new RegExp(`^${d.singular}\\.${d.group.replaceAll('.', '\\.')}/sample-${d.singular}$`, 'm'),
      );
    }
  });

  it('serves field descriptions to kubectl explain', async function () {
    this.timeout(60_000);
    // The OpenAPI document of a new CRD is published a moment after it is Established.
    const out = await poll('kubectl explain gitrepositories.spec.url', 45_000, async () =>
      kubectl(['explain', 'gitrepositories.spec.url']),
    );
    assert.match(out, /Address of the Git repository: http:\/\/, https:\/\/ or ssh:\/\//);
    const hr = await poll('kubectl explain helmreleases.spec.values', 45_000, async () =>
      kubectl(['explain', 'helmreleases.spec.values']),
    );
    assert.match(hr, /Values of the release, merged over valuesFrom/);
  });
});
