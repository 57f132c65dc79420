// Hostile and mistaken custom resources on the test bed, each refused with a clear condition or error and
// no side effect:
//  - objects of every Tide kind that violate the schema are rejected by the API server, the field named;
//  - references to another namespace under --no-cross-namespace-refs are Ready=False AccessDenied
//    ("cross-namespace references have been blocked") in every controller that has the flag, and
//    nothing is applied, fetched, pushed, annotated or sent;
//  - a Kustomization or HelmRelease impersonating a ServiceAccount without rights is Ready=False with
//    the API server's "forbidden", and nothing is applied, neither as that account nor as the
//    controller itself.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { ConditionTypes, Reasons } from '../../../controllers/api/names.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { freePort, poll } from '../../../hack/testbed/proc.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { type ControllerProcess, startController } from '../../support/controllers.ts';
import { ensureCrds } from '../../support/crds.ts';
import { createWorkRepo, type WorkRepo } from '../../support/gitwork.ts';
import { request } from '../../support/httpabuse.ts';
import { type Sink, startSink } from '../../support/sink.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { demoChart } from '../helm/fixtures.ts';
import { chartRepos } from '../helm/support.ts';

type Obj = Record<string, unknown>;
type Cond = { type: string; status: string; reason: string; message: string };

const V = {
  source: 'source.toolkit.fluxcd.io/v1',
  ks: 'kustomize.toolkit.fluxcd.io/v1',
  hr: 'helm.toolkit.fluxcd.io/v2',
  image: 'image.toolkit.fluxcd.io/v1',
  notification: 'notification.toolkit.fluxcd.io/v1beta3',
  receiver: 'notification.toolkit.fluxcd.io/v1',
};

const condOf = (o: KubeObject, type: string) =>
  ((o.status?.conditions ?? []) as Cond[]).find((c) => c.type === type);
const describeConds = (o: KubeObject) =>
  ((o.status?.conditions ?? []) as Cond[])
    .map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`)
    .join('; ');

/** The API server's refusal of a create, as the user sees it (kubectl apply prints the same message). */
async function refusal(client: Client, obj: Obj): Promise<string> {
  try {
    await client.create(obj as KubeObject);
  } catch (err) {
    assert.equal((err as { status?: number }).status, 422, (err as Error).message);
    return (err as Error).message;
  }
  assert.fail(`the API server accepted ${JSON.stringify(obj)}`);
}

/** A valid spec per kind, and invalid variants: what is changed, and the field the refusal must name. */
interface Case {
  apiVersion: string;
  kind: string;
  valid: Obj;
  invalid: [string, (spec: Obj) => Obj, RegExp][];
}

const drop = (spec: Obj, key: string) => Object.fromEntries(Object.entries(spec).filter(([k]) => k !== key));

const cases: Case[] = [
  {
    apiVersion: V.source,
    kind: 'GitRepository',
    valid: { url: 'https://example.invalid/repo.git', interval: '5m' },
    invalid: [
      ['interval "5 minutes"', (s) => ({ ...s, interval: '5 minutes' }), /spec\.interval/],
      ['url with scheme ftp', (s) => ({ ...s, url: 'ftp://example.invalid/repo.git' }), /spec\.url/],
      ['no url', (s) => drop(s, 'url'), /spec\.url: Required value/],
      [
        'provider "gitlab"',
        (s) => ({ ...s, provider: 'gitlab' }),
        /spec\.provider: Unsupported value: "gitlab"/,
      ],
      [
        'verify.mode "always"',
        (s) => ({ ...s, verify: { mode: 'always', secretRef: { name: 'k' } } }),
        /spec\.verify\.mode/,
      ],
    ],
  },
  {
    apiVersion: V.source,
    kind: 'OCIRepository',
    valid: { url: 'oci://registry.invalid/app', interval: '5m' },
    invalid: [
      ['url with scheme https', (s) => ({ ...s, url: 'https://registry.invalid/app' }), /spec\.url/],
      ['timeout "1 hour"', (s) => ({ ...s, timeout: '1 hour' }), /spec\.timeout/],
      [
        'layerSelector.operation "unpack"',
        (s) => ({ ...s, layerSelector: { operation: 'unpack' } }),
        /spec\.layerSelector\.operation: Unsupported value/,
      ],
      ['no interval', (s) => drop(s, 'interval'), /spec\.interval: Required value/],
    ],
  },
  {
    apiVersion: V.source,
    kind: 'HelmRepository',
    valid: { url: 'https://charts.invalid', interval: '5m' },
    invalid: [
      ['type "git"', (s) => ({ ...s, type: 'git' }), /spec\.type: Unsupported value: "git"/],
      ['interval "5 minutes"', (s) => ({ ...s, interval: '5 minutes' }), /spec\.interval/],
      ['url with scheme ftp', (s) => ({ ...s, url: 'ftp://charts.invalid' }), /spec\.url/],
      ['no url', (s) => drop(s, 'url'), /spec\.url: Required value/],
    ],
  },
  {
    apiVersion: V.source,
    kind: 'HelmChart',
    valid: { chart: 'demo', interval: '5m', sourceRef: { kind: 'HelmRepository', name: 'charts' } },
    invalid: [
      [
        'sourceRef.kind "OCIRepository"',
        (s) => ({ ...s, sourceRef: { kind: 'OCIRepository', name: 'x' } }),
        /spec\.sourceRef\.kind: Unsupported value/,
      ],
      [
        'reconcileStrategy "Always"',
        (s) => ({ ...s, reconcileStrategy: 'Always' }),
        /spec\.reconcileStrategy: Unsupported value/,
      ],
      ['no chart', (s) => drop(s, 'chart'), /spec\.chart: Required value/],
    ],
  },
  {
    apiVersion: V.ks,
    kind: 'Kustomization',
    valid: { interval: '5m', prune: true, sourceRef: { kind: 'GitRepository', name: 'repo' } },
    invalid: [
      ['no prune', (s) => drop(s, 'prune'), /spec\.prune: Required value/],
      [
        'sourceRef.kind "HelmRepository"',
        (s) => ({ ...s, sourceRef: { kind: 'HelmRepository', name: 'x' } }),
        /spec\.sourceRef\.kind: Unsupported value/,
      ],
      [
        'deletionPolicy "Never"',
        (s) => ({ ...s, deletionPolicy: 'Never' }),
        /spec\.deletionPolicy: Unsupported value/,
      ],
      ['retryInterval "1 minute"', (s) => ({ ...s, retryInterval: '1 minute' }), /spec\.retryInterval/],
      [
        'targetNamespace of 64 characters',
        (s) => ({ ...s, targetNamespace: 'n'.repeat(64) }),
        /spec\.targetNamespace/,
      ],
    ],
  },
  {
    apiVersion: V.hr,
    kind: 'HelmRelease',
    valid: { interval: '5m', chartRef: { kind: 'OCIRepository', name: 'chart' } },
    invalid: [
      ['interval "5 minutes"', (s) => ({ ...s, interval: '5 minutes' }), /spec\.interval/],
      ['releaseName of 54 characters', (s) => ({ ...s, releaseName: 'r'.repeat(54) }), /spec\.releaseName/],
      [
        'chartRef.kind "GitRepository"',
        (s) => ({ ...s, chartRef: { kind: 'GitRepository', name: 'x' } }),
        /spec\.chartRef\.kind: Unsupported value/,
      ],
      [
        'driftDetection.mode "on"',
        (s) => ({ ...s, driftDetection: { mode: 'on' } }),
        /spec\.driftDetection\.mode: Unsupported value/,
      ],
      [
        'neither chart nor chartRef',
        (s) => drop(s, 'chartRef'),
        /spec: Invalid value.*either chart or chartRef must be set/,
      ],
    ],
  },
  {
    apiVersion: V.image,
    kind: 'ImageRepository',
    valid: { image: 'registry.invalid/app', interval: '5m' },
    invalid: [
      ['no image', (s) => drop(s, 'image'), /spec\.image: Required value/],
      ['provider "docker"', (s) => ({ ...s, provider: 'docker' }), /spec\.provider: Unsupported value/],
      ['interval "5 minutes"', (s) => ({ ...s, interval: '5 minutes' }), /spec\.interval/],
    ],
  },
  {
    apiVersion: V.image,
    kind: 'ImagePolicy',
    valid: { imageRepositoryRef: { name: 'repo' }, policy: { semver: { range: '>=1.0.0' } } },
    invalid: [
      ['no policy', (s) => drop(s, 'policy'), /spec\.policy: Required value/],
      [
        'alphabetical.order "up"',
        (s) => ({ ...s, policy: { alphabetical: { order: 'up' } } }),
        /spec\.policy\.alphabetical\.order: Unsupported value/,
      ],
      [
        'digestReflectionPolicy "Sometimes"',
        (s) => ({ ...s, digestReflectionPolicy: 'Sometimes' }),
        /spec\.digestReflectionPolicy: Unsupported value/,
      ],
      [
        'semver without range',
        (s) => ({ ...s, policy: { semver: {} } }),
        /spec\.policy\.semver\.range: Required value/,
      ],
    ],
  },
  {
    apiVersion: V.image,
    kind: 'ImageUpdateAutomation',
    valid: {
      interval: '5m',
      sourceRef: { kind: 'GitRepository', name: 'repo' },
      git: { commit: { author: { email: 'bot@example.invalid' } } },
    },
    invalid: [
      [
        'sourceRef.kind "OCIRepository"',
        (s) => ({ ...s, sourceRef: { kind: 'OCIRepository', name: 'x' } }),
        /spec\.sourceRef\.kind: Unsupported value/,
      ],
      [
        'update.strategy "Regex"',
        (s) => ({ ...s, update: { strategy: 'Regex' } }),
        /spec\.update\.strategy: Unsupported value/,
      ],
      [
        'a force push refspec',
        (s) => ({
          ...s,
          git: {
            commit: { author: { email: 'b@x' } },
            push: { refspec: '+refs/heads/main:refs/heads/main' },
          },
        }),
        /spec\.git\.push\.refspec/,
      ],
      ['no sourceRef', (s) => drop(s, 'sourceRef'), /spec\.sourceRef: Required value/],
      ['interval "5 minutes"', (s) => ({ ...s, interval: '5 minutes' }), /spec\.interval/],
    ],
  },
  {
    apiVersion: V.notification,
    kind: 'Alert',
    valid: { providerRef: { name: 'slack' }, eventSources: [{ kind: 'Kustomization', name: '*' }] },
    invalid: [
      [
        'eventSeverity "warning"',
        (s) => ({ ...s, eventSeverity: 'warning' }),
        /spec\.eventSeverity: Unsupported value/,
      ],
      ['no providerRef', (s) => drop(s, 'providerRef'), /spec\.providerRef: Required value/],
      [
        'eventSources kind "Pod"',
        (s) => ({ ...s, eventSources: [{ kind: 'Pod', name: '*' }] }),
        /spec\.eventSources\[0\]\.kind: Unsupported value/,
      ],
      ['summary of 256 characters', (s) => ({ ...s, summary: 's'.repeat(256) }), /spec\.summary/],
    ],
  },
  {
    apiVersion: V.notification,
    kind: 'Provider',
    valid: { type: 'generic', address: 'https://hooks.invalid/x' },
    invalid: [
      ['type "email"', (s) => ({ ...s, type: 'email' }), /spec\.type: Unsupported value: "email"/],
      ['proxy with scheme socks5', (s) => ({ ...s, proxy: 'socks5://proxy.invalid' }), /spec\.proxy/],
      ['no type', (s) => drop(s, 'type'), /spec\.type: Required value/],
      ['timeout "30 seconds"', (s) => ({ ...s, timeout: '30 seconds' }), /spec\.timeout/],
    ],
  },
  {
    apiVersion: V.receiver,
    kind: 'Receiver',
    valid: {
      type: 'generic',
      secretRef: { name: 'token' },
      resources: [{ kind: 'GitRepository', name: 'repo' }],
    },
    invalid: [
      ['type "svn"', (s) => ({ ...s, type: 'svn' }), /spec\.type: Unsupported value: "svn"/],
      ['no resources', (s) => drop(s, 'resources'), /spec\.resources: Required value/],
      [
        'resources kind "Deployment"',
        (s) => ({ ...s, resources: [{ kind: 'Deployment', name: 'x' }] }),
        /spec\.resources\[0\]\.kind: Unsupported value/,
      ],
      ['interval "5 minutes"', (s) => ({ ...s, interval: '5 minutes' }), /spec\.interval/],
    ],
  },
];

describe('abuse: custom resources that violate the schema', function () {
  this.timeout(120_000);
  const ns = useNamespace('abuse-schema');
  let client: Client;
  before(async () => {
    await ensureCrds();
    client = createClient(testbed().kubeconfig, { fieldManager: 'tide-test' });
  });

  for (const c of cases) {
    describe(c.kind, () => {
      let n = 0;
      const obj = (spec: Obj) => ({
        apiVersion: c.apiVersion,
        kind: c.kind,
        metadata: { name: `${c.kind.toLowerCase()}-${++n}`, namespace: ns() },
        spec,
      });
      it('accepts the valid spec the variants start from', async () => {
        await client.create(obj(c.valid) as KubeObject);
      });
      for (const [what, change, field] of c.invalid) {
        it(`rejects ${what}, naming the field`, async () => {
          const message = await refusal(client, obj(change(c.valid)));
          assert.match(message, field);
          const list = await client.list(
            {
              group: c.apiVersion.split('/')[0] ?? '',
              version: c.apiVersion.split('/')[1] ?? '',
              kind: c.kind,
            },
            { namespace: ns() },
          );
          assert.equal(list.items.length, 1, 'only the valid object exists');
        });
      }
    });
  }
});

/** The test bed's client, a namespace pair, and the controllers as processes with the given flags. */
function useControllers(prefix: string, flags: string[]) {
  const ns = useNamespace(prefix);
  const other = useNamespace(`${prefix}-other`);
  const procs: ControllerProcess[] = [];
  const state = { client: undefined as unknown as Client, eventsPort: 0, receiverPort: 0 };
  before(async function () {
    this.timeout(120_000);
    await ensureCrds();
    const tb = testbed();
    state.client = createClient(tb.kubeconfig, { fieldManager: 'tide-test' });
    const tools = await toolPaths(['helm', 'kustomize', 'sops']);
    const work = await mkdtemp(join(tb.dir, `${prefix}-`));
    state.eventsPort = await freePort();
    state.receiverPort = await freePort();
    procs.push(
      ...(await Promise.all([
        startController('source', [`--storage-path=${join(work, 'storage')}`, '--storage-addr=127.0.0.1:0']),
        startController('kustomize', [
          `--kustomize-path=${tools.kustomize}`,
          `--sops-path=${tools.sops}`,
          '--health-check-interval=1s',
          ...flags,
        ]),
        startController('helm', [
          `--helm-path=${tools.helm}`,
          `--kustomize-path=${tools.kustomize}`,
          ...flags,
        ]),
        startController('image-reflector', [`--storage-path=${join(work, 'tags')}`, ...flags]),
        startController('image-automation', flags),
        startController('notification', [
          `--events-addr=127.0.0.1:${state.eventsPort}`,
          `--receiverAddr=127.0.0.1:${state.receiverPort}`,
          ...flags,
        ]),
      ])),
    );
    await state.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-auth', namespace: ns() },
      stringData: { username: tb.git.username, password: tb.git.password },
    } as KubeObject);
    await state.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-auth', namespace: other() },
      stringData: { username: tb.git.username, password: tb.git.password },
    } as KubeObject);
  });
  after(async function () {
    this.timeout(60_000);
    await Promise.all(procs.map((p) => p.stop()));
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const p of procs)
      console.error(`--- ${p.logFile} ---\n${p.logs().split('\n').slice(-15).join('\n')}`);
  });

  const create = (apiVersion: string, kind: string, namespace: string, name: string, spec: Obj) =>
    state.client.create({ apiVersion, kind, metadata: { name, namespace }, spec } as KubeObject);
  const get = (apiVersion: string, kind: string, namespace: string, name: string) =>
    state.client.get({ apiVersion, kind, namespace, name });
  /** Polls until Ready=False with the reason, and returns the object. */
  const notReady = (
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
    test: (r: Cond) => boolean,
  ) =>
    poll(`${kind} ${name} refused`, 90_000, async () => {
      const o = await get(apiVersion, kind, namespace, name);
      const r = condOf(o, ConditionTypes.Ready);
      if (r?.status === 'False' && test(r)) return o;
      throw new Error(describeConds(o));
    });
  /** A Git repository with a ConfigMap for `namespace`, and a GitRepository of it with its artifact. */
  const gitSource = async (namespace: string, name: string, cm: string): Promise<WorkRepo> => {
    const repo = await createWorkRepo(`${prefix}-${name}-${process.pid}`);
    await repo.commit({
      'app/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${cm}\n  namespace: ${ns()}\ndata:\n  v: "1"\n`,
    });
    await create(V.source, 'GitRepository', namespace, name, {
      url: repo.url,
      interval: '10m',
      secretRef: { name: 'git-auth' },
      ref: { branch: 'main' },
    });
    await poll(`GitRepository ${namespace}/${name} artifact`, 90_000, async () => {
      const g = await get(V.source, 'GitRepository', namespace, name);
      if (g.status?.artifact) return true;
      throw new Error(describeConds(g));
    });
    return repo;
  };
  return { ns, other, state, create, get, notReady, gitSource };
}

const blocked = /cross-namespace references have been blocked/;

describe('abuse: cross-namespace references under --no-cross-namespace-refs', function () {
  this.timeout(300_000);
  const env = useControllers('abuse-xns', ['--no-cross-namespace-refs=true']);
  const { ns, other, state, create, get, notReady } = env;
  let shared: WorkRepo;
  let sinks: Sink[] = [];
  before(async function () {
    this.timeout(120_000);
    // A real, Ready source in the other namespace: only the rule keeps the tenant from it.
    shared = await env.gitSource(other(), 'shared', 'stolen');
  });
  after(async () => {
    await Promise.all(sinks.map((s) => s.close()));
    sinks = [];
  });
  const cmAbsent = async (name: string) =>
    assert.equal(
      await state.client.tryGet({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name }),
      undefined,
    );

  it('Kustomization sourceRef: Stalled AccessDenied, nothing applied', async () => {
    await create(V.ks, 'Kustomization', ns(), 'xns', {
      interval: '10m',
      prune: true,
      path: './app',
      sourceRef: { kind: 'GitRepository', name: 'shared', namespace: other() },
    });
    const ks = await notReady(V.ks, 'Kustomization', ns(), 'xns', (r) => r.reason === Reasons.AccessDenied);
    assert.match(condOf(ks, ConditionTypes.Ready)?.message ?? '', blocked);
    assert.equal(condOf(ks, ConditionTypes.Stalled)?.status, 'True');
    assert.equal(ks.status?.lastAppliedRevision, undefined);
    await cmAbsent('stolen');
  });

  it('HelmRelease chart.spec.sourceRef: Stalled AccessDenied, no HelmChart made, nothing released', async () => {
    await create(V.source, 'HelmRepository', other(), 'charts', {
      url: 'https://charts.invalid',
      interval: '10m',
    });
    await create(V.hr, 'HelmRelease', ns(), 'xns-chart', {
      interval: '10m',
      chart: {
        spec: { chart: 'demo', sourceRef: { kind: 'HelmRepository', name: 'charts', namespace: other() } },
      },
    });
    const hr = await notReady(
      V.hr,
      'HelmRelease',
      ns(),
      'xns-chart',
      (r) => r.reason === Reasons.AccessDenied,
    );
    assert.match(condOf(hr, ConditionTypes.Ready)?.message ?? '', blocked);
    assert.equal(condOf(hr, ConditionTypes.Stalled)?.status, 'True');
    for (const namespace of [ns(), other()]) {
      const charts = await state.client.list(
        { group: 'source.toolkit.fluxcd.io', version: 'v1', kind: 'HelmChart' },
        { namespace },
      );
      assert.deepEqual(
        charts.items.map((c) => c.metadata.name),
        [],
        namespace,
      );
    }
    const releases = await state.client.list(
      { group: '', version: 'v1', kind: 'Secret' },
      { namespace: ns(), labelSelector: 'owner=helm' },
    );
    assert.equal(releases.items.length, 0);
  });

  it('HelmRelease chartRef: Stalled AccessDenied, nothing released', async () => {
    await create(V.source, 'OCIRepository', other(), 'chart', {
      url: 'oci://registry.invalid/demo',
      interval: '10m',
    });
    await create(V.hr, 'HelmRelease', ns(), 'xns-ref', {
      interval: '10m',
      chartRef: { kind: 'OCIRepository', name: 'chart', namespace: other() },
    });
    const hr = await notReady(V.hr, 'HelmRelease', ns(), 'xns-ref', (r) => r.reason === Reasons.AccessDenied);
    assert.match(condOf(hr, ConditionTypes.Ready)?.message ?? '', blocked);
    assert.equal(condOf(hr, ConditionTypes.Stalled)?.status, 'True');
    const releases = await state.client.list(
      { group: '', version: 'v1', kind: 'Secret' },
      { namespace: ns(), labelSelector: 'owner=helm' },
    );
    assert.equal(releases.items.length, 0);
  });

  it('ImagePolicy imageRepositoryRef: Ready=False AccessDenied, no image chosen', async () => {
    await create(V.image, 'ImageRepository', other(), 'app', {
      image: `${testbed().registry.host}/abuse/app`,
      interval: '10m',
      insecure: true,
    });
    await create(V.image, 'ImagePolicy', ns(), 'xns', {
      imageRepositoryRef: { name: 'app', namespace: other() },
      policy: { semver: { range: '>=0.0.0' } },
    });
    const policy = await notReady(
      V.image,
      'ImagePolicy',
      ns(),
      'xns',
      (r) => r.reason === Reasons.AccessDenied,
    );
    assert.match(condOf(policy, ConditionTypes.Ready)?.message ?? '', blocked);
    assert.equal(policy.status?.latestRef, undefined);
  });

  it('ImageUpdateAutomation sourceRef: Stalled AccessDenied, nothing pushed', async () => {
    const head = (await shared.git('ls-remote', 'origin', 'refs/heads/main')).split('\t')[0];
    await create(V.image, 'ImageUpdateAutomation', ns(), 'xns', {
      interval: '10m',
      sourceRef: { kind: 'GitRepository', name: 'shared', namespace: other() },
      git: { commit: { author: { email: 'bot@example.invalid', name: 'bot' } }, push: { branch: 'main' } },
      update: { strategy: 'Setters', path: './app' },
    });
    const auto = await notReady(
      V.image,
      'ImageUpdateAutomation',
      ns(),
      'xns',
      (r) => r.reason === Reasons.AccessDenied,
    );
    assert.match(condOf(auto, ConditionTypes.Ready)?.message ?? '', blocked);
    assert.equal(condOf(auto, ConditionTypes.Stalled)?.status, 'True');
    assert.equal((await shared.git('ls-remote', 'origin', 'refs/heads/main')).split('\t')[0], head);
  });

  it("Alert: events of another namespace's objects are not sent; its own namespace's are", async () => {
    const sink = await startSink();
    sinks.push(sink);
    await create(V.notification, 'Provider', ns(), 'hook', { type: 'generic', address: `${sink.url}/hook` });
    await create(V.notification, 'Alert', ns(), 'all', {
      providerRef: { name: 'hook' },
      eventSources: [
        { kind: 'GitRepository', name: '*', namespace: other() },
        { kind: 'GitRepository', name: '*' },
      ],
    });
    const event = (namespace: string, message: string) =>
      JSON.stringify({
        involvedObject: { kind: 'GitRepository', namespace, name: 'shared', apiVersion: V.source },
        severity: 'info',
        timestamp: new Date().toISOString(),
        message,
        reason: 'Info',
        reportingController: 'source-controller',
      });
    const events = { port: state.eventsPort };
    // The Alert must be in the controller's cache before an event can match it.
    await poll(
      'the own-namespace event delivered',
      60_000,
      async () => {
        await request(events, 'POST', '/', event(other(), `from the other namespace ${Date.now()}`), {
          'content-type': 'application/json',
        });
        await request(events, 'POST', '/', event(ns(), `own ${Date.now()}`), {
          'content-type': 'application/json',
        });
        return sink.requests.length > 0 ? true : undefined;
      },
      1000,
    );
    await request(events, 'POST', '/', event(other(), 'last from the other namespace'), {
      'content-type': 'application/json',
    });
    await request(events, 'POST', '/', event(ns(), 'last own'), { 'content-type': 'application/json' });
    await sink.until('the last own event', (rs) => rs.some((r) => r.body.includes('last own')));
    const sent = sink.requests.map((r) => r.json() as { involvedObject: { namespace: string } });
    assert.ok(
      sent.every((e) => e.involvedObject.namespace === ns()),
      JSON.stringify(sent.map((e) => e.involvedObject)),
    );
  });

  it("Receiver: a valid call does not annotate another namespace's object (500)", async () => {
    const token = 'xns-receiver-token';
    await state.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'receiver', namespace: ns() },
      stringData: { token },
    } as KubeObject);
    await create(V.receiver, 'Receiver', ns(), 'xns', {
      type: 'generic-hmac',
      secretRef: { name: 'receiver' },
      resources: [{ apiVersion: V.source, kind: 'GitRepository', name: 'shared', namespace: other() }],
    });
    const path = await poll('Receiver ready', 60_000, async () => {
      const r = await get(V.receiver, 'Receiver', ns(), 'xns');
      return condOf(r, ConditionTypes.Ready)?.status === 'True'
        ? (r.status?.webhookPath as string)
        : undefined;
    });
    const body = '{"ref":"main"}';
    const signature = `sha256=${createHmac('sha256', token).update(body).digest('hex')}`;
    const r = await request({ port: state.receiverPort }, 'POST', path, body, { 'x-signature': signature });
    assert.equal(r.status, 500);
    const git = await get(V.source, 'GitRepository', other(), 'shared');
    assert.equal(git.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'], undefined);
  });
});

describe('abuse: impersonating a ServiceAccount without rights', function () {
  this.timeout(300_000);
  const env = useControllers('abuse-sa', []);
  const { ns, state, create, notReady } = env;
  before(async () => {
    await state.client.create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'nobody', namespace: ns() },
    } as KubeObject);
  });
  const forbidden = (r: Cond) => /forbidden/.test(r.message);

  it('Kustomization: Ready=False with the API server forbidden message, nothing applied as anyone', async () => {
    await env.gitSource(ns(), 'app', 'impersonated');
    for (const sa of ['nobody', 'missing']) {
      await create(V.ks, 'Kustomization', ns(), `as-${sa}`, {
        interval: '10m',
        prune: true,
        path: './app',
        sourceRef: { kind: 'GitRepository', name: 'app' },
        serviceAccountName: sa,
        retryInterval: '2s',
      });
      const ks = await notReady(V.ks, 'Kustomization', ns(), `as-${sa}`, forbidden);
      const message = condOf(ks, ConditionTypes.Ready)?.message ?? '';
      assert.match(message, new RegExp(`system:serviceaccount:${ns()}:${sa}`));
      assert.equal(ks.status?.lastAppliedRevision, undefined);
    }
    // Neither refusal fell back to the controller's own identity.
    assert.equal(
      await state.client.tryGet({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: ns(),
        name: 'impersonated',
      }),
      undefined,
    );
  });

  it('HelmRelease: Ready=False with the API server forbidden message, no release, nothing applied', async () => {
    const repos = await chartRepos('abuse-sa');
    await repos.publish(await demoChart());
    await create(V.source, 'HelmRepository', ns(), 'charts', { url: repos.httpUrl, interval: '10m' });
    await create(V.hr, 'HelmRelease', ns(), 'as-nobody', {
      interval: '10m',
      chart: {
        spec: { chart: 'demo', version: '0.1.0', sourceRef: { kind: 'HelmRepository', name: 'charts' } },
      },
      serviceAccountName: 'nobody',
      install: { crds: 'Skip' },
    });
    const hr = await notReady(V.hr, 'HelmRelease', ns(), 'as-nobody', forbidden);
    assert.match(
      condOf(hr, ConditionTypes.Ready)?.message ?? '',
      new RegExp(`system:serviceaccount:${ns()}:nobody`),
    );
    const releases = await state.client.list(
      { group: '', version: 'v1', kind: 'Secret' },
      { namespace: ns(), labelSelector: 'owner=helm' },
    );
    assert.equal(releases.items.length, 0);
    assert.equal(
      await state.client.tryGet({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: ns(),
        name: 'as-nobody-config',
      }),
      undefined,
    );
  });
});
