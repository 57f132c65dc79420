// The helm-controller SIGKILLed in the middle of a Helm upgrade, and of an install, then started again.
// The chart's pre-install/pre-upgrade hook Pod can be held Running (the test bed's kwok keeps a Pod
// annotated with an unknown phase running), so the kill lands while the release is stored
// pending-upgrade (pending-install) and helm waits on the hook. After the restart the stale pending
// release is unlocked (failed) and the HelmRelease's chart and values are released again, as a user
// checks it: `helm history` with the pinned helm shows no pending release and the final revision
// deployed with the new values, the cluster holds them, the post-install/post-upgrade hook Job ran for
// the final revision only (none for the cut one, none twice), the hook Pod of the cut run is not left
// behind, and never two releases were pending at once. A kill after helm's upgrade ended but before the
// status recorded it leaves the release deployed: the restarted controller records it, it does not
// upgrade again (which would run the hooks twice).
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { HelmRelease } from '../../../controllers/api/helm.ts';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { useSourceController, writeTree } from '../../support/sources.ts';
import type { TcpProxy } from '../../support/tcpproxy.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { DEMO_CHART } from '../helm/fixtures.ts';
import {
  assertHistory,
  chartRepos,
  cond,
  describeHr,
  eventsOf,
  getHr,
  helmCli,
  helmHistory,
  hrApiVersion,
  patchHrSpec,
  sourceApiVersion,
  waitHr,
} from '../helm/support.ts';
import { apiRelay, controller } from './support.ts';

const revisionLabel = 'chaos.tide.dev/revision';
const phaseAnnotation = 'testbed.tide.dev/phase';

/** A chart whose pre hook Pod is held Running with `holdPreHook`, and whose post hook Job is kept per revision. */
const SLOW_CHART: Record<string, string> = {
  'Chart.yaml': 'apiVersion: v2\nname: slow\nversion: 0.1.0\nappVersion: "1.0"\n',
  'values.yaml': 'message: hello\nholdPreHook: false\n',
  'templates/configmap.yaml': DEMO_CHART['templates/configmap.yaml'] ?? '',
  'templates/pre.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-pre
  labels:
    ${revisionLabel}: "{{ .Release.Revision }}"
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-delete-policy: before-hook-creation
    {{- if .Values.holdPreHook }}
    ${phaseAnnotation}: Hold
    {{- end }}
spec:
  restartPolicy: Never
  containers:
  - name: pre
    image: registry.example/pre:1
`,
  'templates/post.yaml': `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-post-{{ .Release.Revision }}
  labels:
    ${revisionLabel}: "{{ .Release.Revision }}"
    chaos.tide.dev/release: {{ .Release.Name }}
  annotations:
    helm.sh/hook: post-install,post-upgrade
    helm.sh/hook-delete-policy: before-hook-creation
    chaos.tide.dev/message: {{ .Values.message | quote }}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: post
        image: registry.example/post:1
`,
};

type Obj = KubeObject & {
  data?: Record<string, string>;
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
};

describe('chaos: helm-controller killed mid-upgrade and mid-install', function () {
  this.timeout(400_000);
  const ns = useNamespace('chaos-helm');
  const source = useSourceController(['--artifact-retention-ttl=1h']);
  let tools: { helm: string; kustomize: string } | undefined;
  const helmController = controller('helm', () => [
    `--helm-path=${tools?.helm}`,
    `--kustomize-path=${tools?.kustomize}`,
    '--requeue-dependency=2s',
    '--min-retry-delay=250ms',
    '--max-retry-delay=5s',
  ]);
  let helm: (args: string[]) => Promise<string>;
  // The controller's API traffic (its helm's too: helm reaches the API through the controller) goes
  // through a relay that can slow it, so a kill lands between helm's end and the status write.
  let relay: TcpProxy;
  let relayKubeconfig: string;
  const client = () => source.client;

  before(async function () {
    this.timeout(120_000);
    tools = await toolPaths(['helm', 'kustomize']);
    helm = await helmCli();
    const repos = await chartRepos('chaos-helm');
    const dir = join(await mkdtemp(join(testbed().dir, 'slow-chart-')), 'slow');
    await writeTree(dir, SLOW_CHART);
    await repos.publish(dir);
    await client().create({
      apiVersion: sourceApiVersion,
      kind: 'HelmRepository',
      metadata: { name: 'charts', namespace: ns() },
      spec: { url: repos.httpUrl, interval: '10m' },
    });
    ({ relay, kubeconfig: relayKubeconfig } = await apiRelay());
    await helmController.start({ kubeconfig: relayKubeconfig });
  });
  after(async () => {
    if (helmController.running()) await helmController.process.stop();
    await relay?.close();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      console.error(helmController.logs().split('\n').slice(-60).join('\n'));
  });

  const create = (name: string, values: Record<string, unknown>) =>
    client().create({
      apiVersion: hrApiVersion,
      kind: 'HelmRelease',
      metadata: { name, namespace: ns() },
      spec: {
        interval: '10m',
        // Long enough that helm waits on the held hook until the test kills or releases it.
        timeout: '10m',
        chart: { spec: { chart: 'slow', sourceRef: { kind: 'HelmRepository', name: 'charts' } } },
        values,
      },
    } as KubeObject);

  const list = async (kind: string, group: string, labelSelector: string) =>
    (await client().list<Obj>({ group, version: 'v1', kind }, { namespace: ns(), labelSelector })).items;

  /** The Helm storage's release Secrets of `release`: version → status, as their labels say. */
  const storedStatuses = async (release: string) =>
    new Map(
      (await list('Secret', '', `owner=helm,name=${release}`)).map((s) => [
        Number(s.metadata.labels?.version),
        s.metadata.labels?.status ?? '',
      ]),
    );

  const prePod = (release: string) =>
    client().tryGet<Obj>({ apiVersion: 'v1', kind: 'Pod', namespace: ns(), name: `${release}-pre` });

  /** Waits until revision `version` is stored `status` and its held pre hook Pod runs, then kills. */
  async function killWhilePending(release: string, version: number, status: string) {
    await poll(`${release} v${version} ${status}, its pre hook running`, 120_000, async () => {
      const stored = await storedStatuses(release);
      const pod = await prePod(release);
      if (stored.get(version) !== status) throw new Error(`stored: ${JSON.stringify([...stored])}`);
      if (pod?.metadata.labels?.[revisionLabel] !== String(version) || pod.status?.phase !== 'Running')
        throw new Error(`pre hook Pod: ${pod?.metadata.labels?.[revisionLabel]} ${pod?.status?.phase}`);
      return true;
    });
    await helmController.kill();
  }

  /**
   * Starts the controller again and waits until the HelmRelease is Ready with `message` released,
   * letting the held pre hook of the new attempt finish (the long hook ends) and watching that never
   * two releases are pending at once. Returns the HelmRelease.
   */
  async function restartAndConverge(release: string, cut: number, message: string): Promise<HelmRelease> {
    await helmController.start({ kubeconfig: relayKubeconfig });
    let maxPending = 0;
    let released = false;
    const hr = await poll(
      `${release} released again and Ready`,
      180_000,
      async () => {
        const pending = [...(await storedStatuses(release)).values()].filter((s) => s.startsWith('pending-'));
        maxPending = Math.max(maxPending, pending.length);
        const pod = await prePod(release);
        const rev = Number(pod?.metadata.labels?.[revisionLabel]);
        if (!released && pod && rev > cut && pod.status?.phase === 'Running') {
          await client().patch(
            { apiVersion: 'v1', kind: 'Pod', namespace: ns(), name: `${release}-pre` },
            'merge',
            {
              metadata: { annotations: { [phaseAnnotation]: 'Succeeded' } },
            },
          );
          released = true;
        }
        const o = await getHr(client(), ns(), release);
        if (
          cond(o, ConditionTypes.Ready)?.status === 'True' &&
          o.status?.observedGeneration === o.metadata.generation
        )
          return o;
        throw new Error(`${describeHr(o)}; pending: ${pending.join(',')}`);
      },
      250,
    );
    assert.ok(maxPending <= 1, `at most one release pending at a time; saw ${maxPending}`);
    assert.ok(released, 'the restarted controller ran the pre hook of a new revision');
    const cm = await client().get<Obj>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns(),
      name: `${release}-config`,
    });
    assert.equal(cm.data?.message, message, 'the cluster holds the values the HelmRelease asks for');
    return hr;
  }

  /** The post hook Jobs of `release`: revision → [message, Complete]. */
  const postJobs = async (release: string) =>
    (await list('Job', 'batch', `chaos.tide.dev/release=${release}`))
      .map((j) => [
        Number(j.metadata.labels?.[revisionLabel]),
        j.metadata.annotations?.['chaos.tide.dev/message'],
        j.status?.conditions?.some(
          (c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True',
        ) ?? false,
      ])
      .sort((a, b) => Number(a[0]) - Number(b[0]));

  /** The pre hook Pod left is the final revision's, finished: the cut run's held Pod is gone. */
  async function assertPreHook(release: string, final: number) {
    const pod = await prePod(release);
    assert.equal(pod?.metadata.labels?.[revisionLabel], String(final));
    assert.equal(pod?.status?.phase, 'Succeeded');
  }

  async function assertUnlocked(release: string, status: string) {
    const events = await eventsOf(client(), ns(), release);
    assert.ok(
      events.some((e) => e.reason === 'PendingRelease' && e.message.includes(`in ${status} state`)),
      `an event says the ${status} release was unlocked: ${JSON.stringify(events)}`,
    );
  }

  it('an upgrade cut by a kill is unlocked and released again: deployed once, hooks once', async () => {
    await create('up', { message: 'v1' });
    await waitHr(client(), ns(), 'up', 'Ready', (o) => cond(o, ConditionTypes.Ready)?.status === 'True');
    await patchHrSpec(client(), ns(), 'up', { values: { message: 'v2', holdPreHook: true } });
    await killWhilePending('up', 2, 'pending-upgrade');
    assertHistory(await helmHistory(helm, ns(), 'up'), [
      [1, 'deployed'],
      [2, 'pending-upgrade'],
    ]);

    const hr = await restartAndConverge('up', 2, 'v2');
    const history = await helmHistory(helm, ns(), 'up');
    assertHistory(history, [
      [1, 'superseded'],
      [2, 'failed'],
      [3, 'deployed'],
    ]);
    assert.equal(history[1]?.description, "Release unlocked from stale 'pending-upgrade' state");
    assert.equal(history[2]?.chart, 'slow-0.1.0');
    assert.deepEqual(JSON.parse(await helm(['get', 'values', 'up', '-n', ns(), '-o', 'json'])), {
      message: 'v2',
      holdPreHook: true,
    });
    assert.equal(cond(hr, ConditionTypes.Released)?.reason, 'UpgradeSucceeded');
    assert.equal(hr.status?.history?.[0]?.version, 3);
    assert.equal(hr.status?.history?.[0]?.status, 'deployed');
    assert.deepEqual(
      await postJobs('up'),
      [
        [1, 'v1', true],
        [3, 'v2', true],
      ],
      'the post-upgrade hook ran for the final revision, not for the cut one',
    );
    await assertPreHook('up', 3);
    await assertUnlocked('up', 'pending-upgrade');
  });

  it('an install cut by a kill is unlocked and released again', async () => {
    await create('in', { message: 'first', holdPreHook: true });
    await killWhilePending('in', 1, 'pending-install');
    assertHistory(await helmHistory(helm, ns(), 'in'), [[1, 'pending-install']]);

    const hr = await restartAndConverge('in', 1, 'first');
    const history = await helmHistory(helm, ns(), 'in');
    // Helm's upgrade over a release with no deployed revision supersedes the unlocked (failed) one.
    assertHistory(history, [
      [1, 'superseded'],
      [2, 'deployed'],
    ]);
    assert.equal(history[0]?.description, "Release unlocked from stale 'pending-install' state");
    assert.equal(history[1]?.chart, 'slow-0.1.0');
    assert.equal(cond(hr, ConditionTypes.Released)?.reason, 'UpgradeSucceeded');
    assert.equal(hr.status?.history?.[0]?.version, 2);
    assert.equal(hr.status?.history?.[0]?.status, 'deployed');
    assert.deepEqual(
      await postJobs('in'),
      [[2, 'first', true]],
      'the post hook ran once, for the final revision',
    );
    await assertPreHook('in', 2);
    await assertUnlocked('in', 'pending-install');
  });

  it('an upgrade that ended as the controller was killed, before it was recorded, is not run again', async () => {
    await create('done', { message: 'v1' });
    await waitHr(client(), ns(), 'done', 'Ready', (o) => cond(o, ConditionTypes.Ready)?.status === 'True');
    // Slowed API traffic widens the gap between helm's end and the status write; the kill lands in it.
    relay.setDelay(150);
    await patchHrSpec(client(), ns(), 'done', { values: { message: 'v2' } });
    const seen = await poll(
      'done v2 deployed, not yet in the HelmRelease status',
      120_000,
      async () => {
        if ((await storedStatuses('done')).get(2) !== 'deployed') return undefined;
        const hr = await getHr(client(), ns(), 'done');
        return hr.status?.history?.[0]?.version === 2 ? 'recorded before the kill' : 'in the gap';
      },
      25,
    ).catch((err: Error) => err.message);
    await helmController.kill();
    relay.setDelay(0);
    assert.equal(seen, 'in the gap');
    assertHistory(await helmHistory(helm, ns(), 'done'), [
      [1, 'superseded'],
      [2, 'deployed'],
    ]);

    await helmController.start({ kubeconfig: relayKubeconfig });
    const hr = await waitHr(
      client(),
      ns(),
      'done',
      'Ready',
      (o) =>
        cond(o, ConditionTypes.Ready)?.status === 'True' &&
        o.status?.observedGeneration === o.metadata.generation,
    );
    assert.equal(cond(hr, ConditionTypes.Released)?.reason, 'UpgradeSucceeded');
    assert.equal(hr.status?.history?.[0]?.version, 2);
    assert.equal(hr.status?.history?.[0]?.status, 'deployed');
    assertHistory(await helmHistory(helm, ns(), 'done'), [
      [1, 'superseded'],
      [2, 'deployed'],
    ]);
    assert.deepEqual(
      await postJobs('done'),
      [
        [1, 'v1', true],
        [2, 'v2', true],
      ],
      'the post-upgrade hook ran once for v2: the upgrade was recorded, not run again',
    );
  });
});
